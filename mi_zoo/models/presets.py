"""Trained models by preset name, keras-hub style.

    from mi_zoo import models
    models.list_presets()                      # ('sort_of_clevr_film', ...)
    model = models.from_preset("sort_of_clevr_film")   # a keras.Model
    model = models.from_preset("/path/to/my_preset")   # a preset directory

A preset is a directory of files (`mi_zoo.core.presets`, docs/presets.md):
this floor loads only its Keras model. The model's words, answers and image
preprocessing (predictor.json) are read by the data floor, which the models
floor may not import, so a model that answers questions about images is
`mi_zoo.predict.Predictor.from_preset(name)`.
"""

import os

import keras

from mi_zoo.core import presets

# Registers the zoo's layers, which the saved models name.
from mi_zoo.models import relation_network  # noqa: F401
from mi_zoo.models import vqa  # noqa: F401


def list_presets():
    """The names of the shipped presets, sorted (`core.presets`)."""
    return presets.list_presets()


def from_preset(preset: str) -> keras.Model:
    """The Keras model of a preset: a shipped preset's name, or the path of
    a preset directory.

    Args:
      preset: a name of `list_presets()` or a preset directory.

    Returns:
      The trained `keras.Model` (inputs "question", "image"; outputs the
      answer logits).

    Raises:
      ValueError: for an unknown preset (listing the shipped ones) or an
        incomplete preset directory.

    Example:

        model = from_preset("sort_of_clevr_film")
        model.input_shape  # {"question": (None, 13), "image": (None, 75, 75, 3)}
    """
    directory = presets.preset_dir(preset)
    return keras.models.load_model(os.path.join(directory, presets.MODEL_FILE))
