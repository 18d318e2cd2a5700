"""The VQA model zoo: builders registered by name, each returning a plain
`keras.Model` mapping {"question", "image"[, "boxes"]} to answer logits.

    model = VQA_MODELS.build("mlb", spec, size="small")   # spec: a VqaSpec
    model.compile("adam", answer_loss(spec), metrics=answer_metrics(spec))

The attention maps of a model are outputs of its attention layers that the
answer does not consume directly; `attention_model(model)` returns a model
from the same inputs to all of them.
"""

import keras

from mi_zoo import fusion
from mi_zoo import layers as mi_layers
from mi_zoo.core import registry
from mi_zoo.models import encoders
from mi_zoo.models import heads

VQA_MODELS = registry.Registry("VQA model")

#: `build_vqa_model(name, spec, size=None, **hyperparameters)`: the model
#: registered under `name` for a `VqaSpec` (`Registry.build`).
build_vqa_model = VQA_MODELS.build

# Each model is registered with its sizes: "small", a few hundred thousand
# parameters for training on CPUs and the generated datasets, and "paper",
# the builder's defaults (the papers' tens of millions).

# Which outputs of an attention layer are maps: class name -> function of
# the layer giving {output index: (map name, attended axes)}.
ATTENTION_OUTPUTS = {
    # (v̂, α [B, G, S])
    "MLBAttention": lambda layer: {1: ("maps", (-1,))},
    "GlimpseAttention": lambda layer: {1: ("maps", (-1,))},
    # (joint, A [B, G, ρ, φ]): one softmax over all ρ·φ token-region pairs.
    "BilinearAttentionNetwork": lambda layer: {1: ("maps", (-2, -1))},
    # reasoning: (m, α_v [B, K+1, N], α_u [B, K+1, T]); matching: (z_v, z_u,
    # α_v, α_u).
    "DualAttention": lambda layer: (
        {1: ("visual", (-1,)), 2: ("textual", (-1,))}
        if layer.mode == "reasoning"
        else {2: ("visual", (-1,)), 3: ("textual", (-1,))}
    ),
}


def _attention_layers(model):
    """Yields (output name, layer, output index, attended axes)."""
    for layer in model.layers:
        maps = ATTENTION_OUTPUTS.get(type(layer).__name__)
        if maps is not None:
            for index, (name, axes) in maps(layer).items():
                yield f"{layer.name}/{name}", layer, index, axes


def attention_model(model):
    """A model from `model`'s inputs to its attention maps.

    The outputs are named "<layer name>/<map name>", e.g.
    "mlb_attention/maps" ([B, glimpses, S]) or "dual_attention/visual"
    ([B, K+1, N]); `attention_axes(model)` tells over which axes each map is
    a distribution. Works on loaded models too: the maps are found from the
    classes of the model's layers (`ATTENTION_OUTPUTS`).

    Raises:
      ValueError: if the model has no attention layer.
    """
    outputs = {
        name: layer.output[index]
        for name, layer, index, _ in _attention_layers(model)
    }
    if not outputs:
        raise ValueError(f"Model {model.name!r} has no attention maps.")
    return keras.Model(model.inputs, outputs, name=f"{model.name}_attention")


def attention_axes(model):
    """{map name: the axes over which the map sums to one}."""
    return {name: axes for name, _, _, axes in _attention_layers(model)}


def _encode(
    spec,
    question_units,
    cell="gru",
    bidirectional=False,
    image_kwargs=None,
    stem_filters=encoders.STEM_FILTERS,
):
    """Inputs, question encoding and image features [B, S, C] with mask.

    On pixels, the stem has `stem_filters` filters per layer (the RN
    paper's 24 by default), unless `image_kwargs` sets "filters"."""
    inputs = encoders.model_inputs(spec)
    question, words, word_mask = encoders.encode_question(
        inputs["question"],
        spec.vocab_size,
        units=question_units,
        cell=cell,
        bidirectional=bidirectional,
    )
    image_kwargs = dict(image_kwargs or {})
    if spec.image_kind == "pixels":
        image_kwargs.setdefault("filters", stem_filters)
    image, image_mask = encoders.encode_image(inputs, spec, **image_kwargs)
    return inputs, (question, words, word_mask), image, image_mask


@VQA_MODELS.register(
    "concat",
    sizes={"small": {"question_units": 128, "hidden": 256}, "paper": {}},
)
def build_concat(
    spec,
    question_units=256,
    hidden=512,
    dropout=0.0,
    classifier_hidden=256,
    stem_filters=encoders.STEM_FILTERS,
):
    """Additive baseline: each image position x_s is fused with the question
    by ReLU(W[x_s; q] + b) before the (masked) mean over positions, so that
    position (the coordinate channels) survives the pooling; then an MLP
    (a `classifier_hidden` ReLU layer; 0 for none) gives the answers."""
    inputs, (q, _, _), image, mask = _encode(
        spec, question_units, stem_filters=stem_filters
    )
    v = encoders.flatten_positions(image)  # [B, S, C]
    joint = mi_layers.ConcatLinear(hidden, activation="relu", name="fusion")(
        v, q
    )  # [B, S, hidden]
    joint = encoders.masked_mean(joint, mask)  # [B, hidden]
    logits = heads.answer_logits(
        joint, spec, hidden=classifier_hidden, dropout=dropout
    )
    return keras.Model(inputs, logits, name="concat")


@VQA_MODELS.register(
    "mi",
    sizes={
        "small": {"question_units": 128, "hidden": 256, "rank": 32},
        "paper": {},
    },
)
def build_mi(
    spec,
    question_units=256,
    hidden=512,
    form="low_rank",
    rank=64,
    dropout=0.0,
    classifier_hidden=256,
    stem_filters=encoders.STEM_FILTERS,
):
    """MI fusion: each image position x_s is combined with the question q by
    `MultiplicativeInteraction(form)` (a hypernetwork of q applied to every
    position), then ReLU, a (masked) mean over positions and an MLP (a
    `classifier_hidden` ReLU layer; 0 for none). Counting needs that layer:
    a count ("how many objects have the shape of the red one?") is a
    product of two pooled features (the red object's shape, the number of
    each shape), which no linear read-out of the mean can form; without
    it, count accuracy stays at the prior."""
    inputs, (q, _, _), image, mask = _encode(
        spec, question_units, stem_filters=stem_filters
    )
    v = encoders.flatten_positions(image)  # [B, S, C]
    mi_kwargs = {"rank": rank} if form == "low_rank" else {}
    joint = mi_layers.MultiplicativeInteraction(
        hidden, form=form, activation="relu", name="fusion", **mi_kwargs
    )(v, q)  # [B, S, hidden]
    joint = encoders.masked_mean(joint, mask)  # [B, hidden]
    logits = heads.answer_logits(
        joint, spec, hidden=classifier_hidden, dropout=dropout
    )
    return keras.Model(inputs, logits, name="mi")


def film_residual_block(x, question, filters, index):
    """One FiLM'd residual block of Perez et al. (2018), Figure 3:
    coordinates -> 1×1 conv + ReLU -> 3×3 conv -> BN (no affine) -> FiLM
    -> ReLU -> + residual."""
    x = mi_layers.CoordinateChannels(name=f"block{index}_coordinates")(x)
    x = keras.layers.Conv2D(
        filters, 1, activation="relu", name=f"block{index}_conv1x1"
    )(x)
    h = keras.layers.Conv2D(
        filters, 3, padding="same", name=f"block{index}_conv3x3"
    )(x)
    h = keras.layers.BatchNormalization(
        center=False,
        scale=False,
        momentum=encoders.BN_MOMENTUM,
        name=f"block{index}_bn",
    )(h)
    h = mi_layers.FiLM(name=f"block{index}_film")(h, question)
    h = keras.layers.ReLU()(h)
    return keras.layers.Add()([x, h])  # [B, H, W, filters]


@VQA_MODELS.register(
    "film",
    sizes={
        "small": {
            "question_units": 128,
            "filters": 64,
            "classifier_filters": 128,
            "hidden": 256,
            "num_blocks": 3,
        },
        "paper": {},
    },
)
def build_film(
    spec,
    question_units=256,
    num_blocks=4,
    filters=128,
    classifier_filters=512,
    hidden=1024,
    num_stem_layers=4,
    dropout=0.0,
    stem_filters=encoders.STEM_FILTERS,
):
    """FiLM network (Perez et al., AAAI 2018): a GRU generator reads the
    question; every residual block FiLMs its feature map with γ, β that are
    linear in the GRU's final state; the classifier is coordinates -> 1×1
    conv -> global max pool -> MLP.

    Needs a spatial image: raw pixels or [H, W, C] grid features. On
    pixels the stem has `stem_filters` filters per layer (the RN paper's
    24, ≈ 6× fewer convolution FLOPs than 64), projected to `filters`.
    """
    spatial = spec.reads_pixels or (
        spec.image_kind == "grid" and len(spec.image_shape) == 3
    )
    if not spatial:
        raise ValueError(
            "The film model needs a spatial image input (image_kind='pixels'"
            " or 'backbone', or 'grid' with image_shape (H, W, C)), got "
            f"image_kind={spec.image_kind!r} with image_shape="
            f"{spec.image_shape}."
        )
    image_kwargs = (
        {
            "num_layers": num_stem_layers,
            "filters": stem_filters,
            "coordinates": False,
        }
        if spec.image_kind == "pixels"
        else {}
    )
    inputs, (q, _, _), x, _ = _encode(
        spec, question_units, image_kwargs=image_kwargs
    )
    x = keras.layers.Conv2D(
        filters, 1, activation="relu", name="film_input_projection"
    )(x)
    for i in range(num_blocks):
        x = film_residual_block(x, q, filters, i)
    x = mi_layers.CoordinateChannels(name="classifier_coordinates")(x)
    x = keras.layers.Conv2D(
        classifier_filters, 1, activation="relu", name="classifier_conv"
    )(x)
    x = keras.layers.GlobalMaxPooling2D()(x)  # [B, classifier_filters]
    logits = heads.answer_logits(x, spec, hidden=hidden, dropout=dropout)
    return keras.Model(inputs, logits, name="film")


def _stem(spec, stem_layers):
    """Image-encoder arguments: the pixel CNN's depth (each stride-2 layer
    halves the attention grid: 64 px and 3 layers give 8×8)."""
    return {"num_layers": stem_layers} if spec.image_kind == "pixels" else {}


def _attend_mlb(
    spec,
    question_units,
    joint_size,
    glimpses,
    dropout,
    stem_layers,
    stem_filters,
):
    """Question GRU, image positions and MLB attention: returns
    (inputs, q [B, D], attended v̂ [B, G·C])."""
    inputs, (q, _, _), image, mask = _encode(
        spec,
        question_units,
        image_kwargs=_stem(spec, stem_layers),
        stem_filters=stem_filters,
    )
    features = encoders.flatten_positions(image)  # [B, S, C]
    masks = {} if mask is None else {"mask": mask}
    attended, _ = fusion.MLBAttention(
        joint_size, glimpses=glimpses, dropout=dropout, name="mlb_attention"
    )(q, features, **masks)  # [B, G·C], [B, G, S]
    return inputs, q, attended


@VQA_MODELS.register(
    "mlb",
    sizes={"small": {"question_units": 128, "joint_size": 256}, "paper": {}},
)
def build_mlb(
    spec,
    question_units=1024,
    joint_size=1200,
    glimpses=2,
    dropout=0.0,
    stem_layers=4,
    stem_filters=encoders.STEM_FILTERS,
    fusion_activation="tanh",
    normalize=False,
):
    """MLB with attention (Kim et al., ICLR 2017): G MLB attention glimpses
    over the image positions, then the attended features and the question
    are fused by low-rank bilinear pooling,
    tanh(Uᵀq + b_q) ∘ tanh(Vᵀv̂ + b_v), and classified. On pixels,
    `stem_layers` stride-2 convolutions make the attention grid.
    block.bootstrap's MLB options of the answer fusion: `fusion_activation`
    replaces tanh (its `activ_input`, ReLU), `normalize` applies the signed
    square root and L2 normalisation to the joint vector."""
    inputs, q, attended = _attend_mlb(
        spec,
        question_units,
        joint_size,
        glimpses,
        dropout,
        stem_layers,
        stem_filters,
    )
    joint = fusion.LowRankBilinearPooling(
        joint_size,
        dropout=dropout,
        activation=fusion_activation,
        normalize=normalize,
        name="fusion",
    )(q, attended)  # [B, d]
    logits = heads.answer_logits(joint, spec, dropout=dropout)
    return keras.Model(inputs, logits, name="mlb")


@VQA_MODELS.register(
    "marn",
    sizes={
        "small": {
            "question_units": 128,
            "joint_size": 256,
            "units": 256,
            "num_layers": 2,
        },
        "paper": {},
    },
)
def build_marn(
    spec,
    question_units=1024,
    joint_size=1200,
    glimpses=2,
    units=1200,
    num_layers=3,
    dropout=0.0,
    stem_layers=4,
    stem_filters=encoders.STEM_FILTERS,
):
    """Multimodal attention residual network: MLB attention glimpses give
    v̂, then L multimodal residual blocks (Kim et al., NeurIPS 2016)
    H_l = S_l(H_{l−1}) + tanh(W_qᵀH_{l−1}) ∘ tanh(W_2ᵀ tanh(W_1ᵀv̂)) starting
    from H_0 = q. On pixels, `stem_layers` stride-2 convolutions make the
    attention grid."""
    inputs, q, attended = _attend_mlb(
        spec,
        question_units,
        joint_size,
        glimpses,
        dropout,
        stem_layers,
        stem_filters,
    )
    joint = fusion.MultimodalResidual(
        units, num_layers=num_layers, dropout=dropout, name="fusion"
    )(q, attended)  # [B, units]
    logits = heads.answer_logits(joint, spec, dropout=dropout)
    return keras.Model(inputs, logits, name="marn")


def _fusion_attention_model(
    name,
    spec,
    make_fusion,
    question_units,
    glimpses,
    attention_hidden,
    dropout,
    stem_filters,
):
    """The attention VQA model shared by MCB, MFB/MFH, MUTAN, BLOCK and
    block.bootstrap's other fusions (LinearSum, ConcatMLP, Tucker,
    Block-Tucker).

    The question is fused with every image position (make_fusion: a
    two-input fusion layer that broadcasts q over positions), a ReLU layer
    and a linear map give G logits per position, `GlimpseAttention` turns
    them into G maps and attended features v̂ [B, G·C], and a second fusion
    of the same kind joins q and v̂ for the classifier (Fukui et al. 2016,
    Figure 3; Yu et al. 2017; Ben-younes et al. 2017, 2019).
    """
    inputs, (q, _, _), image, mask = _encode(
        spec, question_units, stem_filters=stem_filters
    )
    features = encoders.flatten_positions(image)  # [B, S, C]
    joint = make_fusion("attention_fusion")(q, features)  # [B, S, d]
    if dropout:
        joint = keras.layers.Dropout(dropout)(joint)
    hidden = keras.layers.Dense(
        attention_hidden, activation="relu", name="attention_hidden"
    )(joint)
    logits = keras.layers.Dense(glimpses, name="attention_logits")(
        hidden
    )  # [B,S,G]
    masks = {} if mask is None else {"mask": mask}
    attended, _ = fusion.GlimpseAttention(name="glimpse_attention")(
        logits, features, **masks
    )  # [B, G·C], [B, G, S]
    joint = make_fusion("fusion")(q, attended)  # [B, d]
    logits = heads.answer_logits(joint, spec, dropout=dropout)
    return keras.Model(inputs, logits, name=name)


@VQA_MODELS.register(
    "mcb",
    sizes={
        "small": {
            "question_units": 128,
            "sketch_dim": 1024,
            "attention_hidden": 128,
        },
        "paper": {},
    },
)
def build_mcb(
    spec,
    question_units=1024,
    sketch_dim=16000,
    glimpses=2,
    attention_hidden=512,
    dropout=0.0,
    stem_filters=encoders.STEM_FILTERS,
):
    """MCB with attention (Fukui et al., EMNLP 2016): compact bilinear
    pooling (count sketches multiplied in the frequency domain, signed
    square root, L2 norm) for both the attention and the answer fusion."""
    make = lambda name: fusion.CompactBilinearPooling(sketch_dim, name=name)
    return _fusion_attention_model(
        "mcb",
        spec,
        make,
        question_units,
        glimpses,
        attention_hidden,
        dropout,
        stem_filters,
    )


def _factorized_fusion(
    units, factor, order, input_activation, dropout_input, product_dropout
):
    """name -> the MFB/MFH fusion layer of the mfb and mfh models."""
    return lambda name: fusion.FactorizedBilinearPooling(
        units,
        factor=factor,
        order=order,
        dropout=product_dropout,
        input_activation=input_activation,
        dropout_input=dropout_input,
        name=name,
    )


@VQA_MODELS.register(
    "mfb",
    sizes={
        "small": {
            "question_units": 128,
            "units": 128,
            "factor": 4,
            "attention_hidden": 128,
        },
        "paper": {},
    },
)
def build_mfb(
    spec,
    question_units=1024,
    units=1000,
    factor=5,
    glimpses=2,
    attention_hidden=512,
    dropout=0.0,
    stem_filters=encoders.STEM_FILTERS,
    input_activation=None,
    dropout_input=0.0,
    product_dropout=0.1,
):
    """MFB with image attention (Yu et al., ICCV 2017): factorised bilinear
    pooling (factor k, sum pooling, power and L2 normalisation).
    block.bootstrap's options of both fusions: `input_activation` and
    `dropout_input` on the projections (its `activ_input`, `dropout_input`),
    `product_dropout` on the expanded product (the layer's `dropout`, its
    `dropout_pre_norm`)."""
    make = _factorized_fusion(
        units, factor, 1, input_activation, dropout_input, product_dropout
    )
    return _fusion_attention_model(
        "mfb",
        spec,
        make,
        question_units,
        glimpses,
        attention_hidden,
        dropout,
        stem_filters,
    )


@VQA_MODELS.register(
    "mfh",
    sizes={
        "small": {
            "question_units": 128,
            "units": 128,
            "factor": 4,
            "attention_hidden": 128,
        },
        "paper": {},
    },
)
def build_mfh(
    spec,
    question_units=1024,
    units=1000,
    factor=5,
    order=2,
    glimpses=2,
    attention_hidden=512,
    dropout=0.0,
    stem_filters=encoders.STEM_FILTERS,
    input_activation=None,
    dropout_input=0.0,
    product_dropout=0.1,
):
    """MFH with image attention (Yu et al., TNNLS 2018): `order` cascaded
    MFB stages whose outputs are concatenated; block.bootstrap's options as
    in `build_mfb` (`product_dropout` is its `dropout_pre_lin`)."""
    make = _factorized_fusion(
        units, factor, order, input_activation, dropout_input, product_dropout
    )
    return _fusion_attention_model(
        "mfh",
        spec,
        make,
        question_units,
        glimpses,
        attention_hidden,
        dropout,
        stem_filters,
    )


@VQA_MODELS.register(
    "mutan",
    sizes={
        "small": {
            "question_units": 128,
            "units": 128,
            "rank": 5,
            "mm_dim": 128,
            "attention_hidden": 128,
        },
        "paper": {},
    },
)
def build_mutan(
    spec,
    question_units=1024,
    units=510,
    rank=10,
    mm_dim=360,
    glimpses=2,
    attention_hidden=512,
    dropout=0.0,
    stem_filters=encoders.STEM_FILTERS,
):
    """MUTAN with attention (Ben-younes et al., ICCV 2017): Tucker fusion
    whose core tensor is constrained to rank R."""
    make = lambda name: fusion.Mutan(
        units, rank=rank, mm_dim=mm_dim, name=name
    )
    return _fusion_attention_model(
        "mutan",
        spec,
        make,
        question_units,
        glimpses,
        attention_hidden,
        dropout,
        stem_filters,
    )


@VQA_MODELS.register(
    "block",
    sizes={
        "small": {
            "question_units": 128,
            "units": 128,
            "mm_dim": 256,
            "chunks": 8,
            "rank": 8,
            "attention_hidden": 128,
        },
        "paper": {},
    },
)
def build_block(
    spec,
    question_units=1024,
    units=1000,
    mm_dim=1600,
    chunks=20,
    rank=15,
    glimpses=2,
    attention_hidden=512,
    dropout=0.0,
    stem_filters=encoders.STEM_FILTERS,
):
    """BLOCK with attention (Ben-younes et al., AAAI 2019): block-term
    (block-superdiagonal) fusion with `chunks` blocks of rank R."""
    make = lambda name: fusion.Block(
        units, mm_dim=mm_dim, chunks=chunks, rank=rank, name=name
    )
    return _fusion_attention_model(
        "block",
        spec,
        make,
        question_units,
        glimpses,
        attention_hidden,
        dropout,
        stem_filters,
    )


@VQA_MODELS.register(
    "linear_sum",
    sizes={
        "small": {
            "question_units": 128,
            "units": 128,
            "mm_dim": 128,
            "attention_hidden": 128,
        },
        "paper": {},
    },
)
def build_linear_sum(
    spec,
    question_units=1024,
    units=1000,
    mm_dim=1200,
    glimpses=2,
    attention_hidden=512,
    dropout=0.0,
    stem_filters=encoders.STEM_FILTERS,
):
    """Linear-sum fusion with attention, the additive baseline of
    Ben-younes et al. (AAAI 2019): ReLU(W_xᵀq) + ReLU(W_yᵀv) and a linear
    map (`LinearSum`; d = `mm_dim` as in block.bootstrap's
    options/vqa2/linear_sum.yaml)."""
    make = lambda name: fusion.LinearSum(units, mm_dim=mm_dim, name=name)
    return _fusion_attention_model(
        "linear_sum",
        spec,
        make,
        question_units,
        glimpses,
        attention_hidden,
        dropout,
        stem_filters,
    )


@VQA_MODELS.register(
    "concat_mlp",
    sizes={
        "small": {
            "question_units": 128,
            "units": 128,
            "hidden_units": 128,
            "attention_hidden": 128,
        },
        "paper": {},
    },
)
def build_concat_mlp(
    spec,
    question_units=1024,
    units=1000,
    hidden_units=1600,
    hidden_layers=2,
    glimpses=2,
    attention_hidden=512,
    dropout=0.0,
    stem_filters=encoders.STEM_FILTERS,
):
    """Concatenation fusion with attention, the non-linear baseline of
    Ben-younes et al. (AAAI 2019): an MLP of `hidden_layers` ReLU layers of
    `hidden_units` on [q; v] (`ConcatMLP`; two of 1600 as in
    block.bootstrap's options/vqa2/cat_mlp.yaml)."""
    make = lambda name: fusion.ConcatMLP(
        units, hidden_units=[hidden_units] * hidden_layers, name=name
    )
    return _fusion_attention_model(
        "concat_mlp",
        spec,
        make,
        question_units,
        glimpses,
        attention_hidden,
        dropout,
        stem_filters,
    )


@VQA_MODELS.register(
    "tucker",
    sizes={
        "small": {
            "question_units": 128,
            "units": 128,
            "mm_dim": 32,
            "attention_hidden": 128,
        },
        "paper": {},
    },
)
def build_tucker(
    spec,
    question_units=1024,
    units=1000,
    mm_dim=235,
    glimpses=2,
    attention_hidden=512,
    dropout=0.0,
    stem_filters=encoders.STEM_FILTERS,
):
    """Tucker fusion with attention (Ben-younes et al., ICCV 2017; compared
    in AAAI 2019): a full d×d×d core, no rank constraint (`Tucker`; d = 235
    as in block.bootstrap's options/vqa2/tucker.yaml)."""
    make = lambda name: fusion.Tucker(units, mm_dim=mm_dim, name=name)
    return _fusion_attention_model(
        "tucker",
        spec,
        make,
        question_units,
        glimpses,
        attention_hidden,
        dropout,
        stem_filters,
    )


@VQA_MODELS.register(
    "block_tucker",
    sizes={
        "small": {
            "question_units": 128,
            "units": 128,
            "mm_dim": 128,
            "chunks": 8,
            "attention_hidden": 128,
        },
        "paper": {},
    },
)
def build_block_tucker(
    spec,
    question_units=1024,
    units=1000,
    mm_dim=1800,
    chunks=10,
    glimpses=2,
    attention_hidden=512,
    dropout=0.0,
    stem_filters=encoders.STEM_FILTERS,
):
    """Block-Tucker fusion with attention (Ben-younes et al., AAAI 2019):
    `chunks` blocks with full Tucker cores (`BlockTucker`; d = 1800 in 10
    chunks as in block.bootstrap's options/vqa2/block_tucker.yaml)."""
    make = lambda name: fusion.BlockTucker(
        units, mm_dim=mm_dim, chunks=chunks, name=name
    )
    return _fusion_attention_model(
        "block_tucker",
        spec,
        make,
        question_units,
        glimpses,
        attention_hidden,
        dropout,
        stem_filters,
    )


@VQA_MODELS.register(
    "ban",
    sizes={
        "small": {
            "question_units": 128,
            "glimpses": 2,
            "rank": 384,
            "hidden": 256,
        },
        "paper": {},
    },
)
def build_ban(
    spec,
    question_units=1024,
    glimpses=8,
    rank=3072,
    pool_size=3,
    hidden=2048,
    dropout=0.0,
    stem_filters=encoders.STEM_FILTERS,
    attention_rank=None,
    counter=False,
    weight_norm=False,
):
    """BAN (Kim, Jun, Zhang, NeurIPS 2018): G bilinear attention maps over
    all (token, region) pairs and the residual learning of attention,
    f_{g+1} = BAN_g(f_g, Y; A_g)·1ᵀ + f_g, on the GRU's token features;
    the sum over tokens of f_G goes to a two-layer classifier. Padded tokens
    and zero-padded regions get no attention. The defaults are BAN-8 with
    K = 3·1024 and 3-sum pooling; `attention_rank` (None: `rank`) is the
    rank of the attention logits, which the authors' code makes 3× the
    features' (rank=1280, attention_rank=3840, pool_size=1: the
    ban8_vqa2 recipe). `counter=True` adds the counting module of Zhang et
    al. (ICLR 2018) to each glimpse, from the attention logits and the
    region boxes, as the authors' code does for their VQA 2.0 results; it
    needs region inputs (a spec with image_kind "regions").
    `weight_norm=True` weight-normalises every kernel of the BAN layer and
    of the classifier, W = g·V/‖V‖ with one g per linear map, as the
    authors' code does (`torch.nn.utils.weight_norm(..., dim=None)`)."""
    if counter and spec.image_kind != "regions":
        raise ValueError(
            "`counter=True` counts region boxes and needs a VqaSpec with "
            f"image_kind='regions', got image_kind={spec.image_kind!r}."
        )
    inputs, (_, words, word_mask), image, image_mask = _encode(
        spec, question_units, stem_filters=stem_filters
    )
    regions = encoders.flatten_positions(image)  # [B, φ, C]
    masks = {"x_mask": word_mask}
    if image_mask is not None:
        masks["y_mask"] = image_mask
    if counter:
        masks["boxes"] = inputs["boxes"]
    joint, _ = fusion.BilinearAttentionNetwork(
        glimpses,
        rank,
        attention_rank=attention_rank,
        pool_size=pool_size,
        counter=counter,
        weight_norm=weight_norm,
        name="bilinear_attention",
    )(words, regions, **masks)  # [B, N]
    logits = heads.answer_logits(
        joint, spec, hidden=hidden, dropout=dropout, weight_norm=weight_norm
    )
    return keras.Model(inputs, logits, name="ban")


@VQA_MODELS.register(
    "dan", sizes={"small": {"question_units": 128, "units": 128}, "paper": {}}
)
def build_dan(
    spec,
    question_units=256,
    units=512,
    steps=2,
    hidden=None,
    dropout=0.0,
    stem_filters=encoders.STEM_FILTERS,
):
    """r-DAN (Nam, Ha, Kim, CVPR 2017): a bidirectional LSTM gives the token
    features, and K steps of dual (visual and textual) attention driven by
    the joint memory m(k) = m(k−1) + v(k) ∘ u(k); m(K) is classified."""
    inputs, (_, words, word_mask), image, image_mask = _encode(
        spec,
        question_units,
        cell="lstm",
        bidirectional=True,
        stem_filters=stem_filters,
    )
    regions = encoders.flatten_positions(image)  # [B, N, C]
    masks = {"u_mask": word_mask}
    if image_mask is not None:
        masks["v_mask"] = image_mask
    memory, _, _ = fusion.DualAttention(
        units, steps=steps, mode="reasoning", name="dual_attention"
    )(regions, words, **masks)  # [B, 2·units_q]
    logits = heads.answer_logits(memory, spec, hidden=hidden, dropout=dropout)
    return keras.Model(inputs, logits, name="dan")
