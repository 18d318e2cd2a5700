"""What the binaries print, run the way users run them (subprocesses).

A default run prints its own progress and results, none of TensorFlow's or
TFDS's noise (and `--verbosity=1` brings TensorFlow's log lines back); each
binary's `--help` states its own choices and defaults of the shared flags.
The child processes get no TF_CPP_MIN_LOG_LEVEL: the binaries set it.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

from absl.testing import absltest
import pytest

import mi_zoo
from mi_zoo import experiments

# A short CLEVR-2D run of a region model (BAN), generating the 'small'
# config (7k examples, a few seconds) into a fresh TFDS data dir: it meets
# every noise source at once (TF's start-up, the oneDNN bool transpose, the
# cost model's CropAndResize, TFDS's generation, the SavedModel export).
CLEVR2D_RUN = [
    "--model=ban",
    "--dataset=clevr2d",
    "--image_kind=regions",
    "--dataset_config=small",
    "--train_steps=2",
    "--batch_size=8",
    "--eval_limit=16",
    "--eval_batch_size=8",
    "--eval_every=0",
    "--image_every=0",
    "--histogram_every=0",
    "--num_images=2",
]

# The noise a default run must not print, by source.
NOISE = {
    "absl C++ start-up": r"All log messages before absl::InitializeLog",
    "oneDNN banner": r"oneDNN custom operations are on",
    "CPU feature banner": r"This TensorFlow binary is optimized",
    "oneDNN bool transpose": r"oneDNN supports DT_BOOL",
    "grappler cost model": r"PredictCost",
    "C++ log line": r"(?m)^[IWEF]\d{4} [\d:.]+ +\d+ \S+\.cc:\d+\]",
    "SavedModel renames": r"unsupported characters",
    "SavedModel assets": r"Assets written",
    "TF Python logger": r"(?m)^INFO:tensorflow",
    "TFDS download wording": r"Downloading and preparing|Unknown size|"
    r"downloaded and prepared",
    "TFDS progress bars": r"Generating splits|Shuffling \S+|examples/s",
}


def _env():
    """The environment of a user's shell: no TF_CPP_MIN_LOG_LEVEL."""
    env = dict(os.environ)
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    env.pop("TF_CONFIG", None)
    return env


def _run(args, timeout=300, returncode=0):
    """Runs `python args...`, which must exit with `returncode`; returns
    stdout and stderr together."""
    result = subprocess.run(
        [sys.executable, *args],
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != returncode:
        raise AssertionError(
            f"{args} exited with {result.returncode}:\n{result.stdout[-5000:]}"
        )
    return result.stdout


def _mi_zoo_files():
    """Basenames of mi_zoo's Python files (whose log lines may show)."""
    root = os.path.dirname(mi_zoo.__file__)
    return {
        name
        for _, _, names in os.walk(root)
        for name in names
        if name.endswith(".py")
    }


class QuietRunTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.dir = tempfile.mkdtemp()
        cls.data_dir = os.path.join(cls.dir, "tfds")
        cls.output = _run(
            [
                "-m",
                "mi_zoo.experiments.vqa",
                f"--model_dir={cls.dir}/quiet",
                f"--data_dir={cls.data_dir}",
                *CLEVR2D_RUN,
            ]
        )

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)
        super().tearDownClass()

    def assert_quiet(self, output):
        for source, pattern in NOISE.items():
            match = re.search(pattern, output)
            self.assertIsNone(
                match, f"{source}: {match and match.group(0)!r} in:\n{output}"
            )
        # Python log lines come from mi_zoo's own files only.
        ours = _mi_zoo_files()
        for match in re.finditer(
            r"(?m)^[IWEF]\d{4} [\d:.]+ +\d+ (\S+):\d+\]", output
        ):
            self.assertIn(match.group(1), ours, match.group(0))

    def test_default_run_prints_no_noise(self):
        self.assert_quiet(self.output)
        self.assertIn("ban on clevr2d:", self.output)

    def test_generation_is_announced_in_one_line(self):
        lines = [
            line for line in self.output.splitlines() if "CLEVR-2D" in line
        ]
        self.assertLen(lines, 1, self.output)
        target = os.path.join(self.data_dir, "clevr2d", "small")
        self.assertRegex(
            lines[0],
            rf"^Generating CLEVR-2D 'small' \(7,000 examples, about "
            rf"\d+ s, once\) into {re.escape(target)}",
        )

    @pytest.mark.slow  # 40-90 s here: run with -m slow (and by bazel test)
    def test_verbosity_1_shows_tensorflow_logs_again(self):
        output = _run(
            [
                "-m",
                "mi_zoo.experiments.vqa",
                f"--model_dir={self.dir}/verbose",
                f"--data_dir={self.data_dir}",
                *CLEVR2D_RUN,
                "--verbosity=1",
            ]
        )
        self.assertIn("ban on clevr2d:", output)
        self.assertRegex(output, NOISE["C++ log line"])
        self.assertRegex(output, NOISE["grappler cost model"])
        self.assertRegex(output, NOISE["SavedModel assets"])
        self.assertRegex(
            output,
            r"(?m)^I.*dataset_builder\.py:\d+\] "
            r"Reusing dataset clevr2d",
        )

    @pytest.mark.slow  # 40-90 s here: run with -m slow (and by bazel test)
    def test_default_sort_of_clevr_run_prints_no_noise(self):
        output = _run(
            [
                "-m",
                "mi_zoo.experiments.vqa",
                f"--model_dir={self.dir}/sort_of_clevr",
                "--train_steps=2",
                "--train_limit=200",
                "--eval_limit=40",
                "--batch_size=8",
                "--eval_every=0",
                "--image_every=0",
                "--histogram_every=0",
                "--num_images=2",
                "--precise_bn_batches=1",
            ]
        )
        self.assert_quiet(output)
        self.assertIn("film on sort_of_clevr:", output)


class VerbosityTest(absltest.TestCase):
    def test_requested_verbosity(self):
        for argv, expected in [
            (["x"], None),
            (["x", "--verbosity=1"], 1),
            (["x", "--verbosity", "2"], 2),
            (["x", "-v", "1"], 1),
            (["x", "-v=0"], 0),
            (["x", "--v=1", "--verbosity=-1"], -1),
            (["x", "-v", "tests/x.py"], None),  # pytest's -v
            (["x", "--", "--verbosity=1"], None),
        ]:
            self.assertEqual(
                experiments.requested_verbosity(argv), expected, argv
            )
        self.assertTrue(experiments.is_quiet(["x", "--verbosity=0"]))
        self.assertFalse(experiments.is_quiet(["x", "-v", "1"]))

    def test_quiet_keeps_a_log_level_the_user_set(self):
        before = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
        try:
            os.environ["TF_CPP_MIN_LOG_LEVEL"] = "1"
            experiments.quiet_logs()
            self.assertEqual(os.environ["TF_CPP_MIN_LOG_LEVEL"], "1")
            del os.environ["TF_CPP_MIN_LOG_LEVEL"]
            experiments.quiet_logs()
            self.assertEqual(os.environ["TF_CPP_MIN_LOG_LEVEL"], "3")
        finally:
            if before is None:
                os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)
            else:
                os.environ["TF_CPP_MIN_LOG_LEVEL"] = before


def _help(binary, *, console_script=False):
    if console_script:
        # As the `mi-zoo-<binary>` script runs it: __main__ is not the
        # binary's module.
        args = [
            "-c",
            f"from mi_zoo.experiments import {binary}; {binary}.run()",
            "--help",
        ]
    else:
        args = ["-m", f"mi_zoo.experiments.{binary}", "--help"]
    return _run(args, timeout=120, returncode=1)  # absl's --help exits 1.


def _flag_help(output, name):
    """The --help entry of --name (its lines), or None."""
    match = re.search(rf"(?m)^  --{name}: .*\n(?:    .*\n)*", output)
    return match and match.group(0)


class HelpTest(absltest.TestCase):
    def test_lm_help_states_its_own_choices_and_defaults(self):
        output = _help("lm")
        dataset = _flag_help(output, "dataset")
        for corpus in ("tiny_shakespeare", "wikitext2", "wikitext103", "ptb"):
            self.assertIn(corpus, dataset)
        self.assertIn("(default: 'tiny_shakespeare')", dataset)
        model = _flag_help(output, "model")
        for name in ("lstm", "mi_lstm", "multdec", "multencdec"):
            self.assertIn(name, model)
        self.assertIn("(default: 'lstm')", model)
        for other in ("vqa2", "film", "mdan", "flickr30k", "sort_of_clevr"):
            self.assertNotIn(other, output)
        # Shared flags lm does not read are not listed.
        for name in ("image_kind", "dataset_config", "num_images"):
            self.assertIsNone(_flag_help(output, name), name)
        for source, pattern in NOISE.items():
            self.assertNotRegex(output, pattern, source)

    def test_vqa_help_states_its_own_choices_and_defaults(self):
        output = _help("vqa")
        model = _flag_help(output, "model")
        for name in ("ban", "film", "mcb", "mlb", "mutan", "mfh"):
            self.assertIn(name, model)
        self.assertIn("(default: 'film')", model)
        dataset = _flag_help(output, "dataset")
        for name in ("sort_of_clevr", "clevr2d", "clevr", "vqa2"):
            self.assertIn(name, dataset)
        self.assertIn("(default: 'sort_of_clevr')", dataset)
        self.assertIn("(default: '6')", _flag_help(output, "num_images"))
        for other in ("mdan", "flickr30k", "tiny_shakespeare", "lstm"):
            self.assertNotIn(other, output)

    def test_matching_help_states_its_own_choices_and_defaults(self):
        output = _help("matching")
        self.assertIn("(default: 'mdan')", _flag_help(output, "model"))
        dataset = _flag_help(output, "dataset")
        self.assertIn("flickr30k", dataset)
        self.assertIn("(default: 'clevr2d')", dataset)
        self.assertIn("default: small", _flag_help(output, "dataset_config"))
        self.assertIn("default regions", _flag_help(output, "image_kind"))
        for other in ("vqa2", "film", "sort_of_clevr", "tiny_shakespeare"):
            self.assertNotIn(other, output)

    def test_console_script_help_lists_the_binarys_flags(self):
        output = _help("lm", console_script=True)
        self.assertIn("Trains a language model", output)
        self.assertIn("(default: 'lstm')", _flag_help(output, "model"))
        self.assertIsNotNone(_flag_help(output, "sequence_length"))
        self.assertIsNotNone(_flag_help(output, "train_steps"))


if __name__ == "__main__":
    absltest.main()
