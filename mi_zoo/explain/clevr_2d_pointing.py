"""The pointing game of a VQA model on CLEVR-2D (see `pointing`).

    builder = vqa_sources.clevr_2d_builder_for(data_dir, "default")
    game = clevr_2d_pointing_game(model, builder, "validation",
                                  image_kind="pixels", num_examples=500)
    print(pointing.markdown_table(game.table()))

Each example's map is scored against the boxes of the objects its program
reads (`pointing.referents`); questions about an empty set are skipped.
Methods: "hadamard" (Kim & Zhang's ∇_v map, when the model has a Hadamard
fusion), "attention:<layer>" (each attention output's image map, averaged
over its glimpses) and "random" (i.i.d. uniform maps: the chance level).
For region inputs only the scene's real regions (not the padding) count.
"""

import json
from typing import Iterator
from typing import Optional
from typing import Tuple

import numpy as np
import tensorflow_datasets as tfds

from mi_zoo.data import clevr_2d
from mi_zoo.data.clevr_2d import builder as clevr_2d_builder
from mi_zoo.explain import explanation_figure
from mi_zoo.explain import pointing


def _scene(objects):
    """The decoded TFDS "objects" as the programs' scene dicts."""
    names = {
        "color": clevr_2d.COLORS,
        "shape": clevr_2d.SHAPES,
        "size": clevr_2d.SIZES,
        "material": clevr_2d.MATERIALS,
    }
    return [
        dict(
            {k: names[k][int(objects[k][j])] for k in names},
            position=tuple(objects["position"][j]),
            box=tuple(objects["box"][j]),
        )
        for j in range(len(objects["box"]))
    ]


def clevr_2d_examples(
    builder, split: str, image_kind: str, batch_size: int, num_examples: int
) -> Iterator[Tuple[dict, np.ndarray, list, list]]:
    """Batches of (inputs, answers [B], question types [B] (names),
    scenes [B]) of the first `num_examples` of a split, in order."""
    batches = clevr_2d_builder.clevr_2d_dataset(
        split,
        batch_size,
        0,
        image_kind=image_kind,
        builder=builder,
        shuffle=False,
        with_info=True,
        limit=num_examples,
    )
    raw = iter(
        tfds.as_numpy(
            builder.as_dataset(split=split, shuffle_files=False).take(
                num_examples
            )
        )
    )
    for inputs, answers, info in tfds.as_numpy(batches):
        examples = [next(raw) for _ in range(len(answers))]
        scenes = [
            (_scene(ex["objects"]), json.loads(ex["program"]))
            for ex in examples
        ]
        types = [clevr_2d.QUESTION_TYPES[t] for t in info["question_type"]]
        yield inputs, answers, types, scenes


def clevr_2d_pointing_game(
    model,
    builder,
    split: str = "validation",
    image_kind: str = "pixels",
    num_examples: int = 500,
    batch_size: int = 32,
    layer: Optional[str] = None,
    guided: bool = True,
    seed: int = 0,
) -> pointing.PointingGame:
    """Plays the pointing game over the first `num_examples` of a split.

    Args:
      model: a VQA zoo model trained on CLEVR-2D with `image_kind` inputs.
      builder: the prepared `Clevr2d` builder.
      split: split to read.
      image_kind: "pixels" or "regions", as the model was trained.
      num_examples: examples read (those about an empty set are skipped).
      batch_size: examples per forward/backward pass.
      layer, guided: as in `hadamard_explanation`.
      seed: seed of the random maps.

    Returns:
      The `PointingGame` (its `table()` has the scores).
    """
    game = pointing.PointingGame(seed=seed)
    for inputs, _, types, scenes in clevr_2d_examples(
        builder, split, image_kind, batch_size, num_examples
    ):
        explanation, maps = explanation_figure.explain_batch(
            model, inputs, layer=layer, guided=guided
        )
        for i, (qtype, (scene, program)) in enumerate(zip(types, scenes)):
            objects = pointing.referents(program, scene)
            if not objects:
                continue
            heats = {}
            if explanation is not None:
                heats["hadamard"] = explanation.image_map[i]
            for name, m in maps.items():
                if m.image is not None:
                    heats[f"attention:{name.split('/')[0]}"] = m.image[i].mean(
                        axis=0
                    )
            if image_kind == "regions":
                real = len(scene)  # Regions follow the objects, then pad.
                inside = np.isin(np.arange(real), objects)
                heats = {k: v[:real] for k, v in heats.items()}
            else:
                height, width = np.asarray(inputs["image"]).shape[1:3]
                inside = pointing.box_mask(
                    [scene[j]["box"] for j in objects], height, width
                )
            for method, heat in heats.items():
                game.add(method, qtype, heat, inside)
            game.add_random(qtype, inside)
    return game
