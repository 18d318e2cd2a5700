"""`mi_zoo.models.list_presets` and `from_preset`: the shipped presets'
Keras models, by name or directory, and the unknown-name error."""

import os

from absl.testing import absltest
import keras
import numpy as np

from mi_zoo import models
from mi_zoo.core import presets


class FromPresetTest(absltest.TestCase):
    def test_every_shipped_preset_loads_its_model(self):
        self.assertEqual(models.list_presets(), presets.list_presets())
        self.assertNotEmpty(models.list_presets())
        rng = np.random.default_rng(0)
        for name in models.list_presets():
            model = models.from_preset(name)
            self.assertIsInstance(model, keras.Model)
            directory = presets.preset_dir(name)
            saved = keras.models.load_model(
                os.path.join(directory, presets.MODEL_FILE)
            )
            inputs = {
                "question": rng.integers(
                    1, 10, (2,) + model.input["question"].shape[1:]
                ),
                "image": rng.random((2,) + model.input["image"].shape[1:]),
            }
            np.testing.assert_allclose(
                model.predict(inputs, verbose=0),
                saved.predict(inputs, verbose=0),
                rtol=1e-6,
            )
            # A directory path names the same preset.
            self.assertEqual(
                models.from_preset(directory).count_params(),
                model.count_params(),
            )

    def test_unknown_preset(self):
        with self.assertRaisesRegex(
            ValueError,
            r"^Unknown preset: the shipped presets are "
            + ", ".join(models.list_presets())
            + r" \(or give a preset directory, one holding config.json\), "
            r"got preset='film'\.$",
        ):
            models.from_preset("film")


if __name__ == "__main__":
    absltest.main()
