"""`vqa_answers.official_accuracy` against the official VQA evaluator.

The reference below is an independent transcription of the rules of the
official `vqaEval.py` (github.com/GT-Vision-Lab/VQA), written from its
published description in a different form from the library's (character
scans instead of string replacement and regular expressions, the
contraction table grouped by replacement, the leave-one-out average by
enumerating the subsets), checked on generated questions and on one case
per quirk.
"""

import random

from absl.testing import absltest
from absl.testing import parameterized
import numpy as np

from mi_zoo.data import vqa_answers

# The official table, grouped by replacement: {replacement: [words]}.
OFFICIAL_BY_REPLACEMENT = {
    "ain't": ["aint"],
    "aren't": ["arent"],
    "can't": ["cant"],
    "could've": ["couldve"],
    "couldn't": ["couldnt"],
    "couldn't've": ["couldn'tve", "couldnt've"],
    "didn't": ["didnt"],
    "doesn't": ["doesnt"],
    "don't": ["dont"],
    "hadn't": ["hadnt"],
    "hadn't've": ["hadnt've", "hadn'tve"],
    "hasn't": ["hasnt"],
    "haven't": ["havent"],
    "he'd": ["hed"],
    "he'd've": ["hed've", "he'dve"],
    "he's": ["hes"],
    "how'd": ["howd"],
    "how'll": ["howll"],
    "how's": ["hows"],
    "I'd've": ["Id've", "I'dve"],
    "I'm": ["Im"],
    "I've": ["Ive"],
    "isn't": ["isnt"],
    "it'd": ["itd"],
    "it'd've": ["itd've", "it'dve"],
    "it'll": ["itll"],
    "let's": ["let's"],
    "ma'am": ["maam"],
    "mightn't": ["mightnt"],
    "mightn't've": ["mightnt've", "mightn'tve"],
    "might've": ["mightve"],
    "mustn't": ["mustnt"],
    "must've": ["mustve"],
    "needn't": ["neednt"],
    "not've": ["notve"],
    "o'clock": ["oclock"],
    "oughtn't": ["oughtnt"],
    "'ow's'at": ["ow's'at", "'ows'at", "'ow'sat"],
    "shan't": ["shant"],
    "she'd've": ["shed've", "she'dve"],
    "she's": ["she's"],
    "should've": ["shouldve"],
    "shouldn't": ["shouldnt"],
    "shouldn't've": ["shouldnt've", "shouldn'tve"],
    "somebodyd": ["somebody'd"],
    "somebody'd've": ["somebodyd've", "somebody'dve"],
    "somebody'll": ["somebodyll"],
    "somebody's": ["somebodys"],
    "someone'd": ["someoned"],
    "someone'd've": ["someoned've", "someone'dve"],
    "someone'll": ["someonell"],
    "someone's": ["someones"],
    "something'd": ["somethingd"],
    "something'd've": ["somethingd've", "something'dve"],
    "something'll": ["somethingll"],
    "that's": ["thats"],
    "there'd": ["thered"],
    "there'd've": ["thered've", "there'dve"],
    "there're": ["therere"],
    "there's": ["theres"],
    "they'd": ["theyd"],
    "they'd've": ["theyd've", "they'dve"],
    "they'll": ["theyll"],
    "they're": ["theyre"],
    "they've": ["theyve"],
    "'twas": ["twas"],
    "wasn't": ["wasnt"],
    "we'd've": ["wed've", "we'dve"],
    "we've": ["weve"],
    "weren't": ["werent"],
    "what'll": ["whatll"],
    "what're": ["whatre"],
    "what's": ["whats"],
    "what've": ["whatve"],
    "when's": ["whens"],
    "where'd": ["whered"],
    "where's": ["wheres"],
    "where've": ["whereve"],
    "who'd": ["whod"],
    "who'd've": ["whod've", "who'dve"],
    "who'll": ["wholl"],
    "who's": ["whos"],
    "who've": ["whove"],
    "why'll": ["whyll"],
    "why're": ["whyre"],
    "why's": ["whys"],
    "won't": ["wont"],
    "would've": ["wouldve"],
    "wouldn't": ["wouldnt"],
    "wouldn't've": ["wouldnt've", "wouldn'tve"],
    "y'all": ["yall"],
    "y'all'll": ["yall'll", "y'allll"],
    "y'all'd've": ["yall'd've", "y'alld've", "y'all'dve"],
    "you'd": ["youd"],
    "you'd've": ["youd've", "you'dve"],
    "you'll": ["youll"],
    "you're": ["youre"],
    "you've": ["youve"],
}
TABLE = {
    word: full
    for full, words in OFFICIAL_BY_REPLACEMENT.items()
    for word in words
}
MARKS = frozenset(';/[]"{}()=+\\_-><@`,?!')
NUMBER_WORDS = [
    "none",
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
]


def ref_punctuation(text):
    """Marks deleted or spaced by the original text, then <= 32 periods."""
    digit_comma_digit = any(
        text[i] == "," and text[i - 1].isdecimal() and text[i + 1].isdecimal()
        for i in range(1, len(text) - 1)
    )
    spaced = set()
    for i, c in enumerate(text):
        if c in MARKS and (
            (i > 0 and text[i - 1] == " ")
            or (i + 1 < len(text) and text[i + 1] == " ")
        ):
            spaced.add(c)
    chars = []
    for c in text:
        if c not in MARKS:
            chars.append(c)
        elif not (digit_comma_digit or c in spaced):
            chars.append(" ")
    out, removed = [], 0
    for i, c in enumerate(chars):
        next_digit = i + 1 < len(chars) and chars[i + 1].isdecimal()
        if c == "." and not next_digit and removed < 32:
            removed += 1
            continue
        out.append(c)
    return "".join(out)


def ref_words(text):
    kept = []
    for word in text.lower().split():
        if word in NUMBER_WORDS:
            word = str(max(NUMBER_WORDS.index(word) - 1, 0))
        if word not in ("a", "an", "the"):
            kept.append(TABLE.get(word, word))
    return " ".join(kept)


def ref_prediction(prediction):
    text = prediction.replace("\n", " ").replace("\t", " ").strip()
    return ref_words(ref_punctuation(text))


def ref_references(answers):
    if all(a == answers[0] for a in answers):
        return list(answers)
    return [ref_punctuation(a) for a in answers]


def ref_accuracy(prediction, answers):
    """Mean over the leave-one-out subsets of min(1, matches / 3)."""
    predicted = ref_prediction(prediction)
    references = ref_references(answers)
    accs = []
    for left_out in range(len(references)):
        matches = sum(
            r == predicted for k, r in enumerate(references) if k != left_out
        )
        accs.append(min(1.0, matches / 3.0))
    return sum(accs) / len(accs)


# Generated answers: words with punctuation, contractions, numbers,
# articles, case and periods.
WORDS = [
    "yes",
    "no",
    "Yes",
    "dog",
    "Dog",
    "red",
    "white",
    "blue",
    "shirt",
    "t-shirt",
    "T-Shirt",
    "dont",
    "don't",
    "Im",
    "im",
    "I'm",
    "Ive",
    "twas",
    "'twas",
    "somebody'd",
    "somebodyd",
    "lets",
    "let's",
    "shes",
    "she's",
    "youdve",
    "youd've",
    "whats",
    "what's",
    "its",
    "it's",
    "yall'll",
    "two",
    "Two",
    "2",
    "ten",
    "10",
    "none",
    "0",
    "one",
    "a",
    "an",
    "the",
    "A",
    "The",
    "1,000",
    "1000",
    "2.5",
    "3.",
    ".5",
    "x",
    "y",
    "z",
    "left",
    "right",
    "Mr.",
    "e.g.",
    "...",
    "1,2",
]
SEPARATORS = [
    " ",
    " ",
    " ",
    "  ",
    "-",
    "/",
    "; ",
    " ;",
    "- ",
    " - ",
    ",",
    ", ",
    "\t",
    "\n",
    ".",
    ". ",
    "/-",
    "_",
    "(",
    ")",
    "?",
    "!",
    '"',
    "+",
    "=",
    "<",
    ">",
    "@",
    "`",
    "\\",
    "[",
    "]",
    "{",
    "}",
]


CLEAN = [
    "yes",
    "no",
    "dog",
    "red",
    "white",
    "shirt",
    "t-shirt",
    "dont",
    "don't",
    "im",
    "twas",
    "lets",
    "whats",
    "what's",
    "2",
    "10",
    "0",
    "1",
    "1,000",
    "2.5",
    "left",
    "black/white",
    "red-white-blue",
    "x-y-; z",
]
ALTERNATIVES = {
    "2": ["two", "Two"],
    "10": ["ten"],
    "0": ["none", "zero"],
    "1": ["one"],
    "dont": ["Dont", "don't"],
    "im": ["Im", "I'm"],
    "lets": ["let's"],
    "whats": ["Whats"],
    "twas": ["'twas"],
}


def random_answer(rng):
    """A messy answer: words joined by any mark, odd case and ends."""
    parts = [rng.choice(WORDS)]
    for _ in range(rng.randrange(3)):
        parts += [rng.choice(SEPARATORS), rng.choice(WORDS)]
    text = "".join(parts)
    if rng.random() < 0.2:
        text += rng.choice(["?", ".", "!", "..", ".5", " ", "\n"])
    if rng.random() < 0.1:
        text = rng.choice([" ", "(", "\t", "-"]) + text
    if rng.random() < 0.1:
        text = text.upper() if rng.random() < 0.5 else text.title()
    return text


def clean_answer(rng):
    """An answer as annotators mostly give them: one or two plain words."""
    words = [rng.choice(CLEAN) for _ in range(rng.choice([1, 1, 2]))]
    return " ".join(words)


def predicted(rng, answer):
    """`answer` as a model or a user might write it."""
    words = [
        rng.choice(ALTERNATIVES.get(w, [w])) if rng.random() < 0.5 else w
        for w in answer.split(" ")
    ]
    text = " ".join(words)
    if rng.random() < 0.2:
        text = rng.choice(["a ", "the ", "The ", "an "]) + text
    if rng.random() < 0.2:
        text += rng.choice([".", "!", "?", " .", "\n", "..."])
    if rng.random() < 0.1:
        text = text.title()
    return text


def generated_questions(num, seed=0):
    """(prediction, 10 answers) pairs: mostly plain answers with a few
    messy ones, predictions written like one of them or messy."""
    rng = random.Random(seed)
    questions = []
    for _ in range(num):
        pool = [
            clean_answer(rng) if rng.random() < 0.7 else random_answer(rng)
            for _ in range(rng.randrange(1, 5))
        ]
        if rng.random() < 0.1:
            answers = [rng.choice(pool)] * 10
        else:
            answers = [rng.choice(pool) for _ in range(10)]
        roll = rng.random()
        if roll < 0.4:
            prediction = rng.choice(answers)
        elif roll < 0.8:
            prediction = predicted(rng, rng.choice(answers))
        else:
            prediction = random_answer(rng)
        questions.append((prediction, answers))
    return questions


class TranscriptionTest(absltest.TestCase):
    def test_contraction_table_is_the_official_one(self):
        self.assertEqual(vqa_answers.OFFICIAL_CONTRACTIONS, TABLE)
        self.assertLen(TABLE, 120)

    def test_generated_questions(self):
        questions = generated_questions(4000)
        got = vqa_answers.official_accuracies(
            [p for p, _ in questions], [a for _, a in questions]
        )
        expected = np.array([ref_accuracy(p, a) for p, a in questions])
        self.assertEqual(got.dtype, np.float64)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
        for prediction, answers in questions:
            self.assertEqual(
                vqa_answers.official_prediction(prediction),
                ref_prediction(prediction),
                prediction,
            )
            self.assertEqual(
                vqa_answers.official_references(answers),
                ref_references(answers),
                answers,
            )
        # The cases exercise the rules: every possible accuracy occurs (0,
        # 0.3, 0.6, 0.9 and 1 for 0, 1, 2, 3 and >= 4 matches), and the
        # cleaned-up normaliser disagrees with the official on many.
        np.testing.assert_allclose(
            np.unique(np.round(expected, 9)), [0, 0.3, 0.6, 0.9, 1]
        )
        cleaned = vqa_answers.official_accuracies(
            [p for p, _ in questions], [a for _, a in questions], strict=False
        )
        self.assertGreater(np.sum(np.abs(cleaned - expected) > 1e-9), 400)

    def test_annotation_dicts(self):
        answers = [
            {"answer": a, "answer_confidence": "yes", "answer_id": k}
            for k, a in enumerate(["2"] * 3 + ["two"] * 7)
        ]
        self.assertAlmostEqual(
            vqa_answers.official_accuracy("Two", answers),
            ref_accuracy("Two", ["2"] * 3 + ["two"] * 7),
        )


class QuirksTest(parameterized.TestCase):
    @parameterized.parameters(
        # "Touches a space" is tested on the text as it came in.
        ("x-y-; z", "x y z"),
        ("red/-white-blue", "red white blue"),
        ("black / white", "black white"),
        ("1,000 (approx)", "1000 approx"),
        # The official table, not a cleaned-up one.
        ("im", "im"),
        ("Im", "im"),
        ("ive", "ive"),
        ("lets", "lets"),
        ("shes", "shes"),
        ("youdve", "youdve"),
        ("twas", "'twas"),
        ("somebody'd", "somebodyd"),
        ("dont know", "don't know"),
        ("its", "its"),
        ("yall'll", "y'all'll"),
        # Number words and articles.
        ("Two dogs", "2 dogs"),
        ("the one", "1"),
        ("A Ten", "10"),
        ("none of an apple", "0 of apple"),
        # Periods: not before a digit, at most 32 of them.
        ("yes.", "yes"),
        ("2.5", "2.5"),
        ("3. 5", "3 5"),
        (".5", ".5"),
        ("no" + "." * 40, "no" + "." * 8),
        ("\tYes \n", "yes"),
    )
    def test_prediction(self, raw, expected):
        self.assertEqual(vqa_answers.official_prediction(raw), expected)
        self.assertEqual(ref_prediction(raw), expected)

    def test_identical_answers_are_not_normalised(self):
        self.assertEqual(
            vqa_answers.official_accuracy("T-Shirt", ["t-shirt"] * 10), 0.0
        )
        self.assertEqual(
            vqa_answers.official_accuracy("t-shirt", ["t-shirt"] * 10), 0.0
        )
        self.assertEqual(
            vqa_answers.official_accuracy(
                "T-Shirt", ["t-shirt"] * 9 + ["shirt"]
            ),
            1.0,
        )
        self.assertEqual(
            vqa_answers.official_references(["a-b"] * 10), ["a-b"] * 10
        )

    def test_annotators_answers_only_lose_punctuation(self):
        self.assertEqual(
            vqa_answers.official_references(["Two.", "the-dog", " x "]),
            ["Two", "the dog", " x "],
        )
        # "I'm" is "i'm" predicted, "im" stays "im": no match (the cleaned
        # normaliser's "im" -> "i'm" makes it 1.0).
        answers = ["im"] * 9 + ["x"]
        self.assertEqual(vqa_answers.official_accuracy("I'm", answers), 0.0)
        self.assertEqual(
            vqa_answers.official_accuracy("I'm", answers, strict=False), 1.0
        )

    @parameterized.parameters(range(11))
    def test_leave_one_out_average(self, n):
        answers = ["yes"] * n + ["no", "maybe"] * 5
        answers = answers[:10]
        expected = np.mean([min(1.0, (n - (k < n)) / 3.0) for k in range(10)])
        self.assertAlmostEqual(
            vqa_answers.official_accuracy("Yes", answers), expected, places=12
        )
        self.assertAlmostEqual(
            ref_accuracy("Yes", answers), expected, places=12
        )

    def test_errors(self):
        with self.assertRaisesRegex(
            ValueError,
            r"needs at least one annotator's answer, got "
            r"answers=\[\]\.",
        ):
            vqa_answers.official_accuracy("yes", [])
        with self.assertRaisesRegex(
            ValueError, r"got 2 predictions and len\(answers\)=1\."
        ):
            vqa_answers.official_accuracies(["a", "b"], [["a"] * 10])


class StrictTargetsTest(absltest.TestCase):
    def test_vocabulary_counts_match_official_accuracy(self):
        # The accuracy from the strict counts of the predicted class is the
        # official accuracy of its answer string.
        questions = generated_questions(300, seed=1)
        vocab = vqa_answers.AnswerVocab(
            sorted(
                {
                    vqa_answers.normalize_answer(a)
                    for _, answers in questions
                    for a in answers
                }
                - {""}
            )
        )
        for _, answers in questions:
            counts = vocab.dense_targets(answers, "counts", strict=True)
            official = vocab.dense_targets(answers, "official", strict=True)
            for k in np.flatnonzero(counts):
                expected = ref_accuracy(vocab.answers[k], answers)
                self.assertAlmostEqual(
                    float(vqa_answers.count_accuracy(counts[k])),
                    expected,
                    places=6,
                )
                self.assertAlmostEqual(float(official[k]), expected, places=6)
            for k in np.flatnonzero(counts == 0):
                self.assertEqual(ref_accuracy(vocab.answers[k], answers), 0.0)


if __name__ == "__main__":
    absltest.main()
