"""Image files to a features directory that `mi_zoo.data.vqa_v2` reads.

The directory has the layout of `vqa_v2.convert_tsv` (read by
`vqa_v2.FeatureStore`, so `vqa_v2_dataset(..., features_path=DIR)` and the
vqa binary's `options={'features': DIR}` take it as they take bottom-up
region features):

  features.npy    float32 [N, S, C]  the S = h x w grid cells of each image,
                  row by row (memory-mapped by the reader)
  boxes.npy       float32 [N, S, 4]  each cell's (x1, y1, x2, y2) in [0, 1]
  num_boxes.npy   int32 [N]          S for every image
  image_ids.npy   int64 [N]          the image id of each row (written last:
                  its presence means the directory is complete)
  image_files.txt                    the file of each row, one per line
  extraction.json                    the backbone, layer, sizes and weights,
                  and the images (file, id) it was started with

With `file_format="hdf5"` the features are one HDF5 file in BAN's layout
instead of the three arrays (`FeatureStore` reads it too, given the file's
path; the other files stay):

  features.hdf5   image_features float32 [N, S, C] and spatial_features
                  float32 [N, S, 6] (x1, y1, x2, y2, width, height in [0, 1])
  features_imgid2idx.pkl             {image id: row} (a pickled dict)

Image ids follow COCO's file names (`COCO_val2014_000000262148.jpg` ->
262148): the last run of digits in the file's name (`image_ids="name"`), so
the ids are those of the VQA v2 questions; `image_ids="order"` numbers the
files 0, 1, ... in sorted order instead (your own photos).

Resumable: until it is complete, the directory also holds
`features.partial.npy` (the features, written batch by batch) and
`status.partial.npy` (int8 per image: 0 to do, 1 written, 2 unreadable),
saved after each batch's features are flushed. A run that is stopped (killed,
interrupted) and started again with the same settings and images computes
only the images not yet written, and ends with the same files. An image that
cannot be read is reported (`on_error`: one line naming it), counted, left
out of the index, and tried again by a later run of an unfinished
directory.

    model = backbones.grid_model("resnet152", (448, 448))
    summary = writer.extract_features(
        writer.list_images("/data/coco/val2014"), "/data/vqa/grid", model,
        settings={"backbone": "resnet152"})
"""

import dataclasses
import glob
import json
import os
import pickle
import re
import sys
import time
from typing import Callable
from typing import Dict
from typing import List
from typing import Optional
from typing import Sequence
from typing import Tuple

import numpy as np
import tensorflow as tf

from mi_zoo.core import validation
from mi_zoo.data import images as images_lib
from mi_zoo.models import backbones
from mi_zoo.training import progress as progress_lib

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif")
IMAGE_ID_KINDS = ("name", "order")
#: The features' file formats: the convert_tsv arrays, or BAN's HDF5 file.
FORMATS = ("npy", "hdf5")
HDF5_FILE = "features.hdf5"
#: Beside HDF5_FILE: the name `vqa_v2.FeatureStore` looks for.
HDF5_INDEX = "features_imgid2idx.pkl"
SETTINGS_FILE = "extraction.json"
PARTIAL_FEATURES = "features.partial.npy"
PARTIAL_STATUS = "status.partial.npy"
TODO, WRITTEN, UNREADABLE = 0, 1, 2


@dataclasses.dataclass
class Summary:
    """What `extract_features` did.

    Attributes:
      out_dir: the features directory.
      written: images whose features are in it.
      computed: of those, the images computed by this call (the others were
        written by an earlier, stopped run).
      errors: [(file, reason)] of the images left out (unreadable, or no
        image id in the name), in file order.
      features_path: what `vqa_v2.FeatureStore` reads: `out_dir` (format
        "npy"), or its HDF5 file (format "hdf5"); None: `out_dir`.
    """

    out_dir: str
    written: int
    computed: int
    errors: List[Tuple[str, str]]
    features_path: Optional[str] = None

    def line(self) -> str:
        """One line for the console."""
        text = (
            f"{self.written} images in {self.features_path or self.out_dir} "
            f"({self.computed} computed now)"
        )
        if self.errors:
            text += f"; {len(self.errors)} left out (listed above)"
        return text


def list_images(images: str) -> List[str]:
    """The image files of a directory (its files with an image extension,
    `IMAGE_EXTENSIONS`, any case) or of a glob pattern, sorted.

    Raises:
      ValueError: when nothing matches, ending with the received value.
    """
    if os.path.isdir(images):
        found = [
            os.path.join(images, name)
            for name in os.listdir(images)
            if name.lower().endswith(IMAGE_EXTENSIONS)
        ]
    else:
        found = glob.glob(images)
    found = sorted(f for f in found if os.path.isfile(f))
    if not found:
        raise ValueError(
            f"No image files (extensions {', '.join(IMAGE_EXTENSIONS)}) in "
            f"the directory or glob pattern, got images={images!r}."
        )
    return found


def image_id_of(path: str) -> Optional[int]:
    """The last run of digits in the file's name, or None.

    >>> image_id_of("val2014/COCO_val2014_000000262148.jpg")
    262148
    >>> image_id_of("cat.png") is None
    True
    """
    runs = re.findall(r"\d+", os.path.splitext(os.path.basename(path))[0])
    return int(runs[-1]) if runs else None


def assign_ids(
    files: Sequence[str], image_ids: str = "name"
) -> Tuple[List[Tuple[str, int]], List[Tuple[str, str]]]:
    """([(file, image id)], [(file, reason)]) of `files`.

    Args:
      files: the image files, sorted.
      image_ids: "name" (`image_id_of`; a file without digits or repeating
        an earlier file's id is an error) or "order" (0, 1, ...).
    """
    validation.check_choice("image_ids", image_ids, IMAGE_ID_KINDS)
    if image_ids == "order":
        return [(f, i) for i, f in enumerate(files)], []
    kept, errors, first = [], [], {}
    for f in files:
        image_id = image_id_of(f)
        if image_id is None:
            errors.append((f, "no image id (digits) in its name"))
        elif image_id in first:
            errors.append(
                (f, f"repeats the image id {image_id} of {first[image_id]!r}")
            )
        else:
            first[image_id] = f
            kept.append((f, image_id))
    return kept, errors


def load_pixels(path: str, image_size: Sequence[int]):
    """(float32 [H, W, 3] in [0, 1], "") of an image file, or (zeros, the
    reason) when it cannot be read. Runs eagerly (`tf.py_function`)."""
    height, width = image_size
    try:
        raw = tf.io.read_file(path)
        pixels = images_lib.resize_image(
            images_lib.decode_image(raw), (height, width)
        )
        return pixels, ""
    except tf.errors.OpError as e:
        # "{{function_node ...}} Unknown image file format. ... [Op:...]"
        reason = re.sub(r"\{\{.*?\}\}|\[Op:.*", "", e.message or "")
        reason = " ".join(reason.split()) or type(e).__name__
        return tf.zeros((height, width, 3), tf.float32), (
            f"cannot be read (not a PNG, JPEG, BMP or GIF image: {reason})"
        )


def print_error(path: str, reason: str):
    """The default `on_error`: one line on stderr."""
    print(f"error: image {path!r} {reason}", file=sys.stderr, flush=True)


def extract_features(
    files: Sequence[str],
    out_dir: str,
    model,
    settings: Dict[str, object],
    *,
    batch_size: int = 32,
    image_ids: str = "name",
    file_format: str = "npy",
    on_error: Callable[[str, str], None] = print_error,
    interactive: Optional[bool] = None,
) -> Summary:
    """Writes the grid features of image files to `out_dir` (see the
    module docstring for the layout), resuming an unfinished run.

    Args:
      files: the image files (`list_images`).
      out_dir: the features directory (created).
      model: a Keras model, pixels float32 [B, H, W, 3] in [0, 1] ->
        [B, h, w, C] (`backbones.grid_model`); called with
        `predict_on_batch`.
      settings: what made `model` (backbone, layer, weights, ...), JSON
        values, kept in extraction.json: a later run must give the same.
      batch_size: images per batch.
      image_ids: "name" or "order" (`assign_ids`).
      file_format: "npy" (features.npy, boxes.npy, num_boxes.npy) or
        "hdf5" (features.hdf5 and features_imgid2idx.pkl, BAN's layout);
        part of the settings (a finished directory is not converted).
      on_error: called with (file, reason) for each image left out.
      interactive: the progress bar on a terminal, else log lines (None:
        whether stdout is a terminal; `mi_zoo.training.progress`).

    Returns:
      A `Summary`.

    Raises:
      ValueError: when `out_dir` holds other features, or an unfinished
        run with other settings or images.
    """
    validation.check_positive_int("batch_size", batch_size)
    validation.check_choice("file_format", file_format, FORMATS)
    named, errors = assign_ids(list(files), image_ids)
    for path, reason in errors:
        on_error(path, reason)
    if not named:
        raise ValueError(
            f"None of the {len(files)} image files has an image id in its "
            f"name (pass image_ids='order' to number them), got "
            f"image_ids={image_ids!r}."
        )
    height, width = (int(d) for d in model.input_shape[1:3])
    grid_h, grid_w, channels = (int(d) for d in model.output_shape[1:])
    record = {
        "settings": {
            **settings,
            "image_size": [height, width],
            "grid": [grid_h, grid_w],
            "channels": channels,
            "image_ids": image_ids,
            **({"format": file_format} if file_format != "npy" else {}),
        },
        "images": [[f, i] for f, i in named],
    }
    os.makedirs(out_dir, exist_ok=True)
    features_path = (
        os.path.join(out_dir, HDF5_FILE) if file_format == "hdf5" else out_dir
    )
    if _check_earlier(out_dir, record):
        ids = np.load(os.path.join(out_dir, "image_ids.npy"))
        return Summary(out_dir, len(ids), 0, errors, features_path)
    shape = (len(named), grid_h * grid_w, channels)
    features, status = _open_partial(out_dir, record, shape)
    todo = np.flatnonzero(status != WRITTEN)
    progress = progress_lib.Progress(
        len(named), len(named) - len(todo), interactive
    )
    computed, last_log, start = 0, 0.0, time.perf_counter()
    for rows, pixels, reasons in _batches(
        named, todo, (height, width), batch_size
    ):
        out = np.asarray(model.predict_on_batch(pixels), np.float32)
        ok = np.array([not r for r in reasons])
        features[rows[ok]] = out[ok].reshape((-1,) + shape[1:])
        features.flush()
        status[rows] = np.where(ok, WRITTEN, UNREADABLE)
        _save_atomically(os.path.join(out_dir, PARTIAL_STATUS), status)
        for row, reason in zip(rows, reasons):
            if reason:
                errors.append((named[row][0], reason.decode()))
                on_error(*errors[-1])
        computed += int(ok.sum())
        done = int(np.sum(status != TODO))
        now = time.perf_counter()
        if progress.interactive or now - last_log > 10 or done == len(named):
            last_log = now
            progress.update(
                done,
                {
                    "images/s": computed / max(now - start, 1e-9),
                    "left out": float(np.sum(status == UNREADABLE)),
                },
            )
    errors.sort()
    written = _finish(
        out_dir, features, status, named, (grid_h, grid_w), file_format
    )
    return Summary(out_dir, written, computed, errors, features_path)


def _check_earlier(out_dir: str, record) -> bool:
    """True when `out_dir` is complete with the same settings and images;
    False when it holds nothing or an unfinished run of the same record."""
    path = os.path.join(out_dir, SETTINGS_FILE)
    complete = os.path.isfile(os.path.join(out_dir, "image_ids.npy"))
    if not os.path.isfile(path):
        if complete or os.path.isfile(os.path.join(out_dir, PARTIAL_STATUS)):
            raise ValueError(
                f"The features directory holds features not written by "
                f"mi_zoo.features (no {SETTINGS_FILE}); pass a new --out, "
                f"got out={out_dir!r}."
            )
        with open(path, "w", encoding="utf-8") as f:
            json.dump(record, f)
        return False
    with open(path, encoding="utf-8") as f:
        earlier = json.load(f)
    for key, what in (("settings", "settings"), ("images", "image files")):
        if earlier.get(key) != record[key]:
            state = "finished" if complete else "unfinished"
            raise ValueError(
                f"The features directory holds a {state} extraction with "
                f"other {what} ({what} then: {_short(earlier.get(key))}; "
                f"now: {_short(record[key])}); run again with the same "
                f"ones to resume, or pass a new --out, got out={out_dir!r}."
            )
    return complete


def _short(value) -> str:
    if isinstance(value, list) and len(value) > 3:
        return f"{len(value)} images, from {value[0][0]!r}"
    return json.dumps(value, sort_keys=True)


def _open_partial(out_dir: str, record, shape):
    """The features memory map [N, S, C] and the status array [N], new or
    those of the unfinished run."""
    features_path = os.path.join(out_dir, PARTIAL_FEATURES)
    status_path = os.path.join(out_dir, PARTIAL_STATUS)
    if os.path.isfile(status_path) and os.path.isfile(features_path):
        features = np.lib.format.open_memmap(features_path, "r+")
        status = np.load(status_path)
        if features.shape == shape and status.shape == shape[:1]:
            return features, status
    features = np.lib.format.open_memmap(
        features_path, "w+", np.float32, shape
    )
    status = np.zeros(shape[:1], np.int8)
    _save_atomically(status_path, status)
    return features, status


def _save_atomically(path: str, array: np.ndarray):
    tmp = path[: -len(".npy")] + ".tmp.npy"
    np.save(tmp, array)
    os.replace(tmp, path)


def _batches(named, rows, image_size, batch_size):
    """Batches (rows int64 [b], pixels float32 [b, H, W, 3], reasons
    bytes [b]: b"" when the image was read) of the `rows` to compute, read
    in parallel through tf.data, in order."""
    paths = [named[r][0] for r in rows]

    def load(path):
        pixels, reason = tf.py_function(
            lambda p: load_pixels(p.numpy().decode(), image_size),
            [path],
            [tf.float32, tf.string],
        )
        pixels.set_shape(tuple(image_size) + (3,))
        reason.set_shape(())
        return pixels, reason

    ds = tf.data.Dataset.from_tensor_slices(
        (np.asarray(rows, np.int64), np.asarray(paths, dtype=object))
    )
    ds = ds.map(
        lambda row, path: (row, *load(path)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    for row, pixels, reason in ds.batch(batch_size).prefetch(2):
        yield row.numpy(), pixels.numpy(), list(reason.numpy())


def _finish(out_dir, features, status, named, grid, file_format) -> int:
    """Writes the final files from the partial ones; returns N."""
    good = np.flatnonzero(status == WRITTEN)
    boxes = backbones.grid_boxes(*grid)
    if file_format == "hdf5":
        _write_hdf5(out_dir, features, good, boxes, named)
        del features
        os.remove(os.path.join(out_dir, PARTIAL_FEATURES))
    else:
        _write_npy(out_dir, features, status, good, boxes)
    with open(
        os.path.join(out_dir, "image_files.txt"), "w", encoding="utf-8"
    ) as f:
        f.writelines(named[r][0] + "\n" for r in good)
    ids = np.array([named[r][1] for r in good], np.int64)
    _save_atomically(os.path.join(out_dir, "image_ids.npy"), ids)  # last
    os.remove(os.path.join(out_dir, PARTIAL_STATUS))
    return len(good)


def _write_hdf5(out_dir, features, good, boxes, named):
    """features.hdf5 (BAN's image_features and spatial_features) and its
    image-id index, each written whole before it takes its name."""
    import h5py  # pylint: disable=import-outside-toplevel

    final = os.path.join(out_dir, HDF5_FILE)
    tmp = os.path.join(out_dir, "features.tmp.hdf5")
    spatial = np.concatenate(
        [boxes, boxes[:, 2:3] - boxes[:, 0:1], boxes[:, 3:4] - boxes[:, 1:2]],
        axis=-1,
    )  # [S, 6]
    with h5py.File(tmp, "w") as h5:
        out = h5.create_dataset(
            "image_features",
            (len(good),) + features.shape[1:],
            np.float32,
            chunks=(1,) + features.shape[1:] if len(good) else None,
        )
        for start in range(0, len(good), 1024):
            out[start : start + 1024] = features[good[start : start + 1024]]
        h5.create_dataset(
            "spatial_features",
            data=np.broadcast_to(spatial, (len(good),) + spatial.shape),
        )
    os.replace(tmp, final)
    index = {int(named[r][1]): row for row, r in enumerate(good)}
    tmp = os.path.join(out_dir, "features_imgid2idx.tmp.pkl")
    with open(tmp, "wb") as f:
        pickle.dump(index, f)
    os.replace(tmp, os.path.join(out_dir, HDF5_INDEX))


def _write_npy(out_dir, features, status, good, boxes):
    """features.npy (the partial file renamed, or its written rows),
    boxes.npy and num_boxes.npy."""
    final = os.path.join(out_dir, "features.npy")
    if len(good) == len(status):
        features.flush()
        del features
        os.replace(os.path.join(out_dir, PARTIAL_FEATURES), final)
    else:
        tmp = os.path.join(out_dir, "features.tmp.npy")
        out = np.lib.format.open_memmap(
            tmp, "w+", np.float32, (len(good),) + features.shape[1:]
        )
        for start in range(0, len(good), 1024):
            out[start : start + 1024] = features[good[start : start + 1024]]
        out.flush()
        del out, features
        os.replace(tmp, final)
        os.remove(os.path.join(out_dir, PARTIAL_FEATURES))
    np.save(
        os.path.join(out_dir, "boxes.npy"),
        np.broadcast_to(boxes, (len(good),) + boxes.shape),
    )
    np.save(
        os.path.join(out_dir, "num_boxes.npy"),
        np.full((len(good),), len(boxes), np.int32),
    )
