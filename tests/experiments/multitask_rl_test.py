"""The multitask_rl binary: main end to end on a tiny budget (results.json,
TensorBoard tags), resuming a killed run from its checkpoint, and bad flag
values named by their flag."""

import json
import os
import shutil
import tempfile
from unittest import mock

import pytest

pytest.importorskip("minigrid")

from absl import app  # noqa: E402
from absl import flags  # noqa: E402
from absl.testing import absltest  # noqa: E402
from absl.testing import flagsaver  # noqa: E402

from mi_zoo.experiments import flags as training_flags  # noqa: E402
from mi_zoo.experiments import multitask_rl  # noqa: E402
from mi_zoo.rl import rl_trainer  # noqa: E402
from mi_zoo.training import devices  # noqa: E402
from tests import distribution  # noqa: E402
from tests.training import event_files  # noqa: E402

# Two logical CPUs for the mirrored test, before any TF op (Bazel runs
# this file alone; under pytest the conftest has done it).
devices.split_cpu(2)

FLAGS = flags.FLAGS
TASKS = ("empty_5x5", "lava_gap_s5")


class _Killed(Exception):
    pass


class MultitaskRLBinaryTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        if not FLAGS.is_parsed():
            FLAGS(["multitask_rl_test"])
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.model_dir = os.path.join(self.dir, "run")

    def _flags(self, *extra):
        # 2 tasks x 2 envs x 16 steps = 64 frames per update.
        return [
            "multitask_rl",
            f"--model_dir={self.model_dir}",
            f"--tasks={','.join(TASKS)}",
            "--context=mi",
            "--num_envs_per_task=2",
            "--rollout_length=16",
            "--ppo_epochs=2",
            "--ppo_minibatches=2",
            "--agent_parameters=20000",
            "--total_frames=256",
            "--log_every=2",
            "--checkpoint_every=2",
            "--noexport",
            *extra,
        ]

    def _results(self):
        with open(os.path.join(self.model_dir, "results.json")) as f:
            return json.load(f)

    def test_main_trains_and_reports(self):
        with flagsaver.flagsaver():
            FLAGS(self._flags("--export"))
            multitask_rl.main(["multitask_rl"])
        results = self._results()
        self.assertEqual(results["update"], 4)
        self.assertEqual(results["frames"], 256)
        self.assertEqual(results["context"], "mi")
        self.assertAlmostEqual(results["parameters"] / 20000, 1, delta=0.02)
        self.assertEqual([h["frames"] for h in results["history"]], [128, 256])
        self.assertTrue(
            os.path.exists(os.path.join(self.model_dir, "model.keras"))
        )
        with open(os.path.join(self.model_dir, "flags.json")) as f:
            settings = json.load(f)
        self.assertEqual(settings["context"], "mi")
        self.assertEqual(settings["tasks"], list(TASKS))
        tags = event_files.read_tags(os.path.join(self.model_dir, "train"))
        self.assertEqual([s for s, _ in tags["train/loss/total"]], [128, 256])
        for tag in (
            "train/frames_per_second",
            "train/loss/entropy",
            "train/learning_rate",
        ):
            self.assertIn(tag, tags)
        # A task's tags appear once some of its episodes have ended (random
        # walks fall into LavaGap's lava within a few steps).
        success_tags = [t for t in tags if t.startswith("train/success/")]
        self.assertIn("train/success/lava_gap_s5", success_tags)
        self.assertIn("train/success/mean", success_tags)
        self.assertLessEqual(
            set(success_tags), {f"train/success/{t}" for t in (*TASKS, "mean")}
        )
        self.assertIn("train/return/mean", tags)

    def test_mirrored_strategy_over_two_cpu_replicas(self):
        # The process-wide strategy of the tests (two strategies in one
        # process can collide in their collectives; tests/distribution.py).
        with (
            flagsaver.flagsaver(),
            mock.patch.object(
                training_flags, "make_strategy", distribution.mirrored_strategy
            ),
        ):
            FLAGS(
                self._flags(
                    "--strategy=mirrored",
                    "--total_frames=128",
                    "--context=mi_learned",
                )
            )
            results = multitask_rl.train_and_report()
        self.assertEqual(results["update"], 2)
        with open(os.path.join(self.model_dir, "flags.json")) as f:
            self.assertEqual(json.load(f)["replicas"], 2)

    def test_resumes_a_killed_run_from_its_checkpoint(self):
        def kill_after_three(self_, update):
            if update == 3:
                raise _Killed()

        with flagsaver.flagsaver():
            FLAGS(self._flags())
            with mock.patch.object(
                rl_trainer.RLTrainer, "_after_update", kill_after_three
            ):
                with self.assertRaises(_Killed):
                    multitask_rl.train_and_report()
        self.assertFalse(
            os.path.exists(os.path.join(self.model_dir, "results.json"))
        )
        started = []
        original = rl_trainer.RLTrainer._rollout

        def record(self_, update):
            started.append(update)
            return original(self_, update)

        with flagsaver.flagsaver():
            FLAGS(self._flags("--total_frames=384"))  # more frames
            with mock.patch.object(rl_trainer.RLTrainer, "_rollout", record):
                results = multitask_rl.train_and_report()
        # The checkpoint of update 2 (not 3, killed before its checkpoint),
        # then updates 3..6: it went on, it did not start again.
        self.assertEqual(started, [2, 3, 4, 5])
        self.assertEqual(results["update"], 6)
        self.assertEqual(results["frames"], 384)
        self.assertEqual([h["update"] for h in results["history"]], [2, 4, 6])
        # A finished run is refused.
        with flagsaver.flagsaver():
            FLAGS(self._flags("--total_frames=384"))
            with self.assertRaisesRegex(RuntimeError, "finished run"):
                multitask_rl.train_and_report()

    def test_changed_settings_are_refused_on_resume(self):
        os.makedirs(self.model_dir)
        with open(os.path.join(self.model_dir, "flags.json"), "w") as f:
            json.dump({"context": "concat"}, f)
        with flagsaver.flagsaver():
            FLAGS(self._flags())
            with self.assertRaisesRegex(RuntimeError, "--context='concat'"):
                multitask_rl.train_and_report()

    def test_bad_flag_values(self):
        cases = [
            ("--context=film", "context"),
            ("--tasks=empty_5x5,maze", "unknown task 'maze'"),
            ("--tasks=unlock,unlock", "repeated"),
            ("--total_frames=0", "total_frames"),
            ("--gamma=1.5", "gamma"),
            ("--clip_ratio=-0.1", "clip_ratio"),
            ("--num_envs_per_task=0", "num_envs_per_task"),
            ("--entropy_coef=-1", "entropy_coef"),
        ]
        for extra, message in cases:
            with self.subTest(extra=extra), flagsaver.flagsaver():
                with self.assertRaisesRegex(
                    flags.IllegalFlagValueError, message
                ):
                    FLAGS(self._flags(extra))
        with flagsaver.flagsaver():
            FLAGS(self._flags("--ppo_minibatches=3"))
            with self.assertRaisesRegex(app.UsageError, "--ppo_minibatches=3"):
                multitask_rl.train_and_report()
        with flagsaver.flagsaver():
            FLAGS(self._flags("--model_dir="))
            with self.assertRaisesRegex(app.UsageError, "--model_dir"):
                multitask_rl.train_and_report()


if __name__ == "__main__":
    absltest.main()
