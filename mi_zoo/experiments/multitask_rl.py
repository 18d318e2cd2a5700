r"""Multitask RL of the MI paper: one PPO agent on several MiniGrid tasks.

Trains an actor-critic (conv torso over MiniGrid's 7×7×3 view, a context
layer, policy and value heads; mi_zoo/rl/agent.py) with PPO and GAE on
every task of --tasks at once (--num_envs_per_task env slots per task, each
slot with a fixed task), the task id entering the context layer as
--context says: none (not given), concat (one-hot, ConcatLinear), mi
(one-hot, full MultiplicativeInteraction) or mi_learned (learned embedding,
full MultiplicativeInteraction). Every variant is sized to about
--agent_parameters parameters.

  python -m mi_zoo.experiments.multitask_rl --model_dir=/tmp/rl_mi \
      --context=mi
  tensorboard --logdir /tmp/rl_mi   # train/success/<task>, train/return/...

Per-task success (an episode that ends with a positive reward) and return
are logged under train/ at step = frames, and the final ones (each task's
last --stats_episodes episodes) with the whole curve are in
<model_dir>/results.json. One run (100k frames, the default) takes
30-40 s on a lightly loaded CPU core (3,000-3,700 frames/s measured) and
took 200-250 s on 2 cores shared with other jobs. A killed run started
again with the same flags resumes from its last checkpoint (the envs
restart fresh). The 4 contexts × 3 seeds comparison is
benchmarks/multitask_rl_results.py.
"""

import sys

from absl import app
from absl import flags

from mi_zoo.experiments import flags as training_flags
from mi_zoo.rl import agent
from mi_zoo.rl import rl_config
from mi_zoo.rl import rl_trainer
from mi_zoo.rl import suite

# --help lists the shared flags too (they live in other modules).
flags.adopt_module_key_flags(training_flags)

_TASKS = flags.DEFINE_list(
    "tasks",
    list(suite.DEFAULT_TASKS),
    f"MiniGrid tasks trained at once, from {list(suite.TASKS.names())} "
    f"(goto_door_5x5's target is only in the unobserved mission string; "
    f"see docs/multitask.md).",
)
_CONTEXT = flags.DEFINE_enum(
    "context",
    "mi",
    list(agent.CONTEXTS.names()),
    "How the task id enters the layer between the torso and the heads: "
    "none, concat (one-hot), mi (one-hot, full MI), mi_learned (learned "
    "embedding, full MI).",
)
_TOTAL_FRAMES = flags.DEFINE_integer(
    "total_frames",
    100_000,
    "Environment frames of the run (summed over "
    "envs; rounded down to whole updates). May be raised on resume.",
    lower_bound=1,
)
_NUM_ENVS_PER_TASK = flags.DEFINE_integer(
    "num_envs_per_task",
    4,
    "Env slots per task.",
    lower_bound=1,
    upper_bound=256,
)
_ROLLOUT_LENGTH = flags.DEFINE_integer(
    "rollout_length",
    128,
    "Steps of every env per PPO update.",
    lower_bound=1,
    upper_bound=4096,
)
_PPO_EPOCHS = flags.DEFINE_integer(
    "ppo_epochs",
    4,
    "PPO passes over each rollout.",
    lower_bound=1,
    upper_bound=100,
)
_PPO_MINIBATCHES = flags.DEFINE_integer(
    "ppo_minibatches",
    8,
    "Minibatches per PPO epoch (must divide the rollout's rows).",
    lower_bound=1,
)
_CLIP_RATIO = flags.DEFINE_float(
    "clip_ratio",
    0.2,
    "PPO's clipping ε of the probability ratio.",
    lower_bound=0.0,
    upper_bound=1.0,
)
_GAMMA = flags.DEFINE_float(
    "gamma", 0.99, "Discount.", lower_bound=0.0, upper_bound=1.0
)
_GAE_LAMBDA = flags.DEFINE_float(
    "gae_lambda", 0.95, "GAE's λ.", lower_bound=0.0, upper_bound=1.0
)
_ENTROPY_COEF = flags.DEFINE_float(
    "entropy_coef", 0.01, "Weight of the entropy bonus.", lower_bound=0.0
)
_VALUE_COEF = flags.DEFINE_float(
    "value_coef", 0.5, "Weight of the value loss.", lower_bound=0.0
)
_AGENT_PARAMETERS = flags.DEFINE_integer(
    "agent_parameters",
    40000,
    "Size every context variant (its context "
    "layer's width) to about this many parameters in all.",
    lower_bound=13000,
)
_TASK_EMBEDDING_DIM = flags.DEFINE_integer(
    "task_embedding_dim",
    8,
    "Width of mi_learned's task embedding.",
    lower_bound=1,
)
_STATS_EPISODES = flags.DEFINE_integer(
    "stats_episodes",
    100,
    "The final success and return are over each "
    "task's last this many episodes.",
    lower_bound=1,
)

# Defaults of this binary for the engine's flags.
DEFAULTS = {
    "learning_rate": 1e-3,
    "clip_norm": 0.5,
    "decay": "constant",
    "log_every": 5,
    "checkpoint_every": 20,
}


def _check_tasks(names):
    """The error of a bad task list, or None."""
    try:
        suite.check_tasks(names)
    except ValueError as e:
        return str(e)
    return None


def _validate_tasks(names):
    error = _check_tasks(names)
    if error:
        raise flags.ValidationError(error)
    return True


flags.register_validator("tasks", _validate_tasks)


def make_config() -> rl_config.RLConfig:
    """The `RLConfig` of the flags; bad values raise `app.UsageError`
    naming the flags."""
    model_dir = flags.FLAGS.model_dir
    if not model_dir:
        raise app.UsageError(
            "--model_dir is required: the run directory "
            "for checkpoints, TensorBoard logs and "
            "results."
        )
    error = _check_tasks(_TASKS.value)
    if error:
        raise app.UsageError(f"--tasks={','.join(_TASKS.value)}: {error}")
    f = flags.FLAGS
    try:
        return rl_config.RLConfig(
            model_dir=model_dir,
            tasks=tuple(_TASKS.value),
            context=_CONTEXT.value,
            total_frames=_TOTAL_FRAMES.value,
            num_envs_per_task=_NUM_ENVS_PER_TASK.value,
            rollout_length=_ROLLOUT_LENGTH.value,
            epochs=_PPO_EPOCHS.value,
            minibatches=_PPO_MINIBATCHES.value,
            clip_ratio=_CLIP_RATIO.value,
            gamma=_GAMMA.value,
            gae_lambda=_GAE_LAMBDA.value,
            entropy_coef=_ENTROPY_COEF.value,
            value_coef=_VALUE_COEF.value,
            parameter_budget=_AGENT_PARAMETERS.value,
            embedding_dim=_TASK_EMBEDDING_DIM.value,
            optimizer=f.optimizer,
            learning_rate=f.learning_rate,
            decay=f.decay,
            clip_norm=f.clip_norm,
            seed=f.seed,
            log_every=f.log_every,
            checkpoint_every=f.checkpoint_every,
            keep_checkpoints=f.keep_checkpoints,
            stats_episodes=_STATS_EPISODES.value,
            overwrite=f.overwrite,
            export=f.export,
        )
    except ValueError as e:
        raise app.UsageError(
            f"--ppo_minibatches={_PPO_MINIBATCHES.value} / "
            f"--num_envs_per_task={_NUM_ENVS_PER_TASK.value} / "
            f"--rollout_length={_ROLLOUT_LENGTH.value}: {e}"
        ) from e


def train_and_report():
    """Trains as the flags say; prints and returns the results."""
    strategy = training_flags.make_strategy()
    config = make_config()
    try:
        trainer = rl_trainer.RLTrainer(
            config,
            strategy,
            settings=training_flags.settings(sys.modules[__name__]),
        )
    except ValueError as e:
        raise app.UsageError(f"--ppo_minibatches / --cpu_replicas: {e}") from e
    results = trainer.run()
    print(
        f"{config.context}: {results['parameters']:,} parameters (context "
        f"width {results['hidden']}), {results['frames']:,} frames in "
        f"{results['update']} updates, "
        f"{results['frames_per_second']:.0f} frames/s"
    )
    for task, success in results["final"]["success"].items():
        print(
            f"  {task}: success {success:.3f}, return "
            f"{results['final']['return'][task]:.3f}"
        )
    return results


main, run = training_flags.entry_points(train_and_report, DEFAULTS)


if __name__ == "__main__":
    run()
