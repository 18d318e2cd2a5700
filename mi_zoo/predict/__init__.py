"""Answers to questions about a user's own image, from a trained run.

    predictor = Predictor.from_run("/tmp/vqa")
    predictor("photo.png", "what is the shape of the red object ?")
    # [("circle", 0.93), ("square", 0.06), ...]

`Predictor.from_preset(name)` reads a shipped preset (or a preset
directory, docs/presets.md); `evaluation.evaluate` measures a predictor on
a fresh split of its generated dataset (the evaluate binary).
`Predictor.from_run` reads a run directory of the vqa binary: the model
(model.keras) and its codec (predictor.json: question words, answers, image
preprocessing; `mi_zoo.data.vqa_codec`). `python -m mi_zoo.experiments.predict`
(`mi-zoo-predict`) is its command line.
"""

from mi_zoo.predict.predictor import Predictor

__all__ = ["Predictor"]
