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
    first four columns of `spatial_features`. (BAN's adaptive-box files
    with `pos_boxes` are not supported.)
  - a directory written by `convert_tsv`.

Features stay on disk and are read per example (memory map or h5py inside
`tf.numpy_function`). Commands:

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
    #   "boxes": float32 [B, 36, 4]}, float32 [B, num_answers])
"""

import base64
import csv
import os
import pickle
import sys
import threading
from typing import Dict, List, Optional, Sequence

import numpy as np
import tensorflow as tf

from mi_zoo.data import text_vocab
from mi_zoo.data import throughput
from mi_zoo.data import vqa_answers
from mi_zoo.layers import _validation

TSV_FIELDS = ("image_id", "image_w", "image_h", "num_boxes", "boxes",
              "features")
QUESTIONS_FILE = "v2_OpenEnded_mscoco_{split}_questions.json"
ANNOTATIONS_FILE = "v2_mscoco_{split}_annotations.json"


def load_questions(path: str) -> List[dict]:
    """Reads an official questions file.

    Args:
      path: v2_OpenEnded_mscoco_*_questions.json.

    Returns:
      The list of {"image_id", "question", "question_id"} dicts.
    """
    data = text_vocab.read_json(path, "VQA questions")
    questions = data.get("questions") if isinstance(data, dict) else None
    if not isinstance(questions, list):
        raise ValueError(f"VQA questions file {path!r} has no \"questions\" "
                         f"list.")
    if not questions:
        raise ValueError(f"VQA questions file {path!r} has no questions.")
    for q in questions:
        if not all(k in q for k in ("image_id", "question", "question_id")):
            raise ValueError(f"VQA questions file {path!r}: entry {q!r} lacks "
                             f"image_id, question or question_id.")
    return questions


def load_annotations(path: str) -> Dict[int, dict]:
    """Reads an official annotations file.

    Args:
      path: v2_mscoco_*_annotations.json.

    Returns:
      {question_id: annotation dict}.
    """
    data = text_vocab.read_json(path, "VQA annotations")
    anns = data.get("annotations") if isinstance(data, dict) else None
    if not isinstance(anns, list):
        raise ValueError(f"VQA annotations file {path!r} has no "
                         f"\"annotations\" list.")
    if not anns:
        raise ValueError(f"VQA annotations file {path!r} has no annotations.")
    out = {}
    for a in anns:
        if not all(k in a for k in ("question_id", "answers",
                                    "multiple_choice_answer")):
            raise ValueError(f"VQA annotations file {path!r}: entry for "
                             f"question {a.get('question_id')!r} lacks "
                             f"question_id, answers or multiple_choice_answer.")
        out[int(a["question_id"])] = a
    return out


def _decode_array(text: str, width: int, path: str, image_id, field: str):
    try:
        flat = np.frombuffer(base64.b64decode(text), dtype=np.float32)
    except (ValueError, TypeError) as e:
        raise ValueError(f"features TSV {path!r}: image {image_id}: field "
                         f"{field!r} is not base64 ({e}).") from None
    if flat.size % width:
        raise ValueError(f"features TSV {path!r}: image {image_id}: field "
                         f"{field!r} has {flat.size} floats, not a multiple "
                         f"of {width}.")
    return flat.reshape(-1, width)


def _tsv_rows(path: str):
    csv.field_size_limit(sys.maxsize)
    with open(path, newline="") as f:
        reader = csv.DictReader(f, delimiter="\t", fieldnames=TSV_FIELDS)
        for line, row in enumerate(reader, 1):
            if None in row or any(row[k] is None for k in TSV_FIELDS):
                raise ValueError(f"features TSV {path!r}: line {line} does not "
                                 f"have the 6 fields {TSV_FIELDS}.")
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
    _validation.check_positive_int("num_boxes", num_boxes)
    if not os.path.isfile(tsv_path):
        raise FileNotFoundError(f"features TSV {tsv_path!r} does not exist.")
    if os.path.getsize(tsv_path) == 0:
        raise ValueError(f"features TSV {tsv_path!r} is empty.")
    n, dim = 0, None
    for row in _tsv_rows(tsv_path):
        if dim is None:
            feats = _decode_array(row["features"], 1, tsv_path,
                                  row["image_id"], "features")
            dim = feats.size // max(int(row["num_boxes"]), 1)
        n += 1
    os.makedirs(out_dir, exist_ok=True)
    tmp = os.path.join(out_dir, "{}.tmp.npy")
    features = np.lib.format.open_memmap(tmp.format("features"), "w+",
                                         np.float32, (n, num_boxes, dim))
    boxes = np.zeros((n, num_boxes, 4), np.float32)
    counts = np.zeros((n,), np.int32)
    ids = np.zeros((n,), np.int64)
    for i, row in enumerate(_tsv_rows(tsv_path)):
        image_id = int(row["image_id"])
        k = int(row["num_boxes"])
        w, h = float(row["image_w"]), float(row["image_h"])
        if k > num_boxes:
            raise ValueError(f"features TSV {tsv_path!r}: image {image_id} has "
                             f"{k} boxes, more than num_boxes={num_boxes}.")
        b = _decode_array(row["boxes"], 4, tsv_path, image_id, "boxes")
        f = _decode_array(row["features"], dim, tsv_path, image_id,
                          "features")
        if len(b) != k or len(f) != k:
            raise ValueError(f"features TSV {tsv_path!r}: image {image_id} "
                             f"says num_boxes={k} but has {len(b)} boxes and "
                             f"{len(f)} feature rows.")
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
      path: a `convert_tsv` directory, or a BAN `*.hdf5` file (with its
        `*_imgid2idx.pkl` beside it).
    """

    def __init__(self, path: str):
        self.path = path
        self._lock = threading.Lock()
        self._h5 = None
        if os.path.isdir(path):
            ids_file = os.path.join(path, "image_ids.npy")
            if not os.path.isfile(ids_file):
                raise FileNotFoundError(
                    f"features directory {path!r} has no image_ids.npy; write "
                    f"it with vqa_v2.convert_tsv.")
            self.kind = "npy"
            ids = np.load(ids_file)
            self._features = np.load(os.path.join(path, "features.npy"),
                                     mmap_mode="r")
            self._boxes = np.load(os.path.join(path, "boxes.npy"),
                                  mmap_mode="r")
            self.row_of = {int(i): r for r, i in enumerate(ids)}
            self.shape = tuple(self._features.shape[1:])
        elif path.endswith((".hdf5", ".h5")):
            import h5py  # pylint: disable=g-import-not-at-top
            if not os.path.isfile(path):
                raise FileNotFoundError(f"features file {path!r} does not "
                                        f"exist.")
            pkl = os.path.splitext(path)[0] + "_imgid2idx.pkl"
            if not os.path.isfile(pkl):
                raise FileNotFoundError(
                    f"features file {path!r} needs its image-id index {pkl!r} "
                    f"(BAN layout), which does not exist.")
            with open(pkl, "rb") as f:
                try:
                    index = pickle.load(f)
                except Exception as e:  # pylint: disable=broad-except
                    raise ValueError(f"image-id index {pkl!r} is not a "
                                     f"readable pickle: {e!r}") from None
            if not isinstance(index, dict) or not index:
                raise ValueError(f"image-id index {pkl!r} must be a non-empty "
                                 f"dict image id -> row.")
            self.row_of = {int(k): int(v) for k, v in index.items()}
            self.kind = "hdf5"
            try:
                with h5py.File(path, "r") as h5:
                    for key in ("image_features", "spatial_features"):
                        if key not in h5:
                            raise ValueError(f"features file {path!r} has no "
                                             f"dataset {key!r}.")
                    self.shape = tuple(h5["image_features"].shape[1:])
                    rows = h5["image_features"].shape[0]
            except OSError as e:
                raise ValueError(f"features file {path!r} is not a readable "
                                 f"HDF5 file: {e}") from None
            bad = [k for k, r in self.row_of.items() if not 0 <= r < rows]
            if bad:
                raise ValueError(f"image-id index {pkl!r} points image "
                                 f"{bad[0]} past the {rows} rows of {path!r}.")
        elif path.endswith(".tsv"):
            raise ValueError(f"features file {path!r} is a TSV; convert it "
                             f"once with vqa_v2.convert_tsv (or pass "
                             f"tsv_cache_dir to vqa_v2_dataset).")
        else:
            raise ValueError(f"features path {path!r} is neither a "
                             f"convert_tsv directory nor a .hdf5/.h5 file "
                             f"(or it does not exist).")

    def __contains__(self, image_id) -> bool:
        return int(image_id) in self.row_of

    def read_row(self, row):
        """Returns (features [R, D], boxes [R, 4]) float32 of one row."""
        row = int(row)
        if self.kind == "npy":
            return (np.asarray(self._features[row], np.float32),
                    np.asarray(self._boxes[row], np.float32))
        with self._lock:
            if self._h5 is None:
                import h5py  # pylint: disable=g-import-not-at-top
                self._h5 = h5py.File(self.path, "r")
            feats = self._h5["image_features"][row]
            boxes = self._h5["spatial_features"][row][:, :4]
        return feats.astype(np.float32), boxes.astype(np.float32)


def _resolve_features(features_path: str, tsv_cache_dir: Optional[str]):
    if features_path.endswith(".tsv") and tsv_cache_dir is not None:
        if not os.path.isfile(os.path.join(tsv_cache_dir, "image_ids.npy")):
            convert_tsv(features_path, tsv_cache_dir)
        return tsv_cache_dir
    return features_path


def vqa_v2_dataset(questions_json: str,
                   annotations_json: Optional[str],
                   features_path: str,
                   answer_vocab: vqa_answers.AnswerVocab,
                   batch_size: int,
                   question_vocab: Optional[text_vocab.TextVocab] = None,
                   *,
                   max_question_length: int = 14,
                   target: str = "soft",
                   shuffle: bool = False,
                   seed: int = 0,
                   drop_remainder: bool = False,
                   tsv_cache_dir: Optional[str] = None) -> tf.data.Dataset:
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
      target: "soft" (min(n/3, 1)), "official" (exact per-answer official
        accuracy) or "counts" (n, the targets `VqaAccuracy` expects).
      shuffle: shuffle questions (seeded, reshuffled each epoch).
      seed: the shuffle seed.
      drop_remainder: drop the last partial batch.
      tsv_cache_dir: where a TSV is converted (once).

    Returns:
      A dataset of ({"question": int32 [B, T], "image": float32 [B, R, D],
      "boxes": float32 [B, R, 4], "question_id": int64 [B]},
      float32 [B, num_answers]) (or the dict alone without annotations).
    """
    _validation.check_positive_int("batch_size", batch_size)
    _validation.check_positive_int("max_question_length", max_question_length)
    _validation.check_choice("target", target, ("soft", "official", "counts"))
    questions = load_questions(questions_json)
    annotations = (load_annotations(annotations_json)
                   if annotations_json is not None else None)
    store = FeatureStore(_resolve_features(features_path, tsv_cache_dir))
    if question_vocab is None:
        question_vocab = text_vocab.TextVocab.build(
            q["question"] for q in questions)
    n = len(questions)
    tokens = np.zeros((n, max_question_length), np.int32)
    rows = np.zeros((n,), np.int64)
    qids = np.zeros((n,), np.int64)
    target_ids = np.full((n, vqa_answers.NUM_ANNOTATORS), -1, np.int64)
    target_scores = np.zeros((n, vqa_answers.NUM_ANNOTATORS), np.float32)
    for i, q in enumerate(questions):
        image_id, qid = int(q["image_id"]), int(q["question_id"])
        if image_id not in store:
            raise ValueError(
                f"features {store.path!r} have no image {image_id} "
                f"(question {qid} of {questions_json!r}); are the features "
                f"and questions from the same split?")
        tokens[i] = question_vocab.encode(q["question"], max_question_length)
        rows[i] = store.row_of[image_id]
        qids[i] = qid
        if annotations is not None:
            ann = annotations.get(qid)
            if ann is None:
                raise ValueError(f"annotations file {annotations_json!r} has "
                                 f"no entry for question {qid} of "
                                 f"{questions_json!r}.")
            if int(ann.get("image_id", image_id)) != image_id:
                raise ValueError(
                    f"annotations file {annotations_json!r}: question {qid} "
                    f"has image {ann['image_id']}, {questions_json!r} says "
                    f"{image_id}.")
            ids, scores = answer_vocab.targets(ann["answers"], target)
            target_ids[i, :len(ids)] = ids
            target_scores[i, :len(ids)] = scores
    region_shape = store.shape
    num_answers = len(answer_vocab)

    def read(row):
        feats, boxes = store.read_row(row)
        return feats, boxes

    def load(example):
        feats, boxes = tf.numpy_function(
            read, [example["row"]], [tf.float32, tf.float32],
            stateful=False)
        feats.set_shape(region_shape)
        boxes.set_shape(region_shape[:-1] + (4,))
        inputs = {"question": example["question"], "image": feats,
                  "boxes": boxes, "question_id": example["question_id"]}
        if annotations is None:
            return inputs
        valid = example["ids"] >= 0
        ids = tf.boolean_mask(example["ids"], valid)
        scores = tf.boolean_mask(example["scores"], valid)
        dense = tf.scatter_nd(ids[:, None], scores, [num_answers])
        return inputs, dense

    ds = tf.data.Dataset.from_tensor_slices(
        {"question": tokens, "row": rows, "question_id": qids,
         "ids": target_ids, "scores": target_scores})
    if shuffle:
        ds = ds.shuffle(n, seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(load, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    ds = ds.batch(batch_size, drop_remainder=drop_remainder)
    return ds.prefetch(tf.data.AUTOTUNE)


def split_files(manual_dir: str, split: str) -> Dict[str, str]:
    """Paths of a split's official files in `manual_dir`.

    Args:
      manual_dir: the directory holding the official JSON files.
      split: "train2014" or "val2014".

    Returns:
      {"questions": path, "annotations": path}.
    """
    if not os.path.isdir(manual_dir):
        raise FileNotFoundError(f"VQA v2 manual directory {manual_dir!r} does "
                                f"not exist; put the official files there.")
    out = {"questions": os.path.join(manual_dir,
                                     QUESTIONS_FILE.format(split=split)),
           "annotations": os.path.join(manual_dir,
                                       ANNOTATIONS_FILE.format(split=split))}
    for what, path in out.items():
        if not os.path.isfile(path):
            raise FileNotFoundError(f"VQA v2 {what} file {path!r} is missing "
                                    f"from the manual directory.")
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
    qvocab = text_vocab.TextVocab.build(
        q["question"] for q in load_questions(train["questions"]))
    avocab = vqa_answers.AnswerVocab.build(
        load_annotations(train["annotations"]).values())
    os.makedirs(args.vocab_dir, exist_ok=True)
    qvocab.save(os.path.join(args.vocab_dir, "question_vocab.json"))
    avocab.save(os.path.join(args.vocab_dir, "answer_vocab.json"))
    ds = vqa_v2_dataset(val["questions"], val["annotations"], args.features,
                        avocab, args.batch_size, qvocab)
    print(throughput.report(*throughput.time_one_pass(ds, "question"),
                            "val examples"))


if __name__ == "__main__":
    main(sys.argv[1:])
