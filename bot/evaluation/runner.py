"""Run an evaluation: index the corpus into a temporary data dir, ask every question, score.

Never touches the user's index: the run gets its own data dir (embedded Chroma, even when
CHROMA_HOST is set) and removes it afterwards. With `baseline=True` the naive LangChain RAG
(`bot.evaluation.baseline`) answers the same questions from the same articles.
"""

from __future__ import annotations

import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.evaluation.datasets import EvalDataError, EvalDataset, EvalQuestion, read_corpus
from bot.evaluation.metrics import QuestionResult, gold_rank, misses, score_answer, summarise
from bot.evaluation.systems import NewsbotSystem, System, SystemAnswer
from bot.settings import BotSettings
from indexing import Article, SyncProgress


@dataclass
class SystemRun:
    name: str
    results: list[QuestionResult]
    index_seconds: float
    chunks: int

    @property
    def summary(self) -> dict[str, Any]:
        return summarise(self.results)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "index_seconds": round(self.index_seconds, 2),
            "chunks": self.chunks,
            "summary": self.summary,
            "misses": misses(self.results),
            "questions": [r.to_json() for r in self.results],
        }


@dataclass
class EvalReport:
    dataset: str
    kind: str
    source: str
    corpus: list[str]
    articles: int
    answerer: str
    systems: list[SystemRun] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: str = ""
    seconds: float = 0.0

    def system(self, name: str) -> SystemRun | None:
        return next((s for s in self.systems if s.name == name), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "kind": self.kind,
            "source": self.source,
            "corpus": self.corpus,
            "articles": self.articles,
            "answerer": self.answerer,
            "started": self.started,
            "seconds": round(self.seconds, 1),
            "notes": self.notes,
            "systems": {s.name: s.to_json() for s in self.systems},
        }


class EvalProgress:
    """Callbacks for a progress display; the default does nothing."""

    def stage(self, message: str) -> None: ...

    def sync_progress(self) -> SyncProgress | None:
        return None

    def baseline_chunks(self, done: int, total: int) -> None: ...

    def questions(self, system: str, done: int, total: int) -> None: ...


def eval_settings(settings: BotSettings, data_dir: Path) -> BotSettings:
    """The user's settings (model, chunking, answerer), with a private, embedded index in data_dir."""
    index = settings.index.replace(data_dir=data_dir, chroma_host=None, corpus_paths=(), collection_prefix="newsbot_eval")
    return settings.replace(index=index)


def run_eval(
    dataset: EvalDataset,
    settings: BotSettings,
    baseline: bool = False,
    limit: int | None = None,
    progress: EvalProgress | None = None,
    answerers: Sequence[str] = (),
) -> EvalReport:
    """Index the set's corpus privately and score newsbot on it: with the settings' answerer, or with
    each of `answerers` side by side on the same index (systems "newsbot-<name>"); `baseline` adds
    LangChain's textbook RAG."""
    progress = progress or EvalProgress()
    dataset = dataset.limited(limit)
    began = time.perf_counter()
    progress.stage(f"reading the corpus {', '.join(map(str, dataset.corpus))}")
    articles = read_corpus(dataset.corpus)
    if not articles:
        raise EvalDataError(f"{', '.join(map(str, dataset.corpus))}: the corpus holds no readable articles")
    report = EvalReport(
        dataset=dataset.name,
        kind=dataset.kind,
        source=str(dataset.source),
        corpus=[str(p) for p in dataset.corpus],
        articles=len(articles),
        answerer=", ".join(answerers) if answerers else settings.llm or settings.answerer,
        started=datetime.now(UTC).isoformat(timespec="seconds"),
        notes=_gold_notes(dataset.questions, articles),
    )
    if any(q.asked_on for q in dataset.questions):
        report.notes.append("each question is asked as of its own date (later articles left out, 'this week' = the week before)")
    with tempfile.TemporaryDirectory(prefix="newsbot-eval-") as tmp:
        private = eval_settings(settings, Path(tmp) / "newsbot")
        _run_newsbot(dataset, private, articles, answerers, report, progress)
        if baseline:
            _run_baseline(dataset, private, articles, Path(tmp) / "baseline", report, progress)
    report.seconds = time.perf_counter() - began
    return report


def _run_newsbot(
    dataset: EvalDataset,
    settings: BotSettings,
    articles: dict[str, Article],
    answerers: Sequence[str],
    report: EvalReport,
    progress: EvalProgress,
) -> None:
    """Index the corpus once with newsbot, then score each answerer (or the settings' one) on it."""
    from bot.answering.choose import choose_answerer
    from bot.chain import NewsBot
    from indexing import NewsIndex

    index = NewsIndex(settings.index)
    progress.stage(f"indexing {len(articles)} articles with newsbot")
    t0 = time.perf_counter()
    synced = index.sync(list(dataset.corpus), progress.sync_progress())
    if synced.failed:
        report.notes.append(f"{len(synced.failed)} corpus file(s) or record(s) could not be indexed")
    index_seconds, chunks = time.perf_counter() - t0, index.store.chunk_count()
    names: list[str | None] = list(answerers) or [None]
    for name in names:
        bot = NewsBot(settings, index, choose_answerer(settings, index, name))
        system = "newsbot" if len(answerers) <= 1 else f"newsbot-{name}"
        results = evaluate(NewsbotSystem(bot, system), dataset.questions, articles, progress)
        report.systems.append(SystemRun(system, results, index_seconds, chunks))


def _run_baseline(
    dataset: EvalDataset, settings: BotSettings, articles: dict[str, Article], folder: Path, report: EvalReport, progress: EvalProgress
) -> None:
    """LangChain's textbook RAG on the same corpus, in `folder`."""
    from bot.evaluation.baseline import NaiveRag
    from indexing import get_embedder

    progress.stage(f"indexing {len(articles)} articles with the LangChain baseline")
    t0 = time.perf_counter()
    s = settings.index  # the textbook pipeline's embeddings: the same weights, every core as for newsbot's batches
    naive = NaiveRag(get_embedder(s.embed_model, s.batch_thread_count, s.embed_batch_size), folder)
    chunks = naive.build(articles.values(), progress.baseline_chunks)
    index_seconds = time.perf_counter() - t0
    results = evaluate(naive, dataset.questions, articles, progress)
    report.systems.append(SystemRun("baseline", results, index_seconds, chunks))


def evaluate(
    system: System, questions: Sequence[EvalQuestion], articles: dict[str, Article], progress: EvalProgress | None = None
) -> list[QuestionResult]:
    """Ask every question (after one untimed warm-up) and score the answers and the retrieval."""
    progress = progress or EvalProgress()
    if questions:
        system.answer(questions[0].question, questions[0].asked_on)  # loads lazy models; not timed
    results = []
    for done, q in enumerate(questions, start=1):
        answer = system.answer(q.question, q.asked_on)
        retrieved = system.rank_articles(q.question, as_of=q.asked_on) if q.gold_article_ids else []
        result = _result(q, answer, retrieved, articles)
        if q.score_answer:
            score_answer(result)
        results.append(result)
        progress.questions(system.name, done, len(questions))
    return results


def _result(q: EvalQuestion, answer: SystemAnswer, retrieved: list[str], articles: dict[str, Article]) -> QuestionResult:
    verbatim = sum(
        1
        for quote in answer.quotes
        if quote.article_id in articles and articles[quote.article_id].text[quote.start : quote.end] == quote.text
    )
    return QuestionResult(
        id=q.id,
        question=q.question,
        answers=list(q.answers),
        gold_article_ids=list(q.gold_article_ids),
        prediction=answer.text,
        answered=answer.answered,
        seconds=answer.seconds,
        retrieved=retrieved,
        gold_rank=gold_rank(retrieved, q.gold_article_ids) if q.gold_article_ids else None,
        citations=len(answer.quotes),
        verbatim=verbatim,
        answer_scored=q.score_answer,
        retrieval_scored=q.retrieval_scored,
        confidence=answer.confidence,
        answer_in_corpus=q.answer_in_corpus,
    )


def _gold_notes(questions: Sequence[EvalQuestion], articles: dict[str, Article]) -> list[str]:
    notes = []
    gold = {g for q in questions if q.retrieval_scored for g in q.gold_article_ids}
    missing = sorted(g for g in gold if g not in articles)
    if missing:
        shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
        notes.append(f"{len(missing)} gold article id(s) are not in the corpus (retrieval cannot find them): {shown}")
    texts = Counter(a.text for a in articles.values())
    boilerplate = {g for g in gold if g in articles and texts[articles[g].text] > 1}
    only = sum(1 for q in questions if q.retrieval_scored and set(q.gold_article_ids) <= boilerplate)
    if only:
        notes.append(
            f"{only} retrieval question(s) have only gold articles whose whole text also appears as other articles "
            "(page boilerplate, not the story)"
        )
    return notes
