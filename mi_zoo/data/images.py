"""Image files to model inputs: the one decode/resize step of the readers.

CLEVR v1.0 (PNG, `mi_zoo.data.clevr`), Flickr30k (JPEG,
`mi_zoo.data.flickr30k`) and the records of their TFDS builders
(`clevr.builder`, `flickr30k.builder`, which store the original image)
all go through `resize_image`, so a model sees the same pixels whichever
way the data was read:

    from mi_zoo.data import images
    image = images.load_image("CLEVR_val_000000.png", (128, 128))
    # float32 [128, 128, 3] in [0, 1]
    image = images.resize_image(record["image"], (128, 128))  # uint8 input

Resizing is bilinear with antialiasing after conversion to float in [0, 1],
the usual preprocessing of the relational-reasoning papers (e.g. Santoro et
al., "A simple neural network module for relational reasoning", NeurIPS
2017, resize CLEVR images to 128 x 128).
"""

from typing import Sequence
from typing import Tuple

import tensorflow as tf


def check_image_size(
    image_size: Sequence[int], name: str = "image_size"
) -> Tuple[int, int]:
    """Validates a (height, width) pair of positive integers.

    Args:
      image_size: the pair.
      name: the argument's name, for the error message.

    Returns:
      (height, width) as a tuple.

    Raises:
      ValueError: naming the argument and echoing the bad value.
    """
    try:
        size = tuple(image_size)
    except TypeError:
        size = ()
    if len(size) != 2 or not all(
        isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in size
    ):
        raise ValueError(
            f"`{name}` must be (height, width), two positive "
            f"integers, got {name}={image_size!r}."
        )
    return size


def decode_image(raw: tf.Tensor, channels: int = 3) -> tf.Tensor:
    """Decodes PNG/JPEG/BMP/GIF bytes (first frame) to uint8 [H, W, channels].

    Args:
      raw: a scalar string tensor, the file's bytes.
      channels: output channels (3 drops a PNG's alpha channel).

    Returns:
      uint8 [H, W, channels].
    """
    image = tf.io.decode_image(raw, channels=channels, expand_animations=False)
    image.set_shape([None, None, channels])
    return image


def resize_image(image: tf.Tensor, image_size: Sequence[int]) -> tf.Tensor:
    """uint8 (or float) [H, W, C] -> float32 [height, width, C] in [0, 1].

    Args:
      image: the decoded image; integers are scaled to [0, 1].
      image_size: (height, width) of the output.

    Returns:
      The bilinearly resized (antialiased) float32 image.
    """
    height, width = check_image_size(image_size)
    image = tf.image.convert_image_dtype(image, tf.float32)
    return tf.image.resize(image, (height, width), antialias=True)


def load_image(
    path: tf.Tensor, image_size: Sequence[int], channels: int = 3
) -> tf.Tensor:
    """Reads, decodes and resizes one image file (usable in `Dataset.map`).

    Args:
      path: the file name (a string or scalar string tensor).
      image_size: (height, width) of the output.
      channels: channels to decode.

    Returns:
      float32 [height, width, channels] in [0, 1].
    """
    return resize_image(
        decode_image(tf.io.read_file(path), channels), image_size
    )
