"""mi_zoo: a TensorFlow/Keras model zoo built on multiplicative interactions.

Subpackages:
  layers: Keras 3 multiplicative-interaction and conditioning layers.
  sonnet: Sonnet 2 twins of the MI layers.
  experiments: absl binaries.
"""

__version__ = "0.1.0"
