"""Reinforcement learning on MiniGrid: multitask actor-critic agents.

The RL counterpart of `mi_zoo.tasks`. A supervised `Task` hands the engine
a dataset; an RL agent makes its own data by acting, so it does not fit
`mi_zoo.training.trainer.train`. This package holds what the
`multitask_rl` binary needs instead, and reuses the engine's pieces (the
strategy, `RunDirectory`, `Summaries`, `Progress`, the optimizers):

  * `suite`: the task registry (short name -> MiniGrid id) and the
    default suite.
  * `multitask_env.MultitaskEnv`: N MiniGrid envs stepped on the host in
    NumPy, each slot with a fixed task, auto-reset, per-task episode stats.
  * `agent`: the actor-critic Keras model and its `CONTEXTS` registry
    (none, concat, mi, mi_learned).
  * `ppo`: generalised advantage estimation, the clipped PPO loss and the
    learner update run under `strategy.run`.
  * `rl_config.RLConfig`: the settings of a run (checked at once).
  * `rl_trainer`: rollouts, updates, logging, checkpoints and resume.
"""
