"""The multitask PPO loop: rollouts on the host, updates under a strategy.

    results = train(RLConfig(model_dir="/tmp/rl", context="mi"),
                    strategy=make_strategy("auto"))

Each update:
1. Rollout: every env of a `MultitaskEnv` (each slot with a fixed task)
   steps `rollout_length` times; one batched forward pass per step (a
   `tf.function`) gives the actions (sampled with stateless seeds drawn
   from the seed and the update counter), their log-probabilities and the
   values. The envs run in NumPy on the host.
2. GAE (`ppo.gae`, NumPy) and advantages normalised over the rollout.
3. `epochs` passes over the rollout in `minibatches` shuffled minibatches,
   each one `ppo.Learner` step under `strategy.run`.
4. Every `log_every` updates: train/ scalars (losses, KL, clip fraction,
   learning rate, frames/s) and per-task episode stats of the episodes
   finished since the last log: train/success/<task>, train/return/<task>,
   train/success/mean, train/return/mean, all at step = frames so far.
5. Every `checkpoint_every` updates: a checkpoint (model, optimizer, update
   and frame counters) and <model_dir>/rl_state.json (the curve so far and
   the recent episodes of every task).

Resuming: a run started again with the same settings restores the latest
checkpoint and rl_state.json and goes on from that update. The RNG of
action sampling and minibatch order is a function of (seed, update), so it
resumes exactly; the envs cannot be saved, so they are re-created and reset
with seeds drawn from (seed, update): the resumed run sees other episodes
than an uninterrupted one would, and the episodes in flight at the kill are
lost. `total_frames` may be raised on resume to train longer.

At the end: results.json (final per-task success/return over the last
`stats_episodes` episodes of each task, the curve, parameters, frames/s)
and model.keras.
"""

import collections
import dataclasses
import json
import os
import time
from typing import Dict
from typing import Mapping
from typing import Optional

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from mi_zoo.rl import agent
from mi_zoo.rl import multitask_env
from mi_zoo.rl import ppo
from mi_zoo.rl import rl_config
from mi_zoo.training import checkpoints as checkpoints_lib
from mi_zoo.training import optimization
from mi_zoo.training import progress as progress_lib
from mi_zoo.training import run_directory
from mi_zoo.training import summaries as summaries_lib

#: Settings that may change when a run is resumed.
RESUMABLE_SETTINGS = (
    "log_every",
    "checkpoint_every",
    "keep_checkpoints",
    "overwrite",
    "export",
    "total_frames",
    "cpu_replicas",
    "replicas",
    "verbosity",
)
STATE_FILE = "rl_state.json"


def _mean(values):
    return float(np.mean(values)) if len(values) else float("nan")


def episode_stats(episodes: Mapping[str, list]) -> Dict[str, object]:
    """{"success": {task: rate}, "return": {task: mean}, "episodes":
    {task: count}} of (return, length, success) lists; tasks without
    episodes are left out of the rates, and the "mean" entries average the
    tasks that have some.

    >>> stats = episode_stats({"a": [(1.0, 3, True), (0.0, 9, False)],
    ...                        "b": []})
    >>> stats["success"], stats["episodes"]
    ({'a': 0.5, 'mean': 0.5}, {'a': 2, 'b': 0})
    """
    stats = {"success": {}, "return": {}, "episodes": {}}
    for task, eps in episodes.items():
        stats["episodes"][task] = len(eps)
        if eps:
            stats["success"][task] = _mean([e[2] for e in eps])
            stats["return"][task] = _mean([e[0] for e in eps])
    for key in ("success", "return"):
        if stats[key]:
            stats[key]["mean"] = _mean(list(stats[key].values()))
    return stats


class RLTrainer:
    """Trains one multitask agent; see the module docstring. Use
    `train()`."""

    def __init__(
        self,
        config: rl_config.RLConfig,
        strategy: Optional[tf.distribute.Strategy] = None,
        settings: Optional[Mapping[str, object]] = None,
        interactive: Optional[bool] = None,
    ):
        self.config = config
        self.strategy = strategy or tf.distribute.get_strategy()
        all_settings = dataclasses.asdict(config)
        all_settings["tasks"] = list(config.tasks)
        all_settings.update(settings or {})
        all_settings["replicas"] = self.strategy.num_replicas_in_sync
        self.settings = all_settings
        self.run_dir = run_directory.RunDirectory(
            config.model_dir,
            all_settings,
            ignore=RESUMABLE_SETTINGS,
            outputs=(STATE_FILE,),
        )
        self.interactive = interactive
        if config.minibatch_size % self.strategy.num_replicas_in_sync:
            raise ValueError(
                f"the minibatch of {config.minibatch_size} rows must be a "
                f"multiple of the {self.strategy.num_replicas_in_sync} "
                f"replicas."
            )

    # ----------------------------------------------------------- building
    def _build(self):
        config = self.config
        keras.utils.set_random_seed(config.seed)
        self.hidden = agent.choose_hidden(
            config.context,
            len(config.tasks),
            config.parameter_budget,
            config.embedding_dim,
        )
        with self.strategy.scope():
            self.model = agent.build_agent(
                config.context,
                len(config.tasks),
                hidden=self.hidden,
                embedding_dim=config.embedding_dim,
            )
            steps = config.num_updates * config.epochs * config.minibatches
            schedule = optimization.WarmupSchedule(
                config.learning_rate, 0, config.decay, max(1, steps)
            )
            self.optimizer = optimization.make_optimizer(
                config.optimizer, schedule, config.clip_norm
            )
            self.optimizer.build(self.model.trainable_variables)
            self.update_counter = tf.Variable(
                0, dtype=tf.int64, trainable=False, name="update"
            )
            self.frame_counter = tf.Variable(
                0, dtype=tf.int64, trainable=False, name="frames"
            )
        self.learner = ppo.Learner(
            self.model,
            self.optimizer,
            self.strategy,
            config.minibatch_size,
            config.clip_ratio,
            config.value_coef,
            config.entropy_coef,
        )
        self._act = tf.function(self._act_fn)

    def _checkpointing(self):
        checkpoint = tf.train.Checkpoint(
            model=self.model,
            optimizer=self.optimizer,
            update=self.update_counter,
            frames=self.frame_counter,
        )
        self.store = checkpoints_lib.CheckpointStore(
            checkpoint,
            self.run_dir.checkpoints,
            max_to_keep=self.config.keep_checkpoints,
        )
        return self.store.restore_latest(report=progress_lib.message)

    def _load_state(self, update):
        """The curve and recent episodes saved with the checkpoint of
        `update` (entries after it, if the state is newer, are dropped)."""
        self.history = []
        self.recent = {
            t: collections.deque(maxlen=self.config.stats_episodes)
            for t in self.config.tasks
        }
        self.seconds = 0.0
        path = self.run_dir.file(STATE_FILE)
        if not update or not os.path.exists(path):
            return
        with open(path) as f:
            state = json.load(f)
        self.history = [h for h in state["history"] if h["update"] <= update]
        for task, eps in state["recent"].items():
            if task in self.recent:
                self.recent[task].extend(tuple(e) for e in eps)
        self.seconds = state.get("seconds", 0.0)

    def _save(self, update):
        self.store.save(update)
        self.run_dir.write_json(
            STATE_FILE,
            {
                "update": update,
                "history": self.history,
                "recent": {t: list(eps) for t, eps in self.recent.items()},
                "seconds": self.seconds + time.perf_counter() - self._start,
            },
        )

    # -------------------------------------------------------------- steps
    def _act_fn(self, obs, task_ids, seed):
        logits, values = self.model([obs, task_ids], training=False)
        logits = tf.cast(logits, tf.float32)
        actions = tf.random.stateless_categorical(
            logits, 1, seed, dtype=tf.int32
        )[:, 0]
        return (
            actions,
            ppo.log_probabilities(logits, actions),
            tf.cast(values, tf.float32),
        )

    def _rollout(self, update):
        config = self.config
        steps, n = config.rollout_length, self.env.num_envs
        obs = np.zeros((steps, n) + self._obs.shape[1:], np.uint8)
        actions = np.zeros((steps, n), np.int32)
        log_probs = np.zeros((steps, n), np.float32)
        values = np.zeros((steps, n), np.float32)
        rewards = np.zeros((steps, n), np.float32)
        dones = np.zeros((steps, n), bool)
        task_ids = tf.constant(self.task_ids)
        for t in range(steps):
            seed = tf.constant([config.seed, update * steps + t], tf.int64)
            action, log_prob, value = self._act(
                tf.constant(self._obs), task_ids, seed
            )
            obs[t] = self._obs
            actions[t] = action.numpy()
            log_probs[t] = log_prob.numpy()
            values[t] = value.numpy()
            self._obs, rewards[t], dones[t] = self.env.step(actions[t])
        _, _, last_values = self._act(
            tf.constant(self._obs),
            task_ids,
            tf.constant([config.seed, -1], tf.int64),
        )
        advantages, returns = ppo.gae(
            rewards,
            values,
            dones,
            last_values.numpy(),
            config.gamma,
            config.gae_lambda,
        )
        advantages = (advantages - advantages.mean()) / (
            advantages.std() + 1e-8
        )
        flat = lambda a: a.reshape((steps * n,) + a.shape[2:])  # noqa: E731
        return {
            "obs": flat(obs),
            "task_id": flat(np.broadcast_to(self.task_ids, (steps, n))),
            "action": flat(actions),
            "log_prob": flat(log_probs),
            "advantage": flat(advantages),
            "return": flat(returns),
        }

    def _learn(self, batch, update):
        config = self.config
        rng = np.random.default_rng([config.seed, update])
        totals = None
        for _ in range(config.epochs):
            order = rng.permutation(config.batch_size)
            for i in range(config.minibatches):
                rows = order[
                    i * config.minibatch_size : (i + 1) * config.minibatch_size
                ]
                terms = self.learner.update(
                    {k: tf.constant(v[rows]) for k, v in batch.items()}
                )
                totals = (
                    terms
                    if totals is None
                    else {k: totals[k] + v for k, v in terms.items()}
                )
        steps = config.epochs * config.minibatches
        return {k: float(v) / steps for k, v in totals.items()}

    # ---------------------------------------------------------- reporting
    def _log(self, update, frames, losses, seconds, new_frames, progress):
        episodes = self.env.pop_episodes()
        for task, eps in episodes.items():
            self.recent[task].extend(eps)
        stats = episode_stats(episodes)
        scalars = {f"loss/{k}": v for k, v in losses.items()}
        scalars["learning_rate"] = float(self.optimizer.learning_rate)
        scalars["frames_per_second"] = new_frames / max(seconds, 1e-9)
        scalars["updates"] = update
        for key in ("success", "return"):
            scalars.update({f"{key}/{t}": v for t, v in stats[key].items()})
        self.summaries.scalars("train", scalars, frames)
        self.history.append({"update": update, "frames": frames, **stats})
        progress.update(
            update,
            {
                "frames": frames,
                "success": stats["success"].get("mean", float("nan")),
                "return": stats["return"].get("mean", float("nan")),
                "fps": scalars["frames_per_second"],
            },
        )

    # --------------------------------------------------------------- run
    def run(self) -> Dict[str, object]:
        """Trains to `total_frames`; returns the results (also written to
        results.json)."""
        with self.run_dir.opened(self.config.overwrite) as resuming:
            return self._run(resuming)

    def _run(self, resuming):
        config = self.config
        self._build()
        restored = self._checkpointing()
        self.run_dir.start()
        update = int(self.update_counter.numpy())
        frames = int(self.frame_counter.numpy())
        self._load_state(update)
        self.summaries = summaries_lib.Summaries(config.model_dir)
        progress = progress_lib.Progress(
            config.num_updates, update, self.interactive
        )
        parameters = int(self.model.count_params())
        if restored:
            progress.message(
                f"Resuming from {restored} at update {update} "
                f"({frames} frames)."
            )
        elif not resuming:
            self.summaries.settings(
                self.settings,
                {
                    "context": config.context,
                    "tasks": ",".join(config.tasks),
                    "total_frames": config.total_frames,
                    "seed": config.seed,
                    "learning_rate": config.learning_rate,
                    "parameters": parameters,
                    "hidden": self.hidden,
                },
            )
        progress.message(
            f"{config.context}: {parameters:,} parameters (context width "
            f"{self.hidden}), {config.num_envs} envs, {config.num_updates} "
            f"updates of {config.batch_size} frames. TensorBoard: "
            f"tensorboard --logdir {config.model_dir}"
        )
        self.env = multitask_env.MultitaskEnv(
            config.tasks,
            config.num_envs_per_task,
            seed=config.seed + 7919 * update,
        )
        self._obs, self.task_ids = self.env.reset()
        self._start = time.perf_counter()
        start_frames = frames
        last_time, last_frames = self._start, frames
        losses_sum, losses_count = None, 0
        while update < config.num_updates:
            batch = self._rollout(update)
            losses = self._learn(batch, update)
            update += 1
            frames += config.batch_size
            self.update_counter.assign(update)
            self.frame_counter.assign(frames)
            losses_sum = (
                losses
                if losses_sum is None
                else {k: losses_sum[k] + v for k, v in losses.items()}
            )
            losses_count += 1
            if update % config.log_every == 0 or update == config.num_updates:
                now = time.perf_counter()
                self._log(
                    update,
                    frames,
                    {k: v / losses_count for k, v in losses_sum.items()},
                    now - last_time,
                    frames - last_frames,
                    progress,
                )
                losses_sum, losses_count = None, 0
                last_time, last_frames = now, frames
            if update % config.checkpoint_every == 0:
                self._save(update)
            self._after_update(update)
        return self._finish(update, frames, start_frames, parameters, progress)

    def _after_update(self, update):
        """Called after every update (a hook for tests)."""

    def _finish(self, update, frames, start_frames, parameters, progress):
        config = self.config
        elapsed = time.perf_counter() - self._start
        if update % config.checkpoint_every:
            self._save(update)
        self.env.close()
        self.summaries.flush()
        final = episode_stats({t: list(eps) for t, eps in self.recent.items()})
        results = {
            "update": update,
            "frames": frames,
            "context": config.context,
            "tasks": list(config.tasks),
            "parameters": parameters,
            "hidden": self.hidden,
            "final": final,
            "final_success_mean": final["success"].get("mean"),
            "final_return_mean": final["return"].get("mean"),
            "history": self.history,
            "frames_per_second": (frames - start_frames) / max(elapsed, 1e-9),
            "seconds": self.seconds + elapsed,
        }
        progress.message(
            f"Final success over the last {config.stats_episodes} episodes "
            "per task: "
            + ", ".join(f"{t}={v:.3f}" for t, v in final["success"].items())
        )
        if config.export:
            self.model.save(self.run_dir.file("model.keras"))
        self.run_dir.write_json(run_directory.RESULTS_FILE, results)
        logging.info(
            "Results in %s", self.run_dir.file(run_directory.RESULTS_FILE)
        )
        return results


def train(
    config: rl_config.RLConfig, strategy=None, settings=None, interactive=None
) -> Dict[str, object]:
    """Trains a multitask PPO agent; see the module docstring.

    Returns:
      {"update", "frames", "context", "tasks", "parameters", "hidden",
      "final": {"success", "return", "episodes"} over the last
      `stats_episodes` episodes per task, "final_success_mean",
      "final_return_mean", "history": the logged curve, "frames_per_second",
      "seconds"}.
    """
    return RLTrainer(config, strategy, settings, interactive).run()
