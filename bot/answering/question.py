"""What a question asks for: the expected answer type (a person, a number, a date ...) and its key terms."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from indexing import english_stemmer

# spaCy entity labels, in order of preference, for each kind of question.
PERSON = ("PERSON", "ORG", "NORP", "GPE")
PLACE = ("GPE", "LOC", "FAC", "ORG")
TIME = ("DATE", "TIME")
NUMBER = ("CARDINAL", "QUANTITY", "MONEY", "PERCENT")
MONEY = ("MONEY", "CARDINAL", "QUANTITY")
DURATION = ("TIME", "DATE", "QUANTITY", "CARDINAL")
ORG = ("ORG", "NORP", "GPE")
COUNTRY = ("GPE", "LOC", "NORP")
AGE = ("DATE", "CARDINAL")
SHARE = ("PERCENT", "CARDINAL")

# Words between "which" and the noun it asks about that are not a verb: "which European nation",
# "which hugely popular show"; but "what did the images show" asks about no show.
NOT_AN_AUXILIARY = r"(?!(?:is|was|are|were|did|does|do|has|have|had|will|would|can|could|should|may|might|must)\b)"
_WHICH_COUNTRY = rf"\b(what|which|in which|in what) (?:{NOT_AN_AUXILIARY}[\w-]+ ){{0,2}}?(country|countries|nations?)\b"

_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        r"\bhow (many|much) (money|dollars|euros|pounds)\b|\bhow much (did|does|do|will|would|was|is)\b.*\b(cost|pay|paid|spend|spent|worth|raise|raised|earn|sell|sold|charge)\b"
        r"|\b(what|how much) (will|would|does|did|do|is|was|are|were)\b.*\b(sell|sold|retail|retails|go|goes|went|priced|cost|available)\s+for\b"
        r"|\bwhat (is|was|will be|would be) the (price|cost|value|salary|fee|fine|budget)\b|\bhow much\b.*\b(price|cost|salary|fee|fine|budget)\b",
        MONEY,
    ),
    (r"\bhow long\b|\bfor how long\b", DURATION),
    (r"\bhow old\b", AGE),
    (r"\b(what|which) (percentage|percent|share|proportion)\b|\bwhat per ?cent\b", SHARE),
    (r"\bhow (many|much)\b|\bwhat (number|amount)\b|\bhow large\b|\bhow big\b", NUMBER),
    (r"\bwhen\b|\b(what|which) (year|month|day|date|time|decade|century)\b|\bwhat time\b", TIME),
    (_WHICH_COUNTRY, COUNTRY),
    (
        r"\bwhere\b|\b(what|which|in which|in what) (city|state|town|region|province|capital|continent|place|location|island|county)\b",
        PLACE,
    ),
    (
        r"\b(what|which) (company|companies|organization|organisation|agency|team|club|party|group|firm|network|bank|university|airline|brand)\b",
        ORG,
    ),
    (
        rf"\bwho(m|se)?\b|\b(what|which) (?:{NOT_AN_AUXILIARY}\w+ ){{0,2}}(person|man|woman|leader|president|official|minister|secretary|player|ceo|actor|actress|singer|star|judge|senator|governor|author|director|founder|coach|chairman|spokesperson|spokesman|spokeswoman|lawmaker|politician|candidate|athlete|quarterback|rapper|musician|comedian|celebrity|billionaire|journalist|scientist)s?\b",
        PERSON,
    ),
)

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-\.]*[A-Za-z0-9]|[A-Za-z0-9]")
_QUESTION_WORDS = {"who", "whom", "whose", "what", "which", "when", "where", "why", "how", "many", "much", "long", "did", "does", "do"}


@dataclass(frozen=True)
class QuestionAnalysis:
    text: str
    answer_types: tuple[str, ...]  # spaCy labels wanted, best first; () for open questions
    terms: frozenset[str]  # stemmed content words
    surface_terms: tuple[str, ...]  # the content words as written, lower case
    place: str | None = None  # "city", "state" or "country" when the question names which kind of place
    duration: bool = False  # "how long": the answer is an amount of time, not a date

    @property
    def typed(self) -> bool:
        return bool(self.answer_types)


def expected_types(question: str) -> tuple[str, ...]:
    """The labels of the rule that matches earliest: "Who was CEO when it began?" asks for a person."""
    lowered = question.lower()
    best: tuple[int, tuple[str, ...]] | None = None
    for pattern, labels in _RULES:
        match = re.search(pattern, lowered)
        if match and (best is None or match.start() < best[0]):
            best = (match.start(), labels)
    return best[1] if best else ()


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) | _QUESTION_WORDS


def content_words(text: str) -> list[str]:
    words = [w.lower().strip(".'’-").replace("’", "'") for w in _WORD.findall(text)]
    stop = _stopwords()
    return [w for w in words if w and w not in stop and not (len(w) == 1 and not w.isdigit())]


def stems(words: list[str]) -> list[str]:
    return english_stemmer().stemWords([w.replace(".", "") for w in words])


_CITY = re.compile(r"\b(what|which) (city|town|capital)\b|\bin (which|what) (city|town)\b", re.I)
_COUNTRY = re.compile(_WHICH_COUNTRY, re.I)
_STATE = re.compile(r"\b(what|which) (us |u\.s\. )?states?\b|\bin (which|what) (us |u\.s\. )?state\b", re.I)


def place_kind(question: str) -> str | None:
    if _CITY.search(question):
        return "city"
    if _COUNTRY.search(question):
        return "country"
    if _STATE.search(question):
        return "state"
    return None


_ASKS = re.compile(r"\b(who|whom|whose|what|which|when|where|why|how)\b", re.I)
_ELLIPTICAL_LEAD = re.compile(r"^\s*(and|but|also|so)?\s*(what|how) about\b", re.I)


def is_elliptical(question: str) -> bool:
    """A follow-up that names only a new subject ("and the Russian side?", "what about Spain?"): it asks
    the same kind of thing as the turn before."""
    return not _ASKS.search(_ELLIPTICAL_LEAD.sub("", question))


def last_full_question(questions: Sequence[str]) -> str | None:
    """The latest question that asks something itself: what a run of elliptical follow-ups refers to."""
    return next((q for q in reversed(questions) if not is_elliptical(q)), None)


_LEADING_LINK = re.compile(r"^\s*(?:(?:and|but|also|so)\s+)?(?:(?:what|how)\s+about\s+)?", re.I)
# Only "who <verb>" frames: there the verb is surely the next word; elsewhere, without a parser,
# the subject and verb cannot be told apart ("How many Russian troops are ...").
_FRAME = re.compile(r"^\s*(who\s+\w+)\b", re.I)


def ask_like(follow_up: str, earlier: str) -> str | None:
    """An elliptical follow-up asked the way the earlier question asked: "and the Russian side?" after
    "Who led the US delegation?" reads "Who led the Russian side?". None when `earlier` has no frame
    to borrow (a "who <verb>" question)."""
    frame = _FRAME.match(earlier)
    subject = _LEADING_LINK.sub("", follow_up).strip().rstrip("?").strip()
    if not frame or not subject:
        return None
    return f"{frame.group(1)} {subject}?"


def with_answer_type_of(question: QuestionAnalysis, earlier: QuestionAnalysis) -> QuestionAnalysis:
    """`question`, asking for what `earlier` asked for (a person, a number, a city ...)."""
    return replace(question, answer_types=earlier.answer_types, place=earlier.place, duration=earlier.duration)


def analyse(question: str) -> QuestionAnalysis:
    words = content_words(question)
    return QuestionAnalysis(
        question,
        expected_types(question),
        frozenset(stems(words)),
        tuple(words),
        place_kind(question),
        bool(re.search(r"\bhow long\b", question, re.I)),
    )
