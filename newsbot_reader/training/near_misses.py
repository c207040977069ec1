"""Near-miss unanswerables: the passage talks around what is asked but never gives it.

The made negatives of `negatives.py` teach "the entity is not here". Real unanswerable questions
are subtler: the passage names the entity and the topic, but not the thing asked. Four kinds are
made here from answerable SQuAD questions, each kept only when a plain check on the passage says
the new question is not answered there:

- negation: "Who did not ...", "Which ... never ..." (SQuAD 2.0's most common unanswerable kind);
- changed value: a number, year or ordinal of the question changed to one the passage lacks;
- changed relation: the runner-up, the predecessor or the former holder when the passage names
  only the winner or the current one;
- attribute: the age, birth date, price or head count of an entity the passage names but for
  which it gives no such figure ("How old is Elena Ruiz?" of a passage that never says).
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence

from newsbot_reader.training.data import Example, unanswerable

ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth", "last")
ANTONYMS = {
    "largest": "smallest", "biggest": "smallest", "highest": "lowest", "most": "least", "oldest": "youngest",
    "earliest": "latest", "longest": "shortest", "first": "last", "increase": "decrease", "increased": "decreased",
    "north": "south", "east": "west", "maximum": "minimum", "best": "worst", "richest": "poorest", "larger": "smaller",
    "higher": "lower", "older": "younger",
}  # fmt: skip
# Not here: won/lost and win/lose (a passage says "A defeated B" without "lost", so "Who lost?" is
# answerable, and labelling it unanswerable taught the reader to name the loser), before/after and
# more/fewer (relative phrases whose opposite is often still answered by the passage).
ANTONYMS.update({v: k for k, v in list(ANTONYMS.items()) if v not in ANTONYMS})
AUXILIARIES = ("did", "does", "do", "was", "were", "is", "are", "can", "could", "would", "will", "has", "have", "had")
ROLES = (
    "president", "prime minister", "chancellor", "leader", "head", "chief executive", "ceo", "chairman", "chair",
    "captain", "mayor", "governor", "director", "manager", "coach", "king", "queen", "emperor", "secretary",
    "minister", "editor", "owner", "founder", "conductor", "principal", "bishop", "commander", "ruler", "champion",
)  # fmt: skip
PREDECESSOR_CUES = ("previous", "former", "predecessor", "preceded", "succeeded", "replaced", "before him", "before her", "until", "prior")
RUNNER_UP_CUES = ("second", "runner-up", "runner up", "runners-up", "lost", "defeated", "beat", "finished")
AGE_CUES = re.compile(r"\b(age[ds]?|aged|years? old|born|birth|\d+-year-old)\b", re.I)
BIRTH_CUES = re.compile(r"\b(born|birth|b\.)\b|\(\s*\d{3,4}\s*[–-]", re.I)
PRICE_CUES = re.compile(r"[$£€¥]|\b(cost|costs|price|priced|paid|pay|dollars?|pounds?|euros?|yen|francs?|worth|budget|sold for)\b", re.I)
HEADCOUNT_CUES = re.compile(r"\b(employ\w*|staff|workers|workforce|members|personnel|people)\b", re.I)
PARTICIPLE = re.compile(r"^[a-z]+(ed|en|wn|ght|ung|ade|ept|elt|ilt|ound|old|ost)$")
NUMBER = re.compile(r"\b\d[\d,]*(?:\.\d+)?\b")
NAME = re.compile(r"^[A-Z][\w.'-]*(?: (?:[A-Z][\w.'-]*|of|de|van|von|the|and|&))*$")


def _word_pattern(word: str) -> re.Pattern[str]:
    return re.compile(rf"\b{re.escape(word)}\b", re.I)


def _absent(context: str, *words: str) -> bool:
    lowered = context.lower()
    return not any(word.lower() in lowered for word in words)


def negation(example: Example, rng: random.Random) -> str | None:
    """The question with its first auxiliary negated ("Who did lead" -> "Who did not lead"), or the
    verb of a "Who <verb>ed ..." question turned into "Who never <verb>ed"."""
    words = example.question.split()
    if not words or words[0].lower() not in ("who", "what", "which", "when", "where", "how", "why"):
        return None
    for i, word in enumerate(words[1:4], start=1):
        # "was elected" -> "was not elected": only before a participle, so the word order stays English.
        if word.lower() in AUXILIARIES and i + 1 < len(words) and PARTICIPLE.match(words[i + 1]):
            return " ".join([*words[: i + 1], rng.choice(("not", "never")), *words[i + 1 :]])
    if words[0].lower() == "who" and len(words) > 2 and words[1].endswith("ed") and words[2].lower() not in ("not", "never"):
        return " ".join([words[0], "never", *words[1:]])
    return None


def changed_value(example: Example, rng: random.Random) -> str | None:
    """A number or ordinal of the question swapped for one the passage does not contain."""
    question, context = example.question, example.context
    numbers = [m for m in NUMBER.finditer(question) if m.group() in context]
    if numbers:
        match = rng.choice(numbers)
        digits = match.group().replace(",", "")
        try:
            value = float(digits)
        except ValueError:
            return None
        for _ in range(8):
            if len(digits) == 4 and digits.isdigit():  # a year: a nearby one
                new = str(int(value) + rng.choice((-1, 1)) * rng.randint(1, 12))
            elif value.is_integer():
                new = str(max(2, int(value * rng.choice((2, 3, 0.5)) + rng.randint(-3, 3))))
            else:
                new = f"{value * rng.choice((1.5, 2.0, 0.5)):.1f}"
            if new != digits and new not in context.replace(",", ""):
                return question[: match.start()] + new + question[match.end() :]
        return None
    ordinals = [w for w in ORDINALS if _word_pattern(w).search(question) and w in context.lower()]
    if ordinals:
        old = rng.choice(ordinals)
        options = [w for w in ORDINALS if w != old and _absent(context, w)]
        if options:
            return _word_pattern(old).sub(rng.choice(options), question, count=1)
    return None


def antonym(example: Example, rng: random.Random) -> str | None:
    """A superlative or comparison of the question turned around ("largest" -> "smallest") where the
    passage never uses the opposite word."""
    found = [w for w in ANTONYMS if _word_pattern(w).search(example.question)]
    rng.shuffle(found)
    for word in found:
        opposite = ANTONYMS[word]
        if not _word_pattern(opposite).search(example.context):
            return _word_pattern(word).sub(opposite, example.question, count=1)
    return None


def changed_relation(example: Example, rng: random.Random) -> str | None:
    """ "Who is the mayor ..." -> "Who was the mayor before ..."; "Who won ..." -> "Who finished second in ...",
    when the passage has no word for a predecessor or a runner-up."""
    question = example.question
    if not question.lower().startswith("who"):
        return None
    if re.match(r"(?i)who won\b", question) and _absent(example.context, *RUNNER_UP_CUES):
        return re.sub(r"(?i)^who won\b", rng.choice(("Who finished second in", "Who was the runner-up in", "Who lost")), question)
    for role in ROLES:
        pattern = re.compile(rf"\b(the|its|their|his|her)( \w+)? ({re.escape(role)})\b", re.I)
        match = pattern.search(question)
        if match and _absent(example.context, *PREDECESSOR_CUES):
            adjective = rng.choice(("previous", "former", "first", "next"))
            if adjective in ("first", "next") and not _absent(example.context, adjective):
                adjective = "previous"
            replaced = f"{match.group(1)} {adjective} {match.group(3)}"
            return re.sub(r"(?i)^who is\b", "Who was", question[: match.start()] + replaced + question[match.end() :])
    return None


def attribute(example: Example, rng: random.Random) -> str | None:
    """An attribute question about the answer (a name) that the passage never gives: age, birth date,
    or for a name in the question that looks like an organisation or a thing, its price or head count."""
    answer = example.answer_text.strip()
    options: list[str] = []
    if example.question.lower().startswith("who") and NAME.match(answer) and len(answer.split()) <= 4:
        if not AGE_CUES.search(example.context):
            options.append(f"How old is {answer}?")
            options.append(f"How old was {answer} at the time?")
        if not BIRTH_CUES.search(example.context):
            options.append(f"When was {answer} born?")
    elif NAME.match(answer) and len(answer.split()) <= 5 and answer.lower() not in example.question.lower():
        if not PRICE_CUES.search(example.context):
            options.append(f"How much did {answer} cost?")
        if not HEADCOUNT_CUES.search(example.context):
            options.append(f"How many people work for {answer}?")
    return rng.choice(options) if options else None


MAKERS: dict[str, Callable[[Example, random.Random], str | None]] = {
    "negation": negation,
    "changed-value": changed_value,
    "antonym": antonym,
    "changed-relation": changed_relation,
    "attribute": attribute,
}


def near_misses(examples: Sequence[Example], share: float, rng: random.Random, kinds: Sequence[str] = tuple(MAKERS)) -> list[Example]:
    """For a `share` of the answerable examples, one near-miss each (the first kind, in a random order,
    that applies), labelled unanswerable on the same passage."""
    made = []
    for example in examples:
        if not example.answerable or rng.random() >= share:
            continue
        order = list(kinds)
        rng.shuffle(order)
        for kind in order:
            question = MAKERS[kind](example, rng)
            if question and question != example.question:
                made.append(unanswerable(example, example.context, question, kind))
                break
    return made
