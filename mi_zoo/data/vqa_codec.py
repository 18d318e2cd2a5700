"""From a question and an image to a VQA model's inputs, and from its
answer ids back to the answers: what a trained run needs to be used.

The vqa binary's task writes a run's codec into its model_dir as
`predictor.json` (`FILENAME`), so that `mi_zoo.predict.Predictor` answers
questions about a user's image without rebuilding the data pipeline:

    codec = vqa_sources.load_vqa_data("sort_of_clevr", ...).codec()
    codec.save(os.path.join(model_dir, vqa_codec.FILENAME))
    ...
    codec = vqa_codec.VqaCodec.load(os.path.join(model_dir, "predictor.json"))
    inputs = {"question": codec.encode_question("is the red object on the "
                                                "left ?")[None],
              "image": codec.encode_image("photo.png")[None]}
    codec.answers[int(np.argmax(model(inputs)[0]))]

Questions are split into words by the tokenizer of the dataset
(`TOKENIZERS`): "words_and_marks" (lower-case words and the marks ? . , as
tokens: CLEVR-2D's `clevr_2d.tokenize`, which also splits every
Sort-of-CLEVR question as its generator does) or "words" (lower case, no
punctuation: `text_vocab.tokenize`, CLEVR and VQA v2). A word outside the
vocabulary, or more words than the model reads, is an error naming them
(training mapped unknown words to `<unk>` or cut long questions; a user
should know that the model cannot read their question).

Pixel images (a file path, a PIL image or a NumPy array, of any size) are
decoded as the readers decode files (`images.decode_image`), scaled to
[0, 1] ("unit" normalisation, the only one the pipelines use) and, when
their size is not the model's, resized bilinearly with antialiasing
(`images.resize_image`, the CLEVR reader's resize). A run whose model holds
a feature backbone (image_kind "backbone": `spec.backbone` names it, with
its layer and weights) reads pixels the same way, at the size it trained on
(`spec.image_shape`); the backbone's own preprocessing is inside the model.
Runs that read precomputed grid or region features need those features
(`python -m mi_zoo.features.extract`), not an image.
"""

import dataclasses
import json
import os
from typing import Callable
from typing import Dict
from typing import List
from typing import Mapping
from typing import Sequence
from typing import Tuple

import numpy as np
import tensorflow as tf

from mi_zoo.core import specs
from mi_zoo.core import validation
from mi_zoo.data import clevr_2d
from mi_zoo.data import images as images_lib
from mi_zoo.data import text_vocab

#: The run's file (an entry of the vqa task's `outputs`).
FILENAME = "predictor.json"
FORMAT, VERSION = "mi_zoo.vqa_codec", 1

#: Question tokenizers by name: text -> words.
TOKENIZERS: Mapping[str, Callable[[str], List[str]]] = {
    "words": text_vocab.tokenize,
    "words_and_marks": clevr_2d.tokenize,
}
#: Pixel normalisations: "unit" is uint8 / 255, in [0, 1].
NORMALIZATIONS = ("unit",)
#: Words shown when a question has unknown ones.
_SHOWN_WORDS = 40


@dataclasses.dataclass(frozen=True)
class VqaCodec:
    """A VQA run's question vocabulary, answers and image preprocessing.

    Args:
      spec: the model's `VqaSpec`.
      words: question token id -> word (id 0 is padding), `vocab_size`
        of them.
      answers: answer id -> answer, `num_answers` of them.
      tokenizer: a name of `TOKENIZERS`.
      normalization: a name of `NORMALIZATIONS`.

    Raises:
      ValueError: on a tokenizer or normalisation not listed, or words or
        answers that do not match the spec's sizes.

    Example:

        codec = VqaCodec(spec, words=("<pad>", "is", "red", "?"),
                         answers=("yes", "no"), tokenizer="words_and_marks")
        codec.encode_question("Is red?")  # int32 [T]: 1, 2, 3, 0, ...
    """

    spec: specs.VqaSpec
    words: Tuple[str, ...]
    answers: Tuple[str, ...]
    tokenizer: str = "words"
    normalization: str = "unit"

    def __post_init__(self):
        validation.check_choice("tokenizer", self.tokenizer, tuple(TOKENIZERS))
        validation.check_choice(
            "normalization", self.normalization, NORMALIZATIONS
        )
        object.__setattr__(self, "words", tuple(self.words))
        object.__setattr__(self, "answers", tuple(self.answers))
        for name, values, size in (
            ("words", self.words, self.spec.vocab_size),
            ("answers", self.answers, self.spec.num_answers),
        ):
            if len(values) != size:
                raise ValueError(
                    f"`{name}` must hold {size} entries (the "
                    f"spec's), got {len(values)}: "
                    f"{name}={values[:10]!r}..."
                )
        object.__setattr__(
            self,
            "_ids",
            {
                w: i
                for i, w in enumerate(self.words)
                if i > 0 and not (w.startswith("<") and w.endswith(">"))
            },
        )

    @property
    def input_names(self) -> Tuple[str, ...]:
        """The model's inputs: "question", "image" (and "boxes")."""
        return ("question", "image") + (
            ("boxes",) if self.spec.image_kind == "regions" else ()
        )

    # Questions.
    def encode_question(self, text: str) -> np.ndarray:
        """int32 [question_length]: the word ids, zero-padded.

        Raises:
          ValueError: for a question that is not a string, has no words,
            words outside the vocabulary (named, with the known words) or
            more words than the model reads.
        """
        if not isinstance(text, str):
            raise ValueError(
                f"The question must be a string, got question={text!r}."
            )
        tokens = TOKENIZERS[self.tokenizer](text)
        if not tokens:
            raise ValueError(
                f"The question has no words, got question={text!r}."
            )
        unknown = [w for w in tokens if w not in self._ids]
        if unknown:
            known = sorted(self._ids)
            shown = " ".join(known[:_SHOWN_WORDS]) + (
                f" ... ({len(known)} in all)"
                if len(known) > _SHOWN_WORDS
                else ""
            )
            raise ValueError(
                f"The question has words the model does not know: "
                f"{', '.join(repr(w) for w in dict.fromkeys(unknown))} "
                f"(it knows: {shown}), got question={text!r}."
            )
        length = self.spec.question_length
        if len(tokens) > length:
            raise ValueError(
                f"The question has {len(tokens)} words; the model reads at "
                f"most {length}, got question={text!r}."
            )
        ids = np.zeros(length, np.int32)
        ids[: len(tokens)] = [self._ids[w] for w in tokens]
        return ids

    def decode_question(self, ids) -> List[str]:
        """The words of token ids at every position (padding included)."""
        return [self.words[int(i)] for i in np.asarray(ids)]

    # Images.
    def encode_image(self, image) -> np.ndarray:
        """float32 [H, W, 3], the model's image input, from an image file
        path, a PIL image or a uint8 (or [0, 1] float) array [h, w, 3]
        ([h, w] grey, [h, w, 4] with alpha dropped) of any size.

        Raises:
          ValueError: for a run that reads precomputed features, an
            unreadable file or an array of another shape or range.
          FileNotFoundError: for a path that does not exist.
        """
        if not self.spec.reads_pixels:
            raise ValueError(
                f"This run reads precomputed {self.spec.image_kind} "
                f"features (image_kind={self.spec.image_kind!r}), not "
                f"pixels: train with --image_kind=backbone (the feature "
                f"backbone inside the model) or --image_kind=pixels to "
                f"predict from images."
            )
        if isinstance(image, (str, os.PathLike)):
            pixels = _read_image(os.fspath(image))
        elif hasattr(image, "convert") and hasattr(image, "mode"):  # PIL
            pixels = np.asarray(image.convert("RGB"))
        else:
            pixels = _rgb_array(image)
        height, width = self.spec.image_shape[:2]
        if pixels.shape[:2] == (height, width):
            return np.asarray(tf.image.convert_image_dtype(pixels, tf.float32))
        return np.asarray(images_lib.resize_image(pixels, (height, width)))

    @staticmethod
    def check_pairs(
        images: Sequence, questions: Sequence[str]
    ) -> Tuple[list, list]:
        """The images and questions as lists, as many of each.

        Raises:
          ValueError: when `questions` is one string, or the two differ in
            length or are empty.
        """
        if isinstance(questions, str):
            raise ValueError(
                f"`questions` must be a list of strings, got "
                f"questions={questions!r}."
            )
        images, questions = list(images), list(questions)
        if len(images) != len(questions) or not questions:
            raise ValueError(
                f"`images` and `questions` must be as many (at "
                f"least one), got {len(images)} images and "
                f"{len(questions)} questions."
            )
        return images, questions

    def encode_batch(
        self, images: Sequence, questions: Sequence[str]
    ) -> Dict[str, np.ndarray]:
        """{"question": int32 [B, T], "image": float32 [B, H, W, 3]} of B
        (image, question) pairs.

        Raises:
          ValueError: as `check_pairs`, `encode_question` and
            `encode_image` do.
        """
        images, questions = self.check_pairs(images, questions)
        return {
            "question": np.stack([self.encode_question(q) for q in questions]),
            "image": np.stack([self.encode_image(i) for i in images]),
        }

    # Answers.
    def top_answers(
        self, probabilities, top_k: int
    ) -> List[List[Tuple[str, float]]]:
        """Per row of float [B, A] probabilities, the `top_k` best
        (answer, probability) pairs, best first (ties: lower id first)."""
        validation.check_positive_int("top_k", top_k)
        probabilities = np.asarray(probabilities, np.float64)
        order = np.argsort(-probabilities, axis=-1, kind="stable")
        return [
            [(self.answers[a], float(row[a])) for a in best[:top_k]]
            for row, best in zip(probabilities, order)
        ]

    # Files.
    def to_json(self) -> Dict[str, object]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "spec": dataclasses.asdict(self.spec),
            "inputs": list(self.input_names),
            "tokenizer": self.tokenizer,
            "normalization": self.normalization,
            "words": list(self.words),
            "answers": list(self.answers),
        }

    @classmethod
    def from_json(
        cls, value: Mapping[str, object], what: str = "codec"
    ) -> "VqaCodec":
        """The codec of `to_json`; `what` names it in errors.

        Raises:
          ValueError: on another format or version, or missing fields.
        """
        if not isinstance(value, Mapping) or value.get("format") != FORMAT:
            raise ValueError(f"{what} is not a {FORMAT} file.")
        if value.get("version") != VERSION:
            raise ValueError(
                f"{what} has version {value.get('version')!r}; "
                f"this mi_zoo reads version {VERSION}."
            )
        try:
            spec = dict(value["spec"])
            spec["image_shape"] = tuple(spec["image_shape"])
            return cls(
                spec=specs.VqaSpec(**spec),
                words=value["words"],
                answers=value["answers"],
                tokenizer=value["tokenizer"],
                normalization=value["normalization"],
            )
        except (KeyError, TypeError) as e:
            raise ValueError(
                f"{what} lacks a field or has a wrong one ({e!r})."
            ) from None

    def save(self, path: str) -> str:
        """Writes the codec as JSON to `path` (atomically); returns it."""
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.to_json(), f, ensure_ascii=False, indent=1)
            f.write("\n")
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path: str) -> "VqaCodec":
        """Reads a codec written by `save`.

        Raises:
          FileNotFoundError: when the file does not exist.
          ValueError: when it is not valid JSON or not a codec.
        """
        return cls.from_json(
            text_vocab.read_json(path, "predictor"),
            what=f"predictor file {path!r}",
        )


def _read_image(path: str) -> np.ndarray:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Image file {path!r} does not exist.")
    try:
        return np.asarray(images_lib.decode_image(tf.io.read_file(path)))
    except tf.errors.OpError:
        raise ValueError(
            f"Image file {path!r} cannot be read: not a PNG, "
            f"JPEG, BMP or GIF image."
        ) from None


def _rgb_array(image) -> np.ndarray:
    array = np.asarray(image)
    if array.ndim == 2:
        array = np.stack([array] * 3, axis=-1)
    if (
        array.ndim != 3
        or array.shape[-1] not in (3, 4)
        or min(array.shape[:2]) < 1
    ):
        raise ValueError(
            f"An image array must be [height, width, 3] (or "
            f"[height, width] grey, or RGBA), got shape "
            f"{array.shape}."
        )
    array = array[..., :3]
    if array.dtype == np.uint8:
        return array
    if np.issubdtype(array.dtype, np.floating):
        low, high = float(np.min(array)), float(np.max(array))
        if low >= 0.0 and high <= 1.0:
            return array.astype(np.float32)
        range_ = f"[{low:g}, {high:g}]"
    else:
        range_ = f"dtype {array.dtype}"
    raise ValueError(
        f"An image array must be uint8, or float in [0, 1], got {range_}."
    )
