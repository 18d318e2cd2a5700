"""Image–text matching models, registered by name.

A matching model maps {"caption", "image"[, "boxes"]} to the [B, B] matrix of
similarities between every image and every caption of the batch (matching
pairs on the diagonal), trained with `BidirectionalRankingLoss`:

    model = MATCHING_MODELS.build("mdan", spec, size="small")  # MatchingSpec
    model.compile("adam", BidirectionalRankingLoss(margin=0.1))
    model.fit(inputs, np.zeros(len(captions)))    # targets are unused

`embedding_model(model)` gives the image and text embeddings for retrieval,
and `mi_zoo.models.attention_model(model)` the attention weights.
"""

import keras
from keras import ops

from mi_zoo import fusion
from mi_zoo.core import registry
from mi_zoo.models import encoders

MATCHING_MODELS = registry.Registry("matching model")

#: `build_matching_model(name, spec, size=None, **hyperparameters)`: the
#: model registered under `name` for a `MatchingSpec` (`Registry.build`).
build_matching_model = MATCHING_MODELS.build

# Each model is registered with its sizes: "small" for CPUs and "paper",
# the builder's defaults (the paper's sizes).


def embedding_model(model):
    """{"image_embedding", "text_embedding"} of a matching model's inputs."""
    outputs = {
        name: model.get_layer(name).output
        for name in ("image_embedding", "text_embedding")
    }
    return keras.Model(model.inputs, outputs, name=f"{model.name}_embeddings")


def similarity_matrix(image_embedding, text_embedding):
    """S[i, j] = image_i · text_j: [B, D] × [B, D] -> [B, B]."""
    s = ops.matmul(image_embedding, ops.transpose(text_embedding))
    return keras.layers.Identity(name="similarity")(s)


@MATCHING_MODELS.register(
    "mdan",
    sizes={
        "small": {
            "embedding_dim": 64,
            "text_units": 128,
            "attention_units": 128,
            "steps": 2,
        },
        "paper": {},
    },
)
def build_mdan(
    spec, embedding_dim=300, text_units=512, attention_units=512, steps=2
):
    """m-DAN (Nam et al., CVPR 2017): a bidirectional LSTM encodes the caption
    (token features of size text_units), the image gives region or grid
    features, and `DualAttention(mode="matching")` attends to both for
    `steps` steps with separate visual and textual memories; the embeddings
    are the concatenated per-step vectors, so their dot product is the
    paper's similarity Σ_k v(k)·u(k)."""
    caption = keras.Input(
        (spec.caption_length,), dtype="int32", name="caption"
    )
    inputs = {"caption": caption, **encoders.image_inputs(spec)}
    _, words, word_mask = encoders.encode_question(
        caption,
        spec.vocab_size,
        embedding_dim=embedding_dim,
        units=text_units // 2,
        cell="lstm",
        bidirectional=True,
    )
    image, image_mask = encoders.encode_image(inputs, spec)
    regions = encoders.flatten_positions(image)  # [B, N, C]
    masks = {"u_mask": word_mask}
    if image_mask is not None:
        masks["v_mask"] = image_mask
    v_embedding, u_embedding, visual, textual = fusion.DualAttention(
        attention_units, steps=steps, mode="matching", name="dual_attention"
    )(regions, words, **masks)
    v_embedding = keras.layers.Identity(name="image_embedding")(v_embedding)
    u_embedding = keras.layers.Identity(name="text_embedding")(u_embedding)
    del visual, textual  # [B, K+1, N], [B, K+1, T]: see attention_model
    similarity = similarity_matrix(v_embedding, u_embedding)  # [B, B]
    return keras.Model(inputs, similarity, name="mdan")
