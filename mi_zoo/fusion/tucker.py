"""Tucker: bilinear fusion with a full Tucker core (no rank constraint)."""

import keras

from mi_zoo.fusion import _common
from mi_zoo.fusion import block


@keras.saving.register_keras_serializable(package="mi_zoo")
class Tucker(block.BlockTucker):
    """Tucker fusion: the full Tucker decomposition of the bilinear tensor.

    Ben-younes et al., "MUTAN: Multimodal Tucker Fusion for Visual Question
    Answering", ICCV 2017, §3, compared as "Tucker" in "BLOCK: Bilinear
    Superdiagonal Fusion for Visual Question Answering and Visual
    Relationship Detection", AAAI 2019. The interaction tensor is
    τ = ((T ×₁ W_x) ×₂ W_y) ×₃ W_o with a full core T ∈ R^{d×d×d}:

        x̃ = W_xᵀx + b_x,   ỹ = W_yᵀy + b_y                   ∈ R^d
        z[k] = Σ_{i,j} x̃[i]·T[i, j, k]·ỹ[j] + t[k]            ∈ R^d
        out = activation(n(z)ᵀW_o + b_o)                      ∈ R^units

    with n(z) = L2(sign(z)·√|z|) when `normalize`, else z. MUTAN (`Mutan`)
    constrains the slices T[:, :, k] to rank R; BLOCK and Block-Tucker
    (`Block`, `BlockTucker`) make T block-superdiagonal. This layer is
    `BlockTucker` with one chunk.

    block.bootstrap.pytorch's `Tucker` given the same weights: its
    `linear0`, `linear1`, `linear_out` are W_x, W_y, W_o (transposed), and
    its `nn.Bilinear` (weight [k, i, j]) is `core[0]` [i, j, k]
    (weight.permute(1, 2, 0)) with bias `core_bias[0]`; its `normalize` and
    `dropout_input` are `normalize` and `dropout`; its `dropout_pre_lin`,
    `dropout_output` and `shared` (which that code ignores: `linear1` is
    always its own) have no equivalent here. Default: d = 235, the size of
    block's VQA 2.0 configuration options/vqa2/tucker.yaml (whose fusion
    `type` there reads block_tucker); block's own default d = 1600 would
    give the core 1600³ ≈ 4.1e9 weights.

    Weights: `x_kernel` W_x [n, d], `y_kernel` W_y [m, d], `core` T
    [1, d, d, d], `core_bias` t [1, d], `output_kernel` W_o [d, units], and
    the biases `x_bias`, `y_bias` [d], `output_bias` [units].
    `count_params()` = (n + m + 2)·d + (d² + 1)·d + (d + 1)·units (without
    the bias terms if `use_bias=False`).

    Args:
      units: output size (block's `output_dim`).
      mm_dim: d, the size of the projections, of the core and of z.
      normalize: whether to apply signed square root and L2 normalisation
        to z.
      dropout: dropout rate on the projections x̃ and ỹ.
      seed: seed of the dropout (None for a random one).
      use_bias: whether every projection (and the core) has a bias.
      activation: activation of the output.
      kernel_initializer, bias_initializer, kernel_regularizer,
      bias_regularizer, activity_regularizer, kernel_constraint,
      bias_constraint: for all kernels and biases.
      **kwargs: base `keras.layers.Layer` arguments.

    Input shapes:
      x: [B, ..., n] and y: [B, ..., m] with the same leading axes, or one of
      them [B, f] (broadcast over the other's middle axes, e.g. a question
      [B, n] against image regions [B, S, m]).

    Output shape:
      [B, ..., units].

    Example:

    >>> import numpy as np, keras
    >>> from mi_zoo.fusion import Tucker
    >>> question = keras.Input((32,)); image = keras.Input((64,))
    >>> answers = Tucker(10, mm_dim=16)
    >>> keras.Model([question, image], answers(question, image)).predict(
    ...     [np.ones((2, 32)), np.ones((2, 64))], verbose=0).shape
    (2, 10)
    """

    def __init__(
        self,
        units,
        mm_dim=235,
        normalize=False,
        dropout=0.0,
        seed=None,
        use_bias=True,
        activation=None,
        **kwargs,
    ):
        _common.check_bool("normalize", normalize)
        for name in ("chunks", "normalization"):
            if name in kwargs:
                raise ValueError(
                    "Tucker has one chunk and `normalize` (BlockTucker has "
                    f"`chunks` and `normalization`), got "
                    f"{name}={kwargs[name]!r}."
                )
        super().__init__(
            units,
            mm_dim=mm_dim,
            chunks=1,
            normalization="before_concat" if normalize else None,
            dropout=dropout,
            seed=seed,
            use_bias=use_bias,
            activation=activation,
            **kwargs,
        )
        self.normalize = normalize

    def get_config(self):
        config = super().get_config()
        del config["chunks"], config["normalization"]
        config["normalize"] = self.normalize
        return config
