"""mi_zoo: a TensorFlow/Keras model zoo built on multiplicative interactions.

Subpackages, by floor (a package imports only lower floors; see
docs/layout.md and tests/repo/layering_test.py):
  core: validation, registries, specs (no Keras).
  layers: Keras 3 multiplicative-interaction and conditioning layers.
  fusion, sonnet: bilinear pooling and attention fusions; Sonnet 2 twins.
  models: the model zoos (VQA, matching, language models) and objectives.
  data, training, viz: datasets, the training engine, figures (these
    import only core).
  tasks, explain, rl: what each experiment trains; explanations; multitask
    RL.
  experiments: the absl binaries.
"""

__version__ = "0.1.0"
