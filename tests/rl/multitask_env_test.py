"""The multitask env: fixed task per slot, auto-reset, per-task stats."""

import pytest

pytest.importorskip("minigrid")

import numpy as np  # noqa: E402

from mi_zoo.rl import multitask_env  # noqa: E402
from mi_zoo.rl import rl_trainer  # noqa: E402
from mi_zoo.rl import suite  # noqa: E402


def test_task_ids_fixed_auto_reset_and_episode_stats():
    env = multitask_env.MultitaskEnv(
        ["empty_5x5", "lava_gap_s5"], num_envs_per_task=2, seed=3
    )
    obs, task_ids = env.reset()
    assert obs.shape == (4, 7, 7, 3) and obs.dtype == np.uint8
    np.testing.assert_array_equal(task_ids, [0, 0, 1, 1])
    rng = np.random.default_rng(0)
    done_count = np.zeros(4, int)
    returns = np.zeros(4)
    finished = {0: [], 1: []}
    for _ in range(400):
        obs, rewards, dones = env.step(rng.integers(0, 7, 4))
        assert obs.shape == (4, 7, 7, 3)
        returns += rewards
        for i in np.flatnonzero(dones):
            finished[task_ids[i]].append(returns[i])
            returns[i] = 0  # auto-reset: the slot plays a new episode
        done_count += dones
        np.testing.assert_array_equal(env.task_ids, [0, 0, 1, 1])
    assert (done_count > 0).all()  # every slot finished episodes, went on
    episodes = env.pop_episodes()
    assert set(episodes) == {"empty_5x5", "lava_gap_s5"}
    for t, name in enumerate(("empty_5x5", "lava_gap_s5")):
        got = [e[0] for e in episodes[name]]
        assert len(got) == len(finished[t])
        np.testing.assert_allclose(sorted(got), sorted(finished[t]), atol=1e-5)
        for ret, length, success in episodes[name]:
            assert success == (ret > 0) and length >= 1
    assert env.pop_episodes() == {"empty_5x5": [], "lava_gap_s5": []}
    env.close()


def test_episode_lengths_and_success_on_a_solved_episode():
    env = multitask_env.MultitaskEnv(["empty_5x5"], num_envs_per_task=1)
    env.reset()
    # Empty-5x5 starts at (1, 1) facing right with the goal at (3, 3):
    # forward, forward, right, forward, forward.
    for action in (2, 2, 1, 2):
        _, reward, done = env.step([action])
        assert not done[0] and reward[0] == 0
    _, reward, done = env.step([2])
    assert done[0] and reward[0] > 0
    ((ret, length, success),) = env.pop_episodes()["empty_5x5"]
    assert length == 5 and success and ret == pytest.approx(reward[0])
    stats = rl_trainer.episode_stats(
        {"empty_5x5": [(ret, length, success)], "unlock": []}
    )
    assert stats["success"] == {"empty_5x5": 1.0, "mean": 1.0}


def test_bad_tasks_and_sizes():
    with pytest.raises(ValueError, match="unknown task 'maze'"):
        multitask_env.MultitaskEnv(["maze"])
    with pytest.raises(ValueError, match="repeated"):
        suite.check_tasks(["unlock", "unlock"])
    with pytest.raises(ValueError, match="num_envs_per_task"):
        multitask_env.MultitaskEnv(["unlock"], num_envs_per_task=0)
    env = multitask_env.MultitaskEnv(["unlock"], num_envs_per_task=2)
    env.reset()
    with pytest.raises(ValueError, match="actions"):
        env.step([1, 2, 3])
