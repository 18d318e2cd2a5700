"""PPO (Schulman et al., 2017) with generalised advantage estimation.

  * `gae`: advantages and returns of a rollout, in NumPy on the host.
  * `ppo_loss`: the per-example clipped surrogate, value and entropy terms.
  * `Learner`: one optimizer step on a minibatch, as a `tf.function` run
    under `strategy.run` (each replica takes its slice of the minibatch; the
    losses are averaged over the *global* minibatch, and the optimizer sums
    the replicas' gradients, so a mirrored step equals a one-device step).

>>> import numpy as np
>>> from mi_zoo.rl import ppo
>>> adv, ret = ppo.gae(rewards=np.array([[0.], [1.]]),
...                    values=np.array([[0.5], [0.5]]),
...                    dones=np.array([[False], [True]]),
...                    last_values=np.array([9.]), gamma=0.9, lam=1.0)
>>> [round(float(r), 3) for r in ret[:, 0]]  # ends at t=1: no bootstrap
[0.9, 1.0]
"""

from typing import Dict

import numpy as np
import tensorflow as tf


def gae(rewards, values, dones, last_values, gamma: float, lam: float):
    """Generalised advantage estimates of a rollout of T steps of N envs.

    With the episode of env n ending at step t when dones[t, n] (the value
    after it is then not bootstrapped):

        δ_t = r_t + γ (1 - d_t) V_{t+1} - V_t
        A_t = δ_t + γ λ (1 - d_t) A_{t+1}

    where V_T is `last_values`, the value of the observation after the
    rollout. A truncated episode (MiniGrid's step limit) counts as ended.

    Args:
      rewards, values: float [T, N].
      dones: bool [T, N].
      last_values: float [N].
      gamma: discount γ; lam: GAE's λ.

    Returns:
      (advantages, returns = advantages + values), float32 [T, N].
    """
    rewards = np.asarray(rewards, np.float64)
    values = np.asarray(values, np.float64)
    not_done = 1.0 - np.asarray(dones, np.float64)
    steps = rewards.shape[0]
    advantages = np.zeros_like(rewards)
    next_values = np.asarray(last_values, np.float64)
    next_advantage = np.zeros_like(next_values)
    for t in reversed(range(steps)):
        delta = rewards[t] + gamma * not_done[t] * next_values - values[t]
        next_advantage = delta + gamma * lam * not_done[t] * next_advantage
        advantages[t] = next_advantage
        next_values = values[t]
    return (
        advantages.astype(np.float32),
        (advantages + values).astype(np.float32),
    )


def log_probabilities(logits, actions):
    """log π(a|s) of integer `actions` [B] under `logits` [B, A]."""
    log_pi = tf.nn.log_softmax(logits)
    return tf.gather(log_pi, tf.cast(actions, tf.int32), batch_dims=1)


def ppo_loss(
    logits,
    values,
    actions,
    old_log_probs,
    advantages,
    returns,
    clip_ratio: float = 0.2,
    value_coef: float = 0.5,
    entropy_coef: float = 0.01,
) -> Dict[str, tf.Tensor]:
    """Per-example PPO terms, each [B]:

        ratio = π(a|s) / π_old(a|s)
        policy = -min(ratio · A, clip(ratio, 1 - ε, 1 + ε) · A)
        value = ½ (R - V(s))²
        entropy = -Σ_a π(a|s) log π(a|s)
        total = policy + value_coef · value - entropy_coef · entropy

    plus `approx_kl` (old log π - new log π, whose mean estimates
    KL(π_old ‖ π)) and `clipped` (1 where |ratio - 1| > ε).
    """
    logits = tf.cast(logits, tf.float32)
    values = tf.cast(values, tf.float32)
    log_probs = log_probabilities(logits, actions)
    ratio = tf.exp(log_probs - old_log_probs)
    clipped_ratio = tf.clip_by_value(ratio, 1 - clip_ratio, 1 + clip_ratio)
    policy = -tf.minimum(ratio * advantages, clipped_ratio * advantages)
    value = 0.5 * tf.square(returns - values)
    log_pi = tf.nn.log_softmax(logits)
    entropy = -tf.reduce_sum(tf.exp(log_pi) * log_pi, axis=-1)
    total = policy + value_coef * value - entropy_coef * entropy
    return {
        "total": total,
        "policy": policy,
        "value": value,
        "entropy": entropy,
        "approx_kl": old_log_probs - log_probs,
        "clipped": tf.cast(tf.abs(ratio - 1) > clip_ratio, tf.float32),
    }


class Learner:
    """PPO updates of `model` with `optimizer` under `strategy`.

    Build the model and the optimizer under `strategy.scope()` first.
    `update(batch)` takes a minibatch {"obs", "task_id", "action",
    "log_prob", "advantage", "return"} of `minibatch_size` rows (a multiple
    of the replicas) and returns the mean of each `ppo_loss` term.
    """

    def __init__(
        self,
        model,
        optimizer,
        strategy,
        minibatch_size: int,
        clip_ratio: float = 0.2,
        value_coef: float = 0.5,
        entropy_coef: float = 0.01,
    ):
        replicas = strategy.num_replicas_in_sync
        if minibatch_size % replicas:
            raise ValueError(
                f"the minibatch of {minibatch_size} rows must "
                f"be a multiple of the {replicas} replicas."
            )
        self.model = model
        self.optimizer = optimizer
        self.strategy = strategy
        self.minibatch_size = minibatch_size
        self.clip_ratio = clip_ratio
        self.value_coef = value_coef
        self.entropy_coef = entropy_coef
        self._update = tf.function(self._update_fn)

    def _split(self, batch):
        n = self.strategy.num_replicas_in_sync

        def slice_for(context):
            index = context.replica_id_in_sync_group
            return {k: tf.split(v, n)[index] for k, v in batch.items()}

        return self.strategy.experimental_distribute_values_from_function(
            slice_for
        )

    def _replica_step(self, batch):
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            logits, values = self.model(
                [batch["obs"], batch["task_id"]], training=True
            )
            terms = ppo_loss(
                logits,
                values,
                batch["action"],
                batch["log_prob"],
                batch["advantage"],
                batch["return"],
                self.clip_ratio,
                self.value_coef,
                self.entropy_coef,
            )
            loss = tf.nn.compute_average_loss(
                terms["total"], global_batch_size=self.minibatch_size
            )
        grads = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(grads, variables))
        return {
            k: tf.reduce_sum(v) / self.minibatch_size for k, v in terms.items()
        }

    def _update_fn(self, batch):
        per_replica = self.strategy.run(
            self._replica_step, args=(self._split(batch),)
        )
        return {
            k: self.strategy.reduce("SUM", v, axis=None)
            for k, v in per_replica.items()
        }

    def update(self, batch) -> Dict[str, tf.Tensor]:
        """One optimizer step; {term: mean over the minibatch} (scalar
        tensors: read them once per update, not per step)."""
        return self._update(batch)
