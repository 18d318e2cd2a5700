"""The actor-critic: shapes, parameter counts, and that the task id changes
the output exactly when a context is given."""

import pytest

pytest.importorskip("minigrid")

import numpy as np  # noqa: E402

from mi_zoo.rl import agent  # noqa: E402


def _inputs():
    rng = np.random.default_rng(0)
    obs = np.stack(
        [
            rng.integers(0, 11, (7, 7)),
            rng.integers(0, 6, (7, 7)),
            rng.integers(0, 3, (7, 7)),
        ],
        -1,
    ).astype(np.uint8)
    return np.repeat(obs[None], 3, 0), np.array([0, 1, 2], np.int32)


@pytest.mark.parametrize("context", agent.CONTEXTS.names())
def test_shapes_counts_and_context_dependence(context):
    model = agent.build_agent(context, num_tasks=3, parameter_budget=30000)
    obs, task_ids = _inputs()  # the same observation, three task ids
    logits, value = (np.asarray(t) for t in model([obs, task_ids]))
    assert logits.shape == (3, 7) and value.shape == (3,)
    hidden = agent.choose_hidden(context, 3, 30000)
    assert model.count_params() == agent.parameter_count(context, 3, hidden)
    assert abs(model.count_params() - 30000) / 30000 < 0.02
    differs = not np.allclose(value[0], value[1:], atol=1e-7) or not (
        np.allclose(logits[0], logits[1:], atol=1e-7)
    )
    assert differs == (context != "none")


def test_unknown_context_names_the_registry():
    with pytest.raises(ValueError, match="Unknown context 'film'"):
        agent.build_agent("film", 3)


def test_mi_variant_has_the_smallest_width():
    widths = {
        c: agent.choose_hidden(c, 4, 40000) for c in agent.CONTEXTS.names()
    }
    assert widths["mi"] < widths["concat"] < widths["none"]
