"""The ground floor of mi_zoo: helpers that every other package may import.

  validation: argument and shape checks that raise a `ValueError` naming the
    offending argument (used by the layers, the data pipelines, the engine).
  registry: `Registry`, name -> builder maps (models, optimizers, strategies,
    datasets, RL tasks).
  specs: `VqaSpec` and `MatchingSpec`, what a model reads and predicts, as
    plain values shared by the data loaders and the model builders.
  vqa_scores: the soft score and the official VQA accuracy of an answer
    from the number of annotators who gave it, shared by the VQA readers'
    targets and the VQA objective (`mi_zoo.models.objectives`).

`mi_zoo.core` imports nothing else of mi_zoo, nor Keras or TensorFlow, so
that the data pipelines and the training engine can use it without pulling
in the zoo. See docs/layout.md for the floors of the packages.
"""
