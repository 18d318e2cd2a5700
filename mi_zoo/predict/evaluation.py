"""Accuracy of a predictor (a preset or a run) on a fresh split of its
generated dataset, per question type.

    predictor = Predictor.from_preset("sort_of_clevr_film")
    split = fresh_splits.fresh_split("sort_of_clevr", seed=100,
                                     num_images=20)
    evaluate(predictor, split)
    # {"overall": 0.7, "by_type": {"non_relational/shape": 0.8, ...},
    #  "questions": 400}

The questions and images go through the predictor's codec as a user's do
(`VqaCodec.encode_question`, `encode_image`), each image encoded once; the
answer is the arg-max of the model's probabilities. `dataset_of(directory)`
reads which dataset (and options) a preset or a vqa run was trained on.
"""

import os
from typing import Any
from typing import Dict
from typing import Tuple

import numpy as np

from mi_zoo.core import presets
from mi_zoo.data import fresh_splits
from mi_zoo.predict import predictor as predictor_lib
from mi_zoo.training import run_directory


def evaluate(predictor, split: fresh_splits.FreshSplit) -> Dict[str, Any]:
    """The accuracy of `predictor` on `split`.

    Args:
      predictor: a `Predictor`.
      split: a `fresh_splits.FreshSplit`.

    Returns:
      {"overall": accuracy, "by_type": {type name: accuracy} (the split's
      types that have questions, in the dataset's order), "questions":
      the number of questions}.

    Raises:
      ValueError: when an answer of the split is not one of the model's
        (a split of another dataset).
    """
    codec = predictor.codec
    answer_ids = {a: i for i, a in enumerate(codec.answers)}
    unknown = sorted(set(split.answers) - set(answer_ids))
    if unknown:
        raise ValueError(
            f"The split has answers the model does not give (a split of "
            f"another dataset?), got answers {unknown[:10]}."
        )
    images = np.stack([codec.encode_image(image) for image in split.images])
    questions = np.stack([codec.encode_question(q) for q in split.questions])
    truth = np.array([answer_ids[a] for a in split.answers])
    predicted = np.zeros(len(truth), np.int64)
    step = predictor.batch_size
    for start in range(0, len(truth), step):
        rows = slice(start, start + step)
        inputs = {
            "question": questions[rows],
            "image": images[split.image_index[rows]],
        }
        predicted[rows] = np.argmax(predictor.probabilities(inputs), axis=-1)
    correct = predicted == truth
    types = np.asarray(split.question_types)
    return {
        "overall": float(np.mean(correct)),
        "by_type": {
            name: float(np.mean(correct[types == name]))
            for name in split.type_names
            if np.any(types == name)
        },
        "questions": int(len(truth)),
    }


def dataset_of(directory: str) -> Tuple[str, Dict[str, Any]]:
    """(dataset, options) that a preset directory (its config.json) or a
    vqa run (its flags.json: --dataset, --dataset_config) was trained on.

    Raises:
      FileNotFoundError: when the directory holds neither file.
    """
    if os.path.isfile(os.path.join(directory, presets.CONFIG_FILE)):
        config = presets.read_config(directory)
        return config["dataset"], dict(config["dataset_options"])
    flags_file = os.path.join(directory, run_directory.FLAGS_FILE)
    if not os.path.isfile(flags_file):
        raise FileNotFoundError(
            f"The directory holds no preset ({presets.CONFIG_FILE}) and no "
            f"run of the vqa binary ({run_directory.FLAGS_FILE}), got "
            f"{directory!r}."
        )
    settings = presets.read_json(flags_file)
    options = {}
    if settings.get("dataset_config") is not None:
        options["config"] = settings["dataset_config"]
    return settings["dataset"], options


def evaluate_directory(
    directory: str, seed: int, num_images: int
) -> Dict[str, Any]:
    """`evaluate` of the model in a preset directory or a finished vqa run
    on a fresh split (`fresh_splits.fresh_split`) of its dataset.

    Returns:
      `evaluate`'s result with "dataset", "options", "seed" and
      "num_images" added.

    Raises:
      FileNotFoundError, ValueError: as `Predictor.from_run`,
        `dataset_of` and `fresh_splits.fresh_split` do.
    """
    # A preset directory holds a run's model.keras and predictor.json.
    predictor = predictor_lib.Predictor.from_run(directory)
    dataset, options = dataset_of(directory)
    split = fresh_splits.fresh_split(dataset, seed, num_images, options)
    return {
        **evaluate(predictor, split),
        "dataset": dataset,
        "options": options,
        "seed": seed,
        "num_images": num_images,
    }
