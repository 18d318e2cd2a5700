r"""Trains a language model of the MI paper with stateful truncated BPTT.

Character-level tiny Shakespeare (the file `input.txt` of Karpathy's
char-rnn, or the TFDS `tiny_shakespeare` folder), a multdec model sized to
200k parameters:

  python -m mi_zoo.experiments.lm --dataset=tiny_shakespeare \
      --data_dir=/path/to/input.txt --model=multdec \
      --target_parameters=200000 --model_dir=/tmp/lm_multdec
  tensorboard --logdir /tmp/lm_multdec   # bpc, samples as text

Word level (perplexity): --dataset=wikitext2|wikitext103|ptb with
--data_dir pointing at the folder of the official files; --dataset=text
reads any text file. Models: lstm, multdec, multencdec, mi_lstm
(mi_zoo/models/language.py). The validation and test bpc (or perplexity)
are in <model_dir>/results.json; a run started again with the same flags
resumes from its last checkpoint, with the recurrent state it had.
"""

import sys

from absl import app
from absl import flags

from mi_zoo.data.text import corpora as text_corpora
from mi_zoo.experiments import common_flags
from mi_zoo.experiments import flags as training_flags
from mi_zoo.models import language
from mi_zoo.tasks import language_model

# --help lists the engine's flags too (they live in another module), and
# the shared flags this binary reads as SHARED_FLAGS describes them (run()).
flags.adopt_module_key_flags(training_flags)

# Shared with the other binaries (one absl registry per process, see
# common_flags): --dataset (here a corpus of text_corpora.CORPORA),
# --data_dir (its file or folder), --model (default lstm) and
# --model_hparams.

_LEVEL = flags.DEFINE_enum(
    "level",
    None,
    list(text_corpora.LEVELS),
    "char (bits per character) or word (perplexity); default: the "
    "corpus's usual level.",
)
_SEQUENCE_LENGTH = flags.DEFINE_integer(
    "sequence_length", 100, "T: tokens per BPTT window.", lower_bound=1
)
_TARGET_PARAMETERS = flags.DEFINE_integer(
    "target_parameters",
    None,
    "Size the model to about this many parameters (choosing its units), so "
    "that models are compared at equal size.",
    lower_bound=1,
)
_MIN_COUNT = flags.DEFINE_integer(
    "min_count",
    1,
    "Vocabulary: tokens seen fewer times in train are <unk>.",
    lower_bound=1,
)
_MAX_VOCAB = flags.DEFINE_integer(
    "max_vocab",
    None,
    "Vocabulary: keep the most frequent tokens only.",
    lower_bound=2,
)
_SAMPLE_LENGTH = flags.DEFINE_integer(
    "sample_length",
    300,
    "Tokens sampled into TensorBoard text.",
    lower_bound=1,
)
_TEMPERATURE = flags.DEFINE_float(
    "temperature", 0.8, "Softmax temperature of the samples.", lower_bound=1e-3
)

#: This binary's default of the shared --dataset and --model flags.
DATASET, MODEL = "tiny_shakespeare", "lstm"

#: What the shared flags it reads mean here: this binary's --help
#: (common_flags.use; the other shared flags are not read).
SHARED_FLAGS = {
    "dataset": common_flags.Usage(
        f"Corpus: {', '.join(text_corpora.CORPORA)} (text: any text "
        f"file; mi_zoo/data/text/corpora.py).",
        DATASET,
    ),
    "data_dir": common_flags.Usage(
        "The corpus's file or folder (required: corpora are read from "
        "disk), e.g. tiny shakespeare's input.txt or the folder of the "
        "official wikitext/ptb files."
    ),
    "model": common_flags.Usage(
        f"Language model: {', '.join(language.LM_MODELS.names())} "
        f"(mi_zoo/models/language.py).",
        MODEL,
    ),
    "model_hparams": common_flags.Usage(
        "Builder arguments, 'name=value,...' (see the builders in "
        "mi_zoo/models/language.py)."
    ),
}

# Defaults of this binary for the engine's flags.
DEFAULTS = {
    "train_steps": 2000,
    "batch_size": 32,
    "eval_batch_size": 16,
    "learning_rate": 2e-3,
    "clip_norm": 1.0,
    "eval_every": 500,
    "image_every": 500,
    "log_every": 50,
}

#: Where the run keeps its vocabulary (the task writes and checks it).
VOCABULARY_FILE = language_model.VOCABULARY_FILE


def load_corpus() -> text_corpora.Corpus:
    name = common_flags.choice(
        common_flags.DATASET, DATASET, tuple(text_corpora.CORPORA)
    )
    if not common_flags.DATA_DIR.value:
        raise app.UsageError(
            f"--data_dir must name the {name} file or folder (language "
            f"corpora are read from disk; see mi_zoo/data/text/corpora.py)."
        )
    return text_corpora.load_corpus(
        name, common_flags.DATA_DIR.value, _LEVEL.value
    )


def model_hyperparameters(name, vocab_size) -> dict:
    """--model_hparams, then sized to --target_parameters if given."""
    try:
        hp = language.LM_MODELS.parse_hyperparameters(
            name, common_flags.MODEL_HPARAMS.value
        )
        if _TARGET_PARAMETERS.value:
            hp = language.size_to_parameters(
                name,
                _TARGET_PARAMETERS.value,
                vocab_size,
                _SEQUENCE_LENGTH.value,
                **hp,
            )
    except ValueError as e:
        raise app.UsageError(
            f"--model_hparams / --target_parameters: {e}"
        ) from e
    return hp


def make_task() -> language_model.LanguageModelTask:
    corpus = load_corpus()
    model = common_flags.choice(
        common_flags.MODEL, MODEL, language.LM_MODELS.names()
    )
    config = training_flags.train_config()
    task = language_model.LanguageModelTask(
        corpus,
        model,
        sequence_length=_SEQUENCE_LENGTH.value,
        eval_batch_size=config.eval_batch_size or config.batch_size,
        min_count=_MIN_COUNT.value,
        max_vocab=_MAX_VOCAB.value,
        sample_length=_SAMPLE_LENGTH.value,
        temperature=_TEMPERATURE.value,
    )
    task.hyperparameters = model_hyperparameters(model, task.vocab_size)
    return task


def settings(task) -> dict:
    values = training_flags.settings(sys.modules[__name__])
    values.update(
        dataset=task.corpus.name,
        data_dir=common_flags.DATA_DIR.value,
        model=task.model_name,
        model_hparams=common_flags.MODEL_HPARAMS.value,
        vocabulary=task.vocabulary.fingerprint,
        **{f"model/{k}": v for k, v in task.hyperparameters.items()},
    )
    return values


def train_and_report():
    """Trains as the flags say; prints and returns the results."""
    task, results = training_flags.train_task(make_task, settings)
    print(
        f"{task.model_name} on {task.corpus.name} ({task.corpus.level}): "
        f"{results['parameters']:,} parameters, {results['step']} steps"
    )
    for split in ("valid", "test"):
        print(
            f"  {split} {task.unit}: "
            f"{results['eval'][f'{split}/{task.unit}']:.4f}"
        )
    return results


main, run = common_flags.entry_points(train_and_report, DEFAULTS, SHARED_FLAGS)


if __name__ == "__main__":
    run()
