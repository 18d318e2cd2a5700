"""Generated image files and backbone weights for the features tests.

Nothing is downloaded: the backbone is ResNet50 with random weights (seeded)
saved once to a `.weights.h5` file, which the library and the command line
load as they would load ImageNet weights; images are 64 x 64 at the input
(a 2 x 2 grid of 2048 channels), small enough for a CPU.
"""

import os

import keras
import numpy as np
from PIL import Image

BACKBONE = "resnet50"
IMAGE_SIZE = (64, 64)
NUM_IMAGES = 50


def image_name(image_id, extension):
    """COCO's file name of an image id."""
    return f"COCO_val2014_{image_id:012d}.{extension}"


def write_images(directory, count=NUM_IMAGES, seed=0):
    """`count` images of assorted sizes, JPEG and PNG in turn, with ids 1,
    2, ... in their names; returns their paths, sorted."""
    rng = np.random.default_rng(seed)
    os.makedirs(directory, exist_ok=True)
    paths = []
    for image_id in range(1, count + 1):
        height, width = (int(v) for v in rng.integers(24, 120, size=2))
        # Smooth colours (a gradient plus a block) survive JPEG.
        y, x = np.mgrid[0:height, 0:width]
        base = rng.integers(0, 256, size=3)
        pixels = (base + 0.5 * x[..., None] + 0.7 * y[..., None]) % 256
        pixels[: height // 2, : width // 3] = rng.integers(0, 256, size=3)
        extension = "jpg" if image_id % 2 else "png"
        path = os.path.join(directory, image_name(image_id, extension))
        Image.fromarray(pixels.astype(np.uint8)).save(path)
        paths.append(path)
    return sorted(paths)


def write_corrupt(directory, image_id=999):
    """A .jpg file of the given id that is not an image; returns its path."""
    path = os.path.join(directory, image_name(image_id, "jpg"))
    with open(path, "wb") as f:
        f.write(b"\xff\xd8 this is not a JPEG")
    return path


def write_weights(path):
    """Seeded random weights of the ResNet50 application (include_top=
    False) at IMAGE_SIZE, saved to `path` (a .weights.h5 file)."""
    keras.utils.set_random_seed(1)
    net = keras.applications.ResNet50(
        include_top=False, weights=None, input_shape=IMAGE_SIZE + (3,)
    )
    net.save_weights(path)
    return path
