"""The default answerer: our trained reader (reader/) reads the top passages and picks the span.

1. The top passages are read a few at a time (batched windows, int8 ONNX, no torch); reading stops
   once a passage gives a confident answer, which keeps latency down.
2. Each passage gets the reader's calibrated answerability (span-vs-null margin plus the has-answer
   head, minus the threshold tuned on held-apart data) and a rank: answerability plus a little of
   the retrieval score. The best-ranked passage gives the answer; the same ranking reorders the
   passages (`rerank`).
3. No span in the article's dateline ("WASHINGTON (AP) —", bot.answering.datelines) or across a
   paragraph break is an answer. The kind of question rules out spans of another kind
   (bot.answering.answer_kinds): "how old" is never answered with a date, nor "who led the union
   before Farida Nasser" with her. When the best span has the wrong kind, a runner-up of the right
   kind answers; when none has it, the passage counts as not answering. Some kinds are wishes
   with a looser fallback (a title for "which show", a country for "which country").
4. Confidence is the calibrated probability that the answer is right (a monotone curve of the
   answerability, fitted on held-apart questions: newsbot_reader/weights/calibration.json); below
   `min_confidence` the answer is a plain refusal, with the closest passages listed apart.
5. The latest report wins: when confident readings of several articles give different figures,
   the newest article answers and is cited first, and the earlier figures are named
   ("540 (earlier reports: 212) [1][2]").
6. The quote is the sentence (or sentences) holding the span, verbatim; the highlight is the span.
   Why/how questions, and spans too long to be a short answer, are answered with the sentence.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bot.answer import Answer, Citation, Turn
from bot.answering.answer_kinds import LOOSER_CHECKS, SHORT_FORMS, WHOLE_NAME_CHECKS, answer_form, cuts_a_name, has_number
from bot.answering.base import Request
from bot.answering.condense import condense_offline, own_question
from bot.answering.datelines import dateline_end
from bot.answering.figures import may_update
from bot.answering.question import ask_like, is_elliptical, last_full_question
from bot.answering.quotes import citation, sentence_bounds
from bot.retrieval.search import Passage
from newsbot_reader.decoding import SpanGuess
from newsbot_reader.metrics import normalize_answer
from newsbot_reader.runtime import Calibration, ReaderSession

DEFAULT_MIN_CONFIDENCE = 0.5  # when the calibration names none: refuse when a wrong answer is likelier than a right one
READ_BATCH = 4  # passages per reading round
MAX_READ = 8  # passages read at most
EARLY_STOP = 2.2  # a passage this far past the no-answer threshold (answerability) ends the reading
RETRIEVAL_WEIGHT = 2.0  # answerability logits per unit of fused retrieval score
FORM_PENALTY = 4.0  # how far below the refusal point a passage falls when none of its spans has the wanted form
LONG_SPAN_WORDS = 12  # a longer span reads better as its whole sentence
DEFAULT_MAX_CITATIONS = 5  # NEWSBOT_TOP_K's default
SHORT_FORM_WORDS = 4  # a figure or a date ("about 1,400", "$3.2 billion", "March 3, 2021") is at most this many words
# Questions whose answer is a reason or a manner: answered with the whole sentence, never a fragment of it.
_EXPLANATORY = re.compile(
    r"^\W*(why|how (?!many|much|long|old|far|often|big|large|tall|high|fast|soon|late|early))\b|\bhow come\b|\bwhat happened\b|\bexplain\b"
    r"|\bwhat (caused|causes|led to|leads to|prompted|triggered|made)\b|\b(for )?what reasons?\b|\bwhat (is|was|were|are) the (reasons?|causes?)\b",
    re.I,
)
_TRIM = " \t\n,;:"
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_OPENING_QUOTES = ('"', "“")
_CLOSING_QUOTES = ('"', "”")


@dataclass(frozen=True)
class Reading:
    """What the reader made of one passage."""

    passage: Passage
    guess: SpanGuess | None
    answerability: float  # shifted by the held-apart threshold: > 0 means "answers"
    rank: float  # answerability plus a share of the retrieval score
    confidence: float  # the calibrated probability that the span is a right answer

    @property
    def span_text(self) -> str:
        span = self.highlight
        return "" if span is None else self.passage.chunk.excerpt(*span)

    @property
    def highlight(self) -> tuple[int, int] | None:
        """The span's article offsets, trimmed of the punctuation the word-pieces bring along, and of a
        quote mark whose partner is outside the span ("Another World, not \"Another World)."""
        if self.guess is None:
            return None
        start, end = self.passage.chunk.start + self.guess.start, self.passage.chunk.start + self.guess.end
        text = self.passage.chunk.excerpt(start, end)
        lo, hi = _trimmed(text, 0, len(text))
        if text[lo : lo + 1] in _OPENING_QUOTES and not any(mark in text[lo + 1 : hi] for mark in _CLOSING_QUOTES):
            lo, hi = _trimmed(text, lo + 1, hi)
        if text[hi - 1 : hi] in _CLOSING_QUOTES and not any(mark in text[lo : hi - 1] for mark in _OPENING_QUOTES):
            lo, hi = _trimmed(text, lo, hi - 1)
        return (start + lo, start + hi) if hi > lo else None


def _trimmed(text: str, lo: int, hi: int) -> tuple[int, int]:
    """[lo, hi) of `text` narrowed past the spaces and separators at either end."""
    while lo < hi and text[lo] in _TRIM:
        lo += 1
    while hi > lo and text[hi - 1] in _TRIM:
        hi -= 1
    return lo, hi


class ReaderAnswerer:
    name = "reader"

    def __init__(
        self,
        session: ReaderSession,
        calibration: Calibration,
        min_confidence: float | None = None,
        max_citations: int = DEFAULT_MAX_CITATIONS,
    ):
        self.session = session
        self.calibration = calibration
        self.max_citations = max_citations
        if min_confidence is None:
            min_confidence = DEFAULT_MIN_CONFIDENCE if calibration.min_confidence is None else calibration.min_confidence
        self.min_confidence = min_confidence

    def read(self, question: str, passages: Sequence[Passage], stop_early: bool = True) -> list[Reading]:
        """Readings of up to MAX_READ passages, in rounds of READ_BATCH; best rank first."""
        readings: list[Reading] = []
        fits = answer_form(question)
        for lo in range(0, min(len(passages), MAX_READ), READ_BATCH):
            batch = list(passages[lo : min(lo + READ_BATCH, MAX_READ)])
            for passage, guess in zip(batch, self.session.read([question] * len(batch), [p.chunk.text for p in batch])):
                answerability = -20.0
                guess = answerable_spans(guess, passage)
                if guess is not None:
                    guess, in_shape = in_form(guess, passage.chunk.text, fits) if fits else (guess, True)
                    if not in_shape and fits in LOOSER_CHECKS:
                        guess, in_shape = in_form(guess, passage.chunk.text, LOOSER_CHECKS[fits])
                    answerability = self.calibration.score(guess)
                    if not in_shape:  # it answers something else: "55,000" seats for "how much did it cost"
                        answerability = min(answerability, 0.0) - FORM_PENALTY
                rank = answerability + RETRIEVAL_WEIGHT * passage.score
                readings.append(Reading(passage, guess, answerability, rank, self.calibration.probability(answerability)))
            if stop_early and max(r.answerability for r in readings) >= EARLY_STOP:
                break
        return sorted(readings, key=lambda r: r.rank, reverse=True)

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        return condense_offline(question, history)

    def rerank(self, request: Request, passages: Sequence[Passage]) -> list[Passage]:
        readings = self.read(reading_question(request), passages, stop_early=False)
        read = {id(r.passage) for r in readings}
        return [r.passage for r in readings] + [p for p in passages if id(p) not in read]

    def answer(self, request: Request, passages: Sequence[Passage]) -> Answer:
        readings = self.read(reading_question(request), passages)
        if not readings:
            return Answer.refusal(request.question, request.standalone)
        best = readings[0]
        trace = {
            "reader": [
                {"chunk": r.passage.chunk.id, "span": r.span_text[:120], "confidence": round(r.confidence, 3), "rank": round(r.rank, 3)}
                for r in readings
            ],
            "threshold": self.min_confidence,
        }
        if best.confidence < self.min_confidence or best.guess is None:
            closest = tuple(_quote(r) for r in readings[: self.max_citations])
            return Answer.refusal(request.question, request.standalone, confidence=best.confidence, closest=closest, trace=trace)
        latest, earlier = latest_report(best, readings[1:], self.min_confidence, self.max_citations - 1)
        citations = [_quote(latest, highlight=True)] + [_quote(r, highlight=True) for r in earlier]
        wanted = normalize_answer(latest.span_text)
        for other in readings[1:]:
            if len(citations) >= self.max_citations:
                break
            if other is not latest and other.confidence >= self.min_confidence and wanted and normalize_answer(other.span_text) == wanted:
                citations.append(_quote(other, highlight=True))  # another article says the same
        text = latest.span_text
        if _EXPLANATORY.search(request.question) or len(text.split()) > LONG_SPAN_WORDS:
            text = citations[0].quote
        marks = "[1]"
        if earlier:
            text = f"{text} (earlier reports: {', '.join(r.span_text for r in earlier)})"
            marks = "".join(f"[{n}]" for n in range(1, len(earlier) + 2))
        return Answer.from_spans(
            f"{text} {marks}", citations, request.question, request.standalone, confidence=latest.confidence, trace=trace
        )


def latest_report(best: Reading, others: Sequence[Reading], min_confidence: float, most: int) -> tuple[Reading, list[Reading]]:
    """The reading to answer from, and the earlier reports it supersedes, newest first.

    News is updated: a first report says 212 people were evacuated, a later one 540. When other
    articles answer as confidently with another figure of the same kind and a like size (bot.answering.figures:
    an age is no update of a count, 4.5 million none of 187), the newest article's figure is the answer
    and the older, different figures are named. Without dates, or when the figures agree, `best` answers."""
    if best.guess is None or not has_number(best.span_text) or best.passage.published is None:
        return best, []
    figures = {normalize_answer(best.span_text): best}
    for other in others:
        key = normalize_answer(other.span_text)
        if (
            other.confidence >= min_confidence
            and other.passage.published is not None
            and other.passage.chunk.article_id != best.passage.chunk.article_id
            and key
            and key not in figures
            and may_update(best.span_text, other.span_text)
        ):
            figures[key] = other
    if len(figures) == 1:
        return best, []
    by_date = sorted(figures.values(), key=lambda r: (r.passage.published, r.confidence), reverse=True)
    latest = by_date[0]
    earlier = [
        r for r in by_date[1:] if r.passage.published and latest.passage.published and r.passage.published < latest.passage.published
    ]
    return latest, earlier[:most]


def answerable_spans(guess: SpanGuess | None, passage: Passage) -> SpanGuess | None:
    """The reader's best span that an answer can be, its runners-up kept in order: none in the
    article's dateline ("New York (CNN Business) —") and none across a paragraph break ("Washington
    CNN —\n\nUkrainian"); None when no span the reader kept is left."""
    if guess is None:
        return None
    text = passage.chunk.text
    story = dateline_end(text) if passage.chunk.start == 0 else 0
    spans = [(guess.start, guess.end, guess.span_score), *guess.alternatives]
    kept = [(start, end, score) for start, end, score in spans if start >= story and not _PARAGRAPH_BREAK.search(text, start, end)]
    if len(kept) == len(spans):
        return guess
    if not kept:
        return None
    (start, end, score), rest = kept[0], tuple(kept[1:])
    return replace(guess, start=start, end=end, span_score=score, alternatives=rest)  # the runners-up stay for in_form


def in_form(guess: SpanGuess, text: str, fits: Callable[[str], bool]) -> tuple[SpanGuess, bool]:
    """The reader's best span that has the form the question asks for ("four hours", not "Monday",
    for "how long"), among its runners-up, and True; the best span and False when none has it.
    A figure or a date found inside a longer span ("rose to 540 on Wednesday, after ...") is that alone."""
    whole = fits in WHOLE_NAME_CHECKS

    def has_form(start: int, end: int) -> bool:
        return fits(text[start:end]) and not (whole and cuts_a_name(text, start, end))

    chosen = None
    if has_form(guess.start, guess.end):
        chosen = guess
    else:
        for start, end, score in guess.alternatives:
            if has_form(start, end):
                chosen = guess.instead(start, end, score)
                break
    if chosen is None:
        return guess, False
    short = SHORT_FORMS.get(fits)
    if short is not None and len(text[chosen.start : chosen.end].split()) > SHORT_FORM_WORDS:
        inside = [
            (start, end)
            for start, end, _ in guess.alternatives
            if chosen.start <= start < end <= chosen.end and len(text[start:end].split()) <= SHORT_FORM_WORDS and short(text[start:end])
        ]
        if inside:  # the reader's own runner-up, scored as the span that holds it
            return chosen.instead(*inside[0], chosen.span_score), True
    return chosen, True


def reading_question(request: Request) -> str:
    """What the reader is asked: the question itself; for an elliptical follow-up ("and the Russian
    side?") the last full question's frame around it; for one that asks on its own after a link word
    ("and who led the Russian side?") the question without the link; for another follow-up ("when
    was that?"), the condensed question (its words plus the earlier turns')."""
    if not request.condensed:
        return request.question
    if not is_elliptical(request.question):
        return own_question(request.question) or request.standalone
    earlier = last_full_question([turn.question for turn in request.history])
    return (ask_like(request.question, earlier) if earlier else None) or request.standalone


def _quote(reading: Reading, highlight: bool = False) -> Citation:
    """The sentence(s) holding the reading's span, or the passage's first sentence when it has none."""
    passage = reading.passage
    span = reading.highlight
    if span is None:
        first = passage.chunk.sentences[0] if passage.chunk.sentences else (passage.chunk.start, passage.chunk.end)
        return citation(passage, first[0], first[1], reading.rank)
    start, end = sentence_bounds(passage, *span)
    return citation(passage, start, end, reading.rank, span if highlight else None)
