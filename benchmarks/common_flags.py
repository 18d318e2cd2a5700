"""Flags shared by the benchmark scripts (one absl flag registry per
process: each is defined here once, so that the scripts can be imported
together, e.g. by their tests). A flag whose default is None takes the
default of the script that reads it (`value_or`), given in its --help line.
"""

from absl import flags

from benchmarks import precision
from benchmarks import run_flags

# The engine's and the experiments' flags of the same name and meaning are
# shared, not defined again: tests import the benchmarks and the binaries
# into one process.
from mi_zoo.experiments import common_flags as experiment_flags
from mi_zoo.experiments import flags as training_flags  # noqa: F401

#: --output_json, --quick, --repeats, value_or, check_names: in run_flags
#: (no TensorFlow).
OUTPUT_JSON = run_flags.OUTPUT_JSON
QUICK = run_flags.QUICK
REPEATS = run_flags.REPEATS
value_or = run_flags.value_or
check_names = run_flags.check_names
#: --jit_compile (the engine's flag).
JIT_COMPILE = flags.FLAGS["jit_compile"]
#: --batch_size (the engine's flag): B, global for scaling. Default:
#: vqa_throughput 64, reference_comparison 32, scaling 64.
BATCH_SIZE = flags.FLAGS["batch_size"]
#: --train_steps (the engine's flag): steps per run of scaling (default 60).
TRAIN_STEPS = flags.FLAGS["train_steps"]
#: --model, --model_size, --dataset (the experiments' flags), for scaling;
#: --eval_split for time_to_accuracy.
MODEL = experiment_flags.MODEL
MODEL_SIZE = experiment_flags.MODEL_SIZE
DATASET = experiment_flags.DATASET
EVAL_SPLIT = experiment_flags.EVAL_SPLIT
WARMUP = flags.DEFINE_integer(
    "warmup",
    None,
    "Untimed training steps of each model first. Default 2.",
    lower_bound=1,
    upper_bound=100,
)
STEPS_PER_ROUND = flags.DEFINE_integer(
    "steps_per_round",
    None,
    "Training steps per timed round. Default: "
    "vqa_throughput 1, reference_comparison 2.",
    lower_bound=1,
    upper_bound=1000,
)
TIME_GEMMS = flags.DEFINE_bool(
    "time_gemms",
    True,
    "Also time every matrix product of mi_zoo's step alone "
    "(`benchmarks.step_gemms`) and report their sum over PyTorch's step: "
    "the ratio mi_zoo would reach if nothing but its GEMMs took time "
    "(fusion_comparison, reference_comparison).",
)
MODELS = flags.DEFINE_list(
    "models",
    None,
    "VQA models. Default: vqa_throughput every model of "
    "VQA_MODELS, reference_comparison ban,mlb,mcb.",
)
PRECISIONS = flags.DEFINE_list(
    "precisions",
    ["float32"],
    f"Precisions, of {list(precision.PRECISIONS)} (Keras dtype policies; "
    "mixed_bfloat16 is what --mixed_precision gives on a CPU, and a "
    "PyTorch peer runs under CPU autocast to bfloat16): a row each "
    "(vqa_throughput, fusion_comparison).",
)
