"""Every registered VQA model trains under the "mixed_bfloat16" policy
(the trainer's --mixed_precision on a CPU): its variables stay float32,
every matmul, einsum and convolution of its training step (forward and
backward, while-loop bodies included) computes in bfloat16, and one step
gives a finite loss and finite float32 weights.

The speed this buys is measured in docs/benchmarks.md
(`python -m benchmarks.vqa_throughput --precisions=float32,mixed_bfloat16`).
"""

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import pytest
import tensorflow as tf

from mi_zoo import models
from mi_zoo.models import objectives
from mi_zoo.training import optimization
from tests.models import vqa_test

SPECS = (
    models.VqaSpec(30, 6, "pixels", (32, 32, 3), 5),
    models.VqaSpec(30, 6, "regions", (5, 24), 5, "sigmoid"),
)
#: The ops whose dtype the test checks: the step's big contractions.
#: Checked in the default run: a recurrent question encoder with region
#: attention, and a convolutional FiLM network; the others are slow tests
#: (each model's step takes 5-30 s to trace on the shared CPU).
DEFAULT_RUN = ("mlb", "film")
CONTRACTIONS = frozenset(
    {
        "MatMul",
        "BatchMatMulV2",
        "BatchMatMulV3",
        "Einsum",
        "Conv2D",
        "Conv2DBackpropInput",
        "Conv2DBackpropFilter",
        "DepthwiseConv2dNative",
    }
)


def contraction_dtypes(graph, found=None):
    """{(op type, op name): dtype} of every contraction in `graph` and the
    functions it calls (while-loop bodies of recurrent layers)."""
    found = {} if found is None else found
    for op in graph.get_operations():
        if op.type in CONTRACTIONS:
            found[(op.type, op.name)] = op.get_attr("T").name
    for function in graph._functions.values():  # pylint: disable=protected-access
        contraction_dtypes(function.graph, found)
    return found


def batch(spec, size=4):
    rng = np.random.default_rng(0)
    question = rng.integers(1, spec.vocab_size, (size, spec.question_length))
    question[:, 4:] = 0
    inputs = {
        "question": question.astype("int32"),
        "image": rng.normal(size=(size,) + spec.image_shape).astype("float32"),
    }
    if spec.image_kind == "regions":
        corner = rng.uniform(0, 0.5, (size, spec.image_shape[0], 2))
        inputs["boxes"] = np.concatenate([corner, corner + 0.3], -1).astype(
            "float32"
        )
    if spec.answer_convention == "softmax":
        targets = rng.integers(0, spec.num_answers, size).astype("int32")
    else:
        targets = rng.uniform(0, 1, (size, spec.num_answers)).astype("float32")
    return inputs, targets


def build_bfloat16(name):
    """(model, spec): the model at vqa_test's small size under
    mixed_bfloat16, on the first spec it accepts (FiLM and the pixel models
    need pixels)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        for spec in SPECS:
            try:
                keras.utils.set_random_seed(0)
                model = models.VQA_MODELS.build(
                    name, spec, **vqa_test.small(name)
                )
                return model, spec
            except ValueError:
                continue
    finally:
        keras.config.set_dtype_policy(previous)
    raise AssertionError(f"{name} builds for none of {SPECS}")


class MixedBfloat16Test(parameterized.TestCase):
    @parameterized.parameters(*DEFAULT_RUN)
    def test_trains_in_bfloat16_with_float32_variables(self, name):
        self.check_model(name)

    @parameterized.parameters(
        *(n for n in models.VQA_MODELS.names() if n not in DEFAULT_RUN)
    )
    @pytest.mark.slow
    def test_every_other_model(self, name):
        self.check_model(name)

    def check_model(self, name):
        model, spec = build_bfloat16(name)
        self.assertEqual(keras.config.dtype_policy().name, "float32")
        inputs, targets = batch(spec)
        inputs = {k: tf.constant(v) for k, v in inputs.items()}
        targets = tf.constant(targets)
        optimizer = optimization.make_optimizer("adam", 1e-3)

        @tf.function
        def step():
            with tf.GradientTape() as tape:
                logits = model(inputs, training=True)
                loss = tf.reduce_mean(
                    objectives.per_example_loss(
                        spec.answer_convention,
                        targets,
                        tf.cast(logits, tf.float32),
                    )
                )
            grads = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(grads, model.trainable_variables))
            return loss, logits

        loss, logits = step()
        self.assertTrue(np.isfinite(float(loss)), f"{name}: loss {loss}")
        self.assertEqual(logits.dtype, tf.bfloat16)
        variables = {v.path: v.dtype for v in model.trainable_variables}
        self.assertEqual(
            {k: d for k, d in variables.items() if d != "float32"}, {}
        )
        for v in model.trainable_variables:
            self.assertTrue(np.isfinite(v.numpy()).all(), v.path)
        dtypes = contraction_dtypes(step.get_concrete_function().graph)
        self.assertNotEmpty(dtypes)
        self.assertEqual(
            {k: d for k, d in dtypes.items() if d != "bfloat16"},
            {},
            f"{name}: contractions outside bfloat16",
        )


if __name__ == "__main__":
    absltest.main()
