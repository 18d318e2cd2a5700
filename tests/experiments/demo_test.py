"""Smoke test of the demo binary: main() end to end on a tiny budget."""

import os
import tempfile

from absl import flags
from absl.testing import absltest
from absl.testing import flagsaver
import keras

from mi_zoo.experiments import demo

FLAGS = flags.FLAGS


class DemoTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        if not FLAGS.is_parsed():
            FLAGS(["demo_test"])  # defaults; pytest does not parse flags

    def test_main_trains_logs_and_saves(self):
        with tempfile.TemporaryDirectory() as model_dir:
            with flagsaver.flagsaver(
                steps=400,
                examples=2048,
                batch_size=64,
                learning_rate=0.01,
                model_dir=model_dir,
                input_size=8,
                context_size=4,
                output_size=2,
            ):
                results = demo.train_and_compare()
            self.assertCountEqual(
                os.listdir(model_dir),
                ["mi_full", "concat_mlp", "mi_full.keras", "concat_mlp.keras"],
            )
            events = os.listdir(os.path.join(model_dir, "mi_full", "train"))
            self.assertTrue(any(e.startswith("events.out") for e in events))
            model = keras.saving.load_model(
                os.path.join(model_dir, "mi_full.keras")
            )
            self.assertEqual(model.name, "mi_full")
        # The bilinear teacher is in the MI layer's function class.
        self.assertLess(results["mi_full"], 0.05)
        self.assertLess(results["mi_full"], results["concat_mlp"])

    def test_every_form_builds(self):
        for form in ("full", "low_rank", "diagonal", "scalar"):
            model = demo.mi_model(form, rank=2, n=6, m=3, k=2)
            self.assertEqual(tuple(model.outputs[0].shape), (None, 2))

    def test_rejects_extra_arguments(self):
        with self.assertRaisesRegex(Exception, "Unexpected arguments"):
            demo.main(["demo", "oops"])


if __name__ == "__main__":
    absltest.main()
