"""Training engine: strategies, the distributed loop, checkpoints and resume,
TensorBoard summaries and the run directory.

    from mi_zoo import training
    results = training.train(task, training.TrainConfig(model_dir=...),
                             strategy=training.make_strategy("auto"))
"""

from mi_zoo.training.optimization import WarmupSchedule
from mi_zoo.training.optimization import make_optimizer
from mi_zoo.training.strategies import make_strategy
from mi_zoo.training.task import Task
from mi_zoo.training.trainer import TrainConfig
from mi_zoo.training.trainer import Trainer
from mi_zoo.training.trainer import train

__all__ = [
    "Task",
    "TrainConfig",
    "Trainer",
    "WarmupSchedule",
    "make_optimizer",
    "make_strategy",
    "train",
]
