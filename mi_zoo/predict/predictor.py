"""`Predictor`: a trained VQA model with its codec, answering questions
about images of any size.

    predictor = Predictor.from_run("/tmp/vqa")       # a vqa binary's run
    predictor = Predictor.from_preset("sort_of_clevr_film")  # a preset
    predictor("photo.png", "is the red object on the left ?", top_k=3)
    # [("yes", 0.81), ("no", 0.19), ("square", 0.0)]
    predictor.predict_batch([image_a, image_b], [question_a, question_b])
    figure = predictor.explain("photo.png", "what is the shape of the red "
                               "object ?")           # uint8 [H, W, 3]

The image (a file path, a PIL image or a NumPy array) is preprocessed as
the run's training pipeline did (`VqaCodec.encode_image`); the question is
split and looked up in the run's words (`VqaCodec.encode_question`, an
error naming the words the model does not know). Probabilities are those
of the run's answer convention (`objectives.probabilities`): a softmax over
the answers (Sort-of-CLEVR, CLEVR-2D, CLEVR), or each answer's own sigmoid
(VQA v2).
"""

import os
from typing import List
from typing import Optional
from typing import Sequence
from typing import Tuple

import keras
import numpy as np

from mi_zoo.core import presets
from mi_zoo.core import validation
from mi_zoo.data import vqa_codec
from mi_zoo.explain import explanation_figure
from mi_zoo.models import objectives
from mi_zoo.models import vqa as vqa_models  # noqa: F401 (registers layers)
from mi_zoo.training import run_directory

Answers = List[Tuple[str, float]]


class Predictor:
    """A VQA model and what it needs to read a question and an image.

    Args:
      model: a VQA zoo model (inputs "question", "image"[, "boxes"];
        outputs answer logits [B, A]).
      codec: its `VqaCodec` (words, answers, preprocessing).
      batch_size: examples per forward pass of `predict_batch`.

    Example:

        predictor = Predictor(model, data.codec())
        predictor(image_uint8, "is the red object on the top ?")
    """

    def __init__(self, model, codec: vqa_codec.VqaCodec, batch_size: int = 64):
        validation.check_positive_int("batch_size", batch_size)
        self.model = model
        self.codec = codec
        self.batch_size = batch_size

    @classmethod
    def from_run(cls, model_dir: str, batch_size: int = 64) -> "Predictor":
        """The trained model and codec of a vqa binary's run directory
        (model.keras and predictor.json).

        Raises:
          FileNotFoundError: when model_dir is no folder, holds no run,
            or lacks predictor.json (a run trained before mi_zoo wrote it:
            the message says how to get one) or model.keras (an unfinished
            run, or one run with --noexport).
          ValueError: when predictor.json is damaged.
        """
        if not os.path.isdir(model_dir):
            raise FileNotFoundError(
                f"model_dir={model_dir!r} does not exist (no such folder)."
            )
        codec_file = os.path.join(model_dir, vqa_codec.FILENAME)
        model_file = os.path.join(model_dir, run_directory.MODEL_FILE)
        flags_file = os.path.join(model_dir, run_directory.FLAGS_FILE)
        if not os.path.exists(codec_file):
            if not os.path.exists(flags_file):
                raise FileNotFoundError(
                    f"model_dir={model_dir!r} holds no run of the vqa "
                    f"binary (no {run_directory.FLAGS_FILE}): train one "
                    f"with python -m mi_zoo.experiments.vqa "
                    f"--model_dir={model_dir}."
                )
            raise FileNotFoundError(
                f"model_dir={model_dir!r} holds a run without "
                f"{vqa_codec.FILENAME} (trained before the vqa binary wrote "
                f"it, or not by the vqa binary): run the vqa binary on it "
                f"again with its flags and a larger --train_steps (which "
                f"writes the file and trains further), or with --overwrite "
                f"(which trains afresh)."
            )
        codec = vqa_codec.VqaCodec.load(codec_file)
        if not os.path.exists(model_file):
            raise FileNotFoundError(
                f"model_dir={model_dir!r} has no {run_directory.MODEL_FILE}: "
                f"the run has not finished, or ran with --noexport. Let it "
                f"finish (start it again with the same flags), or extend "
                f"it with a larger --train_steps and --export."
            )
        return cls(
            keras.models.load_model(model_file), codec, batch_size=batch_size
        )

    @classmethod
    def from_preset(cls, preset: str, batch_size: int = 64) -> "Predictor":
        """The model and codec of a preset: a shipped preset's name
        (`mi_zoo.models.list_presets()`) or a preset directory, which holds
        a run's model.keras and predictor.json (docs/presets.md).

        Raises:
          ValueError: for an unknown preset (listing the shipped ones) or
            an incomplete preset directory (`core.presets.preset_dir`).
        """
        return cls.from_run(presets.preset_dir(preset), batch_size=batch_size)

    # Inputs and probabilities.
    def inputs(self, images: Sequence, questions: Sequence[str]):
        """The model's inputs of B (image, question) pairs
        (`VqaCodec.encode_batch`)."""
        return self.codec.encode_batch(images, questions)

    def probabilities(self, inputs) -> np.ndarray:
        """float32 [B, A] answer probabilities of a batch of inputs."""
        logits = self.model(inputs, training=False)
        return np.asarray(
            objectives.probabilities(self.codec.spec.answer_convention, logits)
        )

    # Answers.
    def predict_batch(
        self, images: Sequence, questions: Sequence[str], top_k: int = 5
    ) -> List[Answers]:
        """Per (image, question) pair, its `top_k` (answer, probability)
        pairs, best first; the pairs go through the model `batch_size` at
        a time.

        Raises:
          ValueError: as `VqaCodec.encode_batch` and `top_answers` do.
        """
        validation.check_positive_int("top_k", top_k)
        images, questions = self.codec.check_pairs(images, questions)
        answers = []
        for start in range(0, len(questions), self.batch_size):
            inputs = self.inputs(
                images[start : start + self.batch_size],
                questions[start : start + self.batch_size],
            )
            answers += self.codec.top_answers(
                self.probabilities(inputs), top_k
            )
        return answers

    def __call__(self, image, question: str, top_k: int = 5) -> Answers:
        """The `top_k` (answer, probability) pairs of one image and
        question, best first."""
        return self.predict_batch([image], [question], top_k)[0]

    # Explanations.
    def explain(
        self,
        image,
        question: str,
        top_k: int = 3,
        layer: Optional[str] = None,
        guided: bool = True,
    ) -> np.ndarray:
        """The explanation figure of one image and question
        (`mi_zoo.explain.explanation_figure`): Kim & Zhang's Hadamard
        explanation (models with a Hadamard fusion) and the attention
        glimpses over the image, the question's tokens coloured by their
        scores, and the `top_k` answers.

        Returns:
          uint8 [height, width, 3].
        """
        inputs = self.inputs([image], [question])
        best = self.codec.top_answers(self.probabilities(inputs), top_k)[0]
        lines = [
            f"Q: {question}",
            "A: " + ", ".join(f"{a} ({p:.2f})" for a, p in best),
        ]
        return explanation_figure.batch_figures(
            self.model,
            inputs,
            [self.codec.decode_question(inputs["question"][0])],
            [lines],
            pixels=self.codec.spec.reads_pixels,
            layer=layer,
            guided=guided,
        )[0]
