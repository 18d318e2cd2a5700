"""Several MiniGrid tasks as one batched environment, stepped on the host."""

from typing import Dict
from typing import List
from typing import Sequence

import numpy as np

from mi_zoo.rl import suite


class MultitaskEnv:
    """`num_envs_per_task` MiniGrid envs of each task, stepped in NumPy.

    Env slot i always plays task `task_ids[i]` (slots are grouped by task:
    the first `num_envs_per_task` play task 0, and so on). An env whose
    episode ends (terminated or truncated) is reset at once, so `step`
    always returns the first observation of the next episode for it; the
    finished episode's return, length and success (it ended with a positive
    reward: MiniGrid gives reward only on reaching the goal) are recorded
    per task and handed out by `pop_episodes`.

    Args:
      tasks: task names of `suite.TASKS`.
      num_envs_per_task: env slots per task.
      seed: seeds the first reset of slot i with `seed * 100003 + i` (later
        resets continue each env's own generator).

    >>> from mi_zoo.rl.multitask_env import MultitaskEnv
    >>> env = MultitaskEnv(["empty_5x5", "unlock"], num_envs_per_task=2)
    >>> obs, task_ids = env.reset()
    >>> obs.shape, obs.dtype, task_ids.tolist()
    ((4, 7, 7, 3), dtype('uint8'), [0, 0, 1, 1])
    >>> obs, rewards, dones = env.step([2, 2, 2, 2])
    >>> rewards.shape, dones.dtype
    ((4,), dtype('bool'))
    """

    def __init__(
        self, tasks: Sequence[str], num_envs_per_task: int = 1, seed: int = 0
    ):
        self.tasks = suite.check_tasks(tasks)
        if not isinstance(num_envs_per_task, int) or num_envs_per_task < 1:
            raise ValueError(
                f"`num_envs_per_task` must be an int >= 1, got "
                f"{num_envs_per_task!r}."
            )
        self.num_envs_per_task = num_envs_per_task
        self.seed = seed
        self.task_ids = np.repeat(
            np.arange(len(self.tasks), dtype=np.int32), num_envs_per_task
        )  # [N]
        # Unwrapped: gymnasium's checking wrappers cost ~10 % of a step;
        # MiniGrid ends episodes at its own step limit.
        self.envs = [
            suite.make_env(self.tasks[t]).unwrapped for t in self.task_ids
        ]
        n = len(self.envs)
        self._returns = np.zeros(n, np.float64)
        self._lengths = np.zeros(n, np.int64)
        self._obs = np.zeros((n,) + suite.OBSERVATION_SHAPE, np.uint8)
        self._episodes: List[List[tuple]] = [[] for _ in self.tasks]

    @property
    def num_envs(self) -> int:
        return len(self.envs)

    def reset(self):
        """Resets every env; returns (obs uint8 [N, 7, 7, 3], task ids
        int32 [N])."""
        for i, env in enumerate(self.envs):
            obs, _ = env.reset(seed=self.seed * 100003 + i)
            self._obs[i] = obs["image"]
        self._returns[:] = 0
        self._lengths[:] = 0
        return self._obs.copy(), self.task_ids.copy()

    def step(self, actions):
        """Steps every env with its action; returns (obs uint8 [N, 7, 7, 3],
        rewards float32 [N], dones bool [N]). For a done env, obs is the
        first observation of its next episode."""
        actions = np.asarray(actions)
        if actions.shape != (self.num_envs,):
            raise ValueError(
                f"`actions` must have shape ({self.num_envs},), "
                f"got {actions.shape}."
            )
        rewards = np.zeros(self.num_envs, np.float32)
        dones = np.zeros(self.num_envs, bool)
        for i, env in enumerate(self.envs):
            obs, reward, terminated, truncated, _ = env.step(int(actions[i]))
            rewards[i] = reward
            self._returns[i] += reward
            self._lengths[i] += 1
            if terminated or truncated:
                dones[i] = True
                self._episodes[self.task_ids[i]].append(
                    (
                        float(self._returns[i]),
                        int(self._lengths[i]),
                        bool(reward > 0),
                    )
                )
                self._returns[i] = 0
                self._lengths[i] = 0
                obs, _ = env.reset()
            self._obs[i] = obs["image"]
        return self._obs.copy(), rewards, dones

    def pop_episodes(self) -> Dict[str, List[tuple]]:
        """{task: [(return, length, success)]} of the episodes finished
        since the last call, in order of finishing."""
        episodes = {
            name: list(eps) for name, eps in zip(self.tasks, self._episodes)
        }
        for eps in self._episodes:
            eps.clear()
        return episodes

    def close(self):
        for env in self.envs:
            env.close()
