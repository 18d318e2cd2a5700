"""Multimodal fusion and attention layers: layer(x, y) -> joint representation.

Bilinear pooling (MLB, MCB, MFB/MFH, MUTAN, BLOCK, Tucker, Block-Tucker),
the additive and concatenation baselines (LinearSum, ConcatMLP), multimodal
residual learning (MRN/MARN), bilinear attention (BAN) with its counting
module (Counter), dual attention (DAN) and the Relation Network (RN), all
Keras 3 layers written with `keras.ops`.
"""

from mi_zoo.fusion.bilinear_attention import BilinearAttention
from mi_zoo.fusion.bilinear_attention_network import BilinearAttentionNetwork
from mi_zoo.fusion.block import Block
from mi_zoo.fusion.block import BlockTucker
from mi_zoo.fusion.compact_bilinear_pooling import CompactBilinearPooling
from mi_zoo.fusion.concat_mlp import ConcatMLP
from mi_zoo.fusion.counter import Counter
from mi_zoo.fusion.dual_attention import DualAttention
from mi_zoo.fusion.factorized_bilinear_pooling import FactorizedBilinearPooling
from mi_zoo.fusion.glimpse_attention import GlimpseAttention
from mi_zoo.fusion.linear_sum import LinearSum
from mi_zoo.fusion.low_rank_bilinear_pooling import LowRankBilinearPooling
from mi_zoo.fusion.mlb_attention import MLBAttention
from mi_zoo.fusion.multimodal_residual import MultimodalResidual
from mi_zoo.fusion.mutan import Mutan
from mi_zoo.fusion.relation_network import RelationNetwork
from mi_zoo.fusion.tucker import Tucker

# Low-rank bilinear pooling family (MLB, MLB attention, MRN/MARN).
_MLB = ["LowRankBilinearPooling", "MLBAttention", "MultimodalResidual"]
# Attention networks (BAN, DAN).
_ATTENTION = [
    "BilinearAttention",
    "BilinearAttentionNetwork",
    "Counter",
    "DualAttention",
    "GlimpseAttention",
]
# Pooling fusions (MCB, MFB/MFH, MUTAN, BLOCK, Tucker, Block-Tucker) and
# block.bootstrap's baselines (LinearSum, ConcatMLP).
_POOLING = [
    "Block",
    "BlockTucker",
    "CompactBilinearPooling",
    "ConcatMLP",
    "FactorizedBilinearPooling",
    "LinearSum",
    "Mutan",
    "Tucker",
]
# Relational reasoning (RN).
_RELATIONAL = ["RelationNetwork"]

__all__ = _MLB + _ATTENTION + _POOLING + _RELATIONAL
