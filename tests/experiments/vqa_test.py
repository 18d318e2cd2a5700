"""The vqa binary: main end to end, a run killed with SIGKILL and started
again, a finished model_dir, multi-worker training between two local
processes, and bad flags."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

from absl import app
from absl import flags
from absl.testing import absltest
from absl.testing import flagsaver
import numpy as np
import pytest

from mi_zoo.experiments import vqa
from mi_zoo.training import run_directory
from mi_zoo.training import strategies
from tests.training import event_files

FLAGS = flags.FLAGS

# A tiny run: the concat model on 200 Sort-of-CLEVR questions.
TINY = [
    "--dataset=sort_of_clevr",
    "--model=concat",
    "--model_hparams=question_units=8,hidden=8",
    "--train_limit=200",
    "--eval_limit=40",
    "--batch_size=8",
    "--eval_batch_size=20",
    "--log_every=5",
    "--eval_every=0",
    "--image_every=0",
    "--histogram_every=0",
    "--num_images=2",
]


def _binary(model_dir, *extra):
    return [
        sys.executable,
        "-m",
        "mi_zoo.experiments.vqa",
        f"--model_dir={model_dir}",
        *TINY,
        *extra,
    ]


def _env(**extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", **extra)
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def _results(model_dir):
    with open(os.path.join(model_dir, run_directory.RESULTS_FILE)) as f:
        return json.load(f)


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class VqaBinaryTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        if not FLAGS.is_parsed():
            FLAGS(["vqa_test"])  # defaults; pytest does not parse flags
        self.dir = tempfile.mkdtemp()

    def test_main_trains_evaluates_and_exports(self):
        argv = (
            ["vqa"]
            + [a for a in TINY]
            + [f"--model_dir={self.dir}", "--train_steps=4", "--image_every=2"]
        )
        with flagsaver.flagsaver():
            FLAGS(argv)
            results = vqa.train_and_report()
        self.assertEqual(results["step"], 4)
        self.assertIn("accuracy_by_type/relational/count", results["eval"])
        self.assertEqual(_results(self.dir)["step"], 4)
        for name in (
            "flags.json",
            "model.keras",
            "saved_model",
            "checkpoints",
            "train",
            "eval",
        ):
            self.assertTrue(os.path.exists(os.path.join(self.dir, name)), name)
        with open(os.path.join(self.dir, "flags.json")) as f:
            settings = json.load(f)
        self.assertEqual(settings["model"], "concat")
        self.assertEqual(
            settings["model_hparams"], "question_units=8,hidden=8"
        )
        tags = event_files.read_tags(os.path.join(self.dir, "eval"))
        self.assertIn("eval/accuracy", tags)
        self.assertIn("eval/examples", tags)

    def test_finished_model_dir_is_refused(self):
        argv = (
            ["vqa"]
            + TINY
            + [f"--model_dir={self.dir}", "--train_steps=1", "--noexport"]
        )
        with flagsaver.flagsaver():
            FLAGS(argv)
            vqa.train_and_report()
            with self.assertRaisesRegex(
                run_directory.RunDirectoryError, "finished run"
            ):
                vqa.main(["vqa"])

    def test_bad_flags(self):
        with flagsaver.flagsaver():
            FLAGS(
                ["vqa", f"--model_dir={self.dir}", "--model_hparams=hiden=3"]
            )
            with self.assertRaisesRegex(
                app.UsageError, "--model_hparams.*no hyper-parameter 'hiden'"
            ):
                vqa.main(["vqa"])
        with flagsaver.flagsaver():
            FLAGS(["vqa"])
            with self.assertRaisesRegex(app.UsageError, "--model_dir"):
                vqa.main(["vqa"])
        with self.assertRaisesRegex(app.UsageError, "Unexpected"):
            vqa.main(["vqa", "extra"])
        with flagsaver.flagsaver():
            FLAGS(["vqa", f"--model_dir={self.dir}", "--model=resnet"])
            with self.assertRaisesRegex(app.UsageError, "--model.*resnet"):
                vqa.main(["vqa"])

    @pytest.mark.slow  # 15-60 s: run with -m slow (and by bazel test)
    def test_sigkill_and_restart_resumes_and_matches(self):
        steps = [
            "--train_steps=60",
            "--checkpoint_every=10",
            "--deterministic",
            "--noexport",
        ]
        full_dir = os.path.join(self.dir, "full")
        subprocess.run(
            _binary(full_dir, *steps),
            check=True,
            env=_env(),
            capture_output=True,
        )
        killed_dir = os.path.join(self.dir, "killed")
        process = subprocess.Popen(
            _binary(killed_dir, *steps),
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        first = os.path.join(killed_dir, "checkpoints", "ckpt-20.index")
        deadline = time.time() + 120
        while not os.path.exists(first) and time.time() < deadline:
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
        self.assertTrue(os.path.exists(first), "no checkpoint in 120 s")
        self.assertFalse(
            os.path.exists(
                os.path.join(killed_dir, run_directory.RESULTS_FILE)
            ),
            "the run finished before it was killed",
        )
        restarted = subprocess.run(
            _binary(killed_dir, *steps),
            env=_env(),
            capture_output=True,
            text=True,
        )
        self.assertEqual(restarted.returncode, 0, restarted.stderr[-3000:])
        self.assertRegex(
            restarted.stderr,
            r"Resuming from .*ckpt-\d+ at "
            r"step \d+",
        )
        full, resumed = _results(full_dir), _results(killed_dir)
        self.assertEqual(resumed["step"], 60)
        for key, value in full["eval"].items():
            self.assertAlmostEqual(
                resumed["eval"][key], value, places=5, msg=key
            )

    @pytest.mark.slow  # 15-60 s: run with -m slow (and by bazel test)
    def test_multi_worker_between_two_local_processes(self):
        workers = [f"127.0.0.1:{_free_port()}" for _ in range(2)]
        model_dir = os.path.join(self.dir, "mw")
        processes = [
            subprocess.Popen(
                _binary(
                    model_dir,
                    "--strategy=multi_worker",
                    "--train_steps=6",
                    "--checkpoint_every=3",
                    "--noexport",
                ),
                env=_env(TF_CONFIG=strategies.tf_config(workers, i)),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for i in range(2)
        ]
        outputs = [p.communicate(timeout=300)[0] for p in processes]
        for p, out in zip(processes, outputs):
            self.assertEqual(p.returncode, 0, out[-3000:])
        results = _results(model_dir)
        self.assertEqual(results["step"], 6)
        self.assertTrue(np.isfinite(results["eval"]["loss"]))
        with open(os.path.join(model_dir, "flags.json")) as f:
            self.assertEqual(json.load(f)["replicas"], 2)
        # Only the chief writes: no worker scratch checkpoints are left.
        self.assertFalse(
            [
                n
                for n in os.listdir(os.path.join(model_dir, "checkpoints"))
                if n.startswith(".worker")
            ]
        )


if __name__ == "__main__":
    absltest.main()
