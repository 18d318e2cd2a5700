"""The image–text matching task: a matching model on a `matching_sources`
dataset, evaluated by cross-modal retrieval.

    task = MatchingTask("clevr2d", "mdan", size="small")
    results = training.train(task, training.TrainConfig(model_dir=...))

Loss: the bidirectional hinge ranking loss of m-DAN (Nam et al., CVPR 2017;
Kiros et al. 2014) over in-batch negatives. The model maps a batch of B
matching (image i, caption i) pairs to S [B, B], S[i, j] = s(image i,
caption j); the loss of pair i is

    Σ_{j≠i} max(0, m − S[i, i] + S[i, j])    (image i -> wrong captions)
  + Σ_{j≠i} max(0, m − S[i, i] + S[j, i])    (caption i -> wrong images)

or, with `hardest_negative=True`, only the largest term of each sum (VSE++,
Faghri et al. 2018). `per_example_loss` returns exactly
`BidirectionalRankingLoss(margin, hardest_negative, reduction=None)`; its
mean over the batch equals `BidirectionalRankingLoss` with the default
reduction "sum_over_batch_size", and the engine's
`tf.nn.compute_average_loss` over the global batch gives the same number on
one device.

Distribution: the model runs on each replica's share of the batch, so S is
[B/R, B/R] and each replica's negatives are its local batch only (R
replicas: B/R − 1 negatives per pair instead of B − 1). A mirrored step is
therefore the one-device step of R independent batches of B/R, not of one
batch of B: the loss (and the in-batch recall metrics) depend on the number
of replicas.

Metrics: train — in-batch recall@1 in both directions (the positive must
beat every in-batch negative; ties count as misses). Eval (`evaluate`, on
the host): every eval caption and image is embedded once with
`embedding_model`, images are de-duplicated with `image_rows` (m-DAN's image
embedding depends only on the image, see `evaluate`), and
`retrieval_recall` gives recall@1/5/10 in both directions and rsum, plus
the in-batch loss over consecutive eval batches.
"""

from typing import Dict
from typing import Mapping
from typing import Optional

import keras
from keras import ops
import numpy as np
import tensorflow as tf

from mi_zoo import viz
from mi_zoo.data import matching_sources
from mi_zoo.models import matching as matching_models
from mi_zoo.models import ranking_loss
from mi_zoo.tasks import zoo_task
from mi_zoo.training import task as task_lib


def ranking_loss_per_example(similarity, margin=0.2, hardest_negative=False):
    """[B] bidirectional hinge loss of each pair of a [B, B] similarity
    matrix (positives on the diagonal); see the module docstring."""
    loss = ranking_loss.BidirectionalRankingLoss(
        margin, hardest_negative=hardest_negative
    )
    return loss.call(None, similarity)


def in_batch_hits(similarity):
    """([B], [B]) float32 hits at 1 of image→text and text→image retrieval
    in a [B, B] similarity matrix: the positive must score above every
    negative of its row (column); ties count as misses."""
    s = ops.convert_to_tensor(similarity)
    positive = ops.diagonal(s)
    negatives = 1.0 - ops.eye(ops.shape(s)[0], dtype=s.dtype)
    beaten_i2t = ops.sum(
        ops.cast(s >= positive[:, None], s.dtype) * negatives, axis=1
    )
    beaten_t2i = ops.sum(
        ops.cast(s >= positive[None, :], s.dtype) * negatives, axis=0
    )
    return (
        ops.cast(ops.equal(beaten_i2t, 0.0), "float32"),
        ops.cast(ops.equal(beaten_t2i, 0.0), "float32"),
    )


class MatchingTask(zoo_task.ZooTask):
    """Trains `MATCHING_MODELS[model]` on `MATCHING_DATASETS[dataset]`.

    Args:
      dataset: a name of `matching_sources.MATCHING_DATASETS`.
      model: a name of `mi_zoo.models.matching.MATCHING_MODELS`.
      size: one of the model's sizes (`MATCHING_MODELS.sizes(model)`):
        "small" (for CPUs) or "paper" (the builder's defaults).
      hyperparameters: builder arguments over the size's.
      margin: m > 0 of the hinge loss.
      hardest_negative: only the hardest in-batch negative per direction
        (VSE++) instead of the sum over all of them (m-DAN).
      num_images: eval images drawn in the image summaries.
      **kwargs: eval_batch_size, data_dir, image_kind, eval_split,
        train_limit, eval_limit and options of `ZooTask` (passed to
        `matching_sources.load_matching_data`).

    Raises:
      ValueError: on a bad margin or hardest_negative, and see `ZooTask`.
    """

    DATASETS = matching_sources.MATCHING_DATASETS
    MODELS = matching_models.MATCHING_MODELS
    load_data = staticmethod(matching_sources.load_matching_data)

    def __init__(
        self,
        dataset: str = "clevr2d",
        model: str = "mdan",
        size: str = "small",
        hyperparameters: Optional[Mapping[str, object]] = None,
        margin: float = 0.2,
        hardest_negative: bool = False,
        num_images: int = 4,
        **kwargs,
    ):
        super().__init__(
            dataset,
            model,
            size,
            hyperparameters,
            num_images=num_images,
            **kwargs,
        )
        if (
            isinstance(margin, bool)
            or not isinstance(margin, (int, float))
            or not margin > 0
        ):
            raise ValueError(
                f"`margin` (--margin) must be a positive number,"
                f" got margin={margin!r}."
            )
        if not isinstance(hardest_negative, bool):
            raise ValueError(
                f"`hardest_negative` (--hardest_negative) must "
                f"be a bool, got {hardest_negative!r}."
            )
        self.margin = float(margin)
        self.hardest_negative = hardest_negative
        self._embedders = {}
        self._embedded = None  # (model id, weights fingerprint, results)

    def named_eval(self, dataset):
        """The eval batches (inputs with "image_index") as named batches:
        the model's inputs, zero targets like the train batches', and
        {"image_index"} as info."""

        def name(inputs):
            inputs = dict(inputs)
            index = inputs.pop("image_index")
            return task_lib.named_batch(
                inputs,
                tf.zeros(tf.shape(index), tf.float32),
                {"image_index": index},
            )

        return dataset.map(name)

    # Loss and metrics.
    def per_example_loss(self, targets, outputs, inputs):
        del targets, inputs  # The pairing is given by position.
        return ranking_loss_per_example(
            outputs, self.margin, self.hardest_negative
        )

    def keras_loss(self):
        """The equivalent `BidirectionalRankingLoss` (mean over the batch of
        `per_example_loss`)."""
        return ranking_loss.BidirectionalRankingLoss(
            margin=self.margin, hardest_negative=self.hardest_negative
        )

    def make_metrics(self, mode):
        del mode
        return {
            "in_batch_r@1/image_to_text": keras.metrics.Mean(
                name="in_batch_r1_image_to_text"
            ),
            "in_batch_r@1/text_to_image": keras.metrics.Mean(
                name="in_batch_r1_text_to_image"
            ),
        }

    def update_metrics(self, metrics, targets, outputs, info=None):
        i2t, t2i = in_batch_hits(outputs)
        metrics["in_batch_r@1/image_to_text"].update_state(i2t)
        metrics["in_batch_r@1/text_to_image"].update_state(t2i)

    def hparams(self):
        return {
            **super().hparams(),
            "margin": self.margin,
            "hardest_negative": self.hardest_negative,
        }

    # Evaluation.
    def _embedder(self, model):
        key = id(model)
        if key not in self._embedders:
            embedder = matching_models.embedding_model(model)
            self._embedders = {
                key: (
                    model,
                    embedder,
                    tf.function(
                        lambda x: embedder(x, training=False),
                        reduce_retracing=True,
                    ),
                )
            }
        return self._embedders[key][2]

    def embed(self, model, batch_size: Optional[int] = None):
        """One pass over the eval set.

        Returns:
          {"image": [I, D] (one row per eval image), "text": [C, D],
          "image_index": int [C], "pictures": the first `num_images` eval
          images' model inputs ({"image"[, "boxes"]}: [n, ...]),
          "captions": int [C, T]}.
        """
        data = self.data
        fingerprint = tuple(
            float(np.sum(np.asarray(v, np.float64))) for v in model.weights
        )
        if (
            self._embedded is not None
            and self._embedded[0] == id(model)
            and self._embedded[1] == fingerprint
            and self._embedded[2] == batch_size
        ):
            return self._embedded[3]
        embed = self._embedder(model)
        images, texts, index, captions = [], [], [], []
        pictures = {}
        for batch in self.eval_batches(batch_size or self.eval_batch_size):
            index.append(batch["info"]["image_index"].numpy())
            batch = batch["inputs"]
            out = embed(batch)
            images.append(np.asarray(out["image_embedding"], np.float32))
            texts.append(np.asarray(out["text_embedding"], np.float32))
            captions.append(batch["caption"].numpy())
            for name in ("image", "boxes"):
                if name in batch:
                    pictures.setdefault(name, []).append(batch[name].numpy())
        index = np.concatenate(index)
        n = data.num_eval_images
        result = {
            # m-DAN's image embedding is a function of the image alone
            # (DualAttention(mode="matching") keeps separate visual and
            # textual memories; batch norm runs in inference mode here), so
            # any caption row of an image gives its embedding.
            "image": matching_sources.image_rows(
                np.concatenate(images), index, n
            ),
            "text": np.concatenate(texts),
            "image_index": index,
            "captions": np.concatenate(captions),
        }
        shown = min(self.num_images, n)
        result["pictures"] = {
            name: matching_sources.image_rows(np.concatenate(parts), index, n)[
                :shown
            ]
            for name, parts in pictures.items()
        }
        self._embedded = (id(model), fingerprint, batch_size, result)
        return result

    def evaluate(self, model, batch_size):
        """Retrieval recall@1/5/10 of the whole eval set in both directions,
        rsum, and "loss": the mean per-example ranking loss over consecutive
        eval batches of `batch_size` captions (in-batch negatives, as in
        training; the last batch may be smaller, and a dataset with several
        captions per image can put an image's other captions among the
        negatives)."""
        e = self.embed(model, batch_size)
        results = matching_sources.retrieval_recall(
            e["image"], e["text"], e["image_index"]
        )
        image_of_row = e["image"][e["image_index"]]  # [C, D]
        losses = []
        for start in range(0, len(e["text"]), batch_size):
            rows = slice(start, start + batch_size)
            s = image_of_row[rows] @ e["text"][rows].T
            losses.append(
                np.asarray(
                    ranking_loss_per_example(
                        s, self.margin, self.hardest_negative
                    )
                )
            )
        results["loss"] = float(np.mean(np.concatenate(losses)))
        return results

    # Figures.
    def caption_text(self, tokens) -> str:
        words = self.data.words
        return " ".join(words[t] for t in np.asarray(tokens) if t > 0)

    def summary_images(self, model) -> Dict[str, np.ndarray]:
        """ "retrieval": the first `num_images` eval images, each with its
        top-3 captions among all eval captions (score; "+" marks a true
        caption, "-" a wrong one) and its first true caption."""
        e = self.embed(model, self.eval_batch_size)
        scores = e["image"] @ e["text"].T  # [I, C]
        panels = []
        for i in range(len(next(iter(e["pictures"].values())))):
            top = np.argsort(-scores[i], kind="stable")[:3]
            true_rows = np.flatnonzero(e["image_index"] == i)
            lines = [f"true: {self.caption_text(e['captions'][true_rows[0]])}"]
            for rank, c in enumerate(top, 1):
                mark = "+" if e["image_index"][c] == i else "-"
                lines.append(
                    f"{rank}{mark} ({scores[i, c]:.2f}) "
                    f"{self.caption_text(e['captions'][c])}"
                )
            panels.append(
                viz.caption_panel(self._picture(e["pictures"], i), lines)
            )
        return {"retrieval": np.stack(viz.pad_to_same_size(panels))}

    def _picture(self, pictures, i):
        if self.data.spec.image_kind == "pixels":
            return viz.to_uint8(pictures["image"][i])
        canvas = np.full((192, 192, 3), 255, np.uint8)
        if "boxes" in pictures:
            boxes = pictures["boxes"][i]
            valid = np.any(pictures["image"][i] != 0, axis=-1)
            if valid.any():
                return viz.box_overlay(
                    canvas, boxes[valid], np.ones(int(valid.sum()))
                )
        return canvas
