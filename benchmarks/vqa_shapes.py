"""Input shapes, model sizes and random batches shared by the VQA
benchmarks (`vqa_throughput`, `reference_comparison`).

SPECS gives the `VqaSpec` of each benchmarked input: the generated datasets'
own specs (Sort-of-CLEVR 75×75 pixels; CLEVR-2D 64×64 pixels or its 10
regions × 21 features) and VQA v2-like bottom-up features (36 regions × 2048,
14 tokens, 3129 answers, a 20,000-word question vocabulary as with GloVe).
"""

import numpy as np

from mi_zoo.core import specs
from mi_zoo.data import clevr_2d
from mi_zoo.data import sort_of_clevr
from mi_zoo.data.clevr_2d import builder as clevr_2d_builder
from mi_zoo.models import objectives

VQA2_VOCAB, VQA2_LENGTH, VQA2_REGIONS, VQA2_FEATURES, VQA2_ANSWERS = (
    20000,
    14,
    36,
    2048,
    3129,
)


def vqa2_spec(
    vocab=VQA2_VOCAB,
    length=VQA2_LENGTH,
    regions=VQA2_REGIONS,
    features=VQA2_FEATURES,
    answers=VQA2_ANSWERS,
):
    return specs.VqaSpec(
        vocab, length, "regions", (regions, features), answers, "sigmoid"
    )


SPECS = {
    "sort_of_clevr": specs.VqaSpec(
        len(sort_of_clevr.VOCAB),
        sort_of_clevr.QUESTION_LENGTH,
        "pixels",
        (75, 75, 3),
        len(sort_of_clevr.ANSWERS),
    ),
    "clevr2d_pixels": specs.VqaSpec(
        len(clevr_2d.VOCAB),
        clevr_2d.QUESTION_LENGTH,
        "pixels",
        (64, 64, 3),
        len(clevr_2d.ANSWERS),
    ),
    "clevr2d_regions": specs.VqaSpec(
        len(clevr_2d.VOCAB),
        clevr_2d.QUESTION_LENGTH,
        "regions",
        (clevr_2d_builder.MAX_REGIONS, clevr_2d_builder.REGION_FEATURES),
        len(clevr_2d.ANSWERS),
    ),
    "vqa2": vqa2_spec(),
}


def random_batch(spec, batch, seed=0):
    """(inputs, targets) of `spec`'s form: questions padded at the end with
    at least 2 real tokens, random images or all-valid region features with
    boxes, answer ids (softmax) or soft scores (sigmoid)."""
    rng = np.random.default_rng(seed)
    length = spec.question_length
    lengths = rng.integers(2, length + 1, batch)
    tokens = rng.integers(1, spec.vocab_size, (batch, length))
    tokens[np.arange(length)[None] >= lengths[:, None]] = 0
    inputs = {
        "question": tokens.astype(np.int32),
        "image": rng.normal(size=(batch,) + spec.image_shape).astype(
            np.float32
        ),
    }
    if spec.image_kind == "regions":
        regions = spec.image_shape[0]
        corner = rng.uniform(0, 0.5, (batch, regions, 2))
        inputs["boxes"] = np.concatenate(
            [corner, corner + rng.uniform(0.1, 0.5, (batch, regions, 2))], -1
        ).astype(np.float32)
    if spec.answer_convention == "softmax":
        targets = rng.integers(0, spec.num_answers, batch).astype(np.int32)
    else:
        # Answer counts: 10 annotators' answers, a few of them in the set.
        targets = np.zeros((batch, spec.num_answers), np.float32)
        for row in targets:
            np.add.at(row, rng.integers(0, spec.num_answers, 10), 1.0)
    return inputs, targets


def trainable_parameters(model):
    """Trainable parameters of a Keras model (MCB's hashes excluded)."""
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


#: The Adam updates a benchmark can time: the trainer's (`make_optimizer`,
#: TensorFlow's fused kernel) and Keras's own (element-wise ops).
ADAMS = ("fused", "keras")


def keras_train_step(
    model,
    spec,
    inputs,
    targets,
    jit=False,
    learning_rate=1e-3,
    adam="fused",
):
    """A training step of `model` on one fixed batch as a `tf.function`:
    forward, the VQA task's loss (`objectives.per_example_loss`, averaged
    over the batch), backward and an Adam update (`adam`: "fused", the
    trainer's `optimization.make_optimizer("adam")`, or "keras",
    `keras.optimizers.Adam`). Logits are cast to float32 for the loss
    (mixed precision)."""
    import keras  # pylint: disable=import-outside-toplevel
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    from mi_zoo.training import (  # pylint: disable=import-outside-toplevel
        optimization,
    )

    if adam not in ADAMS:
        raise ValueError(f"`adam` must be one of {ADAMS}, got adam={adam!r}.")
    inputs = {k: tf.constant(v) for k, v in inputs.items()}
    targets = tf.constant(targets)
    if adam == "keras":
        optimizer = keras.optimizers.Adam(learning_rate)
    else:
        optimizer = optimization.make_optimizer("adam", learning_rate)

    @tf.function(jit_compile=jit)
    def step():
        with tf.GradientTape() as tape:
            logits = tf.cast(model(inputs, training=True), tf.float32)
            loss = tf.reduce_mean(
                objectives.per_example_loss(
                    spec.answer_convention, targets, logits
                )
            )
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return step
