"""The language-modelling task: a model of `LM_MODELS` on a text corpus,
trained with stateful truncated BPTT.

The train stream is cut into B parallel streams read in windows of T tokens
(`lm_dataset`); each replica carries its models' recurrent state (and the
multdec/multencdec context summary) from one window to the next through the
engine's carried state, so the hidden state crosses batches as in Zaremba et
al. (2014). Evaluation reads the validation and test splits once each, in
order, with the state carried across windows, and reports the per-token
negative log-likelihood as bits per character (char level) or perplexity
(word level).

    task = LanguageModelTask(corpus, "multdec", sequence_length=100)
    training.train(task, training.TrainConfig(model_dir=..., batch_size=32))

The SavedModel (`export_serving`, written to saved_model/ at the end of a
run) serves one step of the stream with the state as named tensors:

    served = tf.saved_model.load(path)
    state = served.signatures["initial_state"](batch_size=tf.constant(B))
    out = served.signatures["serving_default"](tokens=tokens, **state)
    logits = out.pop("logits")  # float32 [B, T, V]; out is the new state

("serving_default": int32 tokens [B, T] and every state tensor of
`initial_state`, "h_0", "c_0", ... ["summary"], float32 [B, H], by name;
returns "logits" and the new state under the same names, in the dtypes of
the inputs, so it can be fed back. "initial_state": int32 scalar
"batch_size" -> the zero state.) See docs/language_models.md.
"""

import contextlib
import logging
import math
import os
from typing import Dict
from typing import Mapping
from typing import Optional

import keras
import numpy as np
import tensorflow as tf

from mi_zoo.core import validation
from mi_zoo.data import vocabulary as vocabulary_lib
from mi_zoo.data.text import corpora as text_corpora
from mi_zoo.data.text import lm_dataset
from mi_zoo.models import language
from mi_zoo.training import task as task_lib

VOCABULARY_FILE = "vocabulary.json"


class LanguageModelTask(task_lib.Task):
    """Trains `LM_MODELS[model]` on a `text_corpora.Corpus`.

    Args:
      corpus: the corpus (train/valid/test token lists).
      model: a name of `language.LM_MODELS`.
      sequence_length: T, the BPTT truncation length.
      hyperparameters: builder arguments (e.g. from
        `language.size_to_parameters`).
      eval_batch_size: parallel streams of the evaluation pass.
      min_count, max_vocab: vocabulary of the train split.
      sample_length: tokens sampled for the TensorBoard text summary.
      temperature: softmax temperature of the samples (> 0).
    """

    #: The vocabulary, saved in the run's folder (a resumed run must read
    #: the same one).
    outputs = (VOCABULARY_FILE,)

    def __init__(
        self,
        corpus: text_corpora.Corpus,
        model: str,
        sequence_length: int = 100,
        hyperparameters: Optional[Mapping[str, object]] = None,
        eval_batch_size: int = 16,
        min_count: int = 1,
        max_vocab: Optional[int] = None,
        sample_length: int = 200,
        temperature: float = 0.8,
    ):
        language.LM_MODELS.get(model)
        validation.check_positive_int("sequence_length", sequence_length)
        validation.check_positive_int("eval_batch_size", eval_batch_size)
        validation.check_positive_int("sample_length", sample_length)
        if not temperature > 0:
            raise ValueError(
                f"`temperature` must be > 0, got temperature={temperature!r}."
            )
        self.corpus = corpus
        self.model_name = model
        self.sequence_length = sequence_length
        self.hyperparameters = dict(hyperparameters or {})
        self.eval_batch_size = eval_batch_size
        self.sample_length = sample_length
        self.temperature = temperature
        self.vocabulary = corpus.build_vocabulary(
            min_count=min_count, max_size=max_vocab
        )
        self.ids = {
            split: self.vocabulary.encode(tokens)
            for split, tokens in corpus.splits.items()
        }
        for split in ("valid", "test"):  # Fail now, naming the sizes.
            lm_dataset.num_batches(
                len(self.ids[split]),
                eval_batch_size,
                sequence_length,
                drop_remainder=False,
            )
        self._step_fn = None

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)

    @property
    def unit(self) -> str:
        """ "bpc" (char level: bits per character) or "perplexity"."""
        return "bpc" if self.corpus.level == "char" else "perplexity"

    # Data, model and state.
    def prepare(self, batch_size, eval_batch_size, seed):
        """Train windows of `batch_size` streams (tokens, next tokens),
        read in order (`seed` is unused: there is nothing to shuffle); no
        eval batches: `evaluate` reads the validation and test streams with
        the state carried, `eval_batch_size` of the constructor wide."""
        del eval_batch_size, seed
        train = lm_dataset.lm_dataset(
            self.ids["train"], batch_size, self.sequence_length
        ).repeat()
        return task_lib.TaskData(train=task_lib.named_batches(train))

    def build_model(self):
        self._step_fn = None
        return language.build_language_model(
            self.model_name, self.vocab_size, None, **self.hyperparameters
        )

    def initial_state(self, batch_size):
        return {
            k: np.asarray(v)
            for k, v in language.initial_state(
                {"name": self.model_name, **self.hyperparameters}, batch_size
            ).items()
        }

    def call_model(self, model, inputs, state, training):
        if state is None:
            state = language.initial_state(model, tf.shape(inputs)[0])
        logits, new_state = model(
            {"tokens": inputs, **state}, training=training
        )
        return logits, new_state

    # Serving.
    def check_run_files(self, model_dir: str):
        """Refuses a run folder whose vocabulary.json is another one."""
        path = os.path.join(model_dir, VOCABULARY_FILE)
        if os.path.exists(path):
            vocabulary_lib.Vocabulary.load(path).check_matches(
                self.vocabulary, what=path
            )

    def write_run_files(self, model_dir: str):
        """Saves the vocabulary (what a served model's ids mean)."""
        self.vocabulary.save(os.path.join(model_dir, VOCABULARY_FILE))

    def export_serving(self, model, path: str):
        """Writes a SavedModel with two signatures of named tensors:

        - "serving_default": inputs "tokens" (int32 [B, T], any B and T)
          and every state tensor of `initial_state` by its key ("h_l",
          "c_l" for each layer l, and "summary" for multdec/multencdec;
          float32 [B, H]); outputs "logits" (float32 [B, T, V]) and the
          new state under the same keys and dtypes as the state inputs,
          to feed back with the next window (inference: no dropout).
        - "initial_state": input "batch_size" (int32 scalar); outputs the
          zero state {key: [batch_size, H]} that starts a stream.

        The loaded object also has them as the functions
        `serving_default(inputs)` (inputs: one dict of the tensors above)
        and `initial_state(batch_size)`.
        """
        inputs = model.input
        if not isinstance(inputs, dict) or "tokens" not in inputs:
            raise ValueError(
                "export_serving needs a model from build_language_model, "
                f"got model {model.name!r} with inputs {inputs!r}."
            )
        state_specs = {
            key: tf.TensorSpec(
                (None, tensor.shape[-1]), tf.as_dtype(tensor.dtype), name=key
            )
            for key, tensor in inputs.items()
            if key != "tokens"
        }
        step_spec = {
            "tokens": tf.TensorSpec((None, None), tf.int32, name="tokens"),
            **state_specs,
        }

        def serve(step_inputs):
            logits, new_state = model(step_inputs, training=False)
            outputs = {"logits": tf.cast(logits, tf.float32)}
            for key, spec in state_specs.items():
                outputs[key] = tf.cast(new_state[key], spec.dtype)
            return outputs

        def zero_state(batch_size):
            return {
                key: tf.zeros(
                    tf.stack([batch_size, spec.shape[-1]]), spec.dtype
                )
                for key, spec in state_specs.items()
            }

        with _quiet_info_logs():  # No "Assets written to ..." lines.
            archive = keras.export.ExportArchive()
            archive.track(model)
            archive.add_endpoint(
                "serving_default", serve, input_signature=[step_spec]
            )
            archive.add_endpoint(
                "initial_state",
                zero_state,
                input_signature=[
                    tf.TensorSpec((), tf.int32, name="batch_size")
                ],
            )
            archive.write_out(path, verbose=False)

    # Loss and metrics.
    def per_example_loss(self, targets, outputs, inputs):
        nll = keras.losses.sparse_categorical_crossentropy(
            targets, outputs, from_logits=True
        )  # [B, T]
        return tf.reduce_mean(nll, axis=-1)  # [B]

    def _from_nll(self, nll):
        if self.unit == "bpc":
            return nll / math.log(2)
        return math.exp(min(nll, 50.0))

    def metric_results(self, metrics):
        return {}

    def hparams(self):
        return {
            "corpus": self.corpus.name,
            "level": self.corpus.level,
            "model": self.model_name,
            "vocab_size": self.vocab_size,
            "sequence_length": self.sequence_length,
            **{f"model/{k}": v for k, v in self.hyperparameters.items()},
        }

    # Evaluation.
    def _nll_step(self, model):
        if self._step_fn is None:

            @tf.function(reduce_retracing=True)
            def step(tokens, targets, state):
                logits, state = model(
                    {"tokens": tokens, **state}, training=False
                )
                nll = keras.losses.sparse_categorical_crossentropy(
                    targets, tf.cast(logits, tf.float32), from_logits=True
                )
                return tf.reduce_sum(nll), state

            self._step_fn = step
        return self._step_fn

    def split_nll(self, model, split: str) -> float:
        """Mean per-token negative log-likelihood (nats) of a split, read
        once in order with the state carried across windows."""
        step = self._nll_step(model)
        dataset = lm_dataset.lm_dataset(
            self.ids[split],
            self.eval_batch_size,
            self.sequence_length,
            drop_remainder=False,
        )
        state = language.initial_state(model, self.eval_batch_size)
        total, count = 0.0, 0
        for tokens, targets in dataset:
            nll, state = step(tokens, targets, state)
            total += float(nll)
            count += int(tf.size(targets))
        return total / count

    def evaluate(self, model, batch_size):
        del batch_size  # The streams are fixed by eval_batch_size.
        results = {}
        for split in ("valid", "test"):
            nll = self.split_nll(model, split)
            results[f"{split}/nll"] = nll
            results[f"{split}/{self.unit}"] = self._from_nll(nll)
        results["loss"] = results["valid/nll"]
        return results

    # Samples.
    def sample(
        self, model, length: int, seed: int = 0, prompt: Optional[str] = None
    ) -> str:
        """`length` tokens sampled with `temperature`, after a prompt (the
        first tokens of the validation split by default)."""
        rng = np.random.default_rng(seed)
        if prompt is None:
            prompt_ids = self.ids["valid"][: self.sequence_length]
        else:
            prompt_ids = self.vocabulary.encode(
                text_corpora.tokenize(prompt, self.corpus.level, add_eos=False)
            )
        state = language.initial_state(model, 1)
        logits, state = model(
            {"tokens": tf.constant(prompt_ids[None], tf.int32), **state},
            training=False,
        )
        out = []
        for _ in range(length):
            last = np.asarray(logits[0, -1], np.float64) / self.temperature
            p = np.exp(last - last.max())
            token = int(rng.choice(len(p), p=p / p.sum()))
            out.append(token)
            logits, state = model(
                {"tokens": tf.constant([[token]], tf.int32), **state},
                training=False,
            )
        joiner = "" if self.corpus.level == "char" else " "
        return joiner.join(self.vocabulary.decode(out))

    def summary_texts(self, model) -> Dict[str, str]:
        text = self.sample(model, self.sample_length)
        return {
            "sample": f"temperature {self.temperature}:\n\n    "
            + text.replace("\n", "\n    ")
        }


@contextlib.contextmanager
def _quiet_info_logs():
    """Drops the INFO lines of the TF and absl Python loggers (the SavedModel
    writer's "Assets written to", "Writing fingerprint", ...) inside the
    block; warnings still show. A filter, not a level: TF resets absl's
    verbosity while it saves."""

    def keep(record):
        return record.levelno >= logging.WARNING

    loggers = [tf.get_logger(), logging.getLogger("absl")]
    for logger in loggers:
        logger.addFilter(keep)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(keep)
