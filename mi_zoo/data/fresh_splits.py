"""Fresh splits of the generated VQA datasets: images and questions drawn
from any seed, as text, for evaluating a trained model (a preset or a run)
on data it has never seen.

The training pipelines draw their train, validation and test splits from
fixed seeds (Sort-of-CLEVR's `sort_of_clevr.builder.SPLIT_SEEDS`: 0, 1, 2;
CLEVR-2D's builder config seed); a fresh split takes another seed, so that
anyone can draw as many new examples as they like and re-check a published
accuracy:

>>> split = fresh_split("sort_of_clevr", seed=100, num_images=2)
>>> split.images.shape, len(split.questions)
((2, 75, 75, 3), 40)
>>> split.questions[0], split.answers[0], split.question_types[0]
('is the yellow object on the top ?', 'no', 'non_relational/top')

The questions are the datasets' own strings and the answers their answer
strings, so an evaluation goes through the same codec (`vqa_codec`) as a
user's question does. Question types are named as the training pipeline's
per-type accuracy names them (`vqa_sources.load_vqa_data(...).
question_types`, the TensorBoard tags `accuracy_by_type/<type>`).
"""

import dataclasses
from typing import Any
from typing import Mapping
from typing import Optional
from typing import Tuple

import numpy as np

from mi_zoo.core import registry
from mi_zoo.core import validation
from mi_zoo.data import clevr_2d
from mi_zoo.data import sort_of_clevr as soc
from mi_zoo.data import sources
from mi_zoo.data import vqa_sources
from mi_zoo.data.clevr_2d import builder as clevr_2d_builder
from mi_zoo.data.sort_of_clevr import builder as sort_of_clevr_builder


@dataclasses.dataclass(frozen=True)
class FreshSplit:
    """Images and questions about them, as a user would give them.

    Args:
      images: uint8 [N, H, W, 3], each image once.
      image_index: int [M], the image of each question.
      questions: M question strings.
      answers: M answer strings (the dataset's).
      question_types: M question type names.
      type_names: every type name of the dataset, in its order.
    """

    images: np.ndarray
    image_index: np.ndarray
    questions: Tuple[str, ...]
    answers: Tuple[str, ...]
    question_types: Tuple[str, ...]
    type_names: Tuple[str, ...]


#: Generated datasets by name: (seed, num_images, options) -> FreshSplit.
FRESH_SPLITS = registry.Registry("generated dataset")


def fresh_split(
    dataset: str,
    seed: int,
    num_images: int,
    options: Optional[Mapping[str, Any]] = None,
) -> FreshSplit:
    """A split of a generated dataset drawn from `seed`.

    Args:
      dataset: a name of `FRESH_SPLITS` ("sort_of_clevr", "clevr2d").
      seed: non-negative int.
      num_images: how many images (Sort-of-CLEVR asks its config's
        questions per image, 20 in "paper"; CLEVR-2D one question per
        image).
      options: the dataset's options, as `vqa_sources.load_vqa_data`
        takes them ({"config": name}).

    Raises:
      ValueError: for a dataset that is not generated, a negative or
        non-integer seed, a non-positive num_images or unknown options.
    """
    if dataset not in FRESH_SPLITS.names():
        raise ValueError(
            f"Fresh splits are drawn for the generated datasets "
            f"({', '.join(FRESH_SPLITS.names())}) only, got "
            f"dataset={dataset!r}."
        )
    if not validation.is_integer(seed) or seed < 0:
        raise ValueError(f"`seed` must be an integer >= 0, got seed={seed!r}.")
    validation.check_positive_int("num_images", num_images)
    return FRESH_SPLITS.build(dataset, int(seed), num_images, options)


def _split(images, image_index, questions, answers, types, type_names):
    return FreshSplit(
        images=np.asarray(images, np.uint8),
        image_index=np.asarray(image_index, np.int64),
        questions=tuple(questions),
        answers=tuple(answers),
        question_types=tuple(types),
        type_names=tuple(type_names),
    )


@FRESH_SPLITS.register("sort_of_clevr")
def _sort_of_clevr(seed, num_images, options) -> FreshSplit:
    opts = sources.check_options(
        "sort_of_clevr", options or {}, {"config": "paper"}
    )
    cfg = sort_of_clevr_builder._config(opts["config"])  # pylint: disable=protected-access
    a = soc.generate_arrays(
        num_images,
        seed,
        cfg.image_size,
        cfg.num_objects,
        cfg.questions_per_image,
    )
    families = a["question_family"].reshape(-1)
    names = vqa_sources.SORT_OF_CLEVR_QUESTION_TYPES
    return _split(
        a["image"],
        np.repeat(np.arange(num_images), cfg.questions_per_image),
        [
            soc.question_text(c, f)
            for c, f in zip(a["question_colour"].reshape(-1), families)
        ],
        [soc.ANSWERS[i] for i in a["answer"].reshape(-1)],
        [names[f] for f in families],
        names,
    )


@FRESH_SPLITS.register("clevr2d")
def _clevr2d(seed, num_images, options) -> FreshSplit:
    opts = sources.check_options(
        "clevr2d", options or {}, {"config": "default"}
    )
    configs = clevr_2d_builder.Clevr2d.builder_configs
    validation.check_choice(
        "options['config']", opts["config"], tuple(configs)
    )
    cfg = configs[opts["config"]]
    examples = clevr_2d.generate(
        num_images,
        seed=seed,
        image_size=cfg.image_size,
        min_objects=cfg.min_objects,
        max_objects=cfg.max_objects,
    )
    return _split(
        [e["image"] for e in examples],
        np.arange(num_images),
        [e["question"] for e in examples],
        [e["answer"] for e in examples],
        [e["question_type"] for e in examples],
        clevr_2d.QUESTION_TYPES,
    )
