"""Tests of `vqa_sources.load_vqa_data` on tiny builds and fixtures."""

import os
import tempfile

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np
import tensorflow as tf

from mi_zoo.data import vqa_answers
from mi_zoo.data import vqa_sources
from mi_zoo.data.clevr_2d import builder as clevr_2d_builder
from tests.data import fixtures
from tests.data import pipeline_checks

B, EB = 4, 5


def tiny_clevr2d_config():
    return pipeline_checks.tiny_clevr2d_config(
        "tiny_vqa_sources", train_size=10, validation_size=7, test_size=3
    )


class Checks:
    """Assertions shared by the datasets (a mixin of absltest.TestCase)."""

    def check_data(self, data, *, num_train, soft=False):
        spec = data.spec
        # Train: full batches matching the spec, more than one epoch.
        steps = num_train // B + 3
        for inputs, targets in data.train.take(steps):
            self.assertEqual(
                inputs["question"].shape, (B, spec.question_length)
            )
            self.assertEqual(inputs["question"].dtype, tf.int32)
            self.assertEqual(
                tuple(inputs["image"].shape[1:]), spec.image_shape
            )
            self.assertEqual(inputs["image"].shape[0], B)
            self.assertEqual(inputs["image"].dtype, tf.float32)
            if spec.image_kind == "regions":
                self.assertEqual(
                    inputs["boxes"].shape, (B, spec.image_shape[0], 4)
                )
            else:
                self.assertNotIn("boxes", inputs)
            if soft:
                self.assertEqual(targets.shape, (B, spec.num_answers))
                self.assertEqual(targets.dtype, tf.float32)
            else:
                self.assertEqual(targets.shape, (B,))
                self.assertEqual(targets.dtype, tf.int32)
                self.assertTrue(
                    np.all(
                        (targets.numpy() >= 0)
                        & (targets.numpy() < spec.num_answers)
                    )
                )
            self.assertTrue(
                np.all(inputs["question"].numpy() < spec.vocab_size)
            )
        self.assertEqual(len(data.words), spec.vocab_size)
        self.assertEqual(data.words[0], "<pad>")
        self.assertEqual(len(data.answers), spec.num_answers)
        # Eval: one pass of exactly num_eval_examples, last batch kept.
        sizes, types = [], []
        for inputs, targets, info in data.eval:
            self.assertEqual(set(info), {"question_type"})
            self.assertEqual(info["question_type"].dtype, tf.int32)
            n = inputs["question"].shape[0]
            self.assertEqual(targets.shape[0], n)
            self.assertEqual(info["question_type"].shape, (n,))
            self.assertEqual(
                tuple(inputs["image"].shape[1:]), spec.image_shape
            )
            sizes.append(n)
            types.extend(info["question_type"].numpy().tolist())
        self.assertEqual(sum(sizes), data.num_eval_examples)
        self.assertTrue(all(s == EB for s in sizes[:-1]), sizes)
        self.assertTrue(
            all(0 <= t < len(data.question_types) for t in types), types
        )

    def check_checkpoint(self, data):
        self.assertTrue(data.train_checkpointable)
        pipeline_checks.assert_iterator_checkpoint_round_trip(data.train)

    def check_seeded(self, load):
        def batches(seed):
            return [
                pipeline_checks.numpy_tree(b) for b in load(seed).train.take(3)
            ]

        pipeline_checks.assert_trees_equal(batches(3), batches(3))
        a = np.concatenate([b[1] for b in batches(3)])
        c = np.concatenate([b[1] for b in batches(4)])
        q3 = np.concatenate([b[0]["question"] for b in batches(3)])
        q4 = np.concatenate([b[0]["question"] for b in batches(4)])
        self.assertFalse(np.array_equal(q3, q4) and np.array_equal(a, c))


class SortOfClevrTest(Checks, parameterized.TestCase):
    def load(self, seed=0, **kwargs):
        args = dict(
            batch_size=B,
            eval_batch_size=EB,
            seed=seed,
            train_limit=30,
            eval_limit=23,
            options={"config": "small"},
        )
        args.update(kwargs)
        return vqa_sources.load_vqa_data("sort_of_clevr", **args)

    def test_data(self):
        data = self.load()
        self.assertEqual(data.spec.image_shape, (75, 75, 3))
        self.assertEqual(data.spec.answer_convention, "softmax")
        self.assertEqual(data.num_eval_examples, 23)
        self.assertEqual(data.question_types[0], "non_relational/shape")
        self.assertEqual(data.question_types[5], "relational/count")
        self.check_data(data, num_train=30)

    def test_eval_types_are_families(self):
        data = self.load(eval_limit=40)
        types = np.concatenate(
            [i["question_type"].numpy() for _, _, i in data.eval]
        )
        # 20 questions per image: families 0-2 then 3-5, 10 of each type.
        self.assertEqual(sorted(set(types.tolist())), list(range(6)))
        self.assertEqual(int((types < 3).sum()), 20)

    def test_eval_split(self):
        val = self.load()
        test = self.load(eval_split="test")
        a = next(iter(val.eval))[0]["question"].numpy()
        b = next(iter(test.eval))[0]["question"].numpy()
        self.assertFalse(np.array_equal(a, b))

    def test_checkpoint(self):
        self.check_checkpoint(self.load())

    def test_seeded(self):
        self.check_seeded(lambda seed: self.load(seed=seed))

    @parameterized.named_parameters(
        ("data_dir", dict(data_dir="/tmp/x"), r"--data_dir.*'/tmp/x'"),
        (
            "image_kind",
            dict(image_kind="regions"),
            r"--image_kind.*'sort_of_clevr'.*image_kind='regions'",
        ),
        (
            "eval_split",
            dict(eval_split="train"),
            r"--eval_split.*eval_split='train'",
        ),
        ("option", dict(options={"colour": 1}), r"unknown `options`.*colour"),
        ("config", dict(options={"config": "huge"}), r"config='huge'"),
        ("batch_size", dict(batch_size=0), r"batch_size=0"),
        ("eval_batch_size", dict(eval_batch_size=-1), r"eval_batch_size=-1"),
        ("seed", dict(seed=-2), r"--seed.*seed=-2"),
        ("train_limit", dict(train_limit=0), r"train_limit=0"),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            self.load(**kwargs)

    def test_unknown_name(self):
        with self.assertRaisesRegex(
            ValueError,
            r"Unknown VQA dataset 'gqa'; registered: "
            r"\('clevr', 'clevr2d', 'sort_of_clevr', 'vqa2'\)",
        ):
            vqa_sources.load_vqa_data(
                "gqa", batch_size=1, eval_batch_size=1, seed=0
            )


class Clevr2dTest(Checks, parameterized.TestCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.data_dir = tempfile.mkdtemp()

    def load(self, seed=0, **kwargs):
        args = dict(
            batch_size=B,
            eval_batch_size=EB,
            seed=seed,
            data_dir=self.data_dir,
            options={"config": tiny_clevr2d_config()},
        )
        args.update(kwargs)
        return vqa_sources.load_vqa_data("clevr2d", **args)

    def test_pixels(self):
        data = self.load()
        self.assertEqual(data.spec.image_kind, "pixels")
        self.assertEqual(data.spec.image_shape, (32, 32, 3))
        self.assertEqual(data.num_eval_examples, 7)
        self.assertLen(data.question_types, 13)
        self.check_data(data, num_train=10)

    def test_regions(self):
        data = self.load(image_kind="regions", eval_split="test")
        self.assertEqual(
            data.spec.image_shape,
            (clevr_2d_builder.MAX_REGIONS, clevr_2d_builder.REGION_FEATURES),
        )
        self.assertEqual(data.num_eval_examples, 3)
        self.check_data(data, num_train=10)

    def test_limits(self):
        data = self.load(train_limit=5, eval_limit=6)
        self.assertEqual(data.num_eval_examples, 6)
        self.check_data(data, num_train=5)
        # The first 5 examples only: 2 epochs hold each answer twice.
        answers = np.concatenate(
            [t.numpy() for _, t in data.train.unbatch().batch(5).take(2)]
        )
        self.assertEqual(sorted(answers[:5]), sorted(answers[5:]))

    def test_eval_matches_builder(self):
        data = self.load()
        builder = clevr_2d_builder.Clevr2d(
            config=tiny_clevr2d_config(), data_dir=self.data_dir
        )
        types = [
            int(e["question_type"])
            for e in builder.as_dataset(
                split="validation", shuffle_files=False
            )
        ]
        got = np.concatenate(
            [i["question_type"].numpy() for _, _, i in data.eval]
        )
        self.assertEqual(got.tolist(), types)

    def test_checkpoint(self):
        self.check_checkpoint(self.load())

    def test_seeded(self):
        self.check_seeded(lambda seed: self.load(seed=seed))

    @parameterized.named_parameters(
        (
            "image_kind",
            dict(image_kind="grid"),
            r"--image_kind.*\('pixels', 'regions'\).*'clevr2d'.*"
            r"image_kind='grid'",
        ),
        ("eval_split", dict(eval_split="val"), r"eval_split='val'"),
        ("data_dir", dict(data_dir=3), r"--data_dir.*data_dir=3"),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            self.load(**kwargs)


class ClevrTest(Checks, parameterized.TestCase):
    def setUp(self):
        super().setUp()
        self.data_dir = fixtures.tempdir(self)
        fixtures.write_clevr(self.data_dir, "train")
        fixtures.write_clevr(self.data_dir, "val")

    def load(self, seed=0, **kwargs):
        args = dict(
            batch_size=B,
            eval_batch_size=EB,
            seed=seed,
            data_dir=self.data_dir,
            options={"image_size": (16, 24)},
        )
        args.update(kwargs)
        return vqa_sources.load_vqa_data("clevr", **args)

    def test_data(self):
        data = self.load()
        self.assertEqual(data.spec.image_shape, (16, 24, 3))
        self.assertEqual(data.num_eval_examples, 6)
        self.assertEqual(data.answers, ("2", "no", "red", "yes"))
        # "Is the cube the same size as the sphere?": 9 words.
        self.assertEqual(data.spec.question_length, 9)
        self.check_data(data, num_train=6)
        types = np.concatenate(
            [i["question_type"].numpy() for _, _, i in data.eval]
        )
        names = [data.question_types[t] for t in types]
        self.assertEqual(
            names,
            [
                "exist",
                "count",
                "compare_integer",
                "query_attribute",
                "compare_attribute",
                "compare_integer",
            ],
        )
        inputs, answers, _ = next(iter(data.eval))
        self.assertEqual(set(inputs), {"question", "image"})
        self.assertEqual(
            [data.answers[a] for a in answers.numpy()],
            ["yes", "2", "no", "red", "yes"],
        )
        words = [data.words[i] for i in inputs["question"][0].numpy() if i]
        self.assertEqual(words, ["is", "there", "a", "red", "cube"])

    def test_limits(self):
        data = self.load(train_limit=3, eval_limit=4)
        self.assertEqual(data.num_eval_examples, 4)
        self.check_data(data, num_train=3)

    def test_checkpoint(self):
        self.check_checkpoint(self.load())
        self.check_checkpoint(self.load(train_limit=5))

    def test_missing_data_dir(self):
        with self.assertRaisesRegex(
            ValueError,
            r"'clevr' dataset needs `data_dir` \(--data_dir\)"
            r", got data_dir=None.*CLEVR_v1\.0/questions",
        ):
            self.load(data_dir=None)
        with self.assertRaisesRegex(FileNotFoundError, r"--data_dir.*/nope"):
            self.load(data_dir="/nope")

    @parameterized.named_parameters(
        (
            "image_kind",
            dict(image_kind="regions"),
            r"--image_kind.*'clevr'.*image_kind='regions'",
        ),
        (
            "eval_split",
            dict(eval_split="test"),
            r"--eval_split.*\('val',\).*eval_split='test'",
        ),
        (
            "image_size",
            dict(options={"image_size": (0, 3)}),
            r"`options\['image_size'\]` must be \(height, width\), two "
            r"positive integers, got options\['image_size'\]=\(0, 3\)\.",
        ),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            self.load(**kwargs)


class Vqa2Test(Checks, parameterized.TestCase):
    def setUp(self):
        super().setUp()
        self.data_dir = fixtures.tempdir(self)
        for split in ("train2014", "val2014"):
            fixtures.write_vqa_json(self.data_dir, split)
        for split in ("train", "val"):
            fixtures.write_ban_hdf5(self.data_dir, split, num_boxes=4, dim=8)

    def load(self, seed=0, **kwargs):
        args = dict(
            batch_size=B,
            eval_batch_size=EB,
            seed=seed,
            data_dir=self.data_dir,
            options={"answer_min_count": 1},
        )
        args.update(kwargs)
        return vqa_sources.load_vqa_data("vqa2", **args)

    def test_data(self):
        data = self.load()
        self.assertEqual(data.spec.image_kind, "regions")
        self.assertEqual(data.spec.image_shape, (4, 8))
        self.assertEqual(data.spec.answer_convention, "sigmoid")
        self.assertEqual(data.spec.question_length, 14)
        self.assertEqual(data.num_eval_examples, 5)
        self.assertFalse(data.train_checkpointable)
        self.assertEqual(data.question_types, ("yes/no", "number", "other"))
        self.check_data(data, num_train=5, soft=True)
        inputs, scores, info = next(iter(data.eval))
        self.assertEqual(set(inputs), {"question", "image", "boxes"})
        # Fixture annotations all have answer_type "other".
        self.assertEqual(info["question_type"].numpy().tolist(), [2] * 5)
        # Targets are answer counts. Question 20: 9 x "yes".
        self.assertEqual(float(scores[2, data.answers.index("yes")]), 9.0)

    def test_eval_accuracy_is_the_official_one(self):
        # Eval counts are matched as the official evaluator matches strings
        # (question 10's "Brown." does not count for "brown": 7, not 8),
        # so the accuracy of any answer from them is the official one.
        data = self.load()
        _, counts, _ = next(iter(data.eval))
        self.assertEqual(float(counts[0, data.answers.index("brown")]), 7.0)
        for k, qid in enumerate([10, 11, 20, 30, 31]):
            for a, answer in enumerate(data.answers):
                self.assertAlmostEqual(
                    float(vqa_answers.count_accuracy(counts[k, a])),
                    vqa_answers.official_accuracy(
                        answer, fixtures.VQA_ANSWERS[qid]
                    ),
                    places=6,
                )

    def test_answer_types(self):
        path = os.path.join(
            self.data_dir, "v2_mscoco_val2014_annotations.json"
        )
        import json  # pylint: disable=g-import-not-at-top

        with open(path) as f:
            anns = json.load(f)
        kinds = {
            10: "other",
            11: "number",
            20: "yes/no",
            30: "other",
            31: "number",
        }
        for a in anns["annotations"]:
            a["answer_type"] = kinds[a["question_id"]]
        with open(path, "w") as f:
            json.dump(anns, f)
        data = self.load(eval_limit=4)
        got = np.concatenate(
            [i["question_type"].numpy() for _, _, i in data.eval]
        )
        self.assertEqual(got.tolist(), [2, 1, 0, 2])
        anns["annotations"][0]["answer_type"] = "colour"
        with open(path, "w") as f:
            json.dump(anns, f)
        with self.assertRaisesRegex(ValueError, r"answer_type='colour'"):
            self.load()

    def test_limits(self):
        data = self.load(train_limit=3, eval_limit=2)
        self.assertEqual(data.num_eval_examples, 2)
        self.check_data(data, num_train=3, soft=True)

    def test_missing_data_dir(self):
        with self.assertRaisesRegex(
            ValueError,
            r"'vqa2' dataset needs `data_dir` \(--data_dir\), "
            r"got data_dir=None.*v2_OpenEnded_mscoco_.*questions\.json.*"
            r"train,val\}36\.hdf5",
        ):
            self.load(data_dir=None)

    def test_missing_features(self):
        os.remove(os.path.join(self.data_dir, "val36.hdf5"))
        with self.assertRaisesRegex(
            FileNotFoundError, r"--data_dir.*val36\.hdf5"
        ):
            self.load()

    def test_tsv_features(self):
        for name in ("train36.hdf5", "val36.hdf5"):
            os.remove(os.path.join(self.data_dir, name))
        tsv = os.path.join(self.data_dir, vqa_sources.VQA2_TSV)
        os.makedirs(os.path.dirname(tsv))
        fixtures.write_tsv(tsv, num_boxes=3, dim=8)
        data = self.load()
        self.assertEqual(data.spec.image_shape, (36, 8))
        self.assertTrue(
            os.path.isfile(
                os.path.join(
                    self.data_dir, vqa_sources.VQA2_NPY_DIR, "image_ids.npy"
                )
            )
        )
        self.check_data(data, num_train=5, soft=True)

    @parameterized.named_parameters(
        (
            "image_kind",
            dict(image_kind="pixels"),
            r"--image_kind.*'vqa2'.*image_kind='pixels'",
        ),
        ("eval_split", dict(eval_split="test2015"), r"eval_split='test2015'"),
        ("option", dict(options={"min_count": 1}), r"min_count"),
    )
    def test_bad_arguments(self, kwargs, message):
        with self.assertRaisesRegex(ValueError, message):
            self.load(**kwargs)


if __name__ == "__main__":
    absltest.main()
