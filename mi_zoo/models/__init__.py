"""Registries of buildable models.

`VQA_MODELS` (see `mi_zoo.models.vqa`) maps model names to builders that take a
`VqaSpec` (what the model reads and predicts; no dataset object) and return a
plain `keras.Model`; `MATCHING_MODELS` (`mi_zoo.models.matching`) does the same
for image–text matching models and a `MatchingSpec`. `list_presets()` and
`from_preset(name)` give the trained models shipped as presets
(`mi_zoo.models.presets`, docs/presets.md).
"""

from mi_zoo.core.registry import Registry
from mi_zoo.core.specs import MatchingSpec
from mi_zoo.core.specs import VqaSpec

# Registers the Relation Network and its baseline (rn, cnn_mlp) in VQA_MODELS.
from mi_zoo.models import relation_network  # noqa: F401,E402
from mi_zoo.models.heads import answer_loss
from mi_zoo.models.heads import answer_metrics
from mi_zoo.models.language import LM_MODELS
from mi_zoo.models.language import LanguageModelConfig
from mi_zoo.models.language import build_language_model
from mi_zoo.models.language import count_parameters
from mi_zoo.models.language import initial_state
from mi_zoo.models.language import size_to_parameters
from mi_zoo.models.matching import MATCHING_MODELS
from mi_zoo.models.matching import build_matching_model
from mi_zoo.models.matching import embedding_model
from mi_zoo.models.presets import from_preset
from mi_zoo.models.presets import list_presets
from mi_zoo.models.ranking_loss import BidirectionalRankingLoss
from mi_zoo.models.ranking_loss import recall_at_k
from mi_zoo.models.vqa import VQA_MODELS
from mi_zoo.models.vqa import attention_axes
from mi_zoo.models.vqa import attention_model
from mi_zoo.models.vqa import build_vqa_model

__all__ = [
    "BidirectionalRankingLoss",
    "LM_MODELS",
    "LanguageModelConfig",
    "MATCHING_MODELS",
    "MatchingSpec",
    "Registry",
    "VQA_MODELS",
    "VqaSpec",
    "answer_loss",
    "answer_metrics",
    "attention_axes",
    "attention_model",
    "build_language_model",
    "build_matching_model",
    "build_vqa_model",
    "count_parameters",
    "embedding_model",
    "from_preset",
    "initial_state",
    "list_presets",
    "recall_at_k",
    "size_to_parameters",
]
