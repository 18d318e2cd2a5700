"""VQA v2 answers: normalisation, answer vocabulary, soft scores, accuracy.

The normalisation follows the description of the official VQA evaluation
(Antol et al., "VQA: Visual Question Answering", ICCV 2015; Goyal et al.,
"Making the V in VQA Matter", CVPR 2017), written from that description:

1. newlines and tabs become spaces, the answer is stripped and lowercased;
2. punctuation: each of ; / [ ] " { } ( ) = + \\ _ - > < @ ` , ? ! is
   deleted when it touches a space or the answer has a digit-comma-digit
   group ("1,000" -> "1000"), otherwise it becomes a space; a period is
   deleted unless a digit follows it ("2.5" is kept);
3. words: number words "none", "zero" ... "ten" become digits, the articles
   "a", "an", "the" are dropped, and contractions written without their
   apostrophe get it back ("dont" -> "don't", "whats" -> "what's").

Deviations: the result is lowercase ("im" -> "i'm", where the official
table writes "I'm"; both sides of a comparison go through the same function,
so accuracy is unaffected), ground-truth answers are always normalised (the
official script skips that when all 10 agree, which only matters for answers
that normalisation would change), and contraction keys that are ordinary
words ("its", "were", "well", "ill", "id", "hell", "shed", "shell", "wed",
"whore") are left alone.

Scores: with n of the 10 annotators giving an answer, `soft_score` is the
common training target min(n / 3, 1) and `official_accuracy` the official
accuracy, the mean over the 10 subsets of 9 annotators of
min(#matches in the subset / 3, 1): the formulas of `mi_zoo.core.vqa_scores`
on NumPy arrays. The Keras loss and metrics that use them (the official
accuracy `VqaAccuracy`, formerly here) are the VQA objective's,
`mi_zoo.models.objectives`.

    vocab = vqa_answers.AnswerVocab.build(train_annotations, min_count=9)
    vocab.save("/tmp/answers.json")
    counts = vocab.dense_targets(annotation["answers"], "counts")
    model.compile(loss=objectives.answer_loss(spec),
                  metrics=objectives.answer_metrics(spec))  # y = counts
"""

import collections
import itertools
import json
import re
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from mi_zoo.core import validation
from mi_zoo.core import vqa_scores
from mi_zoo.core.vqa_scores import NUM_ANNOTATORS
from mi_zoo.data import text_vocab

_PUNCT = (";", "/", "[", "]", '"', "{", "}", "(", ")", "=", "+", "\\", "_",
          "-", ">", "<", "@", "`", ",", "?", "!")
_COMMA_NUMBER = re.compile(r"\d,\d")
_PERIOD = re.compile(r"\.(?!\d)")
_NUMBERS = {"none": "0", "zero": "0", "one": "1", "two": "2", "three": "3",
            "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
            "nine": "9", "ten": "10"}
_ARTICLES = frozenset(("a", "an", "the"))
_CONTRACTIONS = (
    "ain't aren't can't could've couldn't couldn't've didn't doesn't don't "
    "hadn't hadn't've hasn't haven't he'd he'd've he'll he's how'd how'll "
    "how's i'd i'd've i'll i'm i've isn't it'd it'd've it'll it's let's "
    "ma'am mightn't mightn't've might've mustn't must've needn't not've "
    "o'clock oughtn't shan't she'd she'd've she'll she's should've "
    "shouldn't shouldn't've somebody'd somebody'd've somebody'll somebody's "
    "someone'd someone'd've someone'll someone's something'd something'd've "
    "something'll that's there'd there'd've there're there's they'd "
    "they'd've they'll they're they've 'twas wasn't we'd we'd've we'll "
    "we're we've weren't what'll what're what's what've when's where'd "
    "where's where've who'd who'd've who'll who's who've who're why'll "
    "why're why's won't would've wouldn't wouldn't've y'all y'all'll "
    "y'all'd've you'd you'd've you'll you're you've").split()
_ORDINARY_WORDS = frozenset(
    ("its", "were", "well", "ill", "id", "hell", "shed", "shell", "wed",
     "whore", "twas"))


def _contraction_table() -> Dict[str, str]:
    """Maps every spelling with some apostrophes dropped to the full form."""
    table = {}
    for word in _CONTRACTIONS:
        parts = word.split("'")
        for keep in itertools.product((False, True), repeat=len(parts) - 1):
            if all(keep):
                continue
            key = parts[0]
            for k, part in zip(keep, parts[1:]):
                key += ("'" if k else "") + part
            if key not in _ORDINARY_WORDS:
                table[key] = word
    return table


CONTRACTIONS = _contraction_table()


def normalize_answer(answer: str) -> str:
    """Normalises an answer as the official VQA evaluation does.

    Args:
      answer: a raw answer string.

    Returns:
      The normalised answer, e.g. "2" for "Two.", "don't know" for "dont
      know", "1000" for "1,000", "dog" for "a dog".
    """
    text = answer.replace("\n", " ").replace("\t", " ").strip().lower()
    has_comma_number = _COMMA_NUMBER.search(text) is not None
    for p in _PUNCT:
        if p + " " in text or " " + p in text or has_comma_number:
            text = text.replace(p, "")
        else:
            text = text.replace(p, " ")
    text = _PERIOD.sub("", text)
    words = []
    for word in text.split():
        word = _NUMBERS.get(word, word)
        if word in _ARTICLES:
            continue
        words.append(CONTRACTIONS.get(word, word))
    return " ".join(words)


def soft_score(count) -> np.ndarray:
    """The training target min(count / 3, 1) (float32) of an answer that
    `count` annotators gave (array-like)."""
    return vqa_scores.soft_score(np.asarray(count, np.float32), np.minimum)


def official_accuracy(count, num_annotators: int = NUM_ANNOTATORS
                      ) -> np.ndarray:
    """Official VQA accuracy (float64, in [0, 1], same shape as `count`) of
    an answer that `count` of the `num_annotators` annotators gave."""
    return vqa_scores.official_accuracy(np.asarray(count, np.float64),
                                        num_annotators, np.minimum)


def answer_counts(answers: Sequence) -> Dict[str, int]:
    """Counts the normalised answers of one question's annotators.

    Args:
      answers: the annotation's "answers" list (dicts with "answer") or
        plain strings.

    Returns:
      {normalised answer: number of annotators who gave it}.
    """
    counts = collections.Counter()
    for a in answers:
        counts[normalize_answer(a["answer"] if isinstance(a, dict) else a)] += 1
    return dict(counts)


class AnswerVocab:
    """The fixed answer set (the classifier's classes).

    Args:
      answers: normalised answers in class order.
    """

    def __init__(self, answers: Sequence[str]):
        self.answers: List[str] = list(answers)
        if not self.answers:
            raise ValueError("AnswerVocab needs at least one answer.")
        if len(set(self.answers)) != len(self.answers):
            raise ValueError("AnswerVocab got duplicate answers.")
        self.index: Dict[str, int] = {a: i for i, a in enumerate(self.answers)}

    def __len__(self) -> int:
        return len(self.answers)

    @classmethod
    def build(cls, annotations: Iterable[Mapping], min_count: int = 9,
              max_size: Optional[int] = None) -> "AnswerVocab":
        """Keeps the normalised `multiple_choice_answer`s seen >= min_count
        times (9 on VQA v2 train gives the usual 3,129 answers).

        Args:
          annotations: training annotations (dicts of the official JSON).
          min_count: the frequency threshold.
          max_size: keep at most this many, most frequent first.

        Returns:
          The vocabulary, by decreasing count then alphabetically.
        """
        validation.check_positive_int("min_count", min_count)
        validation.check_positive_int("max_size", max_size, allow_none=True)
        counts = collections.Counter(
            normalize_answer(a["multiple_choice_answer"]) for a in annotations)
        kept = sorted((a for a, c in counts.items() if c >= min_count),
                      key=lambda a: (-counts[a], a))
        if max_size is not None:
            kept = kept[:max_size]
        if not kept:
            raise ValueError(f"no answer occurs min_count={min_count} times "
                             f"among {sum(counts.values())} annotations.")
        return cls(kept)

    def targets(self, answers: Sequence, scoring: str = "soft"
                ) -> Tuple[List[int], List[float]]:
        """Sparse targets of one question; answers outside the set are
        dropped (VQA practice), so a question may have no target at all.

        Args:
          answers: the annotators' answers (dicts or strings).
          scoring: "soft" (min(n/3, 1)), "official" (`official_accuracy`)
            or "counts" (n itself).

        Returns:
          (class ids, scores), sorted by class id.
        """
        validation.check_choice("scoring", scoring,
                                 ("soft", "official", "counts"))
        ids, scores = [], []
        for answer, n in answer_counts(answers).items():
            i = self.index.get(answer)
            if i is None:
                continue
            ids.append(i)
            if scoring == "soft":
                scores.append(float(soft_score(n)))
            elif scoring == "official":
                scores.append(float(official_accuracy(n)))
            else:
                scores.append(float(n))
        order = np.argsort(ids)
        return [ids[k] for k in order], [scores[k] for k in order]

    def dense_targets(self, answers: Sequence, scoring: str = "soft"
                      ) -> np.ndarray:
        """Like `targets`, as a float32 [num_answers] vector."""
        out = np.zeros(len(self), np.float32)
        ids, scores = self.targets(answers, scoring)
        out[ids] = scores
        return out

    def save(self, path: str) -> None:
        """Writes {"answers": [...]} as JSON."""
        with open(path, "w", encoding="utf-8") as f:
            json.dump({"answers": self.answers}, f, indent=0)

    @classmethod
    def load(cls, path: str) -> "AnswerVocab":
        """Reads a file written by `save`."""
        data = text_vocab.read_json(path, "answer vocabulary")
        answers = data.get("answers") if isinstance(data, dict) else None
        if not isinstance(answers, list) or not answers:
            raise ValueError(f"answer vocabulary file {path!r} must hold "
                             f"{{\"answers\": [...]}} with at least one answer.")
        return cls(answers)
