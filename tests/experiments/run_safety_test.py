"""A user's files and runs through the real vqa binary, in subprocesses:
--overwrite deletes only a run's own files, a damaged newest checkpoint
falls back to an older one, one run per model_dir (an OS lock released on
SIGKILL), a moved run folder resumes, a run that fails before training
leaves no settings behind, a finished run is extended by a larger
--train_steps, and user errors are one line."""

import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from absl.testing import absltest
import pytest

from mi_zoo.training import run_directory
from tests.training import crash

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
    "--noexport",
]


# A checkpoint's files, after its "ckpt-N." prefix.
SHARD = ("data-00000-of-00001", "index")


def _env():
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("TF_CONFIG", None)
    return env


def _command(model_dir, *extra):
    return [
        sys.executable,
        "-m",
        "mi_zoo.experiments.vqa",
        f"--model_dir={model_dir}",
        *TINY,
        *extra,
    ]


def _run(model_dir, *extra):
    return subprocess.run(
        _command(model_dir, *extra),
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def _results(model_dir):
    with open(os.path.join(model_dir, run_directory.RESULTS_FILE)) as f:
        return json.load(f)


class RunSafetyTest(absltest.TestCase):
    _finished = None  # a finished run, made once for the class

    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    @classmethod
    def tearDownClass(cls):
        if cls._finished:
            shutil.rmtree(os.path.dirname(cls._finished), ignore_errors=True)
        super().tearDownClass()

    def finished_run(self, name):
        """A copy, at self.dir/name, of a finished 6-step run with
        checkpoints at steps 3 and 6 (the run is made once for the class: a
        run of the binary takes 10-25 s here)."""
        cls = type(self)
        if cls._finished is None:
            run = os.path.join(tempfile.mkdtemp(), "run")
            self.assertOk(_run(run, "--train_steps=6", "--checkpoint_every=3"))
            cls._finished = run
        return shutil.copytree(cls._finished, os.path.join(self.dir, name))

    def assertOk(self, process):
        self.assertEqual(process.returncode, 0, process.stderr[-3000:])

    def assertUserError(self, process, exit_code, pattern):
        """One `error:` line matching `pattern`, no traceback."""
        self.assertEqual(process.returncode, exit_code, process.stderr[-3000:])
        self.assertNotIn("Traceback", process.stderr)
        errors = [
            line
            for line in process.stderr.splitlines()
            if line.startswith("error:")
        ]
        self.assertLen(errors, 1, process.stderr[-3000:])
        self.assertRegex(errors[0], pattern)

    # ------------------------------------------------------ 1. --overwrite
    def test_overwrite_refuses_a_folder_with_other_files(self):
        model_dir = os.path.join(self.dir, "thesis")
        os.makedirs(os.path.join(model_dir, "photos"))
        with open(os.path.join(model_dir, "thesis.txt"), "w") as f:
            f.write("four years")
        with open(os.path.join(model_dir, "photos", "a.jpg"), "w") as f:
            f.write("jpeg")
        process = _run(model_dir, "--overwrite", "--train_steps=2")
        self.assertUserError(
            process,
            1,
            r"--overwrite refused: .* holds "
            r"files that are not a run's: photos, "
            r"thesis\.txt",
        )
        self.assertCountEqual(
            os.listdir(model_dir), ["photos", "thesis.txt", ".run.lock"]
        )
        with open(os.path.join(model_dir, "thesis.txt")) as f:
            self.assertEqual(f.read(), "four years")
        self.assertTrue(
            os.path.exists(os.path.join(model_dir, "photos", "a.jpg"))
        )
        # A run's own folder with one foreign file is refused too, and keeps
        # the run.
        run = self.finished_run("run")
        with open(os.path.join(run, "notes.md"), "w") as f:
            f.write("my notes")
        process = _run(run, "--overwrite", "--train_steps=2")
        self.assertUserError(process, 1, r"not a run's: notes\.md")
        self.assertTrue(os.path.exists(os.path.join(run, "results.json")))

    def test_overwrite_deletes_only_the_runs_own_files(self):
        model_dir = self.finished_run("run")
        self.assertEqual(
            sorted(os.listdir(os.path.join(model_dir, "checkpoints")))[1:],
            [f"ckpt-{i}.{ext}" for i in (3, 6) for ext in SHARD],
        )
        before = os.path.getmtime(os.path.join(model_dir, "results.json"))
        process = _run(model_dir, "--overwrite", "--train_steps=2")
        self.assertOk(process)
        self.assertNotIn("Resuming", process.stderr)
        self.assertEqual(_results(model_dir)["step"], 2)
        self.assertGreater(
            os.path.getmtime(os.path.join(model_dir, "results.json")), before
        )
        self.assertEqual(
            sorted(os.listdir(os.path.join(model_dir, "checkpoints"))),
            ["checkpoint"] + [f"ckpt-2.{ext}" for ext in SHARD],
        )

    # ------------------------------------------- 3. a damaged checkpoint
    @pytest.mark.slow  # 15-60 s: run with -m slow (and by bazel test)
    def test_damaged_newest_checkpoint_falls_back(self):
        model_dir = os.path.join(self.dir, "run")
        self.assertOk(
            _run(model_dir, "--train_steps=12", "--checkpoint_every=4")
        )
        crash.crash_after(model_dir, 12)  # killed during the final eval
        ckpt = os.path.join(model_dir, "checkpoints")
        data = glob.glob(os.path.join(ckpt, "ckpt-12.data-*"))[0]
        with open(data, "r+b") as f:
            f.truncate(os.path.getsize(data) // 2)
        os.remove(os.path.join(ckpt, "ckpt-8.index"))
        process = _run(model_dir, "--train_steps=12", "--checkpoint_every=4")
        self.assertOk(process)
        self.assertRegex(
            process.stderr,
            r"ckpt-12 is damaged \(IndexError: "
            r"Read less bytes than requested\); resuming from "
            r"ckpt-4",
        )
        self.assertRegex(
            process.stderr,
            r"ckpt-8 is damaged \(NotFound"
            r"Error: .*\); resuming from ckpt-4",
        )
        self.assertRegex(process.stderr, r"Resuming from .*ckpt-4 at step 4")
        self.assertEqual(_results(model_dir)["step"], 12)
        # The damaged files are kept, out of the way of the new saves.
        self.assertCountEqual(
            os.listdir(os.path.join(ckpt, "damaged")),
            [
                os.path.basename(data),
                "ckpt-12.index",
                "ckpt-8.data-00000-of-00001",
            ],
        )
        with open(os.path.join(ckpt, "checkpoint")) as f:
            self.assertIn('model_checkpoint_path: "ckpt-12"', f.read())

    # ------------------------------------------------- 4. the run's lock
    @pytest.mark.slow  # 15-60 s: run with -m slow (and by bazel test)
    def test_second_run_on_a_model_dir_is_refused_and_sigkill_frees_it(self):
        model_dir = os.path.join(self.dir, "run")
        steps = ["--train_steps=100000", "--checkpoint_every=5"]
        first = subprocess.Popen(
            _command(model_dir, *steps),
            env=_env(),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.addCleanup(first.kill)
        checkpoint = os.path.join(model_dir, "checkpoints", "ckpt-5.index")
        deadline = time.time() + 120
        while not os.path.exists(checkpoint) and time.time() < deadline:
            time.sleep(0.05)
        self.assertTrue(os.path.exists(checkpoint), "no checkpoint in 120 s")
        second = _run(model_dir, *steps)
        self.assertUserError(
            second,
            1,
            rf"is in use by another run \(pid "
            rf"{first.pid}\)",
        )
        first.send_signal(signal.SIGKILL)
        first.wait()
        # The lock died with the process: the run resumes (and ends soon).
        reached = max(
            int(name.split("-")[1].split(".")[0])
            for name in os.listdir(os.path.dirname(checkpoint))
            if name.endswith(".index")
        )
        third = _run(
            model_dir, f"--train_steps={reached + 2}", "--checkpoint_every=5"
        )
        self.assertOk(third)
        self.assertRegex(
            third.stderr,
            rf"Resuming from .*ckpt-{reached} at "
            rf"step {reached}",
        )

    # ------------------------------------------- 5. a moved run folder
    @pytest.mark.slow  # 15-60 s: run with -m slow (and by bazel test)
    def test_moved_run_folder_resumes(self):
        model_dir = os.path.join(self.dir, "run")
        self.assertOk(
            _run(model_dir, "--train_steps=8", "--checkpoint_every=4")
        )
        crash.crash_after(model_dir, 4)
        moved = os.path.join(self.dir, "elsewhere", "moved")
        os.makedirs(os.path.dirname(moved))
        shutil.move(model_dir, moved)
        process = _run(moved, "--train_steps=8", "--checkpoint_every=4")
        self.assertOk(process)
        self.assertRegex(
            process.stderr,
            r"Resuming from .*moved/checkpoints/"
            r"ckpt-4 at step 4",
        )
        self.assertEqual(_results(moved)["step"], 8)
        with open(os.path.join(moved, "flags.json")) as f:
            self.assertEqual(json.load(f)["model_dir"], moved)

    # ------------------------------- 6. a start that fails leaves nothing
    @pytest.mark.slow  # 40-90 s here: run with -m slow (and by bazel test)
    def test_failed_start_leaves_no_settings(self):
        model_dir = os.path.join(self.dir, "run")
        missing = os.path.join(self.dir, "no_clevr")
        failed = _run(
            model_dir,
            "--dataset=clevr",
            f"--data_dir={missing}",
            "--train_steps=2",
        )
        self.assertUserError(failed, 1, "no_clevr")
        self.assertFalse(os.path.exists(model_dir))
        # In an existing folder: no flags.json either, and the corrected
        # command runs.
        os.makedirs(model_dir)
        failed = _run(
            model_dir,
            "--dataset=clevr",
            f"--data_dir={missing}",
            "--train_steps=2",
        )
        self.assertEqual(failed.returncode, 1)
        self.assertFalse(os.path.exists(os.path.join(model_dir, "flags.json")))
        self.assertOk(_run(model_dir, "--train_steps=2"))
        self.assertEqual(_results(model_dir)["step"], 2)

    # ------------------------------------------ 7. extending a finished run
    @pytest.mark.slow  # 15-60 s: run with -m slow (and by bazel test)
    def test_finished_run_is_extended_by_more_steps(self):
        model_dir = os.path.join(self.dir, "run")
        self.assertOk(
            _run(model_dir, "--train_steps=6", "--checkpoint_every=3")
        )
        same = _run(model_dir, "--train_steps=6", "--checkpoint_every=3")
        self.assertUserError(
            same,
            1,
            r"holds a finished run .*Pass "
            r"--train_steps larger than 6",
        )
        extended = _run(model_dir, "--train_steps=10", "--checkpoint_every=3")
        self.assertOk(extended)
        self.assertRegex(
            extended.stderr,
            r"Resuming from .*ckpt-6 at step 6 "
            r"of 10",
        )
        self.assertEqual(_results(model_dir)["step"], 10)
        with open(os.path.join(model_dir, "flags.json")) as f:
            self.assertEqual(json.load(f)["train_steps"], 10)
        crash.crash_after(model_dir, 9)
        fewer = _run(model_dir, "--train_steps=7", "--checkpoint_every=3")
        self.assertUserError(fewer, 1, r"--train_steps=7 is below step 9")
        # The schedule of a decay depends on --train_steps: refused with the
        # way out.
        cosine = os.path.join(self.dir, "cosine")
        self.assertOk(_run(cosine, "--train_steps=4", "--decay=cosine"))
        refused = _run(cosine, "--train_steps=6", "--decay=cosine")
        self.assertUserError(
            refused,
            1,
            r"--decay_steps=4 \(now 6\).*pass "
            r"--decay_steps with the earlier value",
        )
        self.assertOk(
            _run(
                cosine, "--train_steps=6", "--decay=cosine", "--decay_steps=4"
            )
        )

    # ---------------------------------------------------- 8. user errors
    @pytest.mark.slow  # 40-90 s here: run with -m slow (and by bazel test)
    def test_user_errors_are_one_line(self):
        model_dir = os.path.join(self.dir, "run")
        cases = [
            (["--train_steps=abc"], 2, r"--train_steps=abc"),
            (["--train_steps=0"], 2, r"--train_steps"),
            (["--no_such_flag=1"], 2, r"no_such_flag"),
            (["--model=resnet"], 2, r"--model='resnet' is not one of"),
            (["--model_hparams=hiden=3"], 2, r"--model_hparams.*'hiden'"),
        ]
        for extra, code, pattern in cases:
            with self.subTest(extra=extra):
                process = _run(model_dir, *extra)
                self.assertUserError(process, code, pattern)
                self.assertNotIn("--helpfull", process.stderr)
                self.assertNotIn("USAGE", process.stderr)
        no_dir = subprocess.run(
            [sys.executable, "-m", "mi_zoo.experiments.vqa"],
            env=_env(),
            capture_output=True,
            text=True,
            timeout=600,
        )
        self.assertUserError(no_dir, 2, r"--model_dir is required")
        # --verbosity=1 adds the traceback of the same error.
        verbose = _run(
            model_dir,
            "--dataset=clevr",
            f"--data_dir={self.dir}/none",
            "--verbosity=1",
        )
        self.assertIn("Traceback", verbose.stderr)
        self.assertRegex(verbose.stderr, r"\nerror: .*none")


if __name__ == "__main__":
    absltest.main()
