r"""Distribution overhead: one model trained by the engine with one device,
with MirroredStrategy over 1 and 2 logical CPUs, and with
MultiWorkerMirroredStrategy over two local worker processes.

Each configuration is one run of the vqa binary (`python -m
mi_zoo.experiments.vqa`) in its own fresh model_dir, in subprocesses:

  one_device     --strategy=one_device
  mirrored x1    --strategy=mirrored --cpu_replicas=1
  mirrored x2    --strategy=mirrored --cpu_replicas=2
  multi_worker   --strategy=multi_worker in two processes on this machine,
                 TF_CONFIG naming two workers on free 127.0.0.1 ports

all with the same global batch (--batch_size, split over the replicas), the
same model (--model at --model_size on --dataset) and --train_steps steps. The
rate is the engine's `train/examples_per_second` of the run's last logging
window (results.json's "train"), which covers the second half of the steps:
tracing, the first steps and the final evaluation are left out. The
configurations run one after the other, --rounds times in turn; the table
gives each one's median rate and its ratio to one_device from the same
round order.

On a machine with C cores, replicas on logical CPUs share the same cores:
the ideal ratio is at most 1× (the work is split, not multiplied), so what
falls below 1× is the cost of splitting the batch, all-reducing the
gradients and (multi_worker) the gRPC collectives and two processes'
thread pools competing for the cores.

  python -m benchmarks.scaling                         # mlb, Sort-of-CLEVR
  python -m benchmarks.scaling --model=mi --rounds=2 --train_steps=80
  python -m benchmarks.scaling --quick --output_json=/tmp/scaling.json
"""

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile

from absl import app
from absl import flags

from benchmarks import common_flags
from benchmarks import timing
from mi_zoo.training import strategies

CONFIGS = ("one_device", "mirrored x1", "mirrored x2", "multi_worker")

# --model (default mlb), --model_size and --dataset (default sort_of_clevr)
# are the experiments' flags (benchmarks.common_flags).
# --train_steps (the engine's flag, default here 60): training steps per
# run; the rate is that of the last half.
_ROUNDS = flags.DEFINE_integer(
    "rounds", 1, "Runs of every configuration.", lower_bound=1, upper_bound=20
)
_CONFIGS = flags.DEFINE_list(
    "configs", list(CONFIGS), f"Configurations, of {CONFIGS}."
)
_TIMEOUT = flags.DEFINE_integer(
    "timeout", 900, "Seconds per run.", lower_bound=10
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def binary_flags(model, size, dataset, batch, steps, hparams=None):
    """The vqa binary's flags of one run (without strategy and model_dir)."""
    extra = [f"--model_hparams={hparams}"] if hparams else []
    return [
        f"--model={model}",
        f"--model_size={size}",
        f"--dataset={dataset}",
        f"--batch_size={batch}",
        f"--train_steps={steps}",
        f"--log_every={steps // 2}",
        f"--eval_batch_size={batch}",
        f"--eval_limit={batch}",
        "--eval_every=0",
        "--image_every=0",
        "--histogram_every=0",
        f"--checkpoint_every={10 * steps}",
        "--precise_bn_batches=0",
        "--num_images=1",
        "--noexport",
        *extra,
    ]


def run_config(config, common, timeout):
    """Runs one configuration; returns its results.json."""
    strategy = {
        "one_device": ["--strategy=one_device"],
        "mirrored x1": ["--strategy=mirrored", "--cpu_replicas=1"],
        "mirrored x2": ["--strategy=mirrored", "--cpu_replicas=2"],
        "multi_worker": ["--strategy=multi_worker"],
    }[config]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("TF_CONFIG", None)
    with tempfile.TemporaryDirectory() as model_dir:
        command = [
            sys.executable,
            "-m",
            "mi_zoo.experiments.vqa",
            f"--model_dir={model_dir}",
            *strategy,
            *common,
        ]
        workers = (
            [f"127.0.0.1:{free_port()}" for _ in range(2)]
            if config == "multi_worker"
            else [None]
        )
        processes = []
        for i, _ in enumerate(workers):
            worker_env = dict(env)
            if config == "multi_worker":
                worker_env["TF_CONFIG"] = strategies.tf_config(workers, i)
            processes.append(
                subprocess.Popen(
                    command,
                    env=worker_env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
        for p in processes:
            out = p.communicate(timeout=timeout)[0]
            if p.returncode:
                raise RuntimeError(f"{config} failed:\n{out[-3000:]}")
        with open(os.path.join(model_dir, "results.json")) as f:
            return json.load(f)


def run(configs, common, rounds, timeout):
    """Rows of every configuration (median over rounds) and the table."""
    rates = {c: [] for c in configs}
    for _ in range(rounds):
        for config in configs:
            results = run_config(config, common, timeout)
            rates[config].append(results["train"]["examples_per_second"])
            print(f"{config}: {rates[config][-1]:.1f} examples/s", flush=True)
    base = statistics.median(rates[configs[0]])
    rows = [
        {
            "config": c,
            "examples_per_second": statistics.median(r),
            "runs": r,
            "ratio_to_" + configs[0].replace(" ", "_"): timing.ratio(
                statistics.median(r), base
            ),
        }
        for c, r in rates.items()
    ]
    key = "ratio_to_" + configs[0].replace(" ", "_")
    text = timing.markdown_table(
        ["configuration", "replicas", "examples/s", f"vs {configs[0]}"],
        [
            [
                c,
                2 if c in ("mirrored x2", "multi_worker") else 1,
                f"{r['examples_per_second']:.1f}",
                f"{r[key]:.2f}×",
            ]
            for c, r in zip(rates, rows)
        ],
    )
    return rows, text


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"Unexpected arguments: {argv[1:]}")
    unknown = sorted(set(_CONFIGS.value) - set(CONFIGS))
    if unknown:
        raise app.UsageError(f"--configs: unknown {unknown}.")
    dataset = common_flags.value_or(common_flags.DATASET, "sort_of_clevr")
    if common_flags.QUICK.value:
        common = binary_flags(
            "concat", "small", dataset, 8, 8, "question_units=8,hidden=8"
        )
    else:
        common = binary_flags(
            common_flags.value_or(common_flags.MODEL, "mlb"),
            common_flags.MODEL_SIZE.value,
            dataset,
            common_flags.value_or(common_flags.BATCH_SIZE, 64),
            common_flags.value_or(common_flags.TRAIN_STEPS, 60),
        )
    print("vqa binary flags: " + " ".join(common), flush=True)
    rows, text = run(
        _CONFIGS.value,
        common,
        1 if common_flags.QUICK.value else _ROUNDS.value,
        _TIMEOUT.value,
    )
    print(text)
    timing.write_json(common_flags.OUTPUT_JSON.value, rows)


if __name__ == "__main__":
    app.run(main)
