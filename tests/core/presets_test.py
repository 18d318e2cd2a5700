"""`mi_zoo.core.presets`: preset directories found by name or path, their
config and metadata files, and every error a user can meet."""

import json
import os
import tempfile

from absl.testing import absltest

from mi_zoo.core import presets
from mi_zoo.data import vqa_codec
from mi_zoo.training import run_directory

CONFIG = presets.make_config(
    "film", "small", "stem_filters=24", "sort_of_clevr", {}, "pixels"
)


def _write_preset(root, name, config=CONFIG, skip=()):
    path = os.path.join(root, name)
    os.makedirs(path)
    for file in presets.FILES:
        if file in skip:
            continue
        value = config if file == presets.CONFIG_FILE else {}
        with open(os.path.join(path, file), "w") as f:
            json.dump(value, f)
    return path


class PresetsTest(absltest.TestCase):
    def setUp(self):
        super().setUp()
        self.root = tempfile.mkdtemp()

    def test_file_names_are_a_runs(self):
        # A preset holds a run's model and codec files, under their names.
        self.assertEqual(presets.MODEL_FILE, run_directory.MODEL_FILE)
        self.assertEqual(presets.CODEC_FILE, vqa_codec.FILENAME)

    def test_list_presets(self):
        _write_preset(self.root, "b")
        _write_preset(self.root, "a")
        os.makedirs(os.path.join(self.root, "not_a_preset"))
        self.assertEqual(presets.list_presets(self.root), ("a", "b"))
        self.assertEqual(
            presets.list_presets(os.path.join(self.root, "x")), ()
        )

    def test_a_directory_is_a_preset(self):
        path = _write_preset(self.root, "mine")
        self.assertEqual(presets.preset_dir(path), path)
        self.assertEqual(presets.read_config(path), CONFIG)
        self.assertEqual(presets.read_metadata(path), {})

    def test_unknown_preset_lists_the_shipped_ones(self):
        shipped = ", ".join(presets.list_presets()) or "none"
        with self.assertRaisesWithLiteralMatch(
            ValueError,
            f"Unknown preset: the shipped presets are {shipped} (or give a "
            f"preset directory, one holding config.json), got "
            f"preset='nope'.",
        ):
            presets.preset_dir("nope")
        for bad in ("", None, 3):
            with self.assertRaisesWithLiteralMatch(
                ValueError,
                f"`preset` must be a preset name or directory, got "
                f"preset={bad!r}.",
            ):
                presets.preset_dir(bad)

    def test_incomplete_preset(self):
        path = _write_preset(
            self.root, "half", skip=(presets.MODEL_FILE, presets.CODEC_FILE)
        )
        with self.assertRaisesWithLiteralMatch(
            ValueError,
            f"The preset directory lacks model.keras, predictor.json (a "
            f"preset holds model.keras, predictor.json, config.json, "
            f"metadata.json), got preset={path!r}.",
        ):
            presets.preset_dir(path)

    def test_bad_config(self):
        other = dict(CONFIG, version=2)
        path = _write_preset(self.root, "v2", config=other)
        file = os.path.join(path, presets.CONFIG_FILE)
        with self.assertRaisesWithLiteralMatch(
            ValueError,
            f"The preset config must have format 'mi_zoo.preset' and "
            f"version 1, got format='mi_zoo.preset' and version=2 in "
            f"{file!r}.",
        ):
            presets.read_config(path)
        lacking = dict(CONFIG)
        del lacking["model"], lacking["image_kind"]
        path = _write_preset(self.root, "lacking", config=lacking)
        file = os.path.join(path, presets.CONFIG_FILE)
        with self.assertRaisesWithLiteralMatch(
            ValueError,
            f"The preset config lacks model, image_kind, got {file!r}.",
        ):
            presets.read_config(path)
        path = _write_preset(self.root, "list", config=[1])
        file = os.path.join(path, presets.CONFIG_FILE)
        with self.assertRaisesWithLiteralMatch(
            ValueError, f"The preset file is not a JSON object, got {file!r}."
        ):
            presets.read_config(path)
        with open(file, "w") as f:
            f.write("{")
        with self.assertRaisesRegex(
            ValueError,
            r"^The preset file is not valid JSON \(.*\), got "
            + repr(file).replace(".", r"\.")
            + r"\.$",
        ):
            presets.read_config(path)

    def test_write_json_round_trips(self):
        path = presets.write_json(self.root, "x.json", {"a": [1, 2]})
        self.assertEqual(presets.read_json(path), {"a": [1, 2]})
        self.assertEqual(os.listdir(self.root), ["x.json"])


if __name__ == "__main__":
    absltest.main()
