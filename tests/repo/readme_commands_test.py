"""Every command of README.md's ```sh blocks runs, with a small budget, and
exits 0: a README command that fails is a failed build.

The ```sh blocks are parsed (`\\` continuations joined, comments dropped,
`&&` and `;` split) and every command must be in COMMANDS, the table below:

  * `Run(budget)`: run through a subprocess exactly as written (same program,
    same module, same flags) with `budget` appended — flags that make it
    small (absl flags: the last value given wins, so `--train_steps=3` after
    the README's `--train_steps=5000` trains 3 steps). `after` names the
    README command whose output it reads (run first, in the same place).
  * `NotRun(reason)`: not runnable inside a test, and why.

A README command missing from COMMANDS fails (test_every_command_is_known
and its own test case), and so does an entry of COMMANDS that is no longer
in the README; the failure says how to teach this file about it.

Paths are redirected so that the test writes only into its own temporary
folder: `/tmp/NAME` -> `<tmp>/tmp/NAME`, a repo-relative output such as
`docs/images/X.png` -> `<tmp>/docs/images/X.png` (the tracked figures are never
touched), and the placeholders of PLACEHOLDERS (`/path/to/input.txt`: a
generated text file). Another absolute path in a README command fails the
test until it is added to PLACEHOLDERS. The children run from the repository
root with TF_CPP_MIN_LOG_LEVEL=2, TMPDIR inside the temporary folder and
TFDS_DATA_DIR in it too (CLEVR-2D is generated there once per run of this
file, about 80 s, instead of into ~/tensorflow_datasets).

Slow (CI runs it on its own, see .ci/run):

  python -m pytest -m slow tests/repo/readme_commands_test.py

The cases run in README order; a case whose command needs an earlier one
(`after`) runs that one first if it has not run yet (`-k explain` works).
"""

import dataclasses
import importlib.util
import os
import random
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Optional
from typing import Tuple

from absl.testing import absltest
from absl.testing import parameterized
import pytest

from tests.experiments import scenes

# tests/repo/ -> the repository root (under Bazel, README.md is a data file
# at the same relative place in the runfiles).
ROOT = os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)
README = os.path.join(ROOT, "README.md")


@dataclasses.dataclass(frozen=True)
class Run:
    """Run the README command with `budget` appended.

    after: the README command (a key of COMMANDS) that must have run first
      (this one reads what it wrote).
    needs_module: (module, how to install it): skip (not fail) when the
      module cannot be imported (an optional extra).
    expect: a regex its stdout must match (for a command whose exit status
      says too little).
    timeout: seconds.
    """

    budget: Tuple[str, ...] = ()
    after: Optional[str] = None
    needs_module: Optional[Tuple[str, str]] = None
    expect: Optional[str] = None
    timeout: int = 900


@dataclasses.dataclass(frozen=True)
class NotRun:
    """A README command that this test does not run, and why."""

    reason: str


# Budgets: the engine's flags (mi_zoo/experiments/flags.py) make every
# experiment binary tiny; the results scripts have their own grid flags.
ENGINE_BUDGET = (
    "--train_steps=3",
    "--eval_every=0",
    "--image_every=0",
    "--histogram_every=0",
    "--log_every=1",
    "--checkpoint_every=3",
)
VQA_BUDGET = ENGINE_BUDGET + (
    "--batch_size=8",
    "--precise_bn_batches=1",
    "--eval_limit=16",
    "--num_images=2",
)

VQA = "python -m mi_zoo.experiments.vqa --model_dir=/tmp/vqa"
MLB_SOC = (
    "python -m mi_zoo.experiments.vqa --model=mlb --model_dir=/tmp/mlb_soc"
)
PREDICT = (
    "python -m mi_zoo.experiments.predict --model_dir=/tmp/mlb_soc "
    "--image=/path/to/photo.png '--question=what is the shape of the "
    "red object ?' --top_k=3 --explain=/tmp/photo_explained.png"
)
MLB_BACKBONE = (
    "python -m mi_zoo.experiments.vqa --model=mlb --image_kind=backbone "
    "--backbone=resnet50 --model_dir=/tmp/mlb_resnet50_soc"
)
PREDICT_BACKBONE = (
    "python -m mi_zoo.experiments.predict --model_dir=/tmp/mlb_resnet50_soc "
    "--image=/path/to/photo.png '--question=what is the shape of the red "
    "object ?' --explain=/tmp/photo_resnet50.png"
)
EXTRACT = (
    "python -m mi_zoo.features.extract --images=/path/to/photos "
    "--backbone=resnet152 --out=/tmp/photo_features --image_ids=order"
)
MLB_CLEVR2D = (
    "python -m mi_zoo.experiments.vqa --model=mlb "
    "--dataset=clevr2d --model_hparams=stem_layers=3 "
    "--train_steps=5000 --model_dir=/tmp/mlb_clevr2d"
)

# Every command of the README's ```sh blocks (as shlex.join writes it).
COMMANDS = {
    # Set-up.
    "pip install -e '.[cpu]'": NotRun(
        "installs the package: CI (.ci/run) installs it before any test, "
        "and a test must not change the environment it runs in"
    ),
    "python -m mi_zoo.experiments.demo": Run(("--steps=3", "--examples=64")),
    "pip install -e '.[cpu,test,rl]'": NotRun(
        "installs the package: .ci/run runs this very line before the "
        "tests, and a test must not change the environment it runs in"
    ),
    "python -m pytest -n 2 tests": NotRun(
        "the test suite itself: .ci/run runs this exact line "
        "(readme_test.py checks that), and a test cannot run the suite that "
        "runs it"
    ),
    # Experiments.
    VQA: Run(VQA_BUDGET),
    "python -m mi_zoo.experiments.vqa --model=ban --dataset=clevr2d "
    "--image_kind=regions --model_dir=/tmp/ban": Run(VQA_BUDGET, timeout=1200),
    "python -m mi_zoo.experiments.vqa --recipe=ban8_vqa2 "
    "--data_dir=/data/vqa2 --model_dir=/tmp/ban8": NotRun(
        "needs the VQA v2 corpus and a GPU (13 epochs of BAN-8); "
        "tests/experiments/recipes_test.py runs the recipe on fixture "
        "files"
    ),
    "python -m mi_zoo.experiments.matching --model_dir=/tmp/mdan": Run(
        ENGINE_BUDGET
        + (
            "--batch_size=8",
            "--eval_batch_size=16",
            "--precise_bn_batches=1",
            "--eval_limit=32",
            "--num_images=2",
        ),
        timeout=1200,
    ),
    "python -m mi_zoo.experiments.lm --data_dir=/path/to/input.txt "
    "--model=multdec --model_dir=/tmp/lm": Run(
        ENGINE_BUDGET
        + (
            "--batch_size=4",
            "--eval_batch_size=2",
            "--sequence_length=20",
            "--sample_length=20",
        )
    ),
    # TensorBoard serves until it is killed; --inspect makes the same program
    # read the same --logdir (the vqa run's event files, written by the case
    # above) and print what it finds, then exit (0 even when it finds
    # nothing, hence `expect`).
    "tensorboard --logdir /tmp/vqa": Run(
        ("--inspect",), after=VQA, expect=r"Event statistics for .*vqa"
    ),
    # Multitask and expressivity.
    "python -m mi_zoo.experiments.multitask_regression --num_tasks=20 "
    "--conditioning=mi_low_rank --model_dir=/tmp/mtr": Run(ENGINE_BUDGET),
    "python -m benchmarks.multitask_regression_results "
    "--trunk_out_dir=/tmp/mtr_grid --trunk_train_steps=2500 "
    "--trunk_png=docs/images/multitask_regression.png": Run(
        ("--trunk_train_steps=3", "--num_tasks_grid=1,2", "--trunk_seeds=0")
    ),
    "python -m mi_zoo.experiments.expressivity --target_function=dot "
    "--input_dim=8 --expressivity_model=mlp --expressivity_search "
    "--model_dir=/tmp/expr": Run(
        ENGINE_BUDGET
        + (
            "--expressivity_min_width=2",
            "--expressivity_max_width=4",
            "--expressivity_train_examples=256",
            "--expressivity_eval_examples=128",
            "--eval_batch_size=128",
        )
    ),
    "python -m benchmarks.expressivity_results "
    "--expressivity_out_dir=/tmp/expressivity "
    "--expressivity_plot=docs/images/expressivity.png": Run(
        (
            "--expressivity_steps=3",
            "--expressivity_targets=dot",
            "--expressivity_dims=2",
            "--expressivity_mlp_max_width=4",
        )
    ),
    # Multitask RL: one PPO update of a few frames.
    "python -m mi_zoo.experiments.multitask_rl --context=mi "
    "--model_dir=/tmp/rl_mi": Run(
        (
            "--total_frames=1",
            "--num_envs_per_task=1",
            "--rollout_length=8",
            "--ppo_epochs=1",
            "--ppo_minibatches=1",
            "--log_every=1",
            "--checkpoint_every=1",
            "--stats_episodes=1",
        )
    ),
    "python -m benchmarks.multitask_rl_results --rl_out_dir=/tmp/rl_grid "
    "--rl_total_frames=100000 --rl_parallel=2 "
    "--rl_png=docs/images/multitask_rl.png": Run(
        ("--rl_total_frames=1", "--rl_seeds=0", "--rl_stats_episodes=1")
    ),
    # Explanations: the explain binary reads the vqa run's directory.
    MLB_CLEVR2D: Run(VQA_BUDGET, timeout=1200),
    "python -m mi_zoo.experiments.explain --model_dir=/tmp/mlb_clevr2d "
    "--pointing_examples=1000": Run(
        (
            "--pointing_examples=16",
            "--explain_figures=2",
            "--explain_batch_size=8",
        ),
        after=MLB_CLEVR2D,
    ),
    # Your own image: the predict binary reads the mlb run's directory and a
    # PNG drawn with PIL (PLACEHOLDERS).
    MLB_SOC: Run(VQA_BUDGET),
    PREDICT: Run(after=MLB_SOC, expect=r"(?m)^\d\.\d{4}  \S+$"),
    # Presets (docs/presets.md): the shipped Sort-of-CLEVR preset.
    "python -m mi_zoo.experiments.predict --preset=sort_of_clevr_film "
    "--image=/path/to/photo.png '--question=is the red object on the left "
    "?'": Run(expect=r"(?m)^\d\.\d{4}  (yes|no)$"),
    "python -m mi_zoo.experiments.evaluate --preset=sort_of_clevr_film "
    "--seed=7 --num_images=50": Run(
        ("--num_images=5",), expect=r'(?m)^\{"overall": [0-9.]+, "by_type": '
    ),
    # The backbone inside the model: a small one with random weights
    # (nothing is downloaded in a test; the last --backbone wins).
    MLB_BACKBONE: Run(
        VQA_BUDGET
        + ("--backbone=mobilenet_v3_small", "--backbone_weights=none")
    ),
    PREDICT_BACKBONE: Run(
        after=MLB_BACKBONE,
        expect=r"(?m)^\d\.\d{4}  \S+$\n(.*\n)*Explanation in ",
    ),
    # Image features: random weights (nothing is downloaded in a test) at a
    # small size, on two drawn PNGs (PLACEHOLDERS).
    EXTRACT: Run(
        ("--weights=none", "--image_size=64,64", "--batch_size=2"),
        expect=r"Features of 2 images in ",
    ),
    # Bazel.
    "bazel test //...": NotRun(
        ".ci/run runs it after pytest; it needs Bazel (bazel-bootstrap) and "
        "would run this test file again"
    ),
    # Benchmarks: --quick is each script's own smoke run.
    "python -m benchmarks.mi_layer_benchmark": Run(("--quick",)),
    "python -m benchmarks.parameter_counts": Run(),  # No size flags: builds.
    "python -m benchmarks.vqa_throughput": Run(("--quick",)),
    "python -m benchmarks.reference_comparison": Run(
        ("--quick",), needs_module=("torch", 'pip install -e ".[bench]"')
    ),
    "python -m benchmarks.fusion_comparison": Run(
        ("--quick", "--fusions=mlb"),
        needs_module=("torch", 'pip install -e ".[bench]"'),
    ),
    "python -m benchmarks.scaling": Run(("--quick",)),
    # .ci/backends runs it in the JAX environment, where TensorFlow is absent.
    "python -m benchmarks.keras_backend_benchmark --backend=jax": Run(
        ("--quick",), needs_module=("jax", 'pip install "jax[cpu]"')
    ),
}

#: README placeholders -> a function of the temporary folder that makes the
#: stand-in and returns its path.
PLACEHOLDERS = {
    "/path/to/input.txt": lambda tmp: _write_text(
        os.path.join(tmp, "input.txt")
    ),
    "/path/to/photo.png": lambda tmp: scenes.draw_scene(
        os.path.join(tmp, "photo.png")
    ),
    "/path/to/photos": lambda tmp: _draw_scenes(os.path.join(tmp, "photos")),
}

HOW_TO_TEACH = (
    "Teach tests/repo/readme_commands_test.py about it: add it to COMMANDS, "
    'either as Run(("--flag=value", ...)) with the flags that make it '
    "small (see its --help; after=<earlier README command> if it reads that "
    "one's output; a PLACEHOLDERS entry for a placeholder path), or as "
    'NotRun("why it cannot run in a test").'
)

SHELL_LANGUAGES = ("sh", "bash", "shell", "console", "zsh", "")


def _draw_scenes(folder, count=2):
    """A folder of `count` drawn PNGs, for the feature extraction."""
    os.makedirs(folder, exist_ok=True)
    for k in range(count):
        scenes.draw_scene(os.path.join(folder, f"photo_{k}.png"))
    return folder


def _write_text(path, characters=60_000):
    """A small made-up corpus (words, lines), for the language model."""
    rng = random.Random(0)
    words = (
        "the king queen lord lady speak now thou art my good sir and "
        "of to in that with be his her you shall not come love"
    ).split()
    lines, size = [], 0
    while size < characters:
        line = " ".join(rng.choice(words) for _ in range(rng.randint(3, 12)))
        lines.append(line.capitalize() + rng.choice(".,;!?"))
        size += len(lines[-1]) + 1
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    return path


def fenced_blocks(text):
    """[(language, body)] of the fenced code blocks of a Markdown text."""
    return re.findall(r"^```([\w+-]*)[ \t]*\n(.*?)^```", text, re.M | re.S)


def parse_commands(text):
    """The commands of the ```sh blocks, in order, each a list of tokens.

    Raises:
      ValueError: for shell syntax other than `&&` and `;` between commands.
    """
    commands = []
    for language, body in fenced_blocks(text):
        if language != "sh":
            continue
        body = re.sub(r"\\\n", " ", body)
        for line in body.splitlines():
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            lexer.commenters = "#"
            command = []
            for token in lexer:
                if token in ("&&", ";"):
                    if command:
                        commands.append(command)
                    command = []
                elif token and set(token) <= set("();<>|&"):
                    raise ValueError(
                        f"README.md: {line.strip()!r} uses {token!r}; this "
                        f"test runs simple commands only (joined by && or "
                        f";): write one command per line."
                    )
                else:
                    command.append(token)
            if command:
                commands.append(command)
    return commands


def readme_commands():
    """[shlex.join(tokens)] of the README's ```sh commands, in order."""
    with open(README, encoding="utf-8") as f:
        return [shlex.join(c) for c in parse_commands(f.read())]


def case_name(index, command):
    """`_NN_name` of a command: its module's (or program's) last part."""
    tokens = shlex.split(command)
    word = (
        tokens[2]
        if tokens[:2] == ["python", "-m"] and len(tokens) > 2
        else tokens[0]
    )
    return "_%02d_%s" % (index, re.sub(r"\W", "_", word.split(".")[-1]))


def substitute(tokens, tmp, placeholders):
    """The tokens with the README's paths moved into `tmp`.

    Raises:
      ValueError: naming an absolute path this test does not know.
    """
    out = []
    for token in tokens:
        prefix, value = "", token
        if token.startswith("-") and "=" in token:
            prefix, value = token.split("=", 1)
            prefix += "="
        if value in placeholders:
            value = placeholders[value]
        elif value == "/tmp" or value.startswith("/tmp/"):
            value = os.path.join(tmp, "tmp", value[len("/tmp/") :])
        elif value.startswith("docs/"):
            value = os.path.join(tmp, value)
        elif value.startswith("/") and not value.startswith("//"):
            raise ValueError(
                f"{token!r}: an absolute path this test does not know; add "
                f"it to PLACEHOLDERS in tests/repo/readme_commands_test.py "
                f"(with a small stand-in made in the test's temporary "
                f"folder)."
            )
        out.append(prefix + value)
    return out


def program(name):
    """The executable of the README's program name: `python` is this
    interpreter; others are looked up beside it first (its environment's
    console scripts), then on PATH."""
    if name in ("python", "python3"):
        return sys.executable
    beside = os.path.join(os.path.dirname(sys.executable), name)
    if os.access(beside, os.X_OK):
        return beside
    return shutil.which(name) or name


def tail(text, lines=40):
    return "\n".join(text.strip().splitlines()[-lines:])


class ReadmeCommandsKnownTest(absltest.TestCase):
    """Fast: the table and the README agree (no command runs)."""

    def test_every_command_is_known(self):
        commands = readme_commands()
        self.assertNotEmpty(commands)
        unknown = [c for c in commands if c not in COMMANDS]
        if unknown:
            self.fail(
                "README.md has commands this test does not know:\n  "
                + "\n  ".join(unknown)
                + "\n"
                + HOW_TO_TEACH
            )

    def test_every_known_command_is_in_the_readme(self):
        stale = sorted(set(COMMANDS) - set(readme_commands()))
        if stale:
            self.fail(
                "COMMANDS of tests/repo/readme_commands_test.py lists "
                "commands that README.md no longer has (remove or "
                "update them):\n  " + "\n  ".join(stale)
            )

    def test_dependencies_come_first(self):
        commands = readme_commands()
        for index, command in enumerate(commands):
            spec = COMMANDS.get(command)
            if isinstance(spec, Run) and spec.after:
                self.assertIn(spec.after, commands[:index], command)
                self.assertIsInstance(COMMANDS[spec.after], Run)

    def test_only_sh_blocks_hold_commands(self):
        with open(README, encoding="utf-8") as f:
            languages = [lang for lang, _ in fenced_blocks(f.read())]
        for language in languages:
            if language != "sh":
                self.assertNotIn(
                    language,
                    SHELL_LANGUAGES,
                    "README.md: write shell commands in ```sh blocks (this "
                    "test runs those only).",
                )

    def test_parse(self):
        text = (
            '```sh\npip install -e ".[cpu]" && python -m a.b \\\n'
            "    --x=1   # comment\n# a comment line\n\npython -m c\n"
            "```\n```python\nprint(1)\n```\n"
        )
        self.assertEqual(
            parse_commands(text),
            [
                ["pip", "install", "-e", ".[cpu]"],
                ["python", "-m", "a.b", "--x=1"],
                ["python", "-m", "c"],
            ],
        )
        with self.assertRaisesRegex(ValueError, "one command per line"):
            parse_commands("```sh\npython -m a | tee log\n```\n")

    def test_substitute(self):
        tokens = [
            "python",
            "-m",
            "m",
            "--model_dir=/tmp/a",
            "/tmp/a",
            "--png=docs/images/p.png",
            "--data_dir=/path/to/x",
            "//...",
        ]
        self.assertEqual(
            substitute(tokens, "/T", {"/path/to/x": "/T/x"}),
            [
                "python",
                "-m",
                "m",
                "--model_dir=/T/tmp/a",
                "/T/tmp/a",
                "--png=/T/docs/images/p.png",
                "--data_dir=/T/x",
                "//...",
            ],
        )
        with self.assertRaisesRegex(ValueError, "PLACEHOLDERS"):
            substitute(["--data_dir=/data/vqa2"], "/T", {})


@pytest.mark.slow
class ReadmeCommandsRunTest(parameterized.TestCase):
    """Slow: each README command, one case each, in README order."""

    tmp = None
    results = {}  # command -> (returncode, stderr tail)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(
            prefix="readme_commands_", dir=os.environ.get("TEST_TMPDIR")
        )
        cls.placeholders = {
            name: make(cls.tmp) for name, make in PLACEHOLDERS.items()
        }
        os.makedirs(os.path.join(cls.tmp, "children_tmp"))
        python_path = [ROOT] + [
            p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p
        ]
        cls.env = dict(
            os.environ,
            TF_CPP_MIN_LOG_LEVEL="2",
            TFDS_DATA_DIR=os.path.join(cls.tmp, "tensorflow_datasets"),
            TMPDIR=os.path.join(cls.tmp, "children_tmp"),
            PYTHONPATH=os.pathsep.join(python_path),
        )
        cls.results = {}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)
        super().tearDownClass()

    def run_command(self, command):
        """Runs a README command (its `after` first); fails with the command
        and the end of its stderr unless it exits 0."""
        spec = COMMANDS[command]
        if spec.after:
            if spec.after not in self.results:
                self.run_command(spec.after)
            elif self.results[spec.after][0] != 0:
                self.fail(
                    f"{command}\nneeds the output of\n{spec.after}\n"
                    f"which failed."
                )
        try:
            argv = substitute(
                shlex.split(command), self.tmp, self.placeholders
            ) + list(spec.budget)
        except ValueError as e:
            self.fail(f"{command}: {e}")
        argv[0] = program(argv[0])
        start = time.time()
        try:
            done = subprocess.run(
                argv,
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=spec.timeout,
                check=False,
            )
            returncode, stdout, stderr = (
                done.returncode,
                done.stdout,
                done.stderr,
            )
        except subprocess.TimeoutExpired as e:
            returncode = "timeout"
            stdout = (
                (e.stdout or b"").decode("utf-8", "replace")
                if isinstance(e.stdout, bytes)
                else (e.stdout or "")
            )
            stderr = (
                (e.stderr or b"").decode("utf-8", "replace")
                if isinstance(e.stderr, bytes)
                else (e.stderr or "")
            )
            stderr += f"\n[killed after {spec.timeout} s]"
        seconds = time.time() - start
        self.results[command] = (returncode, tail(stderr))
        print(f"\n[{seconds:.0f} s] {shlex.join(argv)}", flush=True)
        self.assertEqual(
            returncode,
            0,
            f"README command failed (exit {returncode}, {seconds:.0f} s):\n"
            f"  {command}\nrun as\n  {shlex.join(argv)}\n"
            f"--- stdout (end) ---\n{tail(stdout, 10)}\n"
            f"--- stderr (end) ---\n{tail(stderr)}",
        )
        if spec.expect:
            self.assertRegex(
                stdout,
                spec.expect,
                f"README command's output lacks "
                f"{spec.expect!r}:\n  {shlex.join(argv)}",
            )
        return stdout

    @parameterized.named_parameters(
        (case_name(i, c), c) for i, c in enumerate(readme_commands())
    )
    def test_readme_command(self, command):
        if command not in COMMANDS:
            self.fail(
                f"README.md command unknown to this test:\n  {command}"
                f"\n{HOW_TO_TEACH}"
            )
        spec = COMMANDS[command]
        if isinstance(spec, NotRun):
            self.skipTest(f"not run here: {spec.reason}")
        if spec.needs_module:
            module, install = spec.needs_module
            if importlib.util.find_spec(module) is None:
                self.skipTest(f"needs {module}, not installed: {install}")
        self.run_command(command)


if __name__ == "__main__":
    absltest.main()
