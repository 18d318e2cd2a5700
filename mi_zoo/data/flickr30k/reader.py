"""Flickr30k reader: JPEG images + captions from a manual directory.

Reference: Young et al., "From image descriptions to visual denotations",
TACL 2014 (https://shannon.cs.illinois.edu/DenotationGraph/); the standard
split is Karpathy & Fei-Fei, "Deep Visual-Semantic Alignments for Generating
Image Descriptions", CVPR 2015.

Layout (MANUAL_DIR):

    flickr30k-images/1000092795.jpg ...
    results_20130124.token   lines "1000092795.jpg#0<TAB>caption" (official)
    dataset_flickr30k.json   Karpathy split (optional): {"images":
        [{"filename", "split": "train"|"val"|"test"|"restval",
          "sentences": [{"raw", "tokens", ...}], ...}]}

With `source="auto"` the Karpathy JSON is used when present (splits train,
val, test; "restval" images, if any, count as train), otherwise the token
file, which has no split: only `split="all"` is accepted then. Captions are
tokenised by `text_vocab.tokenize` from the raw text in both cases.

Commands:

    python3 -m mi_zoo.data.flickr30k --manual_dir=/data/flickr30k \\
        --vocab=/data/flickr30k/caption_vocab.json

builds the caption vocabulary from the train split and times one pass over
test. In Python:

    ds = flickr30k.flickr30k_dataset(manual_dir, "train", vocab,
                                     batch_size=128, shuffle=True)
    # {"image": float32 [B, 224, 224, 3] in [0, 1],
    #  "caption": int32 [B, T], "image_index": int32 [B]}
"""

import os
import re
import sys
from typing import Dict
from typing import List
from typing import Optional
from typing import Sequence
from typing import Tuple

import numpy as np
import tensorflow as tf

from mi_zoo.core import validation
from mi_zoo.data import images as images_lib
from mi_zoo.data import sources
from mi_zoo.data import text_vocab
from mi_zoo.data import throughput
from mi_zoo.data import vocabulary

TOKEN_FILE = "results_20130124.token"
KARPATHY_FILE = "dataset_flickr30k.json"
IMAGES_DIR = "flickr30k-images"
SOURCES = ("auto", "karpathy", "token")
_TOKEN_LINE = re.compile(r"^(?P<image>[^#\t]+)#(?P<index>\d+)\t(?P<text>.*)$")


def read_token_file(path: str) -> Dict[str, List[str]]:
    """Reads results_20130124.token.

    Args:
      path: the token file.

    Returns:
      {image filename: captions ordered by their #index}, images sorted by
      name.
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"Flickr30k token file {path!r} does not exist."
        )
    captions: Dict[str, Dict[int, str]] = {}
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            m = _TOKEN_LINE.match(line)
            if m is None:
                raise ValueError(
                    f"Flickr30k token file {path!r}: line "
                    f"{line_no} is not 'image.jpg#i<TAB>caption':"
                    f" {line[:80]!r}."
                )
            captions.setdefault(m["image"], {})[int(m["index"])] = m["text"]
    if not captions:
        raise ValueError(f"Flickr30k token file {path!r} is empty.")
    return {
        image: [caps[i] for i in sorted(caps)]
        for image, caps in sorted(captions.items())
    }


def read_karpathy_split(path: str) -> Dict[str, List[Tuple[str, List[str]]]]:
    """Reads dataset_flickr30k.json.

    Args:
      path: the Karpathy split file.

    Returns:
      {split: [(image filename, raw captions)]} in file order, "restval"
      merged into "train".
    """
    data = text_vocab.read_json(path, "Flickr30k Karpathy split")
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, list) or not images:
        raise ValueError(
            f"Flickr30k Karpathy split file {path!r} has no "
            f'"images" list (or it is empty).'
        )
    out: Dict[str, List[Tuple[str, List[str]]]] = {}
    for k, image in enumerate(images):
        try:
            split = image["split"]
            name = image["filename"]
            caps = [s["raw"] for s in image["sentences"]]
        except (KeyError, TypeError):
            raise ValueError(
                f"Flickr30k Karpathy split file {path!r}: image "
                f"{k} lacks filename, split or sentences[].raw."
            ) from None
        split = "train" if split == "restval" else split
        out.setdefault(split, []).append((name, caps))
    return out


def split_examples(
    manual_dir: str, split: str, source: str = "auto"
) -> List[Tuple[str, List[str]]]:
    """The (image path, captions) pairs of a split.

    Args:
      manual_dir: the manual directory (see the module docstring).
      split: "train", "val", "test" (Karpathy) or "all".
      source: "auto", "karpathy" or "token".

    Returns:
      [(image path, captions)].
    """
    validation.check_choice("source", source, SOURCES)
    validation.check_choice("split", split, ("train", "val", "test", "all"))
    if not os.path.isdir(manual_dir):
        raise FileNotFoundError(
            f"Flickr30k manual directory {manual_dir!r} does not exist."
        )
    karpathy = os.path.join(manual_dir, KARPATHY_FILE)
    token = os.path.join(manual_dir, TOKEN_FILE)
    if source == "auto":
        source = "karpathy" if os.path.isfile(karpathy) else "token"
    if source == "karpathy":
        splits = read_karpathy_split(karpathy)
        if split == "all":
            pairs = [p for s in sorted(splits) for p in splits[s]]
        elif split not in splits:
            raise ValueError(
                f"Flickr30k Karpathy split file {karpathy!r} has "
                f"no {split!r} images (it has "
                f"{sorted(splits)})."
            )
        else:
            pairs = splits[split]
    else:
        if split != "all":
            raise ValueError(
                f"split={split!r} needs the Karpathy split file "
                f"{karpathy!r}; the token file {token!r} has no "
                f"splits, so only split='all' is possible."
            )
        pairs = list(read_token_file(token).items())
    images = os.path.join(manual_dir, IMAGES_DIR)
    out = [(os.path.join(images, name), caps) for name, caps in pairs]
    for path, _ in out:
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"Flickr30k image {path!r} does not exist "
                f"(captions from {source} file in "
                f"{manual_dir!r})."
            )
    return out


def flickr30k_dataset(
    manual_dir: str,
    split: str,
    vocab: vocabulary.Vocabulary,
    batch_size: int,
    *,
    source: str = "auto",
    image_size: Tuple[int, int] = (224, 224),
    max_caption_length: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    drop_remainder: bool = False,
) -> tf.data.Dataset:
    """(image, caption) pairs for image-text matching, one per caption.

    Args:
      manual_dir: the manual directory.
      split: "train", "val", "test" or "all" (see `split_examples`).
      vocab: caption words (build from the train captions).
      batch_size: pairs per batch (use drop_remainder for in-batch
        negatives of fixed size).
      source: "auto", "karpathy" or "token".
      image_size: (height, width) after bilinear resizing.
      max_caption_length: T; captions are truncated/padded to it.
      shuffle: shuffle the pairs (seeded, reshuffled each epoch).
      seed: the shuffle seed.
      drop_remainder: drop the last partial batch.

    Returns:
      A dataset of {"image": float32 [B, H, W, 3] in [0, 1], "caption":
      int32 [B, T], "image_index": int32 [B] (position of the image in the
      split, to find the matching pairs at retrieval time)}.
    """
    validation.check_positive_int("batch_size", batch_size)
    validation.check_positive_int("max_caption_length", max_caption_length)
    pairs = split_examples(manual_dir, split, source)
    files, captions, index = [], [], []
    for k, (path, caps) in enumerate(pairs):
        for cap in caps:
            files.append(path)
            captions.append(vocab.encode(cap, max_caption_length))
            index.append(k)
    if not files:
        raise ValueError(
            f"Flickr30k {split!r} split in {manual_dir!r} has no captions."
        )
    image_size = images_lib.check_image_size(image_size)

    def load(example):
        image = images_lib.load_image(example["file"], image_size)
        return {
            "image": image,
            "caption": example["caption"],
            "image_index": example["image_index"],
        }

    ds = tf.data.Dataset.from_tensor_slices(
        {
            "file": files,
            "caption": np.array(captions, np.int32),
            "image_index": np.array(index, np.int32),
        }
    )
    return sources.batched(
        ds, load, batch_size, shuffle, seed, drop_remainder, len(files)
    )


def build_vocab(
    manual_dir: str,
    split: str = "train",
    source: str = "auto",
    min_count: int = 1,
    max_size: Optional[int] = None,
) -> vocabulary.Vocabulary:
    """The caption vocabulary of a split (train by default).

    Args:
      manual_dir: the manual directory.
      split: the split whose captions are counted.
      source: "auto", "karpathy" or "token".
      min_count: see `Vocabulary.from_texts`.
      max_size: see `Vocabulary.from_texts`.

    Returns:
      The vocabulary.
    """
    pairs = split_examples(manual_dir, split, source)
    return vocabulary.Vocabulary.from_texts(
        (c for _, caps in pairs for c in caps),
        min_count=min_count,
        max_size=max_size,
    )


def main(argv: Sequence[str]) -> None:
    import argparse  # pylint: disable=g-import-not-at-top

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--manual_dir", required=True)
    parser.add_argument("--vocab", required=True)
    parser.add_argument("--batch_size", type=int, default=128)
    args = parser.parse_args(argv)
    vocab = build_vocab(args.manual_dir)
    vocab.save(args.vocab)
    ds = flickr30k_dataset(args.manual_dir, "test", vocab, args.batch_size)
    print(
        throughput.report(
            *throughput.time_one_pass(ds, "caption"), "test pairs"
        )
    )


if __name__ == "__main__":
    main(sys.argv[1:])
