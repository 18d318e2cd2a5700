"""Dual attention networks (DAN): r-DAN for reasoning, m-DAN for matching."""

import keras
from keras import ops

from mi_zoo.core import validation
from mi_zoo.fusion import _common
from mi_zoo.layers import base
from mi_zoo.layers import ops as layer_ops

MODES = ("reasoning", "matching")


@keras.saving.register_keras_serializable(package="mi_zoo")
class DualAttention(_common.ConsumesMasks, base.WeightedLayer):
    """K steps of visual and textual attention steered by memory vectors.

    For region (or grid cell) features v_1, ..., v_N ∈ R^{C_v} and token
    features u_1, ..., u_T ∈ R^{C_u} (Nam, Ha, Kim, "Dual Attention Networks
    for Multimodal Reasoning and Matching", CVPR 2017), step 0 averages

        v(0) = tanh(P(0) (1/N) Σ_n v_n + p(0)),   u(0) = (1/T) Σ_t u_t

    and step k = 1, ..., K attends to both modalities, guided by a memory
    of the previous steps (m_v(k−1) for vision, m_u(k−1) for text):

        h_v,n(k) = tanh(W_v(k)v_n + b_v(k)) ∘ tanh(W_v,m(k)m_v(k−1) + b_v,m(k))
        α_v,n(k) = softmax_n(w_v,h(k)ᵀ h_v,n(k))
        v(k) = tanh(P(k) Σ_n α_v,n(k) v_n + p(k))
        h_u,t(k) = tanh(W_u(k)u_t + b_u(k)) ∘ tanh(W_u,m(k)m_u(k−1) + b_u,m(k))
        α_u,t(k) = softmax_t(w_u,h(k)ᵀ h_u,t(k))
        u(k) = Σ_t α_u,t(k) u_t

    P(k) projects the visual vector to the text's size, so every v(k), u(k)
    and memory has d = C_u features. The two modes differ in the memory:

    - `"reasoning"` (r-DAN, for VQA): one joint memory,
      m(0) = v(0) ∘ u(0), m(k) = m(k−1) + v(k) ∘ u(k), and
      m_v(k−1) = m_u(k−1) = m(k−1). The output is m(K).
    - `"matching"` (m-DAN, for image-text matching): separate memories,
      m_v(0) = v(0), m_v(k) = m_v(k−1) + v(k), m_u(0) = u(0),
      m_u(k) = m_u(k−1) + u(k). The outputs are the embeddings
      z_v = [v(0); ...; v(K)], z_u = [u(0); ...; u(K)], whose dot product
      is the paper's similarity S = Σ_{k=0}^{K} v(k)·u(k).

    Every step has its own weights (superscript (k) in the paper). The
    biases b, p are not written in the paper's equations; `use_bias=False`
    removes them. The score vector w_h has none, as a bias would cancel in
    the softmax.

    Masks: with `v_mask` / `u_mask` the step-0 averages run over the valid
    positions only and padded positions get exactly zero attention. An
    example whose regions (tokens) are all masked has all-zero weights, so
    its attended vector before P is zero: v(k) = tanh(p(k)), u(k) = 0.

    Args:
      units: size of the attention's hidden states h_v,n(k), h_u,t(k) (512
        in the paper).
      steps: number K of attention steps (2 in the paper).
      mode: `"reasoning"` (r-DAN) or `"matching"` (m-DAN).
      use_bias: whether the linear maps have biases.
      kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: for every W, w, P (kernels) and b, p (biases).
      **kwargs: base `keras.layers.Layer` arguments.

    Call arguments:
      v: [B, N, C_v] region features (reshape a grid to [B, H·W, C_v]).
      u: [B, T, C_u] token features.
      v_mask: optional boolean [B, N], True for valid regions.
      u_mask: optional boolean [B, T], True for valid tokens.
      A mask left out defaults to its input's Keras mask (e.g. from
      `Embedding(mask_zero=True)`); pass masks as tensors or keywords,
      never None positionally (Keras then fills the argument twice).

    Outputs:
      `"reasoning"`: (memory m(K) [B, C_u], visual_attention [B, K+1, N],
      textual_attention [B, K+1, T]).
      `"matching"`: (v_embedding [B, (K+1)·C_u], u_embedding
      [B, (K+1)·C_u], visual_attention [B, K+1, N],
      textual_attention [B, K+1, T]).
      Index 0 of the attention weights is step 0's average (1/N on valid
      regions, 1/T on valid tokens) and index k ≥ 1 is α(k), so that
      v(k) = tanh(P(k) Σ_n α_v,n(k) v_n + p(k)) and u(k) = Σ_t α_u,t(k) u_t
      for every k = 0, ..., K.

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.fusion import DualAttention
    >>> regions = keras.Input((6, 32)); tokens = keras.Input((5, 16))
    >>> memory, _, _ = DualAttention(units=8, steps=2)(regions, tokens)
    >>> keras.Model([regions, tokens], memory).predict(
    ...     [np.ones((3, 6, 32)), np.ones((3, 5, 16))], verbose=0).shape
    (3, 16)
    """

    def __init__(
        self,
        units,
        steps=2,
        mode="reasoning",
        use_bias=True,
        **kwargs,
    ):
        if "activation" in kwargs:
            raise ValueError(
                "DualAttention uses the paper's tanh and takes no "
                f"`activation`, got activation={kwargs['activation']!r}."
            )
        super().__init__(
            use_bias=use_bias,
            **kwargs,
        )
        validation.check_positive_int("units", units)
        validation.check_positive_int("steps", steps)
        validation.check_choice("mode", mode, MODES)
        self.units = units
        self.steps = steps
        self.mode = mode

    def _sizes(self, v_shape, u_shape):
        return _common.check_set_shapes(
            f"DualAttention(mode={self.mode!r})", "v", v_shape, "u", u_shape
        )

    def build(self, v_shape, u_shape):
        cv, cu = self._sizes(v_shape, u_shape)
        s, h, d = self.steps, self.units, cu
        kernel, bias = self.add_kernel, self.add_bias
        self.visual_projection_kernel = kernel(  # P(0), ..., P(K)
            "visual_projection_kernel", (s + 1, cv, d)
        )
        self.visual_projection_bias = bias(
            "visual_projection_bias", (s + 1, d)
        )
        self.visual_kernel = kernel("visual_kernel", (s, cv, h))  # W_v(k)
        self.visual_bias = bias("visual_bias", (s, h))
        self.visual_memory_kernel = kernel(  # W_v,m(k)
            "visual_memory_kernel", (s, d, h)
        )
        self.visual_memory_bias = bias("visual_memory_bias", (s, h))
        self.visual_score_kernel = kernel(  # w_v,h(k)
            "visual_score_kernel", (s, h)
        )
        self.textual_kernel = kernel("textual_kernel", (s, cu, h))  # W_u(k)
        self.textual_bias = bias("textual_bias", (s, h))
        self.textual_memory_kernel = kernel(  # W_u,m(k)
            "textual_memory_kernel", (s, d, h)
        )
        self.textual_memory_bias = bias("textual_memory_bias", (s, h))
        self.textual_score_kernel = kernel(  # w_u,h(k)
            "textual_score_kernel", (s, h)
        )

    def _keys(self, t, kernel, bias):
        """tanh(W(k) t_n + b(k)) for every step k: [B, S, K, h]."""
        c = t.shape[-1]
        s, h = self.steps, self.units
        w = ops.reshape(ops.transpose(kernel, (1, 0, 2)), (c, s * h))
        keys = layer_ops.matmul_last(t, w)  # [B, S, K·h]
        keys = ops.reshape(keys, tuple(ops.shape(t)[:2]) + (s, h))
        if bias is not None:
            keys = keys + bias
        return ops.tanh(keys)

    def _attend(
        self, t, keys, memory, memory_kernel, memory_bias, score_kernel, mask
    ):
        """One attention step: returns (weights [B, S], Σ_s α_s t_s)."""
        query = ops.tanh(_common.linear(memory, memory_kernel, memory_bias))
        hidden = keys * ops.expand_dims(query, 1)  # [B, S, h]
        scores = ops.squeeze(
            ops.matmul(hidden, ops.expand_dims(score_kernel, -1)), -1
        )
        weights = _common.masked_softmax(scores, mask)  # [B, S]
        return weights, _weighted_sum(weights, t)  # [B, S], [B, C]

    def _project(self, step, attended):
        return ops.tanh(
            _common.linear(
                attended,
                self.visual_projection_kernel[step],
                _common.row(self.visual_projection_bias, step),
            )
        )

    def call(self, v, u, v_mask=None, u_mask=None):
        # v: [B, N, C_v]; u: [B, T, C_u]; v_mask: [B, N]; u_mask: [B, T].
        name = f"DualAttention(mode={self.mode!r})"
        v_mask = _common.check_mask(name, "v_mask", v_mask, "v", v)
        u_mask = _common.check_mask(name, "u_mask", u_mask, "u", u)
        v_avg = _uniform_weights(v, v_mask)  # [B, N]
        u_avg = _uniform_weights(u, u_mask)  # [B, T]
        v_k = self._project(0, _weighted_sum(v_avg, v))  # v(0): [B, d]
        u_k = _weighted_sum(u_avg, u)  # u(0): [B, d]
        v_weights, u_weights = [v_avg], [u_avg]
        v_parts, u_parts = [v_k], [u_k]
        if self.mode == "reasoning":
            memory = v_k * u_k  # m(0): [B, d]
        else:
            v_memory, u_memory = v_k, u_k  # m_v(0), m_u(0): [B, d]
        v_keys = self._keys(v, self.visual_kernel, self.visual_bias)
        u_keys = self._keys(u, self.textual_kernel, self.textual_bias)
        for k in range(self.steps):  # step k + 1
            if self.mode == "reasoning":
                v_memory = u_memory = memory
            alpha_v, v_att = self._attend(
                v,
                v_keys[:, :, k],
                v_memory,
                self.visual_memory_kernel[k],
                _common.row(self.visual_memory_bias, k),
                self.visual_score_kernel[k],
                v_mask,
            )  # [B, N], [B, C_v]
            alpha_u, u_k = self._attend(
                u,
                u_keys[:, :, k],
                u_memory,
                self.textual_memory_kernel[k],
                _common.row(self.textual_memory_bias, k),
                self.textual_score_kernel[k],
                u_mask,
            )  # [B, T], [B, d]
            v_k = self._project(k + 1, v_att)  # v(k): [B, d]
            v_weights.append(alpha_v)
            u_weights.append(alpha_u)
            v_parts.append(v_k)
            u_parts.append(u_k)
            if self.mode == "reasoning":
                memory = memory + v_k * u_k  # m(k)
            else:
                v_memory = v_memory + v_k  # m_v(k)
                u_memory = u_memory + u_k  # m_u(k)
        v_weights = ops.stack(v_weights, axis=1)  # [B, K+1, N]
        u_weights = ops.stack(u_weights, axis=1)  # [B, K+1, T]
        if self.mode == "reasoning":
            return memory, v_weights, u_weights
        v_embedding = ops.concatenate(v_parts, axis=-1)  # [B, (K+1)·d]
        u_embedding = ops.concatenate(u_parts, axis=-1)  # [B, (K+1)·d]
        return v_embedding, u_embedding, v_weights, u_weights

    def compute_output_shape(self, v_shape, u_shape):
        _, d = self._sizes(v_shape, u_shape)
        batch = _common.merge(v_shape[0], u_shape[0])
        v_weights = (batch, self.steps + 1, v_shape[1])
        u_weights = (batch, self.steps + 1, u_shape[1])
        if self.mode == "reasoning":
            return (batch, d), v_weights, u_weights
        embedding = (batch, (self.steps + 1) * d)
        return embedding, embedding, v_weights, u_weights

    def get_config(self):
        config = super().get_config()
        config.pop("activation")
        return _common.config_with(config, self, ("units", "steps", "mode"))


def _uniform_weights(t, mask):
    """1/S on the S valid positions of t [B, S, C] (zeros if none): [B, S]."""
    ones = ops.ones_like(t[:, :, 0])  # [B, S]
    if mask is not None:
        ones = ones * ops.cast(mask, t.dtype)
    count = ops.sum(ones, axis=1, keepdims=True)
    return ones / ops.maximum(count, ops.ones_like(count))


def _weighted_sum(weights, t):
    """Σ_s weights_s t_s: [B, S] x [B, S, C] -> [B, C]."""
    return ops.squeeze(ops.matmul(ops.expand_dims(weights, 1), t), 1)
