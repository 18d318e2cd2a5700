"""Scores of a VQA answer from the number of annotators who gave it.

With n of the 10 annotators of a VQA v2 question giving an answer:

* `soft_score`: the common training target min(n / 3, 1);
* `official_accuracy`: the official VQA accuracy (Antol et al., ICCV 2015,
  and the official evaluation script): the mean over the 10 leave-one-out
  subsets of 9 annotators of min(#matches in the subset / 3, 1), in closed
  form ((10 - n) min(n / 3, 1) + n min((n - 1) / 3, 1)) / 10.

The soft score does not determine the accuracy (n = 3 scores 1 and is 0.9
accurate, n >= 4 scores 1 and is 1.0 accurate); the count determines both.
The formulas are written once here, on plain arithmetic and a `minimum`
function (Python's `min` by default; `np.minimum` for arrays, the Keras
backend's for tensors), for the data readers (`mi_zoo.data.vqa_answers`)
and the VQA objective (`mi_zoo.models.objectives`).

    official_accuracy(3)                    # 0.9
    official_accuracy(counts, minimum=np.minimum)
"""

#: Annotators per VQA v2 question.
NUM_ANNOTATORS = 10
#: Annotators whose agreement makes an answer fully right.
FULL_AGREEMENT = 3.0


def soft_score(count, minimum=min):
    """min(count / 3, 1): the training target of an answer that `count`
    annotators gave (`count` a float or float array of `minimum`'s kind)."""
    return minimum(count / FULL_AGREEMENT, 1.0)


def official_accuracy(count, num_annotators=NUM_ANNOTATORS, minimum=min):
    """The official VQA accuracy of an answer that `count` of the
    `num_annotators` annotators gave (same kind as `count`)."""
    # The `count` subsets that drop a matching annotator see count - 1
    # matches; the other num_annotators - count subsets see count.
    return (
        (num_annotators - count) * soft_score(count, minimum)
        + count * soft_score(count - 1.0, minimum)
    ) / num_annotators
