"""The MiniGrid tasks an agent can train on, by short name.

Every task shares MiniGrid's partial observation (the 7×7 view in front of
the agent, 3 uint8 channels: object, colour, state) and its 7 actions, so
one network plays all of them.

>>> from mi_zoo.rl import suite
>>> suite.DEFAULT_TASKS
('empty_5x5', 'doorkey_5x5', 'lava_gap_s5', 'unlock')
>>> suite.GYM_IDS["unlock"]
'MiniGrid-Unlock-v0'
>>> suite.make_env("empty_5x5").observation_space["image"].shape
(7, 7, 3)
>>> suite.check_tasks(["empty_5x5", "maze"])
Traceback (most recent call last):
...
ValueError: unknown task 'maze'; registered: ('doorkey_5x5', 'empty_5x5',
'four_rooms', 'goto_door_5x5', 'lava_gap_s5', 'unlock').

The default suite leaves out:

  * `goto_door_5x5`: the door to go to is named only in the mission string
    ("go to the green door"), which the agent does not observe; neither the
    observation nor the task id tells the colour, so its ceiling is chance
    (about 1 in 4) whatever the context, and it would only add noise to the
    comparison.
  * `four_rooms`: a 19×19 maze that PPO needs millions of frames to solve;
    within our budget of a few hundred thousand frames it stays near the
    random agent's ~2 % success.

Both stay registered (`--tasks=...,four_rooms`).
"""

from typing import Sequence
from typing import Tuple

from mi_zoo.core import registry

#: Observation shape and number of actions shared by every task.
OBSERVATION_SHAPE = (7, 7, 3)
NUM_ACTIONS = 7

#: Short name -> builder of a fresh gymnasium env of the task.
TASKS = registry.Registry("task")

#: Short name -> gymnasium id.
GYM_IDS = {
    "empty_5x5": "MiniGrid-Empty-5x5-v0",
    "doorkey_5x5": "MiniGrid-DoorKey-5x5-v0",
    "lava_gap_s5": "MiniGrid-LavaGapS5-v0",
    "unlock": "MiniGrid-Unlock-v0",
    "four_rooms": "MiniGrid-FourRooms-v0",
    "goto_door_5x5": "MiniGrid-GoToDoor-5x5-v0",
}


def _maker(gym_id):
    def make():
        import gymnasium  # pylint: disable=import-outside-toplevel
        import minigrid  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import

        return gymnasium.make(gym_id)

    return make


for _name, _id in GYM_IDS.items():
    TASKS.register(_name)(_maker(_id))

DEFAULT_TASKS = ("empty_5x5", "doorkey_5x5", "lava_gap_s5", "unlock")


def check_tasks(names: Sequence[str]) -> Tuple[str, ...]:
    """`names` as a tuple; raises ValueError on an unknown, repeated or
    missing name."""
    names = tuple(names)
    if not names:
        raise ValueError("no task given.")
    for name in names:
        if name not in TASKS:
            raise ValueError(
                f"unknown task {name!r}; registered: {TASKS.names()}."
            )
    if len(set(names)) != len(names):
        raise ValueError(f"a task is repeated in {list(names)}.")
    return names


def make_env(name: str):
    """A fresh gymnasium env of task `name` (minigrid imported lazily, so
    that the suite can be listed without it)."""
    return TASKS.build(name)
