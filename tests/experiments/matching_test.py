"""Smoke test of the matching binary: main() end to end on a tiny budget,
and its flag checks."""

import json
import os
import tempfile
from unittest import mock

from absl import app
from absl import flags
from absl.testing import absltest
from absl.testing import flagsaver
from absl.testing import parameterized
import pytest

from mi_zoo.data.clevr_2d import builder as clevr_2d_builder
from mi_zoo.experiments import matching
from mi_zoo.experiments import vqa  # Shares the data flags.
from tests.training import event_files

FLAGS = flags.FLAGS
TINY = "embedding_dim=8,text_units=16,attention_units=8,steps=1"


def tiny_config():
    return clevr_2d_builder.Clevr2dConfig(
        name="tiny_matching_binary",
        train_size=64,
        validation_size=32,
        test_size=2,
        image_size=32,
    )


class MatchingBinaryTest(parameterized.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if not FLAGS.is_parsed():
            FLAGS(["matching_test"])  # defaults; pytest does not parse flags
        cls.data_dir = tempfile.mkdtemp()

    def flags(self, model_dir, **overrides):
        values = dict(
            model_dir=model_dir,
            data_dir=self.data_dir,
            train_limit=64,
            eval_limit=32,
            train_steps=3,
            batch_size=8,
            eval_batch_size=16,
            model_hparams=TINY,
            log_every=1,
            eval_every=0,
            image_every=0,
            export=False,
            num_images=2,
        )
        values.update(overrides)
        return flagsaver.flagsaver(**values)

    @pytest.mark.slow  # 40-90 s here: run with -m slow (and by bazel test)
    def test_main_trains_and_reports(self):
        model_dir = tempfile.mkdtemp()
        with (
            self.flags(model_dir),
            mock.patch.object(matching, "CLEVR2D_CONFIG", tiny_config()),
            mock.patch("builtins.print") as printed,
        ):
            results = matching.train_and_report()
        with open(os.path.join(model_dir, "results.json")) as f:
            saved = json.load(f)
        self.assertEqual(saved["step"], 3)
        for key in (
            "image_to_text/r@1",
            "image_to_text/r@10",
            "text_to_image/r@5",
            "rsum",
            "loss",
        ):
            self.assertIn(key, saved["eval"])
            self.assertAlmostEqual(saved["eval"][key], results["eval"][key])
        with open(os.path.join(model_dir, "flags.json")) as f:
            recorded = json.load(f)
        self.assertEqual(recorded["dataset"], "clevr2d")
        self.assertEqual(recorded["model"], "mdan")
        self.assertEqual(recorded["dataset_config"], "tiny_matching_binary")
        self.assertEqual(recorded["margin"], 0.2)
        table = printed.call_args[0][0]
        self.assertIn("image_to_text", table)
        self.assertIn("chance r@1 0.0312", table)  # 1/32
        eval_tags = event_files.read_tags(os.path.join(model_dir, "eval"))
        for tag in ("image_to_text/r@1", "text_to_image/r@1", "rsum"):
            self.assertTrue(
                any(t.endswith(tag) for t in eval_tags),
                (tag, sorted(eval_tags)),
            )
        self.assertTrue(
            any("retrieval" in t for t in eval_tags), sorted(eval_tags)
        )

    @parameterized.named_parameters(
        ("dataset", dict(dataset="coco"), r"--dataset='coco'.*clevr2d"),
        ("model", dict(model="film"), r"--model='film'.*mdan"),
        (
            "model_hparams",
            dict(model_hparams="bogus=1"),
            r"--model_hparams.*bogus",
        ),
        ("margin", dict(margin=0.0), r"--margin"),
        (
            "dataset_config",
            dict(dataset="flickr30k", dataset_config="small"),
            r"--dataset_config",
        ),
    )
    def test_bad_flags(self, overrides, message):
        with self.flags(tempfile.mkdtemp(), **overrides):
            with self.assertRaisesRegex(app.UsageError, message):
                matching.make_task()

    def test_unexpected_arguments(self):
        with self.assertRaisesRegex(app.UsageError, "Unexpected arguments"):
            matching.main(["matching", "oops"])

    def test_vqa_binary_resolves_its_own_defaults(self):
        with self.flags(tempfile.mkdtemp(), model_hparams=""):
            task = vqa.make_task()
        self.assertEqual(
            (task.dataset, task.model_name, task.num_images),
            ("sort_of_clevr", "film", 2),
        )
        with self.flags(tempfile.mkdtemp(), model="mdan"):
            with self.assertRaisesRegex(app.UsageError, r"--model='mdan'"):
                vqa.make_task()


if __name__ == "__main__":
    absltest.main()
