"""The Relation Network and its CNN+MLP baseline in the VQA zoo.

Santoro et al., "A simple neural network module for relational reasoning"
(NeurIPS 2017): `rn` reads the image as a set of objects and answers with
f(Σ_{i,j} g(o_i, o_j, q)) (`mi_zoo.fusion.RelationNetwork`); `cnn_mlp` is
the paper's baseline, the CNN's feature map flattened beside the question
into an MLP. Both are registered in `VQA_MODELS`:

    model = VQA_MODELS.build("rn", spec, size="small")
"""

import keras

from mi_zoo import fusion
from mi_zoo import layers as mi_layers
from mi_zoo.models import encoders
from mi_zoo.models import heads
from mi_zoo.models import vqa


def objects_of(image, spec):
    """The objects of an encoded image, [B, N, d]: the cells of a feature
    map with their coordinates (the pixel stem adds them; a [H, W, C] grid
    or a backbone's map gets them here), or the regions with their boxes,
    or flat grid cells."""
    if spec.image_kind in ("grid", "backbone") and len(image.shape) == 4:
        image = mi_layers.CoordinateChannels(name="object_coordinates")(image)
    return encoders.flatten_positions(image)


@vqa.VQA_MODELS.register(
    "rn",
    sizes={
        "small": {
            "question_units": 128,
            "g_units": 128,
            "g_layers": 3,
            "f_units": 128,
        },
        "paper": {},
    },
)
def build_rn(
    spec,
    question_units=128,
    g_units=256,
    g_layers=4,
    f_units=256,
    f_layers=2,
    question_fusion="concat",
    mi_rank=None,
    dropout=0.5,
    stem_filters=encoders.STEM_FILTERS,
):
    """Relation Network (Santoro et al., NeurIPS 2017).

    Objects: on pixels, the cells of the stem's feature map (4 layers of
    `stem_filters` 3×3 stride-2 convolutions: 5×5 cells at 75 px) with two
    coordinate channels; on regions, the region features with their boxes
    (padding regions masked out of every pair); on grid features, the
    cells (with coordinates when the grid is [H, W, C]). g has `g_layers`
    ReLU layers of `g_units` over all ordered pairs, conditioned on the
    question GRU's state by `question_fusion` ("concat", the paper; "film";
    "mi", the multiplicative interaction, full or of rank `mi_rank`); f has
    `f_layers` ReLU layers of `f_units`, then dropout and the answers. The
    defaults are the paper's (and kimhc6028/relational-networks'):
    g 4 × 256, f 256, 256 with dropout 0.5, stem 4 × 24.
    """
    inputs, (q, _, _), image, mask = vqa._encode(
        spec, question_units, stem_filters=stem_filters
    )
    objects = objects_of(image, spec)  # [B, N, d]
    masks = {} if mask is None else {"mask": mask}
    joint = fusion.RelationNetwork(
        [g_units] * g_layers,
        f_units=[f_units] * f_layers,
        question_fusion=question_fusion,
        mi_rank=mi_rank,
        name="relation_network",
    )(objects, q, **masks)  # [B, f_units]
    logits = heads.answer_logits(joint, spec, dropout=dropout)
    return keras.Model(inputs, logits, name="rn")


@vqa.VQA_MODELS.register(
    "cnn_mlp",
    sizes={"small": {"question_units": 128, "hidden": 128}, "paper": {}},
)
def build_cnn_mlp(
    spec,
    question_units=128,
    hidden=256,
    num_layers=2,
    dropout=0.5,
    stem_filters=encoders.STEM_FILTERS,
):
    """CNN+MLP, the Relation Network paper's baseline: the image features
    (on pixels the stem's map, 4 × `stem_filters`, no coordinates) are
    flattened, concatenated with the question and go through `num_layers`
    ReLU layers of `hidden`, dropout and the answers (as in
    kimhc6028/relational-networks: 256, 256, dropout 0.5)."""
    image_kwargs = (
        {"coordinates": False} if spec.image_kind == "pixels" else {}
    )
    inputs, (q, _, _), image, _ = vqa._encode(
        spec,
        question_units,
        image_kwargs=image_kwargs,
        stem_filters=stem_filters,
    )
    x = keras.layers.Flatten(name="flatten_image")(image)
    x = keras.layers.Concatenate(name="image_and_question")([x, q])
    for i in range(num_layers):
        x = keras.layers.Dense(hidden, activation="relu", name=f"mlp_{i}")(x)
    logits = heads.answer_logits(x, spec, dropout=dropout)
    return keras.Model(inputs, logits, name="cnn_mlp")
