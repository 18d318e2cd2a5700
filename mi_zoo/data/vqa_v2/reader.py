"""VQA v2 reader: official questions/annotations JSON + bottom-up features.

Reference: Goyal et al., "Making the V in VQA Matter", CVPR 2017
(https://visualqa.org/download.html); features from Anderson et al.,
"Bottom-Up and Top-Down Attention", CVPR 2018.

Files (put them in a manual directory; nothing is downloaded):

* v2_OpenEnded_mscoco_{train2014,val2014}_questions.json:
  {"questions": [{"image_id", "question", "question_id"}]}
* v2_mscoco_{train2014,val2014}_annotations.json:
  {"annotations": [{"question_id", "image_id", "answers": [10 x {"answer",
  "answer_confidence", "answer_id"}], "multiple_choice_answer", ...}]}
* features, in one of these formats:
  - `trainval_36/trainval_resnet101_faster_rcnn_genome_36.tsv` (bottom-up
    attention release): tab-separated rows image_id, image_w, image_h,
    num_boxes, boxes, features, the last two base64 float32 [num_boxes, 4]
    and [num_boxes, 2048]. It is converted ONCE by `convert_tsv` into a
    directory of NumPy files read by memory map (`features.npy`
    [N, R, 2048], `boxes.npy` [N, R, 4] normalised by image w/h,
    `num_boxes.npy`, `image_ids.npy`);
  - BAN's HDF5 (github.com/jnhwkim/ban-vqa, fixed 36 boxes):
    `{train,val}36.hdf5` with datasets `image_features` [N, 36, 2048],
    `image_bb` [N, 36, 4] (pixels) and `spatial_features` [N, 36, 6]
    (x1/w, y1/h, x2/w, y2/h, w/W, h/H), plus `{train,val}36_imgid2idx.pkl`
    (pickled dict image id -> row) beside it. Normalised boxes are the
    first four columns of `spatial_features`.
  - BAN's later adaptive-box HDF5 (10 to 100 boxes per image),
    `{train,val}.hdf5` (or `...36.hdf5`) with `{...}_imgid2idx.pkl`: the
    boxes of all images concatenated, `image_features` [total_boxes, 2048],
    `image_bb` [total_boxes, 4], `spatial_features` [total_boxes, 6], and
    `pos_boxes` [N, 2], the (start, end) rows of image index n. Examples
    are zero-padded to `max_boxes` boxes (default: the most boxes of any
    image) and carry `num_boxes`.
  - a directory written by `convert_tsv`.

Features stay on disk and are read per example (memory map or h5py inside
`tf.numpy_function`; of an adaptive HDF5 file only the small `pos_boxes`
index is read when it is opened, to check it). Commands:

    python3 -m mi_zoo.data.vqa_v2 --convert_tsv=trainval_36.tsv \\
        --out_dir=/data/vqa/trainval_36_npy
    python3 -m mi_zoo.data.vqa_v2 --manual_dir=/data/vqa \\
        --features=/data/vqa/trainval_36_npy --vocab_dir=/data/vqa/vocab

The second builds the question and answer vocabularies from the train split
(`question_vocab.json`, `answer_vocab.json`) and times one pass over val.
In Python:

    ds = vqa_v2.vqa_v2_dataset(questions_json, annotations_json,
                               features_path, answer_vocab, batch_size=64,
                               question_vocab=question_vocab)
    # ({"question": int32 [B, 14], "image": float32 [B, 36, 2048],
    #   "boxes": float32 [B, 36, 4], "num_boxes": int32 [B],
    #   "question_id": int64 [B]}, float32 [B, num_answers] answer counts)

The TFDS build of the questions and answers (features referenced by image
id) is `mi_zoo.data.vqa_v2.builder`.
"""

import base64
import csv
import os
import pickle
import sys
import threading
from typing import Dict
from typing import Iterator
from typing import List
from typing import Optional
from typing import Sequence
from typing import Tuple

import numpy as np
import tensorflow as tf

from mi_zoo.core import validation
from mi_zoo.data import sources
from mi_zoo.data import text_vocab
from mi_zoo.data import throughput
from mi_zoo.data import vocabulary
from mi_zoo.data import vqa_answers

TSV_FIELDS = (
    "image_id",
    "image_w",
    "image_h",
    "num_boxes",
    "boxes",
    "features",
)
QUESTIONS_FILE = "v2_OpenEnded_mscoco_{split}_questions.json"
ANNOTATIONS_FILE = "v2_mscoco_{split}_annotations.json"
ANSWER_TYPES = ("yes/no", "number", "other")


def load_questions(path: str) -> List[dict]:
    """Reads an official questions file.

    Args:
      path: v2_OpenEnded_mscoco_*_questions.json.

    Returns:
      The list of {"image_id", "question", "question_id"} dicts.
    """
    return text_vocab.read_json_records(
        path,
        "VQA questions",
        "questions",
        ("image_id", "question", "question_id"),
    )


def load_annotations(path: str) -> Dict[int, dict]:
    """Reads an official annotations file.

    Args:
      path: v2_mscoco_*_annotations.json.

    Returns:
      {question_id: annotation dict}.
    """
    annotations = text_vocab.read_json_records(
        path,
        "VQA annotations",
        "annotations",
        ("question_id", "answers", "multiple_choice_answer"),
    )
    return {int(a["question_id"]): a for a in annotations}


def iter_examples(
    questions_json: str, annotations_json: Optional[str]
) -> Iterator[Tuple[dict, Optional[dict]]]:
    """Joins the official questions with their annotations, checking both.

    Args:
      questions_json: the official questions file.
      annotations_json: the matching annotations file, or None (test split).

    Yields:
      (question dict, annotation dict or None), in the order of the
      questions file.

    Raises:
      ValueError: naming the file, when a question has no annotation or the
        two files disagree on its image.
    """
    questions = load_questions(questions_json)
    annotations = (
        load_annotations(annotations_json)
        if annotations_json is not None
        else None
    )
    for q in questions:
        if annotations is None:
            yield q, None
            continue
        image_id, qid = int(q["image_id"]), int(q["question_id"])
        ann = annotations.get(qid)
        if ann is None:
            raise ValueError(
                f"annotations file {annotations_json!r} has "
                f"no entry for question {qid} of "
                f"{questions_json!r}."
            )
        if int(ann.get("image_id", image_id)) != image_id:
            raise ValueError(
                f"annotations file {annotations_json!r}: question {qid} "
                f"has image {ann['image_id']}, {questions_json!r} says "
                f"{image_id}."
            )
        yield q, ann


def _decode_array(text: str, width: int, path: str, image_id, field: str):
    try:
        flat = np.frombuffer(base64.b64decode(text), dtype=np.float32)
    except (ValueError, TypeError) as e:
        raise ValueError(
            f"features TSV {path!r}: image {image_id}: field "
            f"{field!r} is not base64 ({e})."
        ) from None
    if flat.size % width:
        raise ValueError(
            f"features TSV {path!r}: image {image_id}: field "
            f"{field!r} has {flat.size} floats, not a multiple "
            f"of {width}."
        )
    return flat.reshape(-1, width)


def _tsv_rows(path: str):
    csv.field_size_limit(sys.maxsize)
    with open(path, newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", fieldnames=TSV_FIELDS)
        for line, row in enumerate(reader, 1):
            if None in row or any(row[k] is None for k in TSV_FIELDS):
                raise ValueError(
                    f"features TSV {path!r}: line {line} does not "
                    f"have the 6 fields {TSV_FIELDS}."
                )
            yield row


def convert_tsv(tsv_path: str, out_dir: str, num_boxes: int = 36) -> str:
    """Converts a bottom-up features TSV into memory-mappable NumPy files.

    Images with fewer than `num_boxes` boxes are zero-padded (`num_boxes.npy`
    keeps the true count); more boxes is an error.

    Args:
      tsv_path: the TSV (fields `TSV_FIELDS`).
      out_dir: the output directory (created).
      num_boxes: boxes per image in the output.

    Returns:
      `out_dir`.
    """
    validation.check_positive_int("num_boxes", num_boxes)
    if not os.path.isfile(tsv_path):
        raise FileNotFoundError(f"features TSV {tsv_path!r} does not exist.")
    if os.path.getsize(tsv_path) == 0:
        raise ValueError(f"features TSV {tsv_path!r} is empty.")
    n, dim = 0, None
    for row in _tsv_rows(tsv_path):
        if dim is None:
            feats = _decode_array(
                row["features"], 1, tsv_path, row["image_id"], "features"
            )
            dim = feats.size // max(int(row["num_boxes"]), 1)
        n += 1
    os.makedirs(out_dir, exist_ok=True)
    tmp = os.path.join(out_dir, "{}.tmp.npy")
    features = np.lib.format.open_memmap(
        tmp.format("features"), "w+", np.float32, (n, num_boxes, dim)
    )
    boxes = np.zeros((n, num_boxes, 4), np.float32)
    counts = np.zeros((n,), np.int32)
    ids = np.zeros((n,), np.int64)
    for i, row in enumerate(_tsv_rows(tsv_path)):
        image_id = int(row["image_id"])
        k = int(row["num_boxes"])
        w, h = float(row["image_w"]), float(row["image_h"])
        if k > num_boxes:
            raise ValueError(
                f"features TSV {tsv_path!r}: image {image_id} has "
                f"{k} boxes, more than num_boxes={num_boxes}."
            )
        b = _decode_array(row["boxes"], 4, tsv_path, image_id, "boxes")
        f = _decode_array(row["features"], dim, tsv_path, image_id, "features")
        if len(b) != k or len(f) != k:
            raise ValueError(
                f"features TSV {tsv_path!r}: image {image_id} "
                f"says num_boxes={k} but has {len(b)} boxes and "
                f"{len(f)} feature rows."
            )
        features[i, :k] = f
        boxes[i, :k] = b / np.array([w, h, w, h], np.float32)
        counts[i], ids[i] = k, image_id
    if len(np.unique(ids)) != n:
        raise ValueError(f"features TSV {tsv_path!r} repeats image ids.")
    features.flush()
    del features
    os.replace(tmp.format("features"), os.path.join(out_dir, "features.npy"))
    np.save(os.path.join(out_dir, "boxes.npy"), boxes)
    np.save(os.path.join(out_dir, "num_boxes.npy"), counts)
    np.save(os.path.join(out_dir, "image_ids.npy"), ids)  # written last
    return out_dir


class FeatureStore:
    """Lazy per-image access to region features and normalised boxes.

    Args:
      path: a `convert_tsv` directory, or a BAN `*.hdf5` file (fixed boxes,
        or adaptive boxes with `pos_boxes`; its `*_imgid2idx.pkl` beside it).
      max_boxes: adaptive HDF5 only: boxes per example after zero padding;
        None takes the most boxes of any image. An image with more boxes is
        an error.

    Attributes:
      kind: "npy", "hdf5" (fixed boxes) or "hdf5_pos_boxes" (adaptive).
      shape: (R, D) of `read_row`'s features.
      row_of: {image id: row}.

    Example:

        store = FeatureStore("/data/vqa/val.hdf5")
        features, boxes, num_boxes = store.read_image(262148)
    """

    def __init__(self, path: str, max_boxes: Optional[int] = None):
        validation.check_positive_int("max_boxes", max_boxes, allow_none=True)
        self.path = path
        self._lock = threading.Lock()
        self._h5 = None
        self._counts = None
        self._pos_boxes = None
        if os.path.isdir(path):
            self._open_npy(path)
        elif path.endswith((".hdf5", ".h5")):
            self._open_hdf5(path, max_boxes)
        elif path.endswith(".tsv"):
            raise ValueError(
                f"features file {path!r} is a TSV; convert it "
                f"once with vqa_v2.convert_tsv (or pass "
                f"tsv_cache_dir to vqa_v2_dataset)."
            )
        else:
            raise ValueError(
                f"features path {path!r} is neither a "
                f"convert_tsv directory nor a .hdf5/.h5 file "
                f"(or it does not exist)."
            )
        if max_boxes is not None and self.kind != "hdf5_pos_boxes":
            raise ValueError(
                f"`max_boxes` applies to adaptive-box HDF5 files "
                f"(with pos_boxes) only; {path!r} has a fixed "
                f"{self.shape[0]} boxes, got "
                f"max_boxes={max_boxes}."
            )

    def _open_npy(self, path):
        ids_file = os.path.join(path, "image_ids.npy")
        if not os.path.isfile(ids_file):
            raise FileNotFoundError(
                f"features directory {path!r} has no image_ids.npy; write "
                f"it with vqa_v2.convert_tsv."
            )
        self.kind = "npy"
        ids = np.load(ids_file)
        self._features = np.load(
            os.path.join(path, "features.npy"), mmap_mode="r"
        )
        self._boxes = np.load(os.path.join(path, "boxes.npy"), mmap_mode="r")
        self._counts = np.load(
            os.path.join(path, "num_boxes.npy"), mmap_mode="r"
        )
        self.row_of = {int(i): r for r, i in enumerate(ids)}
        self.shape = tuple(self._features.shape[1:])

    def _open_hdf5(self, path, max_boxes):
        import h5py  # pylint: disable=g-import-not-at-top

        if not os.path.isfile(path):
            raise FileNotFoundError(f"features file {path!r} does not exist.")
        pkl = os.path.splitext(path)[0] + "_imgid2idx.pkl"
        if not os.path.isfile(pkl):
            raise FileNotFoundError(
                f"features file {path!r} needs its image-id index {pkl!r} "
                f"(BAN layout), which does not exist."
            )
        with open(pkl, "rb") as f:
            try:
                index = pickle.load(f)
            except Exception as e:  # pylint: disable=broad-except
                raise ValueError(
                    f"image-id index {pkl!r} is not a readable pickle: {e!r}"
                ) from None
        if not isinstance(index, dict) or not index:
            raise ValueError(
                f"image-id index {pkl!r} must be a non-empty "
                f"dict image id -> row."
            )
        self.row_of = {int(k): int(v) for k, v in index.items()}
        try:
            with h5py.File(path, "r") as h5:
                for key in ("image_features", "spatial_features"):
                    if key not in h5:
                        raise ValueError(
                            f"features file {path!r} has no dataset {key!r}."
                        )
                if "pos_boxes" in h5:
                    rows = self._check_pos_boxes(h5, path, max_boxes)
                else:
                    self.kind = "hdf5"
                    self.shape = tuple(h5["image_features"].shape[1:])
                    rows = h5["image_features"].shape[0]
        except OSError as e:
            raise ValueError(
                f"features file {path!r} is not a readable HDF5 file: {e}"
            ) from None
        bad = [k for k, r in self.row_of.items() if not 0 <= r < rows]
        if bad:
            raise ValueError(
                f"image-id index {pkl!r} points image "
                f"{bad[0]} past the {rows} rows of {path!r}."
            )

    def _check_pos_boxes(self, h5, path, max_boxes) -> int:
        """Reads and checks the [N, 2] index of an adaptive-box file."""
        feats, spatial = h5["image_features"], h5["spatial_features"]
        if len(feats.shape) != 2 or len(spatial.shape) != 2:
            raise ValueError(
                f"features file {path!r} has pos_boxes, so image_features "
                f"and spatial_features must be [total_boxes, D] and "
                f"[total_boxes, 6], got shapes {feats.shape} and "
                f"{spatial.shape}."
            )
        total = feats.shape[0]
        if spatial.shape[0] != total:
            raise ValueError(
                f"features file {path!r}: spatial_features has "
                f"{spatial.shape[0]} rows, image_features "
                f"{total}."
            )
        pos = np.asarray(h5["pos_boxes"][()])
        if pos.ndim != 2 or pos.shape[1] != 2 or len(pos) == 0:
            raise ValueError(
                f"features file {path!r}: pos_boxes must be "
                f"[num_images, 2] (start, end), got shape "
                f"{pos.shape}."
            )
        if not np.issubdtype(pos.dtype, np.integer):
            raise ValueError(
                f"features file {path!r}: pos_boxes must hold "
                f"integers, got dtype {pos.dtype}."
            )
        counts = pos[:, 1] - pos[:, 0]
        bad = np.flatnonzero(
            (pos[:, 0] < 0) | (counts < 0) | (pos[:, 1] > total)
        )
        if bad.size:
            n = int(bad[0])
            raise ValueError(
                f"features file {path!r}: pos_boxes[{n}] = "
                f"{pos[n].tolist()} is out of range; each (start, end) needs "
                f"0 <= start <= end <= {total} (the rows of "
                f"image_features)."
            )
        most = int(counts.max())
        if max_boxes is not None and most > max_boxes:
            n = int(np.argmax(counts))
            raise ValueError(
                f"features file {path!r}: image index {n} has "
                f"{most} boxes, more than max_boxes="
                f"{max_boxes}."
            )
        self.kind = "hdf5_pos_boxes"
        self._pos_boxes = pos
        self.shape = (max_boxes or most, feats.shape[1])
        return len(pos)

    def __contains__(self, image_id) -> bool:
        return int(image_id) in self.row_of

    def _h5_file(self):
        if self._h5 is None:
            import h5py  # pylint: disable=g-import-not-at-top

            self._h5 = h5py.File(self.path, "r")
        return self._h5

    def read_row(self, row) -> Tuple[np.ndarray, np.ndarray, np.int32]:
        """(features [R, D], boxes [R, 4] float32, num_boxes int32) of a row.

        Rows past `num_boxes` are zeros.
        """
        row = int(row)
        if self.kind == "npy":
            return (
                np.asarray(self._features[row], np.float32),
                np.asarray(self._boxes[row], np.float32),
                np.int32(self._counts[row]),
            )
        if self.kind == "hdf5":
            with self._lock:
                h5 = self._h5_file()
                feats = h5["image_features"][row]
                boxes = h5["spatial_features"][row][:, :4]
            return (
                feats.astype(np.float32),
                boxes.astype(np.float32),
                np.int32(len(feats)),
            )
        start, end = (int(v) for v in self._pos_boxes[row])
        with self._lock:
            h5 = self._h5_file()
            feats = h5["image_features"][start:end]
            boxes = h5["spatial_features"][start:end, :4]
        out_feats = np.zeros(self.shape, np.float32)
        out_boxes = np.zeros((self.shape[0], 4), np.float32)
        out_feats[: end - start] = feats
        out_boxes[: end - start] = boxes
        return out_feats, out_boxes, np.int32(end - start)

    def read_image(self, image_id):
        """`read_row` of an image id; errors name the features file."""
        row = self.row_of.get(int(image_id))
        if row is None:
            raise ValueError(
                f"features {self.path!r} have no image {int(image_id)}."
            )
        return self.read_row(row)

    def tf_read(self, key: tf.Tensor, by: str = "row"):
        """Reads one example inside a `tf.data` map.

        Args:
          key: a scalar int64 tensor, a row or an image id.
          by: "row" or "image_id".

        Returns:
          {"image": float32 [R, D], "boxes": float32 [R, 4], "num_boxes":
          int32 []}.
        """
        validation.check_choice("by", by, ("row", "image_id"))
        read = self.read_row if by == "row" else self.read_image
        feats, boxes, count = tf.numpy_function(
            read, [key], [tf.float32, tf.float32, tf.int32], stateful=False
        )
        feats.set_shape(self.shape)
        boxes.set_shape(self.shape[:-1] + (4,))
        count.set_shape(())
        return {"image": feats, "boxes": boxes, "num_boxes": count}


def _resolve_features(features_path: str, tsv_cache_dir: Optional[str]):
    if features_path.endswith(".tsv") and tsv_cache_dir is not None:
        if not os.path.isfile(os.path.join(tsv_cache_dir, "image_ids.npy")):
            convert_tsv(features_path, tsv_cache_dir)
        return tsv_cache_dir
    return features_path


def vqa_v2_dataset(
    questions_json: str,
    annotations_json: Optional[str],
    features_path: str,
    answer_vocab: vqa_answers.AnswerVocab,
    batch_size: int,
    question_vocab: Optional[vocabulary.Vocabulary] = None,
    *,
    max_question_length: int = 14,
    target: str = "counts",
    strict: bool = False,
    shuffle: bool = False,
    seed: int = 0,
    drop_remainder: bool = False,
    tsv_cache_dir: Optional[str] = None,
    max_boxes: Optional[int] = None,
) -> tf.data.Dataset:
    """The VQA v2 `tf.data` pipeline.

    Args:
      questions_json: the official questions file.
      annotations_json: the matching annotations file, or None (test split:
        the dataset then yields the inputs dict only).
      features_path: features (see the module docstring); a `.tsv` needs
        `tsv_cache_dir`, where it is converted on the first call.
      answer_vocab: the answer set; answers outside it are dropped from the
        targets.
      batch_size: examples per batch.
      question_vocab: question words; None builds one from `questions_json`
        (do that only for the train split).
      max_question_length: T; questions are truncated/padded to it.
      target: "counts" (n, the targets of the zoo's sigmoid answer
        convention, `mi_zoo.models.objectives`: its loss, soft score and
        official accuracy all derive from them), "soft" (min(n/3, 1)) or
        "official" (exact per-answer official accuracy).
      strict: count the annotators who gave each answer as the official
        evaluator matches that answer predicted
        (`vqa_answers.AnswerVocab.targets(..., strict=True)`): the
        accuracy from these counts is then `vqa_answers.official_accuracy`
        of the predicted answer string, the official number (use it for
        evaluation); False: the cleaned-up normaliser (training targets).
      shuffle: shuffle questions (seeded, reshuffled each epoch).
      seed: the shuffle seed.
      drop_remainder: drop the last partial batch.
      tsv_cache_dir: where a TSV is converted (once).
      max_boxes: R of an adaptive-box HDF5 file (see `FeatureStore`).

    Returns:
      A dataset of ({"question": int32 [B, T], "image": float32 [B, R, D],
      "boxes": float32 [B, R, 4], "num_boxes": int32 [B] (boxes before
      the zero padding), "question_id": int64 [B]},
      float32 [B, num_answers]) (or the dict alone without annotations).
    """
    validation.check_positive_int("batch_size", batch_size)
    validation.check_positive_int("max_question_length", max_question_length)
    validation.check_choice("target", target, ("soft", "official", "counts"))
    pairs = list(iter_examples(questions_json, annotations_json))
    with_targets = annotations_json is not None
    store = FeatureStore(
        _resolve_features(features_path, tsv_cache_dir), max_boxes
    )
    if question_vocab is None:
        question_vocab = vocabulary.Vocabulary.from_texts(
            q["question"] for q, _ in pairs
        )
    n = len(pairs)
    tokens = np.zeros((n, max_question_length), np.int32)
    rows = np.zeros((n,), np.int64)
    qids = np.zeros((n,), np.int64)
    target_ids = np.full((n, vqa_answers.NUM_ANNOTATORS), -1, np.int64)
    target_scores = np.zeros((n, vqa_answers.NUM_ANNOTATORS), np.float32)
    for i, (q, ann) in enumerate(pairs):
        image_id, qid = int(q["image_id"]), int(q["question_id"])
        if image_id not in store:
            raise ValueError(
                f"features {store.path!r} have no image {image_id} "
                f"(question {qid} of {questions_json!r}); are the features "
                f"and questions from the same split?"
            )
        tokens[i] = question_vocab.encode(q["question"], max_question_length)
        rows[i] = store.row_of[image_id]
        qids[i] = qid
        if ann is not None:
            ids, scores = answer_vocab.targets(ann["answers"], target, strict)
            target_ids[i, : len(ids)] = ids
            target_scores[i, : len(ids)] = scores
    num_answers = len(answer_vocab)

    def load(example):
        inputs = {
            "question": example["question"],
            **store.tf_read(example["row"]),
            "question_id": example["question_id"],
        }
        if not with_targets:
            return inputs
        valid = example["ids"] >= 0
        ids = tf.boolean_mask(example["ids"], valid)
        scores = tf.boolean_mask(example["scores"], valid)
        return inputs, dense_targets(ids, scores, num_answers)

    ds = tf.data.Dataset.from_tensor_slices(
        {
            "question": tokens,
            "row": rows,
            "question_id": qids,
            "ids": target_ids,
            "scores": target_scores,
        }
    )
    return sources.batched(
        ds, load, batch_size, shuffle, seed, drop_remainder, n
    )


def dense_targets(
    ids: tf.Tensor, scores: tf.Tensor, num_answers: int
) -> tf.Tensor:
    """Sparse (answer ids [k], scores [k]) -> float32 [num_answers]."""
    return tf.scatter_nd(
        tf.cast(ids, tf.int64)[:, None],
        tf.cast(scores, tf.float32),
        [num_answers],
    )


def split_files(manual_dir: str, split: str) -> Dict[str, str]:
    """Paths of a split's official files in `manual_dir`.

    Args:
      manual_dir: the directory holding the official JSON files.
      split: "train2014" or "val2014".

    Returns:
      {"questions": path, "annotations": path}.
    """
    if not os.path.isdir(manual_dir):
        raise FileNotFoundError(
            f"VQA v2 manual directory {manual_dir!r} does "
            f"not exist; put the official files there."
        )
    out = {
        "questions": os.path.join(
            manual_dir, QUESTIONS_FILE.format(split=split)
        ),
        "annotations": os.path.join(
            manual_dir, ANNOTATIONS_FILE.format(split=split)
        ),
    }
    for what, path in out.items():
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"VQA v2 {what} file {path!r} is missing "
                f"from the manual directory."
            )
    return out


def main(argv: Sequence[str]) -> None:
    import argparse  # pylint: disable=g-import-not-at-top

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--convert_tsv")
    parser.add_argument("--out_dir")
    parser.add_argument("--manual_dir")
    parser.add_argument("--features")
    parser.add_argument("--vocab_dir")
    parser.add_argument("--batch_size", type=int, default=64)
    args = parser.parse_args(argv)
    if args.convert_tsv:
        print(convert_tsv(args.convert_tsv, args.out_dir))
        return
    train = split_files(args.manual_dir, "train2014")
    val = split_files(args.manual_dir, "val2014")
    qvocab = vocabulary.Vocabulary.from_texts(
        q["question"] for q in load_questions(train["questions"])
    )
    avocab = vqa_answers.AnswerVocab.build(
        load_annotations(train["annotations"]).values()
    )
    os.makedirs(args.vocab_dir, exist_ok=True)
    qvocab.save(os.path.join(args.vocab_dir, "question_vocab.json"))
    avocab.save(os.path.join(args.vocab_dir, "answer_vocab.json"))
    ds = vqa_v2_dataset(
        val["questions"],
        val["annotations"],
        args.features,
        avocab,
        args.batch_size,
        qvocab,
    )
    print(
        throughput.report(
            *throughput.time_one_pass(ds, "question"), "val examples"
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
