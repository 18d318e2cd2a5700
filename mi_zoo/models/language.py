"""The language-model zoo of the MI paper, built by name for explicit,
stateful truncated backpropagation through time (BPTT).

Jayakumar et al., "Multiplicative Interactions and Where to Find Them", ICLR
2020, compare on word-level language modelling (WikiText-103) a plain LSTM
with "LSTM + MultDec" (the softmax projection is a multiplicative interaction
with a context z) and "LSTM + MultEncDec" (the input embedding too). This
module builds those models, and the MI-LSTM of Wu et al. (2016), as plain
Keras 3 functional models registered in `LM_MODELS`:

- `"lstm"`: the LSTM language model of Zaremba et al. (2014): embedding,
  `num_layers` stacked LSTMs, dropout on the non-recurrent connections, and
  a softmax projection, tied to the embedding or not.
- `"mi_lstm"`: as `"lstm"` with `MultiplicativeIntegrationLSTMCell` layers.
- `"multdec"`: as `"lstm"`, the output projection being
  `MultiplicativeInteraction(vocab_size)(h_t, z)`.
- `"multencdec"`: as `"multdec"`, and the embedded token goes through
  `MultiplicativeInteraction(embedding_size)(e_t, z)` before the LSTMs.

Inputs and outputs
------------------
Every model maps a dict of inputs to `[logits, state]`, where `state` is a
dict with the same keys (and shapes) as the inputs other than "tokens" (Keras
takes tensors, not a mix of NumPy arrays and tensors, in one call):

    inputs = {"tokens": int32 [B, T],
              "h_0": [B, H], "c_0": [B, H], ..., "h_{L-1}", "c_{L-1}",
              "summary": [B, H]}            # multdec, multencdec only
    logits, state = model(inputs)          # logits: float [B, T, V]

with B the batch size, T `sequence_length` (None: any length), H `units`, L
`num_layers` and V `vocab_size`. "h_l" and "c_l" are the hidden and cell
states of LSTM layer l after the last token of the segment; `initial_state`
gives the zeros to start a stream with. A stateful truncated-BPTT loop over
`mi_zoo.data.lm_dataset` batches is then explicit:

    model = build_language_model("multdec", vocab_size, 35)
    state = initial_state(model, batch_size)
    for tokens, targets in dataset:
        with tf.GradientTape() as tape:
            logits, state = model({"tokens": tokens, **state}, training=True)
            loss = keras.losses.sparse_categorical_crossentropy(
                targets, logits, from_logits=True)
        ...  # apply gradients; state is carried as data to the next batch

No Keras `stateful=True` layer is involved: the state is ordinary data, so
the model runs under `tf.distribute` (each replica carries its rows) and its
checkpoint holds only weights.

The context z (multdec, multencdec)
-----------------------------------
For segment s (one call of the model), with h^(L)_t the top LSTM layer's
hidden states (before dropout),

    summary_s = mean_t h^(L)_t over segment s                     [B, H]
    z_s       = tanh(W_c · summary_{s−1})                         [B, m]

with W_c [H, m] the bias-free Dense layer named "context" (m =
`context_size`), and summary_0 = 0 (from `initial_state`), so z = 0 for the
first segment. The input "summary" is summary_{s−1}; the output
state["summary"] is summary_s, for the next segment. z never sees a token
of the current segment, so the logits at position t depend only on the
carried state and the tokens at positions ≤ t: the models are strictly
causal. We carry the summary rather than z itself so that W_c is trained:
z_s is computed inside the call whose loss it affects.

No stop_gradient is applied to the summary (nor to h, c): under truncated
BPTT the state is fed back as data, so no gradient crosses segments anyway;
chaining calls inside one `GradientTape` gives full BPTT through both the
LSTM state and the summary.

The output layer of multdec/multencdec is then, with x_t the (dropped-out,
and for tied embeddings projected) top hidden state,

    logits_t = zᵀ W x_t + zᵀ U + V x_t + b

(`MultiplicativeInteraction` named "output_interaction"; W factorised with
rank r for form="low_rank"). With tied embeddings V is the transposed
embedding matrix. Layer names: "embedding", "input_interaction"
(multencdec), "lstm_0" ... "lstm_{L-1}", "output_projection" (tied, E ≠ H),
"output" / "output_interaction", "context", "next_summary".

Parameter-matched comparisons use `size_to_parameters`, which picks `units`
so that a model has a given number of parameters (`count_parameters`).

Example:

>>> from keras import ops
>>> from mi_zoo.models import language
>>> model = language.build_language_model(
...     "multdec", vocab_size=11, sequence_length=5, units=8, rank=4,
...     context_size=3)
>>> state = language.initial_state(model, batch_size=2)
>>> sorted(state)
['c_0', 'c_1', 'h_0', 'h_1', 'summary']
>>> tokens = ops.ones((2, 5), "int32")
>>> logits, state = model({"tokens": tokens, **state})
>>> tuple(logits.shape), tuple(state["summary"].shape)
((2, 5, 11), (2, 8))

References:
  Jayakumar, Czarnecki, Menick, Schwarz, Rae, Osindero, Teh, Harley and
  Pascanu, "Multiplicative Interactions and Where to Find Them", ICLR 2020.
  Wu, Zhang, Zhang, Bengio and Salakhutdinov, "On Multiplicative Integration
  with Recurrent Neural Networks", NeurIPS 2016.
  Zaremba, Sutskever and Vinyals, "Recurrent Neural Network
  Regularization", arXiv:1409.2329, 2014.
  Press and Wolf, "Using the Output Embedding to Improve Language Models",
  EACL 2017 (tied embeddings).
"""

import dataclasses
import inspect
from typing import Optional

import keras
from keras import ops

from mi_zoo import layers as mi_layers
from mi_zoo.core import registry
from mi_zoo.core import validation

# The tied layers live in mi_zoo.layers.tied_embedding; the names stay here
# too (mi_zoo.models.language.TiedEmbedding) for one release.
from mi_zoo.layers.tied_embedding import TiedEmbedding
from mi_zoo.layers.tied_embedding import TiedOutputInteraction

LM_MODELS = registry.Registry("language model")

# name -> (recurrent cell, MI on the input embedding, MI on the output).
_VARIANTS = {
    "lstm": ("lstm", False, False),
    "mi_lstm": ("mi_lstm", False, False),
    "multdec": ("lstm", False, True),
    "multencdec": ("lstm", True, True),
}
MI_FORMS = ("low_rank", "full")
DEFAULT_RANK = 32


@dataclasses.dataclass(frozen=True)
class LanguageModelConfig:
    """The resolved hyperparameters of a language model (see the builders).

    `embedding_size` is never None here: it defaults to `units`.
    """

    name: str
    vocab_size: int
    units: int
    num_layers: int
    embedding_size: int
    dropout: float
    tie_embeddings: bool
    context_size: Optional[int] = None
    form: Optional[str] = None
    rank: Optional[int] = None

    @property
    def cell(self):
        return _VARIANTS[self.name][0]

    @property
    def input_interaction(self):
        return _VARIANTS[self.name][1]

    @property
    def output_interaction(self):
        return _VARIANTS[self.name][2]

    @property
    def output_size(self):
        """Size of the x fed to the output layer: E when tied, else H."""
        return self.embedding_size if self.tie_embeddings else self.units

    def hyperparameters(self):
        """The keyword arguments that rebuild this model."""
        hp = dataclasses.asdict(self)
        del hp["name"], hp["vocab_size"]
        if not self.output_interaction:
            for key in ("context_size", "form", "rank"):
                del hp[key]
        return hp

    def state_sizes(self):
        """{state key: feature size}, in input order."""
        sizes = {}
        for layer in range(self.num_layers):
            sizes[f"h_{layer}"] = self.units
            sizes[f"c_{layer}"] = self.units
        if self.output_interaction:
            sizes["summary"] = self.units
        return sizes


def _accepted(name):
    """The hyperparameters of the builder registered under `name`."""
    params = inspect.signature(LM_MODELS.get(name)).parameters
    return {
        key: p.default for key, p in params.items() if p.kind == p.KEYWORD_ONLY
    }


def make_config(name, vocab_size, **hyperparameters):
    """Validates the hyperparameters of model `name` and fills defaults.

    Args:
      name: a registered model name (see `LM_MODELS.names()`).
      vocab_size: V.
      **hyperparameters: the builder's keyword arguments.

    Returns:
      A `LanguageModelConfig`.

    Raises:
      ValueError: for an unknown model or hyperparameter, or an invalid
        value; the message names the argument and echoes the value.
    """
    accepted = _accepted(name)
    unknown = sorted(set(hyperparameters) - set(accepted))
    if unknown:
        raise ValueError(
            f"Unknown hyperparameter(s) {unknown} for language model "
            f"{name!r}; accepted: {sorted(accepted)}."
        )
    hp = {**accepted, **hyperparameters}
    validation.check_positive_int("vocab_size", vocab_size)
    validation.check_positive_int("units", hp["units"])
    validation.check_positive_int("num_layers", hp["num_layers"])
    validation.check_positive_int(
        "embedding_size", hp["embedding_size"], allow_none=True
    )
    validation.check_rate("dropout", hp["dropout"])
    if not isinstance(hp["tie_embeddings"], bool):
        raise ValueError(
            "`tie_embeddings` must be a bool, got "
            f"tie_embeddings={hp['tie_embeddings']!r}."
        )
    if hp["embedding_size"] is None:
        hp["embedding_size"] = hp["units"]
    if _VARIANTS[name][2]:
        validation.check_positive_int("context_size", hp["context_size"])
        validation.check_choice("form", hp["form"], MI_FORMS)
        if hp["form"] == "low_rank":
            if hp["rank"] is None:
                hp["rank"] = DEFAULT_RANK
            validation.check_positive_int("rank", hp["rank"])
        elif hp["rank"] is not None:
            raise ValueError(
                "`rank` is only used by form='low_rank', got "
                f"rank={hp['rank']!r} with form={hp['form']!r}."
            )
    return LanguageModelConfig(
        name=name,
        vocab_size=vocab_size,
        dropout=float(hp.pop("dropout")),
        **hp,
    )


def build_language_model(
    name, vocab_size, sequence_length, batch_size=None, **hyperparameters
):
    """Builds the language model registered under `name`.

    Args:
      name: one of `LM_MODELS.names()`: "lstm", "mi_lstm", "multdec",
        "multencdec".
      vocab_size: V, the number of token ids.
      sequence_length: T, tokens per segment (the BPTT length), or None
        for segments of any length.
      batch_size: B, or None for any batch size.
      **hyperparameters: the builder's keyword arguments (units,
        num_layers, embedding_size, dropout, tie_embeddings and, for
        multdec/multencdec, context_size, form, rank).

    Returns:
      A `keras.Model` from {"tokens" [B, T], state...} to [logits [B, T, V],
      state dict] (see the module docstring).

    Raises:
      ValueError: for an unknown model or hyperparameter or an invalid value.
    """
    builder = LM_MODELS.get(name)
    make_config(name, vocab_size, **hyperparameters)  # Checks all up front.
    return builder(vocab_size, sequence_length, batch_size, **hyperparameters)


def _build(config, sequence_length, batch_size):
    """The functional model of a `LanguageModelConfig`."""
    validation.check_positive_int(
        "sequence_length", sequence_length, allow_none=True
    )
    validation.check_positive_int("batch_size", batch_size, allow_none=True)
    c = config
    tokens = keras.Input(
        (sequence_length,), batch_size=batch_size, dtype="int32", name="tokens"
    )
    inputs = {"tokens": tokens}
    for key, size in c.state_sizes().items():
        inputs[key] = keras.Input((size,), batch_size=batch_size, name=key)
    mi_kwargs = {"form": c.form}
    if c.form == "low_rank":
        mi_kwargs["rank"] = c.rank

    z = None
    if c.output_interaction:  # z = tanh(W_c · summary of segment s−1)
        z = keras.layers.Dense(
            c.context_size, use_bias=False, activation="tanh", name="context"
        )(inputs["summary"])  # [B, m]

    if c.tie_embeddings:
        # The MI output layer has its own bias b.
        embedding = TiedEmbedding(
            c.vocab_size,
            c.embedding_size,
            use_bias=not c.output_interaction,
            name="embedding",
        )
    else:
        embedding = keras.layers.Embedding(
            c.vocab_size, c.embedding_size, name="embedding"
        )
    x = embedding(tokens)  # [B, T, E]
    if c.input_interaction:
        x = mi_layers.MultiplicativeInteraction(
            c.embedding_size, name="input_interaction", **mi_kwargs
        )(x, z)
    if c.dropout:
        x = keras.layers.Dropout(c.dropout, name="embedding_dropout")(x)

    state = {}
    for layer in range(c.num_layers):
        name = f"lstm_{layer}"
        if c.cell == "lstm":
            rnn = keras.layers.LSTM(
                c.units, return_sequences=True, return_state=True, name=name
            )
        else:
            rnn = keras.layers.RNN(
                mi_layers.MultiplicativeIntegrationLSTMCell(c.units),
                return_sequences=True,
                return_state=True,
                name=name,
            )
        h_seq, h, cell = rnn(
            x, initial_state=[inputs[f"h_{layer}"], inputs[f"c_{layer}"]]
        )
        state[f"h_{layer}"], state[f"c_{layer}"] = h, cell
        x = h_seq  # [B, T, H]
        if c.dropout:
            x = keras.layers.Dropout(c.dropout, name=f"{name}_dropout")(x)
    if c.output_interaction:
        state["summary"] = keras.layers.GlobalAveragePooling1D(
            name="next_summary"
        )(h_seq)  # [B, H], before dropout

    if c.tie_embeddings and c.embedding_size != c.units:
        x = keras.layers.Dense(
            c.embedding_size, use_bias=False, name="output_projection"
        )(x)  # [B, T, E]
    if c.output_interaction:
        if c.tie_embeddings:
            output = TiedOutputInteraction(
                embedding, c.vocab_size, name="output_interaction", **mi_kwargs
            )
        else:
            output = mi_layers.MultiplicativeInteraction(
                c.vocab_size, name="output_interaction", **mi_kwargs
            )
        logits = output(x, z)
    elif c.tie_embeddings:
        logits = embedding(x, reverse=True)
    else:
        logits = keras.layers.Dense(c.vocab_size, name="output")(x)
    return keras.Model(inputs, [logits, state], name=c.name)


_COMMON_DOC = """
    Args:
      vocab_size: V.
      sequence_length: T, or None for any segment length.
      batch_size: B, or None.
      units: H, the size of every LSTM layer.
      num_layers: L, the number of stacked LSTM layers.
      embedding_size: E; None means E = H.
      dropout: dropout rate on the embeddings, between the layers and
        before the output (Zaremba et al. 2014); active with training=True.
      tie_embeddings: share the [V, E] embedding with the softmax
        projection (x Eᵀ + b); when E ≠ H a bias-free H -> E projection
        ("output_projection") comes first.
"""
_MI_DOC = """      context_size: m, the size of the context z.
      form: form of the MI layer(s), "low_rank" or "full".
      rank: r for form="low_rank" (None: 32); must be None for "full".
"""


def _document(builder, mi=False):
    if builder.__doc__ is None:  # python -OO
        return builder
    builder.__doc__ += (
        "\n"
        + _COMMON_DOC
        + (_MI_DOC if mi else "")
        + """
    Returns:
      A `keras.Model` {"tokens", state...} -> [logits, state] (see the
      module docstring).
    """
    )
    return builder


@LM_MODELS.register("lstm")
def build_lstm(
    vocab_size,
    sequence_length,
    batch_size=None,
    *,
    units=256,
    num_layers=2,
    embedding_size=None,
    dropout=0.0,
    tie_embeddings=False,
):
    """LSTM language model (Zaremba et al. 2014)."""
    config = make_config(
        "lstm",
        vocab_size,
        units=units,
        num_layers=num_layers,
        embedding_size=embedding_size,
        dropout=dropout,
        tie_embeddings=tie_embeddings,
    )
    return _build(config, sequence_length, batch_size)


@LM_MODELS.register("mi_lstm")
def build_mi_lstm(
    vocab_size,
    sequence_length,
    batch_size=None,
    *,
    units=256,
    num_layers=2,
    embedding_size=None,
    dropout=0.0,
    tie_embeddings=False,
):
    """LSTM language model with multiplicative-integration LSTM layers (Wu
    et al. 2016): each gate is α∘(Wx)∘(Uh) + β₁∘(Uh) + β₂∘(Wx) + b."""
    config = make_config(
        "mi_lstm",
        vocab_size,
        units=units,
        num_layers=num_layers,
        embedding_size=embedding_size,
        dropout=dropout,
        tie_embeddings=tie_embeddings,
    )
    return _build(config, sequence_length, batch_size)


@LM_MODELS.register("multdec")
def build_multdec(
    vocab_size,
    sequence_length,
    batch_size=None,
    *,
    units=256,
    num_layers=2,
    embedding_size=None,
    dropout=0.0,
    tie_embeddings=False,
    context_size=32,
    form="low_rank",
    rank=None,
):
    """ "LSTM + MultDec" (Jayakumar et al. 2020): the softmax projection is
    zᵀWx_t + zᵀU + Vx_t + b, z = tanh(W_c · mean of the previous segment's
    top hidden states) (module docstring)."""
    config = make_config(
        "multdec",
        vocab_size,
        units=units,
        num_layers=num_layers,
        embedding_size=embedding_size,
        dropout=dropout,
        tie_embeddings=tie_embeddings,
        context_size=context_size,
        form=form,
        rank=rank,
    )
    return _build(config, sequence_length, batch_size)


@LM_MODELS.register("multencdec")
def build_multencdec(
    vocab_size,
    sequence_length,
    batch_size=None,
    *,
    units=256,
    num_layers=2,
    embedding_size=None,
    dropout=0.0,
    tie_embeddings=False,
    context_size=32,
    form="low_rank",
    rank=None,
):
    """ "LSTM + MultEncDec" (Jayakumar et al. 2020): as multdec, and every
    embedded token e_t is replaced by MultiplicativeInteraction(E)(e_t, z)
    (same form and rank) before the first LSTM."""
    config = make_config(
        "multencdec",
        vocab_size,
        units=units,
        num_layers=num_layers,
        embedding_size=embedding_size,
        dropout=dropout,
        tie_embeddings=tie_embeddings,
        context_size=context_size,
        form=form,
        rank=rank,
    )
    return _build(config, sequence_length, batch_size)


for _builder, _mi in (
    (build_lstm, False),
    (build_mi_lstm, False),
    (build_multdec, True),
    (build_multencdec, True),
):
    _document(_builder, _mi)


def initial_state(model_or_config, batch_size):
    """The zero state that starts every stream.

    Args:
      model_or_config: a model from `build_language_model`, a
        `LanguageModelConfig`, or a dict {"name": model name,
        **hyperparameters} (e.g. `{"name": "lstm", **size_to_parameters(
        "lstm", ...)}`; "vocab_size", "sequence_length" and "batch_size"
        may be present and are ignored).
      batch_size: B (an int or a scalar tensor).

    Returns:
      {state key: zeros [B, size]}: "h_l", "c_l" for every layer and, for
      multdec/multencdec, "summary"; float32 (the model's input dtype when a
      model is given).

    Raises:
      ValueError: for an unsupported `model_or_config`, or an invalid
        `batch_size`.
    """
    if not (hasattr(batch_size, "shape") and not isinstance(batch_size, int)):
        validation.check_positive_int("batch_size", batch_size)
    if isinstance(model_or_config, keras.Model):
        inputs = getattr(model_or_config, "input", None)
        if not isinstance(inputs, dict) or "tokens" not in inputs:
            raise ValueError(
                "initial_state needs a model from build_language_model, got "
                f"model {model_or_config.name!r} with inputs {inputs!r}."
            )
        return {
            key: ops.zeros((batch_size, t.shape[-1]), dtype=t.dtype)
            for key, t in inputs.items()
            if key != "tokens"
        }
    if isinstance(model_or_config, LanguageModelConfig):
        config = model_or_config
    elif isinstance(model_or_config, dict) and "name" in model_or_config:
        hp = dict(model_or_config)
        name = hp.pop("name")
        hp.pop("sequence_length", None)
        hp.pop("batch_size", None)
        config = make_config(name, hp.pop("vocab_size", 1), **hp)
    else:
        raise ValueError(
            "`model_or_config` must be a language model, a "
            "LanguageModelConfig or a dict with a 'name', got "
            f"model_or_config={model_or_config!r}."
        )
    return {
        key: ops.zeros((batch_size, size), dtype="float32")
        for key, size in config.state_sizes().items()
    }


def _mi_parameters(form, rank, m, n, k, with_input_kernel=True):
    """Parameters of MultiplicativeInteraction(k, form, rank) on x [.., n],
    z [.., m]: W (or A, B, P), U, V, b."""
    if form == "full":
        w = m * n * k
    else:
        w = rank * (m + n + k)
    return w + m * k + (n * k if with_input_kernel else 0) + k


def count_parameters(name, vocab_size, **hyperparameters):
    """The exact number of parameters of a model, in closed form.

    Equal to `build_language_model(name, vocab_size, T,
    **hyperparameters).count_params()` for any T (checked by the tests),
    without allocating the weights.

    Args:
      name: a registered model name.
      vocab_size: V.
      **hyperparameters: the builder's keyword arguments.

    Returns:
      The parameter count, an int.
    """
    c = make_config(name, vocab_size, **hyperparameters)
    V, E, H, L = c.vocab_size, c.embedding_size, c.units, c.num_layers
    total = V * E  # embedding
    if c.input_interaction:
        total += _mi_parameters(c.form, c.rank, c.context_size, E, E)
    gate_vectors = 1 if c.cell == "lstm" else 4  # b; or α, β₁, β₂, b
    for layer in range(L):
        d_in = E if layer == 0 else H
        total += 4 * H * (d_in + H + gate_vectors)
    if c.tie_embeddings and E != H:
        total += H * E  # output_projection
    n = c.output_size
    if c.output_interaction:
        total += H * c.context_size  # W_c
        total += _mi_parameters(
            c.form,
            c.rank,
            c.context_size,
            n,
            V,
            with_input_kernel=not c.tie_embeddings,
        )
    elif c.tie_embeddings:
        total += V  # the output bias
    else:
        total += n * V + V
    return total


def size_to_parameters(
    name, target_parameters, vocab_size, sequence_length, **fixed
):
    """Hyperparameters giving model `name` about `target_parameters` weights.

    Binary search over `units` (H) of the exact `count_parameters`, which
    grows with H; the other hyperparameters are `fixed` or their defaults,
    and `embedding_size` follows H (E = H) unless fixed. Comparing models
    sized to one target is the parameter-matched comparison of Jayakumar et
    al. (2020).

    Args:
      name: a registered model name.
      target_parameters: the parameter budget, a positive int.
      vocab_size: V.
      sequence_length: T; validated only (the count does not depend on it).
      **fixed: the other hyperparameters (not `units`).

    Returns:
      The full hyperparameter dict (with "units" and "embedding_size"),
      for `build_language_model(name, vocab_size, sequence_length, **hp)`,
      whose count is the closest to the target (the smaller H on a tie).

    Raises:
      ValueError: for an invalid argument, or `units` among `fixed`.

    >>> hp = size_to_parameters("lstm", 100_000, vocab_size=500,
    ...                         sequence_length=35)
    >>> hp["units"], count_parameters("lstm", 500, **hp)
    (53, 98868)
    """
    validation.check_positive_int("target_parameters", target_parameters)
    validation.check_positive_int(
        "sequence_length", sequence_length, allow_none=True
    )
    if "units" in fixed:
        raise ValueError(
            "size_to_parameters chooses `units`; do not fix it, got "
            f"units={fixed['units']!r}."
        )

    def count(units):
        return count_parameters(name, vocab_size, units=units, **fixed)

    low, high = 1, 1
    while count(high) < target_parameters:
        low, high = high, 2 * high
    while high - low > 1:  # count(low) < target <= count(high), or low=high=1
        middle = (low + high) // 2
        if count(middle) < target_parameters:
            low = middle
        else:
            high = middle
    units = min(
        (low, high), key=lambda u: (abs(count(u) - target_parameters), u)
    )
    return make_config(
        name, vocab_size, units=units, **fixed
    ).hyperparameters()
