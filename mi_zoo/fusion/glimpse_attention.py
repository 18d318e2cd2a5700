"""Glimpse attention: softmax maps from given logits, and attended features."""

import keras
from keras import ops

from mi_zoo.fusion import _common


@keras.saving.register_keras_serializable(package="mi_zoo")
class GlimpseAttention(_common.ConsumesMasks, keras.layers.Layer):
    """Turns per-position logits into G attention maps and attends features.

        α_g = softmax_s(logits[:, s, g]),   v̂ = ‖_g Σ_s α_{g,s} F_s

    The attention read-out shared by the attention models whose logits come
    from a fusion of the question with every position (MCB attention, Fukui
    et al. 2016; MFB/MFH co-attention, Yu et al. 2017/2018; MUTAN and BLOCK
    attention, Ben-younes et al. 2017/2019): fuse, a small MLP to G logits,
    then this layer. Masked positions get exactly zero attention; a fully
    masked example gets α = 0 and v̂ = 0. The softmax runs in float32 under
    mixed precision. No weights.

    Call arguments:
      logits: [B, S, G] or [B, H, W, G].
      features: [B, S, C] or [B, H, W, C], the same positions.
      mask: optional boolean [B, S] / [B, H, W], True at valid positions.

    Output shapes:
      (v̂ [B, G·C], α [B, G, S] or [B, G, H, W]).

    Example:

    >>> import numpy as np
    >>> from mi_zoo.fusion import GlimpseAttention
    >>> logits = np.zeros((1, 4, 2), "float32")   # uniform maps
    >>> features = np.arange(8, dtype="float32").reshape(1, 4, 2)
    >>> attended, alpha = GlimpseAttention()(logits, features)
    >>> np.asarray(attended).tolist(), np.asarray(alpha)[0, 0].tolist()
    ([[3.0, 4.0, 3.0, 4.0]], [0.25, 0.25, 0.25, 0.25])
    """

    def build(self, logits_shape, features_shape):
        self._check(logits_shape, features_shape)

    @staticmethod
    def _check(logits_shape, features_shape):
        logits_shape, features_shape = (
            tuple(logits_shape),
            tuple(features_shape),
        )
        if (
            len(logits_shape) < 3
            or len(logits_shape) != len(features_shape)
            or not all(
                _common.compatible(a, b)
                for a, b in zip(logits_shape[:-1], features_shape[:-1])
            )
        ):
            raise ValueError(
                f"GlimpseAttention: logits has shape {logits_shape} and "
                f"features has shape {features_shape}; both must be "
                "[batch, positions..., channels] over the same positions."
            )
        if logits_shape[-1] is None or features_shape[-1] is None:
            raise ValueError(
                f"GlimpseAttention: logits has shape {logits_shape} and "
                f"features has shape {features_shape}; the last axes must be "
                "known."
            )
        return logits_shape[-1], features_shape[-1]

    def call(self, logits, features, mask=None):
        # logits: [B, ..., G]; features: [B, ..., C]; mask: [B, ...].
        glimpses, c = logits.shape[-1], features.shape[-1]
        flat, batch, spatial = _common.flatten_positions(features)  # [B,S,C]
        logits = ops.transpose(
            ops.reshape(logits, (batch, -1, glimpses)), (0, 2, 1)
        )  # [B, G, S]
        alpha, attended = _common.attend(logits, flat, mask)  # [B, G, S|C]
        attended = ops.reshape(attended, (batch, glimpses * c))  # [B, G·C]
        return attended, ops.reshape(alpha, (batch, glimpses) + spatial)

    def compute_output_shape(self, logits_shape, features_shape):
        glimpses, c = self._check(logits_shape, features_shape)
        batch = tuple(features_shape)[0]
        return (
            (batch, glimpses * c),
            (batch, glimpses) + tuple(features_shape)[1:-1],
        )
