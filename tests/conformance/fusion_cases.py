"""Conformance cases of the `mi_zoo.fusion` layers (see registry.py)."""

from tests.conformance.registry import Case  # noqa: F401

# Low-rank bilinear pooling family (MLB, MLB attention, MRN/MARN).
MLB_CASES = ()

# Attention networks (BAN, DAN).
ATTENTION_CASES = ()

# Pooling fusions (MCB, MFB/MFH, MUTAN, BLOCK).
POOLING_CASES = ()

CASES = MLB_CASES + ATTENTION_CASES + POOLING_CASES
