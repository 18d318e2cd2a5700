"""`mi_zoo.predict.evaluation`: per-type accuracy of a predictor on a fresh
split, against NumPy counts of the same answers, with stand-in predictors
whose answers are known; and which dataset a run or preset was trained
on."""

import json
import os
import tempfile

from absl.testing import absltest
import numpy as np

from mi_zoo.core import presets
from mi_zoo.data import fresh_splits
from mi_zoo.data import sort_of_clevr as soc
from mi_zoo.data import vqa_codec
from mi_zoo.data import vqa_sources
from mi_zoo.data.sort_of_clevr import builder as sort_of_clevr_builder
from mi_zoo.predict import evaluation

CODEC = vqa_codec.VqaCodec(
    sort_of_clevr_builder.vqa_spec(),
    words=soc.VOCAB,
    answers=soc.ANSWERS,
    tokenizer="words_and_marks",
)
SPLIT = fresh_splits.fresh_split("sort_of_clevr", 100, 4)


class Answering:
    """A stand-in Predictor: probabilities from a function of the inputs."""

    def __init__(self, answer_fn, batch_size=7):
        self.codec = CODEC
        self.batch_size = batch_size
        self.answer_fn = answer_fn
        self.seen = []

    def probabilities(self, inputs):
        self.seen.append(inputs)
        ids = self.answer_fn(inputs)
        return np.eye(len(soc.ANSWERS))[ids]


class EvaluateTest(absltest.TestCase):
    def test_a_constant_answer(self):
        # "yes" to everything: right exactly where the answer is "yes".
        result = evaluation.evaluate(
            Answering(lambda x: np.zeros(len(x["question"]), int)), SPLIT
        )
        answers = np.array(SPLIT.answers)
        types = np.array(SPLIT.question_types)
        self.assertEqual(result["questions"], 80)
        self.assertAlmostEqual(result["overall"], np.mean(answers == "yes"))
        expected = {
            name: np.mean(answers[types == name] == "yes")
            for name in vqa_sources.SORT_OF_CLEVR_QUESTION_TYPES
            if np.any(types == name)
        }
        self.assertEqual(list(result["by_type"]), list(expected))
        for name, value in expected.items():
            self.assertAlmostEqual(result["by_type"][name], value)

    def test_inputs_are_the_codecs_in_question_order(self):
        # An oracle that reads the truth off the encoded question and image
        # scores 1: each question met its own image, in order, batch by batch.
        truth = {}
        for i, q in enumerate(SPLIT.questions):
            key = (
                CODEC.encode_question(q).tobytes(),
                CODEC.encode_image(
                    SPLIT.images[SPLIT.image_index[i]]
                ).tobytes(),
            )
            truth[key] = soc.ANSWERS.index(SPLIT.answers[i])

        def oracle(inputs):
            return [
                truth[(q.tobytes(), np.asarray(im, np.float32).tobytes())]
                for q, im in zip(inputs["question"], inputs["image"])
            ]

        predictor = Answering(oracle)
        result = evaluation.evaluate(predictor, SPLIT)
        self.assertEqual(result["overall"], 1.0)
        self.assertEqual(set(result["by_type"].values()), {1.0})
        self.assertEqual(
            [len(x["question"]) for x in predictor.seen], [7] * 11 + [3]
        )

    def test_answers_of_another_dataset(self):
        split = fresh_splits.fresh_split("clevr2d", 0, 3, {"config": "small"})
        unknown = sorted(set(split.answers) - set(soc.ANSWERS))
        with self.assertRaisesWithLiteralMatch(
            ValueError,
            f"The split has answers the model does not give (a split of "
            f"another dataset?), got answers {unknown[:10]}.",
        ):
            evaluation.evaluate(Answering(None), split)


class DatasetOfTest(absltest.TestCase):
    def test_run_and_preset(self):
        root = tempfile.mkdtemp()
        with open(os.path.join(root, "flags.json"), "w") as f:
            json.dump({"dataset": "clevr2d", "dataset_config": "small"}, f)
        self.assertEqual(
            evaluation.dataset_of(root), ("clevr2d", {"config": "small"})
        )
        with open(os.path.join(root, "flags.json"), "w") as f:
            json.dump({"dataset": "sort_of_clevr", "dataset_config": None}, f)
        self.assertEqual(evaluation.dataset_of(root), ("sort_of_clevr", {}))
        config = presets.make_config(
            "film", "small", "", "sort_of_clevr", {"config": "paper"}, "pixels"
        )
        presets.write_json(root, presets.CONFIG_FILE, config)
        self.assertEqual(
            evaluation.dataset_of(root), ("sort_of_clevr", {"config": "paper"})
        )

    def test_neither(self):
        root = tempfile.mkdtemp()
        with self.assertRaisesWithLiteralMatch(
            FileNotFoundError,
            f"The directory holds no preset (config.json) and no run of the "
            f"vqa binary (flags.json), got {root!r}.",
        ):
            evaluation.dataset_of(root)


if __name__ == "__main__":
    absltest.main()
