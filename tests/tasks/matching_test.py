"""Tests of the matching task: loss, embeddings, retrieval evaluation,
figures and a few engine steps on a tiny CLEVR-2D."""

import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import pytest
import tensorflow as tf

from mi_zoo.data.clevr_2d import builder as clevr_2d_builder
from mi_zoo.models import matching as matching_models
from mi_zoo.models import ranking_loss
from mi_zoo.tasks import matching
from mi_zoo.training import trainer

TINY = {"embedding_dim": 8, "text_units": 16, "attention_units": 8, "steps": 1}


def tiny_config():
    return clevr_2d_builder.Clevr2dConfig(
        name="tiny_matching_task",
        train_size=32,
        validation_size=12,
        test_size=2,
        image_size=32,
    )


def reference_loss(s, margin, hardest):
    """float64 NumPy reference of the bidirectional hinge loss: [B]."""
    s = np.asarray(s, np.float64)
    b = len(s)
    out = np.zeros(b)
    for i in range(b):
        to_texts = [
            max(0.0, margin - s[i, i] + s[i, j]) for j in range(b) if j != i
        ]
        to_images = [
            max(0.0, margin - s[i, i] + s[j, i]) for j in range(b) if j != i
        ]
        if hardest:
            out[i] = max(to_texts, default=0.0) + max(to_images, default=0.0)
        else:
            out[i] = sum(to_texts) + sum(to_images)
    return out


class LossTest(parameterized.TestCase):
    @parameterized.parameters(
        (0.2, False), (0.2, True), (1.5, False), (0.05, True)
    )
    def test_matches_reference_and_keras_loss(self, margin, hardest):
        rng = np.random.default_rng(int(margin * 100) + hardest)
        s = rng.normal(size=(6, 6)).astype(np.float32)
        s[np.arange(6), np.arange(6)] += rng.uniform(-1, 1, 6)
        got = np.asarray(matching.ranking_loss_per_example(s, margin, hardest))
        np.testing.assert_allclose(
            got, reference_loss(s, margin, hardest), rtol=1e-5, atol=1e-5
        )
        task = matching.MatchingTask(margin=margin, hardest_negative=hardest)
        per_example = np.asarray(task.per_example_loss(np.zeros(6), s, None))
        np.testing.assert_allclose(per_example, got)
        # BidirectionalRankingLoss's default reduction, sum_over_batch_size,
        # is the mean of the per-example losses.
        keras_loss = float(task.keras_loss()(np.zeros(6), s))
        self.assertAlmostEqual(
            float(np.mean(per_example)), keras_loss, places=5
        )
        unreduced = ranking_loss.BidirectionalRankingLoss(
            margin, hardest, reduction=None
        )(np.zeros(6), s)
        np.testing.assert_allclose(
            per_example, np.asarray(unreduced), rtol=1e-6
        )

    def test_in_batch_hits(self):
        s = np.array(
            [[1.0, 0.5, 0.2], [1.0, 0.9, 0.1], [0.0, 0.0, 0.3]], np.float32
        )
        i2t, t2i = matching.in_batch_hits(s)
        np.testing.assert_array_equal(np.asarray(i2t), [1, 0, 1])
        # Column 0: image 1 ties image 0's 1.0 -> miss (pessimistic).
        np.testing.assert_array_equal(np.asarray(t2i), [0, 1, 1])

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, r"--margin.*margin=0"):
            matching.MatchingTask(margin=0)
        with self.assertRaisesRegex(
            ValueError,
            r"^Unknown size of matching model 'mdan'; its "
            r"sizes are \('paper', 'small'\), got size='huge'\.$",
        ):
            matching.MatchingTask(size="huge")
        with self.assertRaisesRegex(Exception, "nope"):
            matching.MatchingTask(model="nope")


class TaskTest(absltest.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data_dir = tempfile.mkdtemp()

    def make_task(self, **kwargs):
        args = dict(
            hyperparameters=TINY,
            eval_batch_size=5,
            data_dir=self.data_dir,
            options={"config": tiny_config()},
            num_images=2,
        )
        args.update(kwargs)
        return matching.MatchingTask("clevr2d", "mdan", **args)

    def test_image_embedding_ignores_the_caption(self):
        task = self.make_task()
        task.prepare(4, 5, seed=0)
        model = task.build_model()
        inputs, _ = next(iter(task.data.train))
        embed = matching_models.embedding_model(model)
        a = embed(inputs, training=False)
        shuffled = dict(inputs, caption=tf.reverse(inputs["caption"], [0]))
        b = embed(shuffled, training=False)
        np.testing.assert_allclose(
            a["image_embedding"], b["image_embedding"], rtol=1e-6, atol=1e-6
        )
        self.assertFalse(np.allclose(a["text_embedding"], b["text_embedding"]))

    @pytest.mark.slow  # 40-90 s here: run with -m slow (and by bazel test)
    def test_evaluate_and_images(self):
        task = self.make_task()
        task.prepare(4, 5, seed=0)
        model = task.build_model()
        results = task.evaluate(model, 5)
        self.assertCountEqual(
            results,
            [
                "image_to_text/r@1",
                "image_to_text/r@5",
                "image_to_text/r@10",
                "text_to_image/r@1",
                "text_to_image/r@5",
                "text_to_image/r@10",
                "rsum",
                "loss",
            ],
        )
        for key, value in results.items():
            if "/r@" in key:
                self.assertBetween(value, 0.0, 1.0)
        self.assertGreaterEqual(results["loss"], 0.0)
        images = task.summary_images(model)["retrieval"]
        self.assertEqual(images.dtype, np.uint8)
        self.assertEqual(images.shape[0], 2)
        self.assertEqual(images.shape[-1], 3)

    def test_perfect_embeddings_give_recall_one(self):
        task = self.make_task()
        task.prepare(4, 5, seed=0)
        model = task.build_model()
        captions = np.concatenate(
            [b["caption"].numpy() for b in task.data.eval]
        )
        rows = {tuple(c): i for i, c in enumerate(captions)}
        self.assertLen(rows, len(captions))  # Distinct captions.

        def one_hot_of(caption):
            keys = [rows[tuple(c)] for c in caption.numpy()]
            return np.eye(len(captions), dtype=np.float32)[keys]

        class Perfect:
            """Embeds image and caption of eval row r as one-hot(r)."""

            def __call__(self, inputs, training=False):
                e = tf.constant(one_hot_of(inputs["caption"]))
                return {"image_embedding": e, "text_embedding": e}

        perfect = Perfect()
        task._embedder = lambda model: perfect  # pylint: disable=protected-access
        results = task.evaluate(model, 5)
        for key, value in results.items():
            if "/r@" in key:
                self.assertEqual(value, 1.0, key)
        self.assertAlmostEqual(results["rsum"], 600.0)
        # Every negative scores 0 against a positive of 1 > margin 0.2.
        self.assertEqual(results["loss"], 0.0)

    @pytest.mark.slow  # 15-60 s: run with -m slow (and by bazel test)
    def test_training_lowers_the_loss(self):
        task = self.make_task(train_limit=16)
        config = trainer.TrainConfig(
            model_dir=tempfile.mkdtemp(),
            train_steps=30,
            batch_size=8,
            learning_rate=3e-3,
            log_every=10,
            checkpoint_every=100,
            export=False,
        )
        t = trainer.Trainer(task, config, interactive=False)
        results = t.run()
        self.assertIn("image_to_text/r@1", results["eval"])
        self.assertIn("in_batch_r@1/image_to_text", results["train"])
        # Loss of the final model vs a fresh one on the same training pairs.
        inputs, _ = next(iter(task.data.train))
        trained = float(
            np.mean(
                task.per_example_loss(
                    None, t.model(inputs, training=True), inputs
                )
            )
        )
        keras.utils.set_random_seed(0)
        fresh = task.build_model()
        initial = float(
            np.mean(
                task.per_example_loss(
                    None, fresh(inputs, training=True), inputs
                )
            )
        )
        self.assertLess(trained, 0.7 * initial)


if __name__ == "__main__":
    absltest.main()
