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
"""

import math
from typing import Dict, Mapping, Optional

import keras
import numpy as np
import tensorflow as tf

from mi_zoo.data import lm_dataset
from mi_zoo.data import text_corpora
from mi_zoo.layers import _validation
from mi_zoo.models import language
from mi_zoo.training import task as task_lib


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

    def __init__(self, corpus: text_corpora.Corpus, model: str,
                 sequence_length: int = 100,
                 hyperparameters: Optional[Mapping[str, object]] = None,
                 eval_batch_size: int = 16, min_count: int = 1,
                 max_vocab: Optional[int] = None, sample_length: int = 200,
                 temperature: float = 0.8):
        language.LM_MODELS.get(model)
        _validation.check_positive_int("sequence_length", sequence_length)
        _validation.check_positive_int("eval_batch_size", eval_batch_size)
        _validation.check_positive_int("sample_length", sample_length)
        if not temperature > 0:
            raise ValueError(f"`temperature` must be > 0, got "
                             f"temperature={temperature!r}.")
        self.corpus = corpus
        self.model_name = model
        self.sequence_length = sequence_length
        self.hyperparameters = dict(hyperparameters or {})
        self.eval_batch_size = eval_batch_size
        self.sample_length = sample_length
        self.temperature = temperature
        self.vocabulary = corpus.build_vocabulary(min_count=min_count,
                                                  max_size=max_vocab)
        self.ids = {split: self.vocabulary.encode(tokens)
                    for split, tokens in corpus.splits.items()}
        for split in ("valid", "test"):  # Fail now, naming the sizes.
            lm_dataset.num_batches(len(self.ids[split]), eval_batch_size,
                                   sequence_length, drop_remainder=False)
        self._step_fn = None

    @property
    def vocab_size(self) -> int:
        return len(self.vocabulary)

    @property
    def unit(self) -> str:
        """"bpc" (char level: bits per character) or "perplexity"."""
        return "bpc" if self.corpus.level == "char" else "perplexity"

    # Data, model and state.
    def train_dataset(self, batch_size, seed):
        del seed  # The streams are read in order; there is nothing to shuffle.
        return lm_dataset.lm_dataset(self.ids["train"], batch_size,
                                     self.sequence_length).repeat()

    def build_model(self):
        self._step_fn = None
        return language.build_language_model(
            self.model_name, self.vocab_size, None, **self.hyperparameters)

    def initial_state(self, batch_size):
        return {k: np.asarray(v) for k, v in language.initial_state(
            {"name": self.model_name, **self.hyperparameters},
            batch_size).items()}

    def call_model(self, model, inputs, state, training):
        if state is None:
            state = language.initial_state(model, tf.shape(inputs)[0])
        logits, new_state = model({"tokens": inputs, **state},
                                  training=training)
        return logits, new_state

    # Loss and metrics.
    def per_example_loss(self, targets, outputs, inputs):
        nll = keras.losses.sparse_categorical_crossentropy(
            targets, outputs, from_logits=True)  # [B, T]
        return tf.reduce_mean(nll, axis=-1)  # [B]

    def _from_nll(self, nll):
        if self.unit == "bpc":
            return nll / math.log(2)
        return math.exp(min(nll, 50.0))

    def metric_results(self, metrics):
        return {}

    def hparams(self):
        return {"corpus": self.corpus.name, "level": self.corpus.level,
                "model": self.model_name, "vocab_size": self.vocab_size,
                "sequence_length": self.sequence_length,
                **{f"model/{k}": v for k, v in self.hyperparameters.items()}}

    # Evaluation.
    def _nll_step(self, model):
        if self._step_fn is None:
            @tf.function(reduce_retracing=True)
            def step(tokens, targets, state):
                logits, state = model({"tokens": tokens, **state},
                                      training=False)
                nll = keras.losses.sparse_categorical_crossentropy(
                    targets, tf.cast(logits, tf.float32), from_logits=True)
                return tf.reduce_sum(nll), state
            self._step_fn = step
        return self._step_fn

    def split_nll(self, model, split: str) -> float:
        """Mean per-token negative log-likelihood (nats) of a split, read
        once in order with the state carried across windows."""
        step = self._nll_step(model)
        dataset = lm_dataset.lm_dataset(self.ids[split],
                                        self.eval_batch_size,
                                        self.sequence_length,
                                        drop_remainder=False)
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
    def sample(self, model, length: int, seed: int = 0,
               prompt: Optional[str] = None) -> str:
        """`length` tokens sampled with `temperature`, after a prompt (the
        first tokens of the validation split by default)."""
        rng = np.random.default_rng(seed)
        if prompt is None:
            prompt_ids = self.ids["valid"][:self.sequence_length]
        else:
            prompt_ids = self.vocabulary.encode(text_corpora.tokenize(
                prompt, self.corpus.level, add_eos=False))
        state = language.initial_state(model, 1)
        logits, state = model({"tokens": tf.constant(prompt_ids[None],
                                                     tf.int32), **state},
                              training=False)
        out = []
        for _ in range(length):
            last = np.asarray(logits[0, -1], np.float64) / self.temperature
            p = np.exp(last - last.max())
            token = int(rng.choice(len(p), p=p / p.sum()))
            out.append(token)
            logits, state = model({"tokens": tf.constant([[token]], tf.int32),
                                   **state}, training=False)
        joiner = "" if self.corpus.level == "char" else " "
        return joiner.join(self.vocabulary.decode(out))

    def summary_texts(self, model) -> Dict[str, str]:
        text = self.sample(model, self.sample_length)
        return {"sample": f"temperature {self.temperature}:\n\n    " +
                text.replace("\n", "\n    ")}
