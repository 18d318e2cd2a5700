"""Settings of a multitask PPO run (the `multitask_rl` binary fills them
from its flags)."""

import dataclasses
from typing import Tuple

from mi_zoo.core import validation
from mi_zoo.rl import agent
from mi_zoo.rl import suite
from mi_zoo.training import optimization


@dataclasses.dataclass
class RLConfig:
    """Settings of `rl_trainer.train`.

    Attributes:
      model_dir: checkpoints, TensorBoard logs, flags.json, results.json.
      tasks: task names of `suite.TASKS`.
      context: a name of `agent.CONTEXTS`.
      total_frames: environment frames (steps summed over envs) to train
        for; rounded down to whole updates (at least one).
      num_envs_per_task: env slots per task (N = slots · tasks).
      rollout_length: steps of every env per update.
      epochs: passes of PPO over each rollout.
      minibatches: minibatches per epoch (N · rollout_length / minibatches
        rows each; a multiple of the replicas).
      clip_ratio: PPO's ε.
      gamma: discount; gae_lambda: GAE's λ.
      entropy_coef, value_coef: weights of the entropy bonus and the value
        loss.
      parameter_budget: size the context layer's width to about this many
        parameters in the whole model.
      embedding_dim: width of mi_learned's task embedding.
      optimizer, learning_rate, decay, clip_norm: as the engine's (the
        decay spans all optimizer steps of the run).
      seed: the weights, action sampling, minibatch order and env seeds.
      log_every: updates between train scalars and progress lines.
      checkpoint_every: updates between checkpoints.
      keep_checkpoints: checkpoints kept on disk.
      stats_episodes: final success/return are over each task's last this
        many episodes.
      overwrite: delete an earlier run in model_dir instead of refusing.
      export: write model.keras at the end.
    """

    model_dir: str
    tasks: Tuple[str, ...] = suite.DEFAULT_TASKS
    context: str = "mi"
    total_frames: int = 100_000
    num_envs_per_task: int = 4
    rollout_length: int = 128
    epochs: int = 4
    minibatches: int = 8
    clip_ratio: float = 0.2
    gamma: float = 0.99
    gae_lambda: float = 0.95
    entropy_coef: float = 0.01
    value_coef: float = 0.5
    parameter_budget: int = 40000
    embedding_dim: int = 8
    optimizer: str = "adam"
    learning_rate: float = 1e-3
    decay: str = "constant"
    clip_norm: float = 0.5
    seed: int = 0
    log_every: int = 5
    checkpoint_every: int = 20
    keep_checkpoints: int = 3
    stats_episodes: int = 100
    overwrite: bool = False
    export: bool = True

    def __post_init__(self):
        self.tasks = suite.check_tasks(self.tasks)
        validation.check_choice(
            "context", self.context, agent.CONTEXTS.names()
        )
        validation.check_choice(
            "optimizer", self.optimizer, optimization.OPTIMIZER_NAMES
        )
        validation.check_choice("decay", self.decay, optimization.DECAYS)
        for name in (
            "total_frames",
            "num_envs_per_task",
            "rollout_length",
            "epochs",
            "minibatches",
            "parameter_budget",
            "embedding_dim",
            "log_every",
            "checkpoint_every",
            "keep_checkpoints",
            "stats_episodes",
        ):
            validation.check_positive_int(name, getattr(self, name))
        if self.batch_size % self.minibatches:
            raise ValueError(
                f"`minibatches`={self.minibatches} must divide the "
                f"{self.batch_size} rows of a rollout (num_envs_per_task · "
                f"tasks · rollout_length)."
            )

    @property
    def num_envs(self) -> int:
        return self.num_envs_per_task * len(self.tasks)

    @property
    def batch_size(self) -> int:
        """Rows (frames) of one rollout."""
        return self.num_envs * self.rollout_length

    @property
    def minibatch_size(self) -> int:
        return self.batch_size // self.minibatches

    @property
    def num_updates(self) -> int:
        return max(1, self.total_frames // self.batch_size)
