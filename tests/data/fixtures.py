"""Writers of tiny fixtures in the real formats of VQA v2, CLEVR, Flickr30k."""

import base64
import csv
import json
import os
import pickle
import shutil
import tempfile

import numpy as np
from PIL import Image

VQA_QUESTIONS = [
    (1, 10, "What color is the dog?"),
    (1, 11, "How many dogs are there?"),
    (2, 20, "Is this a cat?"),
    (3, 30, "What's on the table?"),
    (3, 31, "How many people?"),
]
VQA_ANSWERS = {
    10: ["brown"] * 7 + ["Brown."] + ["tan"] * 2,
    11: ["two"] * 4 + ["2"] * 2 + ["3"] * 3 + ["many"],
    20: ["yes"] * 9 + ["no"],
    30: ["a laptop"] * 2 + ["computer"] * 2 + ["plate"] * 6,
    31: ["0"] * 10,
}


def tempdir(test):
    """A fresh directory removed when `test` (a TestCase) ends."""
    path = tempfile.mkdtemp()
    test.addCleanup(shutil.rmtree, path, ignore_errors=True)
    return path


IMAGE_SIZES = {1: (640, 480), 2: (500, 375), 3: (320, 240)}


def write_vqa_json(
    directory, split="train2014", questions=VQA_QUESTIONS, answers=None
):
    """Writes the official questions and annotations files; returns paths."""
    answers = VQA_ANSWERS if answers is None else answers
    qs = [
        {"image_id": i, "question": q, "question_id": qid}
        for i, qid, q in questions
    ]
    anns = []
    for image_id, qid, _ in questions:
        given = answers[qid]
        anns.append(
            {
                "question_id": qid,
                "image_id": image_id,
                "answers": [
                    {
                        "answer": a,
                        "answer_confidence": "yes",
                        "answer_id": k + 1,
                    }
                    for k, a in enumerate(given)
                ],
                "multiple_choice_answer": max(set(given), key=given.count),
                "answer_type": "other",
                "question_type": "what",
            }
        )
    qpath = os.path.join(
        directory, f"v2_OpenEnded_mscoco_{split}_questions.json"
    )
    apath = os.path.join(directory, f"v2_mscoco_{split}_annotations.json")
    with open(qpath, "w") as f:
        json.dump({"questions": qs, "data_subtype": split}, f)
    with open(apath, "w") as f:
        json.dump({"annotations": anns, "data_subtype": split}, f)
    return qpath, apath


def region_features(image_id, num_boxes=36, dim=2048):
    """Deterministic features and pixel boxes of one image."""
    rng = np.random.default_rng(image_id)
    w, h = IMAGE_SIZES[image_id]
    feats = rng.random((num_boxes, dim), dtype=np.float32)
    x1 = rng.uniform(0, w / 2, num_boxes)
    y1 = rng.uniform(0, h / 2, num_boxes)
    boxes = np.stack([x1, y1, x1 + w / 4, y1 + h / 4], 1).astype(np.float32)
    return feats, boxes


def write_tsv(path, image_ids=(1, 2, 3), num_boxes=36, dim=2048):
    """Writes a bottom-up attention trainval_36-style TSV."""
    with open(path, "w", newline="") as f:
        writer = csv.writer(f, delimiter="\t")
        for image_id in image_ids:
            feats, boxes = region_features(image_id, num_boxes, dim)
            w, h = IMAGE_SIZES[image_id]
            writer.writerow(
                [
                    image_id,
                    w,
                    h,
                    num_boxes,
                    base64.b64encode(boxes.tobytes()).decode(),
                    base64.b64encode(feats.tobytes()).decode(),
                ]
            )
    return path


def write_ban_hdf5(
    directory, split="train", image_ids=(3, 1, 2), num_boxes=36, dim=2048
):
    """Writes BAN's {split}36.hdf5 and {split}36_imgid2idx.pkl."""
    import h5py

    path = os.path.join(directory, f"{split}36.hdf5")
    n = len(image_ids)
    with h5py.File(path, "w") as h5:
        feats = h5.create_dataset("image_features", (n, num_boxes, dim), "f")
        bb = h5.create_dataset("image_bb", (n, num_boxes, 4), "f")
        spatial = h5.create_dataset("spatial_features", (n, num_boxes, 6), "f")
        for row, image_id in enumerate(image_ids):
            f, b = region_features(image_id, num_boxes, dim)
            w, h = IMAGE_SIZES[image_id]
            feats[row], bb[row] = f, b
            scaled = b / np.array([w, h, w, h], np.float32)
            spatial[row] = np.concatenate(
                [
                    scaled,
                    scaled[:, 2:3] - scaled[:, 0:1],
                    scaled[:, 3:4] - scaled[:, 1:2],
                ],
                1,
            )
    with open(os.path.join(directory, f"{split}36_imgid2idx.pkl"), "wb") as f:
        pickle.dump({i: r for r, i in enumerate(image_ids)}, f)
    return path


BAN_ADAPTIVE_BOXES = {1: 12, 2: 10, 3: 15}


def write_ban_adaptive_hdf5(
    directory,
    split="train",
    image_ids=(3, 1, 2),
    num_boxes=BAN_ADAPTIVE_BOXES,
    dim=2048,
):
    """Writes BAN's adaptive-box {split}.hdf5 (boxes of all images
    concatenated, `pos_boxes` [N, 2]) and {split}_imgid2idx.pkl."""
    import h5py

    path = os.path.join(directory, f"{split}.hdf5")
    feats, bbs, spatials, pos, start = [], [], [], [], 0
    for image_id in image_ids:
        k = num_boxes[image_id]
        f, b = region_features(image_id, k, dim)
        w, h = IMAGE_SIZES[image_id]
        scaled = b / np.array([w, h, w, h], np.float32)
        feats.append(f)
        bbs.append(b)
        spatials.append(
            np.concatenate(
                [
                    scaled,
                    scaled[:, 2:3] - scaled[:, 0:1],
                    scaled[:, 3:4] - scaled[:, 1:2],
                ],
                1,
            )
        )
        pos.append((start, start + k))
        start += k
    with h5py.File(path, "w") as h5:
        h5.create_dataset("image_features", data=np.concatenate(feats))
        h5.create_dataset("image_bb", data=np.concatenate(bbs))
        h5.create_dataset("spatial_features", data=np.concatenate(spatials))
        h5.create_dataset("pos_boxes", data=np.array(pos, np.int64))
    with open(os.path.join(directory, f"{split}_imgid2idx.pkl"), "wb") as f:
        pickle.dump({i: r for r, i in enumerate(image_ids)}, f)
    return path


def write_png(path, color, size=(24, 16)):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.new("RGB", size, color).save(path)


def write_jpeg(path, color, size=(20, 30)):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.new("RGB", size, color).save(path, quality=95)


def _program(last):
    return [
        {"inputs": [], "function": "scene", "value_inputs": []},
        {"inputs": [0], "function": "filter_color", "value_inputs": ["red"]},
        {"inputs": [1], "function": last, "value_inputs": []},
    ]


CLEVR_QUESTIONS = [
    (0, "Is there a red cube?", "yes", "exist"),
    (0, "How many red things are there?", "2", "count"),
    (1, "Are there fewer cubes than spheres?", "no", "less_than"),
    (1, "What color is the big sphere?", "red", "query_color"),
    (2, "Is the cube the same size as the sphere?", "yes", "equal_size"),
    (2, "Are there as many cubes as balls?", "yes", "equal_integer"),
]
CLEVR_COLORS = [(255, 0, 0), (0, 255, 0), (0, 0, 255)]


def write_clevr(manual_dir, split="train", questions=CLEVR_QUESTIONS):
    """Writes CLEVR_v1.0/{images/<split>, questions} under manual_dir."""
    root = os.path.join(manual_dir, "CLEVR_v1.0")
    qs = []
    for k, (index, text, answer, last) in enumerate(questions):
        name = f"CLEVR_{split}_{index:06d}.png"
        write_png(
            os.path.join(root, "images", split, name), CLEVR_COLORS[index % 3]
        )
        qs.append(
            {
                "image_index": index,
                "image_filename": name,
                "question": text,
                "answer": answer,
                "split": split,
                "question_family_index": k,
                "question_index": k,
                "program": _program(last),
            }
        )
    os.makedirs(os.path.join(root, "questions"), exist_ok=True)
    path = os.path.join(root, "questions", f"CLEVR_{split}_questions.json")
    with open(path, "w") as f:
        json.dump({"info": {"split": split}, "questions": qs}, f)
    return path


FLICKR_CAPTIONS = {
    "1000092795.jpg": [
        "Two young guys with shaggy hair look at their hands.",
        "Two friends enjoy time spent together.",
    ],
    "10002456.jpg": ["Several men in hard hats are operating a pulley."],
    "1000268201.jpg": [
        "A child in a pink dress is climbing stairs.",
        "A little girl climbing into a playhouse.",
    ],
}
FLICKR_SPLITS = {
    "1000092795.jpg": "train",
    "10002456.jpg": "test",
    "1000268201.jpg": "train",
}


def write_flickr30k(manual_dir, token_file=True, karpathy=True, splits=None):
    """Writes flickr30k-images/, results_20130124.token and/or
    dataset_flickr30k.json (Karpathy `splits`: {image: split}, by default
    FLICKR_SPLITS)."""
    splits = FLICKR_SPLITS if splits is None else splits
    for k, name in enumerate(sorted(FLICKR_CAPTIONS)):
        write_jpeg(
            os.path.join(manual_dir, "flickr30k-images", name),
            CLEVR_COLORS[k % 3],
        )
    if token_file:
        with open(
            os.path.join(manual_dir, "results_20130124.token"), "w"
        ) as f:
            for name, caps in FLICKR_CAPTIONS.items():
                for i, c in enumerate(caps):
                    f.write(f"{name}#{i}\t{c}\n")
    if karpathy:
        images, sent = [], 0
        for k, (name, caps) in enumerate(FLICKR_CAPTIONS.items()):
            sentences = [
                {
                    "raw": c,
                    "tokens": c.lower().strip(".").split(),
                    "imgid": k,
                    "sentid": sent + i,
                }
                for i, c in enumerate(caps)
            ]
            images.append(
                {
                    "filename": name,
                    "imgid": k,
                    "split": splits[name],
                    "sentids": [s["sentid"] for s in sentences],
                    "sentences": sentences,
                }
            )
            sent += len(caps)
        with open(
            os.path.join(manual_dir, "dataset_flickr30k.json"), "w"
        ) as f:
            json.dump({"images": images, "dataset": "flickr30k"}, f)
    return manual_dir
