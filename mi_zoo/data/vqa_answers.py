"""VQA v2 answers: normalisation, answer vocabulary, scores, accuracy.

Two normalisers, both written from the description of the official VQA
evaluation (Antol et al., "VQA: Visual Question Answering", ICCV 2015;
Goyal et al., "Making the V in VQA Matter", CVPR 2017; the evaluator
`vqaEval.py` of github.com/GT-Vision-Lab/VQA):

* the official one (`official_accuracy`, `official_prediction`,
  `official_references`), string for string, quirks included. A predicted
  answer: newlines and tabs become spaces and it is stripped; punctuation:
  each of ; / [ ] " { } ( ) = + \\ _ - > < @ ` , ? ! is deleted everywhere
  when, in the text as it came in, it touches a space or the text has a
  digit-comma-digit group ("1,000" -> "1000"), otherwise it becomes a space
  (so "x-y-; z" -> "x y z"); then the first 32 periods not followed by a
  digit are deleted ("2.5" is kept); words: lowercased, the number words
  "none", "zero" ... "ten" become digits, the articles "a", "an", "the"
  are dropped and the words of the official contraction table
  (`OFFICIAL_CONTRACTIONS`, 120 entries, some odd: "somebody'd" ->
  "somebodyd"; its capitalised keys "Im", "Ive" never match a lowercased
  word) are replaced. The annotators' answers only go through the
  punctuation step, and not even that when all of them are identical
  (so "T-Shirt", normalised to "t shirt", scores 0 against ten "t-shirt");
  they are neither stripped, lowercased nor stripped of articles. The
  accuracy is the mean over the leave-one-out subsets of the annotators of
  min(#matches in the subset / 3, 1), `mi_zoo.core.vqa_scores`.
* the cleaned-up one, `normalize_answer`, for the answer vocabulary and the
  training targets (`AnswerVocab`, `answer_counts`): the same steps
  applied alike to every answer (also the annotators', also when they
  agree), every period not followed by a digit deleted,
  and the contraction table `CONTRACTIONS` (lowercase, every spelling with
  some apostrophes dropped: "im" -> "i'm", "lets" -> "let's", except
  ordinary words such as "its", "were", "well", "ill"). It differs from
  the official rules on some answers ("I'm" against nine "im" and one
  "x" is 1.0 with it and 0.0 officially), so reported accuracies use the
  official rules; `official_accuracy(..., strict=False)` offers it only to
  compare.

Scores from a count: with n of the 10 annotators giving an answer,
`soft_score` is the common training target min(n / 3, 1) and
`count_accuracy` the official accuracy of that answer (NumPy forms of
`mi_zoo.core.vqa_scores`). The Keras loss and metrics that use them are
the VQA objective's, `mi_zoo.models.objectives`; the evaluation split of
the VQA v2 readers counts the annotators with the official rules
(`AnswerVocab.targets(..., strict=True)`), so the accuracy computed from
those counts is the official one.

    official_accuracy("Two", ["2"] * 3 + ["3"] * 7)        # 0.9
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
from typing import Dict
from typing import Iterable
from typing import List
from typing import Mapping
from typing import Optional
from typing import Sequence
from typing import Tuple

import numpy as np

from mi_zoo.core import validation
from mi_zoo.core import vqa_scores
from mi_zoo.core.vqa_scores import NUM_ANNOTATORS
from mi_zoo.data import text_vocab

_PUNCT = (
    ";",
    "/",
    "[",
    "]",
    '"',
    "{",
    "}",
    "(",
    ")",
    "=",
    "+",
    "\\",
    "_",
    "-",
    ">",
    "<",
    "@",
    "`",
    ",",
    "?",
    "!",
)
_COMMA_NUMBER = re.compile(r"\d,\d")
_PERIOD = re.compile(r"\.(?!\d)")
#: The official evaluator deletes at most this many periods of an answer.
OFFICIAL_MAX_PERIODS = 32
_NUMBERS = {
    "none": "0",
    "zero": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
}
_ARTICLES = frozenset(("a", "an", "the"))


def _pairs(text: str) -> Dict[str, str]:
    """{key: value} of a text of whitespace-separated key=value items."""
    return dict(item.split("=") for item in text.split())


#: The official evaluator's contraction table, word -> replacement, as it
#: is (its keys with capitals never match: words are lowercased first).
OFFICIAL_CONTRACTIONS = _pairs("""
    aint=ain't arent=aren't cant=can't couldve=could've couldnt=couldn't
    couldn'tve=couldn't've couldnt've=couldn't've didnt=didn't
    doesnt=doesn't dont=don't hadnt=hadn't hadnt've=hadn't've
    hadn'tve=hadn't've hasnt=hasn't havent=haven't hed=he'd hed've=he'd've
    he'dve=he'd've hes=he's howd=how'd howll=how'll hows=how's
    Id've=I'd've I'dve=I'd've Im=I'm Ive=I've isnt=isn't itd=it'd
    itd've=it'd've it'dve=it'd've itll=it'll let's=let's maam=ma'am
    mightnt=mightn't mightnt've=mightn't've mightn'tve=mightn't've
    mightve=might've mustnt=mustn't mustve=must've neednt=needn't
    notve=not've oclock=o'clock oughtnt=oughtn't ow's'at='ow's'at
    'ows'at='ow's'at 'ow'sat='ow's'at shant=shan't shed've=she'd've
    she'dve=she'd've she's=she's shouldve=should've shouldnt=shouldn't
    shouldnt've=shouldn't've shouldn'tve=shouldn't've
    somebody'd=somebodyd somebodyd've=somebody'd've
    somebody'dve=somebody'd've somebodyll=somebody'll
    somebodys=somebody's someoned=someone'd someoned've=someone'd've
    someone'dve=someone'd've someonell=someone'll someones=someone's
    somethingd=something'd somethingd've=something'd've
    something'dve=something'd've somethingll=something'll thats=that's
    thered=there'd thered've=there'd've there'dve=there'd've
    therere=there're theres=there's theyd=they'd theyd've=they'd've
    they'dve=they'd've theyll=they'll theyre=they're theyve=they've
    twas='twas wasnt=wasn't wed've=we'd've we'dve=we'd've weve=we've
    werent=weren't whatll=what'll whatre=what're whats=what's
    whatve=what've whens=when's whered=where'd wheres=where's
    whereve=where've whod=who'd whod've=who'd've who'dve=who'd've
    wholl=who'll whos=who's whove=who've whyll=why'll whyre=why're
    whys=why's wont=won't wouldve=would've wouldnt=wouldn't
    wouldnt've=wouldn't've wouldn'tve=wouldn't've yall=y'all
    yall'll=y'all'll y'allll=y'all'll yall'd've=y'all'd've
    y'alld've=y'all'd've y'all'dve=y'all'd've youd=you'd youd've=you'd've
    you'dve=you'd've youll=you'll youre=you're youve=you've
""")

# The cleaned-up table: full forms, every spelling with some apostrophes
# dropped maps to them.
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
    "y'all'd've you'd you'd've you'll you're you've"
).split()
_ORDINARY_WORDS = frozenset(
    (
        "its",
        "were",
        "well",
        "ill",
        "id",
        "hell",
        "shed",
        "shell",
        "wed",
        "whore",
        "twas",
    )
)


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


#: The cleaned-up normaliser's contraction table (lowercase).
CONTRACTIONS = _contraction_table()


def _punctuation(text: str, max_periods: Optional[int]) -> str:
    """The punctuation step: each mark is deleted when it touches a space in
    `text` as given (or `text` has a digit-comma-digit group), else becomes
    a space; then periods not followed by a digit are deleted, at most
    `max_periods` of them (None: all)."""
    delete = _COMMA_NUMBER.search(text) is not None
    out = text
    for p in _PUNCT:
        touches = p + " " in text or " " + p in text
        out = out.replace(p, "" if delete or touches else " ")
    return _PERIOD.sub("", out, count=max_periods or 0)


def _words(text: str, contractions: Mapping[str, str]) -> str:
    """The word step: lowercase, number words to digits, articles dropped,
    `contractions` replaced; words joined by single spaces."""
    words = []
    for word in text.lower().split():
        word = _NUMBERS.get(word, word)
        if word not in _ARTICLES:
            words.append(contractions.get(word, word))
    return " ".join(words)


def _strip(text: str) -> str:
    return text.replace("\n", " ").replace("\t", " ").strip()


def _text(answer) -> str:
    """An annotation's answer ({"answer": ...}) or a plain string."""
    return answer["answer"] if isinstance(answer, Mapping) else answer


def normalize_answer(answer: str) -> str:
    """The cleaned-up normaliser, for the answer vocabulary and training
    targets (see the module docstring; not the official evaluation's).

    Args:
      answer: a raw answer string.

    Returns:
      The normalised answer, e.g. "2" for "Two.", "don't know" for "dont
      know", "1000" for "1,000", "dog" for "a dog", "i'm" for "Im".

    >>> normalize_answer("Two.")
    '2'
    """
    return _words(_punctuation(_strip(answer), None), CONTRACTIONS)


def official_prediction(prediction: str) -> str:
    """A predicted answer as the official evaluator normalises it.

    Args:
      prediction: the predicted answer string.

    Returns:
      The normalised prediction, e.g. "x y z" for "x-y-; z", "im" for
      "Im" (the official table's "Im" never matches), "2 dogs" for "Two
      dogs.".

    >>> official_prediction("red/-white-blue")
    'red white blue'
    """
    return _words(
        _punctuation(_strip(prediction), OFFICIAL_MAX_PERIODS),
        OFFICIAL_CONTRACTIONS,
    )


def official_references(answers: Sequence) -> List[str]:
    """The annotators' answers as the official evaluator compares them: the
    punctuation step only, and the raw strings when all are identical.

    Args:
      answers: the annotation's "answers" list (dicts with "answer") or
        plain strings.

    Returns:
      One string per annotator, e.g. ["t shirt", "shirt"] for ["t-shirt",
      "shirt"] but ["t-shirt", "t-shirt"] for ["t-shirt", "t-shirt"].

    >>> official_references(["Two.", "a dog"])
    ['Two', 'a dog']
    """
    texts = [_text(a) for a in answers]
    if len(set(texts)) > 1:
        return [_punctuation(t, OFFICIAL_MAX_PERIODS) for t in texts]
    return texts


def official_accuracy(
    prediction: str, answers: Sequence, strict: bool = True
) -> float:
    """The VQA accuracy of one predicted answer string, as the official
    evaluator `vqaEval.py` computes it.

    Each annotator is one (the official compares the annotation dicts,
    which differ by "answer_id"): the mean over the leave-one-out subsets
    of min(#matching answers in the subset / 3, 1).

    Args:
      prediction: the predicted answer string.
      answers: the annotators' answers (the annotation's "answers" list of
        dicts with "answer", or strings), usually 10.
      strict: True: the official rules, quirks included
        (`official_prediction` against `official_references`); False: the
        cleaned-up `normalize_answer` on both sides (the rule of the
        training targets; not the official number).

    Returns:
      The accuracy, a float in [0, 1]; e.g. 0.9 for "Two" against three
      "2" and seven "3".

    Raises:
      ValueError: when `answers` is empty.

    >>> official_accuracy("Two", ["2"] * 3 + ["3"] * 7)
    0.9
    >>> official_accuracy("T-Shirt", ["t-shirt"] * 10)  # not normalised
    0.0
    >>> official_accuracy("I'm", ["im"] * 9 + ["x"], strict=False)
    1.0
    """
    texts = [_text(a) for a in answers]
    if not texts:
        raise ValueError(
            f"official_accuracy needs at least one annotator's "
            f"answer, got answers={answers!r}."
        )
    if strict:
        predicted = official_prediction(prediction)
        references = official_references(texts)
    else:
        predicted = normalize_answer(prediction)
        references = [normalize_answer(t) for t in texts]
    matches = sum(r == predicted for r in references)
    return float(vqa_scores.official_accuracy(matches, len(texts)))


def official_accuracies(
    predictions: Sequence[str],
    answers: Sequence[Sequence],
    strict: bool = True,
) -> np.ndarray:
    """`official_accuracy` of a batch of questions.

    Args:
      predictions: one predicted answer string per question.
      answers: one list of annotators' answers per question.
      strict: as in `official_accuracy`.

    Returns:
      float64 [num_questions]; its mean is the official overall accuracy.

    Raises:
      ValueError: when the two lengths differ or a question has no answer.
    """
    if len(predictions) != len(answers):
        raise ValueError(
            f"official_accuracies needs one answer list per prediction, got "
            f"{len(predictions)} predictions and len(answers)="
            f"{len(answers)}."
        )
    return np.array(
        [
            official_accuracy(p, a, strict)
            for p, a in zip(predictions, answers)
        ],
        np.float64,
    )


def soft_score(count) -> np.ndarray:
    """The training target min(count / 3, 1) (float32) of an answer that
    `count` annotators gave (array-like)."""
    return vqa_scores.soft_score(np.asarray(count, np.float32), np.minimum)


def count_accuracy(count, num_annotators: int = NUM_ANNOTATORS) -> np.ndarray:
    """Official VQA accuracy (float64, in [0, 1], same shape as `count`) of
    an answer that `count` of the `num_annotators` annotators gave."""
    return vqa_scores.official_accuracy(
        np.asarray(count, np.float64), num_annotators, np.minimum
    )


def answer_counts(answers: Sequence) -> Dict[str, int]:
    """Counts the normalised (`normalize_answer`) answers of one question's
    annotators.

    Args:
      answers: the annotation's "answers" list (dicts with "answer") or
        plain strings.

    Returns:
      {normalised answer: number of annotators who gave it}.
    """
    return dict(
        collections.Counter(normalize_answer(_text(a)) for a in answers)
    )


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
        self._forms: Optional[Dict[str, List[int]]] = None

    def __len__(self) -> int:
        return len(self.answers)

    @classmethod
    def build(
        cls,
        annotations: Iterable[Mapping],
        min_count: int = 9,
        max_size: Optional[int] = None,
    ) -> "AnswerVocab":
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
            normalize_answer(a["multiple_choice_answer"]) for a in annotations
        )
        kept = sorted(
            (a for a, c in counts.items() if c >= min_count),
            key=lambda a: (-counts[a], a),
        )
        if max_size is not None:
            kept = kept[:max_size]
        if not kept:
            raise ValueError(
                f"no answer occurs min_count={min_count} times "
                f"among {sum(counts.values())} annotations."
            )
        return cls(kept)

    def targets(
        self, answers: Sequence, scoring: str = "soft", strict: bool = False
    ) -> Tuple[List[int], List[float]]:
        """Sparse targets of one question; answers outside the set are
        dropped (VQA practice), so a question may have no target at all.

        Args:
          answers: the annotators' answers (dicts or strings).
          scoring: "soft" (min(n/3, 1)), "official" (`count_accuracy`)
            or "counts" (n itself).
          strict: how n, the annotators who gave a class's answer, is
            counted. False: their `normalize_answer` forms equal the class
            (the training targets). True: as the official evaluator
            matches the class's answer predicted: `official_references`
            equal to its `official_prediction` (evaluation; the accuracy
            from these counts is `official_accuracy`).

        Returns:
          (class ids, scores), sorted by class id.
        """
        validation.check_choice(
            "scoring", scoring, ("soft", "official", "counts")
        )
        if strict:
            counts = collections.Counter(official_references(answers))
            found = {
                i: counts[form]
                for form, ids in self._official_forms().items()
                if form in counts
                for i in ids
            }
        else:
            found = {
                self.index[a]: n
                for a, n in answer_counts(answers).items()
                if a in self.index
            }
        ids = sorted(found)
        n = np.array([found[i] for i in ids], np.float64)
        if scoring == "soft":
            scores = soft_score(n)
        elif scoring == "official":
            scores = count_accuracy(n, len(answers))
        else:
            scores = n
        return ids, [float(s) for s in scores]

    def _official_forms(self) -> Dict[str, List[int]]:
        """{official_prediction(answer): class ids}, computed once."""
        if self._forms is None:
            self._forms = collections.defaultdict(list)
            for i, answer in enumerate(self.answers):
                self._forms[official_prediction(answer)].append(i)
        return self._forms

    def dense_targets(
        self, answers: Sequence, scoring: str = "soft", strict: bool = False
    ) -> np.ndarray:
        """Like `targets`, as a float32 [num_answers] vector."""
        out = np.zeros(len(self), np.float32)
        ids, scores = self.targets(answers, scoring, strict)
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
            raise ValueError(
                f"answer vocabulary file {path!r} must hold "
                f'{{"answers": [...]}} with at least one answer.'
            )
        return cls(answers)
