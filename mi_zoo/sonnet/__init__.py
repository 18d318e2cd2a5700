"""Sonnet 2 twins of the mi_zoo multiplicative-interaction layers.

Each module is an `snt.Module` written with `tf.*` ops that computes exactly
what its Keras twin in `mi_zoo.layers` computes, with the same argument and
shape checks and the same variable names and shapes, created lazily (with the
dtype of x) on the first call.
"""

from mi_zoo.sonnet.film import FiLM
from mi_zoo.sonnet.multiplicative_interaction import MultiplicativeInteraction

__all__ = [
    "FiLM",
    "MultiplicativeInteraction",
]
