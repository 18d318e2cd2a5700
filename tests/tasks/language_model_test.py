"""The language-modelling task: stateful truncated BPTT through the engine,
evaluation with the state carried, bpc/perplexity, samples, and the served
SavedModel step against the Keras model."""

import math
import os
import shutil
import tempfile

from absl.testing import absltest
import numpy as np
import tensorflow as tf

from mi_zoo.data.text import corpora as text_corpora
from mi_zoo.models import language
from mi_zoo.tasks import language_model
from mi_zoo.training import devices
from mi_zoo.training import trainer
from tests import distribution
from tests.training import crash

devices.split_cpu(2)

# Seeded random sentences: a periodic text would give identical streams.
_WORDS = "the cat dog sat on mat log a big small red ran".split()
TEXT = " ".join(np.random.default_rng(0).choice(_WORDS, 400)) + "\n"


def _corpus(level="char"):
    train, valid, test = text_corpora.split_by_fraction(TEXT)
    splits = {
        k: text_corpora.tokenize(v, level)
        for k, v in (("train", train), ("valid", valid), ("test", test))
    }
    return text_corpora.Corpus("text", level, splits, "inline")


def _task(model="lstm", level="char", **kwargs):
    kwargs.setdefault("hyperparameters", {"units": 16, "num_layers": 1})
    return language_model.LanguageModelTask(
        _corpus(level),
        model,
        sequence_length=8,
        eval_batch_size=2,
        sample_length=12,
        **kwargs,
    )


def _run(task, model_dir, strategy=None, **overrides):
    settings = dict(
        model_dir=model_dir,
        train_steps=4,
        batch_size=4,
        log_every=2,
        checkpoint_every=2,
        export=False,
        learning_rate=1e-2,
    )
    settings.update(overrides)
    t = trainer.Trainer(
        task, trainer.TrainConfig(**settings), strategy, interactive=False
    )
    return t, t.run()


class LanguageModelTaskTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def test_state_is_carried_across_train_steps(self):
        task = _task()
        # A negligible step size: the reference below uses the final weights.
        t, _ = _run(task, self.dir, train_steps=3, learning_rate=1e-12)
        carried = {k: v.numpy() for k, v in t.carried.items()}
        self.assertEqual(set(carried), {"h_0", "c_0"})
        self.assertEqual(carried["h_0"].shape, (4, 16))
        # After three windows the state is not the zero it started from.
        self.assertGreater(np.abs(carried["h_0"]).max(), 1e-3)
        # It is the state the model reaches on the three windows.
        windows = list(task.prepare(4, 4, seed=0).train.take(3))
        state = language.initial_state(t.model, 4)
        for window in windows:
            tokens = window["inputs"]
            _, state = t.model({"tokens": tokens, **state}, training=False)
        # (training=True differs by dropout only; the model has none.)
        np.testing.assert_allclose(
            carried["h_0"], state["h_0"].numpy(), rtol=1e-4, atol=1e-5
        )

    def test_evaluation_matches_a_manual_pass(self):
        task = _task(
            "multdec",
            hyperparameters={
                "units": 16,
                "num_layers": 1,
                "context_size": 4,
                "rank": 2,
            },
        )
        model = task.build_model()
        results = task.evaluate(model, 4)
        # Reference: one stream per row, windows in order, state carried.
        ids = task.ids["valid"]
        streams = ids[: len(ids) // 2 * 2].reshape(2, -1)
        state = language.initial_state(model, 2)
        total, count = 0.0, 0
        for start in range(0, streams.shape[1] - 1, 8):
            x = streams[:, start : start + 8][
                :, : streams.shape[1] - 1 - start
            ]
            y = streams[:, start + 1 : start + 1 + x.shape[1]]
            logits, state = model({"tokens": tf.constant(x), **state})
            logp = tf.nn.log_softmax(logits).numpy()
            total -= np.take_along_axis(logp, y[..., None], -1).sum()
            count += y.size
        self.assertAlmostEqual(results["valid/nll"], total / count, places=4)
        self.assertAlmostEqual(
            results["valid/bpc"], total / count / math.log(2), places=4
        )

    def test_training_lowers_bpc_and_word_level_reports_perplexity(self):
        task = _task()
        _, before = _run(task, os.path.join(self.dir, "a"), train_steps=1)
        _, after = _run(task, os.path.join(self.dir, "b"), train_steps=60)
        self.assertLess(
            after["eval"]["valid/bpc"], 0.8 * before["eval"]["valid/bpc"]
        )
        words = _task(level="word")
        _, results = _run(words, os.path.join(self.dir, "w"), train_steps=2)
        self.assertAlmostEqual(
            results["eval"]["valid/perplexity"],
            math.exp(results["eval"]["valid/nll"]),
            places=3,
        )

    def test_mirrored_replicas_carry_their_own_rows(self):
        task = _task()
        t, results = _run(
            task,
            self.dir,
            train_steps=2,
            export=True,
            strategy=distribution.mirrored_strategy(),
        )
        per_replica = t.strategy.experimental_local_results(t.carried["h_0"])
        self.assertLen(per_replica, 2)
        self.assertEqual(per_replica[0].shape, (2, 16))
        self.assertGreater(
            np.abs(per_replica[0].numpy() - per_replica[1].numpy()).max(), 1e-6
        )
        self.assertTrue(np.isfinite(results["eval"]["valid/bpc"]))
        # The SavedModel of mirrored weights serves the trained model.
        step = tf.saved_model.load(
            os.path.join(self.dir, "saved_model")
        ).signatures["serving_default"]
        tokens = tf.constant(task.ids["valid"][:16].reshape(2, 8))
        state = {k: tf.constant(v) for k, v in task.initial_state(2).items()}
        logits, _ = task.call_model(t.model, tokens, state, training=False)
        np.testing.assert_allclose(
            step(tokens=tokens, **state)["logits"].numpy(),
            logits.numpy(),
            rtol=1e-5,
            atol=1e-5,
        )

    def test_resume_restores_the_carried_state(self):
        config = dict(train_steps=6, checkpoint_every=3, deterministic=True)
        full, full_results = _run(
            _task(), os.path.join(self.dir, "full"), **config
        )
        crash_dir = os.path.join(self.dir, "crash")
        _run(_task(), crash_dir, **config)
        crash.crash_after(crash_dir, 3)
        resumed, resumed_results = _run(_task(), crash_dir, **config)
        for name, variable in full.carried.items():
            np.testing.assert_allclose(
                variable.numpy(),
                resumed.carried[name].numpy(),
                rtol=1e-5,
                atol=1e-6,
            )
        self.assertAlmostEqual(
            full_results["eval"]["valid/bpc"],
            resumed_results["eval"]["valid/bpc"],
            places=5,
        )

    def test_served_step_matches_the_keras_model(self):
        # Every model, 2 layers; multencdec also tied (E != H: projection).
        mi = {"context_size": 3, "rank": 2}
        extra = {
            "multdec": mi,
            "multencdec": {**mi, "tie_embeddings": True, "embedding_size": 6},
        }
        rng = np.random.default_rng(0)
        for name in language.LM_MODELS.names():
            with self.subTest(model=name):
                task = _task(
                    name,
                    hyperparameters={
                        "units": 8,
                        "num_layers": 2,
                        **extra.get(name, {}),
                    },
                )
                model = task.build_model()
                path = os.path.join(self.dir, name)
                task.export_serving(model, path)
                served = tf.saved_model.load(path)
                step = served.signatures["serving_default"]
                keys = set(task.initial_state(1))
                self.assertEqual(
                    set(step.structured_input_signature[1]), {"tokens"} | keys
                )
                self.assertEqual(
                    set(step.structured_outputs), {"logits"} | keys
                )
                zeros = served.signatures["initial_state"](
                    batch_size=tf.constant(3)
                )
                self.assertEqual(set(zeros), keys)
                for key, value in task.initial_state(3).items():
                    np.testing.assert_array_equal(zeros[key].numpy(), value)

                # A non-zero state, then two consecutive windows.
                windows = [
                    tf.constant(
                        rng.integers(0, task.vocab_size, (3, 7)), tf.int32
                    )
                    for _ in range(2)
                ]
                start = {
                    k: tf.constant(rng.normal(size=v.shape), tf.float32)
                    for k, v in task.initial_state(3).items()
                }
                served_state, keras_state = dict(start), dict(start)
                for window in windows:
                    out = step(tokens=window, **served_state)
                    logits, keras_state = task.call_model(
                        model, window, keras_state, training=False
                    )
                    np.testing.assert_allclose(
                        out["logits"].numpy(),
                        logits.numpy(),
                        rtol=1e-5,
                        atol=1e-5,
                    )
                    served_state = {k: out[k] for k in keys}
                    for key in keys:
                        np.testing.assert_allclose(
                            served_state[key].numpy(),
                            keras_state[key].numpy(),
                            rtol=1e-5,
                            atol=1e-5,
                            err_msg=key,
                        )
                    # The state moved: the windows are not a no-op.
                    self.assertGreater(
                        np.abs(
                            served_state["h_0"].numpy() - start["h_0"].numpy()
                        ).max(),
                        1e-3,
                    )
                # The function form takes one dict.
                again = served.serving_default({"tokens": windows[0], **start})
                np.testing.assert_allclose(
                    again["logits"].numpy(),
                    step(tokens=windows[0], **start)["logits"].numpy(),
                    rtol=1e-6,
                    atol=1e-6,
                )

    def test_samples(self):
        task = _task()
        model = task.build_model()
        text = task.sample(model, 12, seed=3)
        self.assertLen(text, 12)
        self.assertEqual(text, task.sample(model, 12, seed=3))
        self.assertIn("sample", task.summary_texts(model))

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, "Unknown language model"):
            _task("gpt")
        with self.assertRaisesRegex(ValueError, "temperature=0"):
            _task(temperature=0)
        with self.assertRaisesRegex(
            ValueError, "sequence_length=500 is longer"
        ):
            language_model.LanguageModelTask(
                _corpus(), "lstm", sequence_length=500
            )


if __name__ == "__main__":
    absltest.main()
