"""Registries of buildable models.

`VQA_MODELS` (see `mi_zoo.models.vqa`) maps model names to builders that take a
`VqaSpec` (what the model reads and predicts; no dataset object) and return a
plain `keras.Model`.
"""

from mi_zoo.models.heads import answer_loss
from mi_zoo.models.heads import answer_metrics
from mi_zoo.models.registry import Registry
from mi_zoo.models.vqa import VQA_MODELS
from mi_zoo.models.vqa import attention_model
from mi_zoo.models.vqa import build_vqa_model
from mi_zoo.models.vqa_spec import VqaSpec

__all__ = [
    "Registry",
    "VQA_MODELS",
    "VqaSpec",
    "answer_loss",
    "answer_metrics",
    "attention_model",
    "build_vqa_model",
]
