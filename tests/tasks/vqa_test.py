"""The VQA task: loss, per-type accuracy, figures, and training through the
engine on generated data."""

import dataclasses
import os
import shutil
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import keras
import numpy as np
import pytest

from mi_zoo import models
from mi_zoo.core import specs
from mi_zoo.tasks import vqa
from mi_zoo.training import devices
from mi_zoo.training import trainer
from tests import distribution
from tests.data import fixtures
from tests.data import vqa_sources_test
from tests.models import objectives_test
from tests.training import event_files

devices.split_cpu(2)

TINY = {
    "concat": {"question_units": 16, "hidden": 16},
    "mlb": {"question_units": 16, "joint_size": 16},
    "ban": {"question_units": 16, "glimpses": 2, "rank": 9, "hidden": 16},
}


def _task(model="concat", dataset="sort_of_clevr", **kwargs):
    kwargs.setdefault("train_limit", 80)
    kwargs.setdefault("eval_limit", 40)
    return vqa.VqaTask(
        dataset,
        model,
        hyperparameters=TINY[model],
        eval_batch_size=16,
        num_images=3,
        **kwargs,
    )


class VqaTaskTest(parameterized.TestCase):
    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)

    def test_softmax_loss_is_cross_entropy(self):
        task = _task()
        logits = np.random.default_rng(0).normal(size=(4, 10))
        answers = np.array([1, 0, 9, 3])
        expected = -(
            logits[np.arange(4), answers] - np.log(np.exp(logits).sum(-1))
        )
        np.testing.assert_allclose(
            task.per_example_loss(answers, logits.astype("float32"), None),
            expected,
            rtol=1e-5,
        )

    def test_sigmoid_loss_sums_over_answers(self):
        task = _task()
        task.data = dataclasses.replace(
            task.data,
            spec=dataclasses.replace(
                task.data.spec, answer_convention="sigmoid"
            ),
        )
        rng = np.random.default_rng(1)
        logits = rng.normal(size=(3, 5))
        counts = rng.integers(0, 5, size=(3, 5))  # annotators per answer
        scores = np.minimum(counts / 3, 1)  # the soft scores
        p = 1 / (1 + np.exp(-logits))
        expected = -(scores * np.log(p) + (1 - scores) * np.log(1 - p)).sum(1)
        np.testing.assert_allclose(
            task.per_example_loss(
                counts.astype("float32"), logits.astype("float32"), None
            ),
            expected,
            rtol=1e-4,
        )

    def test_per_type_accuracy_averages_to_accuracy(self):
        task = _task()
        _, results = _run(task, self.dir, train_steps=3)
        by_type = {
            k: v
            for k, v in results["eval"].items()
            if k.startswith("accuracy_by_type/")
        }
        self.assertLen(by_type, 6)
        counts = np.zeros(6)
        for _, _, info in task.data.eval:
            counts += np.bincount(info["question_type"].numpy(), minlength=6)
        values = np.array(
            [
                by_type[f"accuracy_by_type/{t}"]
                for t in task.data.question_types
            ]
        )
        present = counts > 0
        self.assertAlmostEqual(
            float((values[present] * counts[present]).sum() / counts.sum()),
            results["eval"]["accuracy"],
            places=5,
        )
        self.assertTrue(np.all(np.isnan(values[~present])))

    def _on(self, dataset):
        """The task on sort_of_clevr (softmax) or fixture VQA v2 files
        (sigmoid; validation answers agreeing 1 to 10 times)."""
        if dataset == "sort_of_clevr":
            return _task()
        data_dir = fixtures.tempdir(self)
        fixtures.write_vqa_json(data_dir, "train2014")
        fixtures.write_vqa_json(
            data_dir,
            "val2014",
            answers={
                10: ["brown"] * 3 + ["yes"] * 2 + ["2"] + ["plate"] * 4,
                11: ["2"] * 4 + ["0"] * 3 + ["brown"] + ["yes"] * 2,
                20: ["yes"] + ["no"] * 9,
                30: ["plate"] * 2 + ["0"] + ["brown"] * 3 + ["yes"] * 4,
                31: ["0"] * 10,
            },
        )
        for split in ("train", "val"):
            fixtures.write_ban_hdf5(data_dir, split, num_boxes=4, dim=8)
        return _task(
            dataset="vqa2", data_dir=data_dir, options={"answer_min_count": 1}
        )

    @parameterized.named_parameters(
        ("softmax", "sort_of_clevr"), ("sigmoid", "vqa2")
    )
    def test_answer_loss_equals_the_binary_loss(self, dataset):
        task = self._on(dataset)
        model = _built(task)
        spec = task.spec
        for batch in (next(iter(task.data.train)), next(iter(task.data.eval))):
            inputs, targets = batch[0], batch[1]
            logits = model(inputs, training=False)
            # The engine minimises the mean of the per-example loss.
            binary = float(
                np.mean(task.per_example_loss(targets, logits, inputs))
            )
            compiled = float(models.answer_loss(spec)(targets, logits))
            reference = np.mean(
                objectives_test.softmax_loss_reference(targets, logits)
                if dataset == "sort_of_clevr"
                else objectives_test.sigmoid_loss_reference(targets, logits)
            )
            self.assertAlmostEqual(compiled, binary, delta=1e-5 * binary)
            self.assertAlmostEqual(binary, reference, delta=1e-5 * reference)

    @parameterized.named_parameters(
        ("softmax", "sort_of_clevr"), ("sigmoid", "vqa2")
    )
    def test_binary_and_compiled_model_report_the_same_numbers(self, dataset):
        task = self._on(dataset)
        t, results = _run(task, self.dir, train_steps=3)
        binary = results["eval"]
        model = t.model
        spec = task.spec
        model.compile(
            loss=models.answer_loss(spec), metrics=models.answer_metrics(spec)
        )
        compiled = model.evaluate(
            task.data.eval.map(
                lambda inputs, targets, info: (inputs, targets)
            ),
            verbose=0,
            return_dict=True,
        )
        # The reference, from the logits and targets of the eval pass.
        logits, targets = [], []
        for inputs, y, _ in task.data.eval:
            logits.append(np.asarray(model(inputs, training=False)))
            targets.append(np.asarray(y))
        logits, targets = np.concatenate(logits), np.concatenate(targets)
        best = logits.argmax(-1)
        if dataset == "sort_of_clevr":
            reference = {
                "loss": objectives_test.softmax_loss_reference(
                    targets, logits
                ),
                "accuracy": best == targets,
            }
            names = {"loss": "loss", "accuracy": "accuracy"}
        else:
            n = targets[np.arange(len(best)), best].astype(int)
            self.assertGreater(len(set(n.tolist())), 1)
            reference = {
                "loss": objectives_test.sigmoid_loss_reference(
                    targets, logits
                ),
                "accuracy": [
                    objectives_test.official_reference(
                        0, [0] * k + [1] * (10 - k)
                    )
                    for k in n
                ],
                "soft_score": np.minimum(n / 3, 1),
            }
            names = {
                "loss": "loss",
                "accuracy": "vqa_accuracy",
                "soft_score": "soft_score",
            }
        self.assertEqual(set(compiled), set(names.values()))
        for key, compiled_key in names.items():
            value = float(np.mean(reference[key]))
            self.assertAlmostEqual(binary[key], value, places=5, msg=key)
            self.assertAlmostEqual(
                compiled[compiled_key], value, places=5, msg=key
            )

    @pytest.mark.slow  # 40-90 s here: run with -m slow (and by bazel test)
    def test_training_lowers_the_eval_loss(self):
        def run(steps, name):
            task = vqa.VqaTask(
                "sort_of_clevr",
                "concat",
                hyperparameters={"question_units": 32, "hidden": 64},
                train_limit=2000,
                eval_limit=400,
                eval_batch_size=200,
            )
            return _run(
                task,
                os.path.join(self.dir, name),
                train_steps=steps,
                batch_size=32,
                learning_rate=3e-3,
            )[1]["eval"]

        fresh, trained = run(1, "fresh"), run(150, "trained")
        # Cross-entropy over 10 answers starts near log(10) = 2.3; the
        # answers each question allows (yes/no, two shapes, 1-6) and their
        # frequencies bring it well under half of that.
        self.assertLess(trained["loss"], 0.5 * fresh["loss"])
        self.assertGreater(trained["accuracy"], fresh["accuracy"] + 0.15)

    def test_figures(self):
        task = _task("mlb")
        t, _ = _run(task, self.dir, train_steps=1)
        images = task.summary_images(t.model)
        self.assertEqual(images["examples"].shape[0], 3)
        self.assertEqual(images["examples"].dtype, np.uint8)
        # MLB has attention and a Hadamard fusion: one explanation figure
        # per example.
        self.assertEqual(images["explanations"].shape[0], 3)
        plain = _task()  # FiLM: neither.
        self.assertNotIn("explanations", plain.summary_images(_built(plain)))

    def test_mixed_precision_run_draws_its_explanations(self):
        # --mixed_precision: the run's last figures explain a bfloat16
        # model through its float32 fusion (BAN's raised a dtype mismatch
        # at the end of the run before).
        task = _task("ban")
        t, results = _run(task, self.dir, train_steps=1, mixed_precision=True)
        self.assertEqual(results["step"], 1)
        self.assertEqual(keras.config.dtype_policy().name, "float32")
        self.assertEqual(
            t.model.get_layer("bilinear_attention").compute_dtype, "bfloat16"
        )
        tags = event_files.read_tags(os.path.join(self.dir, "eval"))
        self.assertTrue(any("explanations" in tag for tag in tags), tags)

    def test_region_figures_draw_boxes(self):
        data_dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, data_dir, ignore_errors=True)
        task = _task(
            "ban",
            "clevr2d",
            image_kind="regions",
            data_dir=data_dir,
            options={"config": vqa_sources_test.tiny_clevr2d_config()},
        )
        model = _built(task)
        images = task.summary_images(model)
        self.assertIn("explanations", images)
        # Boxes on a white canvas: coloured pixels appear.
        canvas = images["explanations"][0]
        self.assertTrue(
            np.any(canvas[..., 0].astype(int) - canvas[..., 2] > 50)
        )

    def test_trains_mirrored(self):
        task = _task()
        _, results = _run(
            task,
            self.dir,
            train_steps=2,
            strategy=distribution.mirrored_strategy(),
        )
        self.assertEqual(results["step"], 2)
        self.assertTrue(np.isfinite(results["eval"]["loss"]))

    def test_backbone_inside_the_model(self):
        # Sort-of-CLEVR's 75 x 75 pixels through a frozen random MobileNetV3
        # (3 x 3 cells): the spec and the run's codec hold the backbone,
        # and its weights and batch-norm statistics stay as built.
        backbone = specs.BackboneSpec("mobilenet_v3_small", weights=None)
        task = _task("mlb", image_kind="backbone", backbone=backbone)
        model = _built(task)
        self.assertEqual(task.spec.image_kind, "backbone")
        self.assertEqual(task.spec.image_shape, (75, 75, 3))
        self.assertEqual(task.spec.backbone, backbone)
        self.assertEqual(task.data.codec().spec, task.spec)
        self.assertEqual(task.hparams()["backbone/name"], "mobilenet_v3_small")
        self.assertEqual(task.hparams()["backbone/weights"], "None")
        net = model.get_layer("mobilenet_v3_small_features")
        self.assertFalse(net.trainable)
        before = [np.array(w) for w in net.weights]
        inputs, _, _ = next(iter(task.data.eval))
        model(dict(inputs), training=True)
        for old, new in zip(before, net.weights):
            np.testing.assert_array_equal(old, np.asarray(new))
        self.assertIn("explanations", task.summary_images(model))

    def test_backbone_arguments(self):
        backbone = specs.BackboneSpec("mobilenet_v3_small", weights=None)
        with self.assertRaisesRegex(
            ValueError,
            r"^`backbone` applies to image_kind='backbone' only, got "
            r"image_kind='pixels' and backbone=BackboneSpec\(",
        ):
            _task(image_kind="pixels", backbone=backbone)
        with self.assertRaisesRegex(
            ValueError,
            r"^`backbone` must be a BackboneSpec, got backbone='resnet50'\.$",
        ):
            _task(image_kind="backbone", backbone="resnet50")
        self.assertEqual(
            _task(image_kind="backbone").backbone,
            specs.BackboneSpec("resnet50"),  # ImageNet weights, frozen.
        )
        data_dir = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, data_dir, ignore_errors=True)
        fixtures.write_vqa_json(data_dir, "train2014")
        fixtures.write_vqa_json(data_dir, "val2014")
        with self.assertRaisesRegex(
            ValueError,
            r"^image_kind='backbone' \(--image_kind=backbone\) reads the "
            r"dataset's pixel images, which the 'vqa2' dataset does not "
            r"have, got dataset='vqa2'\.$",
        ):
            _built(
                _task(
                    dataset="vqa2",
                    data_dir=data_dir,
                    image_kind="backbone",
                    backbone=backbone,
                )
            )

    @parameterized.parameters(
        (dict(dataset="mnist", model="concat"), "Unknown VQA dataset 'mnist'"),
        (
            dict(dataset="sort_of_clevr", model="vgg"),
            "Unknown VQA model 'vgg'",
        ),
        (
            dict(dataset="sort_of_clevr", model="concat", size="huge"),
            r"^Unknown size of VQA model 'concat'; its sizes are "
            r"\('paper', 'small'\), got size='huge'\.$",
        ),
        (
            dict(dataset="sort_of_clevr", model="concat", eval_batch_size=0),
            r"`eval_batch_size` must be a positive integer, got "
            r"eval_batch_size=0\.$",
        ),
        (
            dict(dataset="sort_of_clevr", model="concat", num_images=0),
            r"`num_images` must be a positive integer, got num_images=0\.$",
        ),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            vqa.VqaTask(**kwargs)


def _built(task):
    task.prepare(8, task.eval_batch_size, seed=0)
    return task.build_model()


def _run(task, model_dir, strategy=None, **overrides):
    settings = dict(
        model_dir=model_dir,
        train_steps=2,
        batch_size=8,
        log_every=1,
        checkpoint_every=100,
        export=False,
    )
    settings.update(overrides)
    t = trainer.Trainer(
        task, trainer.TrainConfig(**settings), strategy, interactive=False
    )
    return t, t.run()


if __name__ == "__main__":
    absltest.main()
