r"""Writes the grid features of image files, in the layout VQA v2 reads.

  python -m mi_zoo.features.extract --images=/data/coco/val2014 \
      --backbone=resnet152 --out=/data/vqa2/grid_val2014

reads every image of --images (a directory, or a glob pattern in quotes),
resizes it to --image_size, runs the backbone (ImageNet weights by default,
downloaded once by Keras) batch by batch through tf.data, and writes
features.npy [N, S, C] with boxes.npy, num_boxes.npy and image_ids.npy
(`mi_zoo.features.writer`; `vqa_v2.FeatureStore` reads it), or with
--format=hdf5 one HDF5 file in BAN's layout, features.hdf5 and
features_imgid2idx.pkl (FeatureStore reads the file's path). Image ids are
the last digits of each file's name (COCO's convention), or the files'
order with --image_ids=order. A progress line reports images/s.

Started again with the same flags, it resumes: images already written are
skipped, and the files end as those of an uninterrupted run. Each
unreadable image is one `error:` line on stderr naming it; they are counted
in the last line and left out of the index. Details: docs/features.md.
"""

import os

from absl import app
from absl import flags
import keras

from mi_zoo.features import writer
from mi_zoo.models import backbones
from mi_zoo.training import binaries

_IMAGES = flags.DEFINE_string(
    "images",
    None,
    "The images: a directory (its .jpg, .jpeg, .png, .bmp and .gif files) "
    "or a glob pattern such as '/data/coco/val2014/*.jpg'.",
)
_OUT = flags.DEFINE_string(
    "out",
    None,
    "The features directory to write (created; an unfinished one with the "
    "same flags is resumed).",
)
_BACKBONE = flags.DEFINE_enum(
    "backbone",
    "resnet152",
    backbones.BACKBONES.names(),
    "The keras.applications backbone (mi_zoo.features.BACKBONES).",
)
_LAYER = flags.DEFINE_string(
    "layer",
    None,
    "The backbone layer whose output is the grid, e.g. conv4_block6_out "
    "for ResNet; default: the backbone's last feature map.",
)
_IMAGE_SIZE = flags.DEFINE_list(
    "image_size",
    ["448", "448"],
    "height,width the images are resized to (at least 32 each); ResNet at "
    "448,448 gives a 14 x 14 grid.",
)
_GRID = flags.DEFINE_list(
    "grid",
    None,
    "gh,gw: average-pool the layer's cells to this grid (they must divide "
    "it), e.g. 7,7 for 49 regions of a 14 x 14 map; default: every cell.",
)
_WEIGHTS = flags.DEFINE_string(
    "weights",
    "imagenet",
    "imagenet (downloaded once by Keras), none (random, from seed 0: "
    "tests) or the path "
    "of a .weights.h5 file of the keras.applications backbone "
    "(include_top=False).",
)
_BATCH_SIZE = flags.DEFINE_integer(
    "batch_size", 32, "Images per batch.", lower_bound=1
)
_FORMAT = flags.DEFINE_enum(
    "format",
    "npy",
    writer.FORMATS,
    "npy: features.npy, boxes.npy, num_boxes.npy (vqa_v2.convert_tsv's "
    "layout, memory-mapped); hdf5: features.hdf5 with "
    "features_imgid2idx.pkl (BAN's layout). Either is a features path of "
    "vqa_v2 (the directory, or the .hdf5 file).",
)
_IMAGE_IDS = flags.DEFINE_enum(
    "image_ids",
    "name",
    writer.IMAGE_ID_KINDS,
    "name: the last digits of each file's name (COCO_val2014_000000262148"
    ".jpg -> 262148, the ids of the VQA v2 questions); order: 0, 1, ... in "
    "sorted file order.",
)


def _pair(holder):
    """The ints of a two-item list flag (None stays None)."""
    if holder.value is None:
        return None
    try:
        values = [int(v) for v in holder.value]
    except ValueError:
        values = []
    if len(values) != 2:
        raise app.UsageError(
            f"--{holder.name} must be two integers a,b, got "
            f"--{holder.name}={','.join(holder.value)}"
        )
    return tuple(values)


def extract_and_report() -> writer.Summary:
    """Extracts as the flags say; prints the summary line."""
    for holder in (_IMAGES, _OUT):
        if not holder.value:
            raise app.UsageError(f"--{holder.name} is required.")
    weights = None if _WEIGHTS.value == "none" else _WEIGHTS.value
    if weights not in backbones.NAMED_WEIGHTS and not os.path.isfile(weights):
        raise FileNotFoundError(
            f"--weights is neither imagenet, none nor an existing "
            f".weights.h5 file, got --weights={_WEIGHTS.value}"
        )
    files = writer.list_images(_IMAGES.value)
    if weights is None:
        keras.utils.set_random_seed(0)  # The same weights when resumed.
    model = backbones.grid_model(
        _BACKBONE.value,
        _pair(_IMAGE_SIZE),
        _LAYER.value,
        _pair(_GRID),
        weights,
    )
    settings = {
        "backbone": _BACKBONE.value,
        "layer": _LAYER.value,
        "weights": _WEIGHTS.value,
    }
    summary = writer.extract_features(
        files,
        _OUT.value,
        model,
        settings,
        batch_size=_BATCH_SIZE.value,
        image_ids=_IMAGE_IDS.value,
        file_format=_FORMAT.value,
    )
    print(f"Features of {summary.line()}")
    return summary


main = binaries.main_calling(extract_and_report)


def run():
    """Entry point (`python -m mi_zoo.features.extract`)."""
    binaries.run_binary(main, {})


if __name__ == "__main__":
    run()
