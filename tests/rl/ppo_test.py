"""GAE against a float64 reference written from its definition, and the
PPO loss on hand-computed values."""

import pytest

pytest.importorskip("minigrid")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from mi_zoo.rl import ppo  # noqa: E402
from mi_zoo.training import devices  # noqa: E402
from tests import distribution  # noqa: E402

# Two logical CPUs for the mirrored test, before any TF op (Bazel runs
# this file alone; under pytest the conftest has done it).
devices.split_cpu(2)


def reference_gae(rewards, values, dones, last_values, gamma, lam):
    """A_t = Σ_l (γλ)^l δ_{t+l}, the sum stopping after the first done,
    with δ_t = r_t + γ (1 - d_t) V_{t+1} - V_t (V_T = last_values)."""
    steps, n = rewards.shape
    values_next = np.concatenate([values[1:], last_values[None]], 0)
    deltas = rewards + gamma * (1 - dones) * values_next - values
    advantages = np.zeros((steps, n))
    for env in range(n):
        for t in range(steps):
            total, weight = 0.0, 1.0
            for k in range(t, steps):
                total += weight * deltas[k, env]
                if dones[k, env]:
                    break
                weight *= gamma * lam
            advantages[t, env] = total
    return advantages, advantages + values


def test_gae_matches_the_definition():
    rng = np.random.default_rng(0)
    steps, n = 12, 5
    rewards = rng.normal(size=(steps, n))
    values = rng.normal(size=(steps, n))
    dones = rng.random((steps, n)) < 0.25
    dones[-1, 0] = True  # ends on the last step: no bootstrap
    dones[:, 1] = False  # never ends: bootstrapped from last_values
    last_values = rng.normal(size=n)
    for gamma, lam in ((0.99, 0.95), (0.9, 1.0), (0.5, 0.0)):
        adv, ret = ppo.gae(rewards, values, dones, last_values, gamma, lam)
        ref_adv, ref_ret = reference_gae(
            rewards, values, dones.astype(float), last_values, gamma, lam
        )
        np.testing.assert_allclose(adv, ref_adv, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(ret, ref_ret, rtol=1e-5, atol=1e-5)


def test_gae_bootstrap_and_done_masks_by_hand():
    rewards = np.array([[1.0, 0.0], [0.0, 1.0]])
    values = np.array([[0.5, 0.2], [0.4, 0.3]])
    dones = np.array([[True, False], [False, False]])
    last = np.array([2.0, 1.0])
    adv, _ = ppo.gae(rewards, values, dones, last, gamma=0.5, lam=0.5)
    # env 0: t=1: 0 + 0.5·2 - 0.4 = 0.6; t=0 ends: 1 - 0.5 = 0.5.
    # env 1: t=1: 1 + 0.5·1 - 0.3 = 1.2; t=0: 0 + 0.5·0.3 - 0.2 + 0.25·1.2.
    np.testing.assert_allclose(adv, [[0.5, 0.25], [0.6, 1.2]], atol=1e-6)


def test_ppo_loss_on_hand_values():
    logits = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]], np.float32))
    actions = np.array([0, 2])
    old = np.log(np.array([0.25, 0.8], np.float32))  # ratios 2 and 1
    advantages = np.array([1.0, -2.0], np.float32)
    returns = np.array([1.0, 0.0], np.float32)
    values = np.array([0.0, 0.5], np.float32)
    terms = ppo.ppo_loss(
        tf.constant(logits),
        tf.constant(values),
        actions,
        tf.constant(old),
        tf.constant(advantages),
        tf.constant(returns),
        clip_ratio=0.2,
        value_coef=0.5,
        entropy_coef=0.1,
    )
    terms = {k: v.numpy() for k, v in terms.items()}
    # ratio 2 clipped to 1.2 for A = 1: -min(2, 1.2) = -1.2; ratio 1: 2.
    np.testing.assert_allclose(terms["policy"], [-1.2, 2.0], rtol=1e-5)
    np.testing.assert_allclose(terms["value"], [0.5, 0.125], rtol=1e-5)
    entropy = [
        -(0.5 * np.log(0.5) + 0.5 * np.log(0.25)),
        -(0.2 * np.log(0.1) + 0.8 * np.log(0.8)),
    ]
    np.testing.assert_allclose(terms["entropy"], entropy, rtol=1e-5)
    np.testing.assert_allclose(
        terms["total"],
        terms["policy"] + 0.5 * terms["value"] - 0.1 * np.array(entropy),
        rtol=1e-5,
    )
    np.testing.assert_allclose(terms["clipped"], [1.0, 0.0])
    np.testing.assert_allclose(
        terms["approx_kl"], [np.log(0.5), 0.0], atol=1e-6
    )


def test_learner_step_lowers_the_loss_on_one_device_and_mirrored():
    from mi_zoo.rl import agent
    from mi_zoo.training import optimization

    rng = np.random.default_rng(0)
    batch = {
        "obs": rng.integers(0, 3, (8, 7, 7, 3)).astype(np.uint8),
        "task_id": rng.integers(0, 2, 8).astype(np.int32),
        "action": rng.integers(0, 7, 8).astype(np.int32),
        "log_prob": np.full(8, np.log(1 / 7), np.float32),
        "advantage": rng.normal(size=8).astype(np.float32),
        "return": rng.normal(size=8).astype(np.float32),
    }
    results = []
    for strategy in (
        tf.distribute.OneDeviceStrategy("/cpu:0"),
        distribution.mirrored_strategy(),
    ):
        tf.keras.utils.set_random_seed(0)
        with strategy.scope():
            model = agent.build_agent("mi", 2, hidden=8)
            optimizer = optimization.make_optimizer("sgd", 0.1)
            optimizer.build(model.trainable_variables)
        learner = ppo.Learner(model, optimizer, strategy, 8)
        first = learner.update({k: tf.constant(v) for k, v in batch.items()})
        second = learner.update({k: tf.constant(v) for k, v in batch.items()})
        assert float(second["total"]) < float(first["total"])
        results.append((float(first["total"]), float(second["total"])))
    np.testing.assert_allclose(results[0], results[1], rtol=1e-4)
    with pytest.raises(ValueError, match="multiple of the 2 replicas"):
        ppo.Learner(model, optimizer, strategy, 7)
