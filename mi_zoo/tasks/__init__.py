"""Tasks: what each experiment trains, for the engine in `mi_zoo.training`.

A task binds a model of `mi_zoo.models` to a dataset of `mi_zoo.data`, a
per-example loss, metrics and TensorBoard figures (`training.Task`). The
absl binaries in `mi_zoo.experiments` only turn flags into a task and a
`TrainConfig`.
"""
