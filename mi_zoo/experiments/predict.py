r"""Answers a question about your own image with a trained vqa run or a
preset.

Reads the run's (or the preset's, --preset) model.keras and predictor.json (the question words, the
answers and the image preprocessing, written by the vqa binary; see
`mi_zoo.predict.Predictor`), resizes the image as training did, and prints
the --top_k answers with their probabilities, best first, one per line
("probability  answer"). With --explain it also writes the explanation
figure over the image: Kim & Zhang's Hadamard explanation (models with a
Hadamard fusion) and the attention glimpses, the question's tokens coloured
by their scores.

  python -m mi_zoo.experiments.vqa --model=mlb --model_dir=/tmp/mlb_soc
  python -m mi_zoo.experiments.predict --model_dir=/tmp/mlb_soc \
      --image=photo.png --question="what is the shape of the red object ?" \
      --top_k=3 --explain=/tmp/photo_explained.png
  python -m mi_zoo.experiments.predict --preset=sort_of_clevr_film \
      --image=photo.png --question="is the red object on the left ?"

Runs that read images: pixels through a CNN (Sort-of-CLEVR, CLEVR-2D
pixels, CLEVR) or through a pretrained feature backbone inside the model
(the vqa binary's --image_kind=backbone, docs/predict.md); a run on
precomputed region or grid features needs those features, not an image.
"""

from absl import app
from absl import flags

from mi_zoo import predict
from mi_zoo import viz
from mi_zoo.experiments import flags as training_flags

# --model_dir is the engine's flag (one absl registry per process).
flags.declare_key_flag("model_dir", flag_values=flags.FLAGS)
_IMAGE = flags.DEFINE_string(
    "image",
    None,
    "The image: a PNG, JPEG, BMP or GIF file of any size "
    "(resized as the run's training pipeline did).",
)
_QUESTION = flags.DEFINE_string(
    "question",
    None,
    "The question, in the words of the run's dataset, "
    "e.g. 'is the red object on the left ?' for Sort-of-CLEVR.",
)
_PRESET = flags.DEFINE_string(
    "preset",
    None,
    "A shipped preset's name (mi_zoo.models.list_presets()) or a preset "
    "directory, instead of --model_dir.",
)
_TOP_K = flags.DEFINE_integer(
    "top_k", 5, "How many answers to print, best first.", lower_bound=1
)
_EXPLAIN = flags.DEFINE_string(
    "explain",
    None,
    "Also write the explanation figure (Hadamard "
    "explanation and attention over the image) to this PNG file.",
)


def predict_and_print():
    """Answers as the flags say; prints the answers and returns them."""
    model_dir = flags.FLAGS.model_dir
    if (_PRESET.value is None) == (model_dir is None):
        raise app.UsageError(
            "Give one of --model_dir and --preset, got "
            f"--model_dir={model_dir} and --preset={_PRESET.value}."
        )
    for name, holder in (("image", _IMAGE), ("question", _QUESTION)):
        if not holder.value:
            raise app.UsageError(f"--{name} is required.")
    if _PRESET.value is not None:
        predictor = predict.Predictor.from_preset(_PRESET.value)
    else:
        predictor = predict.Predictor.from_run(model_dir)
    answers = predictor(_IMAGE.value, _QUESTION.value, top_k=_TOP_K.value)
    for answer, probability in answers:
        print(f"{probability:.4f}  {answer}")
    if _EXPLAIN.value:
        figure = predictor.explain(_IMAGE.value, _QUESTION.value)
        print(f"Explanation in {viz.save_png(_EXPLAIN.value, figure)}")
    return answers


main = training_flags.main_calling(predict_and_print)


def run():
    """Entry point (`python -m mi_zoo.experiments.predict`,
    `mi-zoo-predict`)."""
    training_flags.run_binary(main, {})


if __name__ == "__main__":
    run()
