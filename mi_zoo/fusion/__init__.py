"""Multimodal fusion and attention layers: layer(x, y) -> joint representation.

Bilinear pooling (MLB, MCB, MFB/MFH, MUTAN, BLOCK), multimodal residual
learning (MRN/MARN), bilinear attention (BAN) and dual attention (DAN), all
Keras 3 layers written with `keras.ops`.
"""

# Low-rank bilinear pooling family (MLB, MLB attention, MRN/MARN).
_MLB = []

# Attention networks (BAN, DAN).
_ATTENTION = []

# Pooling fusions (MCB, MFB/MFH, MUTAN, BLOCK).
_POOLING = []

__all__ = _MLB + _ATTENTION + _POOLING
