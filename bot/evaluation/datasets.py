"""Evaluation data sets: RealTimeQA, SQuAD 2.0 and a simple JSONL format of our own, as one shape.

Every loader returns an `EvalDataset`: the corpus to index and the questions, each with its accepted
answers and the ids *newsbot* gives the gold articles (so retrieval can be scored by article id):
- RealTimeQA (`articles.jsonl` + `questions.jsonl`): a record with a URL gets the URL as its id;
- SQuAD 2.0 (`contexts.jsonl` + `questions.jsonl`): contexts have only a doc_id -> "path#doc_id";
- our JSONL (also the seed set's format): one object per line,
  `{"id", "question", "answers": [...], "article_ids": [...], "asked_on": "YYYY-MM-DD"}` (or
  `"article": "file"`; `asked_on` is optional), gold
  references given as URLs or as paths relative to the corpus folder.
The ids come from `indexing.sources.files.article_from_record`, the very function the indexer uses.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

from indexing import Article, NewsbotError, article_from_record, iter_article_files, parse_date_field, read_file

SHARED_SETS = ("seed_qa.jsonl", "realtimeqa_dev", "squad2_dev")


class EvalDataError(NewsbotError):
    """An evaluation data set cannot be found or read."""


class EvalDataMissing(EvalDataError):
    """The shared evaluation data is not there (a user's checkout): skip, do not fail."""


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    answers: tuple[str, ...]  # accepted answers; () means the corpus does not answer it
    gold_article_ids: tuple[str, ...] = ()  # newsbot ids of the articles the question was written against
    score_answer: bool = True  # False: left out of the answer metrics (RealTimeQA's choice_dependent)
    score_retrieval: bool = True  # scored for retrieval (only ever when there is a gold article)
    asked_on: date | None = None  # the day the question was asked ("this week" is the week before it)
    # Whether any article of the corpus holds the answer's words (RealTimeQA's answer_string_doc_count);
    # None where the set does not say. An answerable question whose answer no article holds is one
    # the articles do not answer, whatever its gold answer.
    answer_in_corpus: bool | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.answers)

    @property
    def retrieval_scored(self) -> bool:
        return self.score_retrieval and bool(self.gold_article_ids)


@dataclass(frozen=True)
class EvalDataset:
    name: str
    kind: str  # "realtimeqa" | "squad2" | "jsonl"
    source: Path
    corpus: tuple[Path, ...]  # files or folders to index
    questions: tuple[EvalQuestion, ...]

    def limited(self, limit: int | None) -> EvalDataset:
        return self if not limit else replace(self, questions=self.questions[:limit])

    def undated(self) -> EvalDataset:
        """Every question asked today instead of on its own day (to measure what the dates are worth)."""
        return replace(self, questions=tuple(replace(q, asked_on=None) for q in self.questions))


def resolve_dataset(name: str | Path, eval_dir: Path) -> Path:
    """The data set a user named: an existing path, or one of the shared sets in `eval_dir`.

    Raises EvalDataMissing when it names shared data that is not on this machine (callers skip).
    """
    path = Path(name).expanduser()
    if path.exists():
        return path
    shared = Path(eval_dir) / path.name
    if len(path.parts) == 1 and shared.exists():
        return shared
    eval_dir = Path(eval_dir).expanduser()
    under_eval_dir = eval_dir.resolve() in path.resolve().parents
    if path.name in SHARED_SETS or under_eval_dir or ("shared" in path.parts and "eval" in path.parts):
        raise EvalDataMissing(
            f"the shared evaluation data is not here ({path} not found, eval dir {eval_dir}): "
            "set NEWSBOT_EVAL_DIR to the folder that holds it"
        )
    raise EvalDataError(f"{path}: no such data set (a folder like realtimeqa_dev/squad2_dev, or a questions .jsonl file)")


def load_dataset(path: Path, corpus: Path | None = None, default_corpus: Path | None = None) -> EvalDataset:
    """Detect the format of `path` and load it; `corpus` overrides the articles to index."""
    path = Path(path)
    if path.is_dir():
        if (path / "articles.jsonl").is_file() and (path / "questions.jsonl").is_file():
            return load_realtimeqa(path, corpus)
        if (path / "contexts.jsonl").is_file() and (path / "questions.jsonl").is_file():
            return load_squad2(path, corpus)
        raise EvalDataError(f"{path}: a data set folder needs questions.jsonl beside articles.jsonl or contexts.jsonl")
    if path.suffix.lower() == ".jsonl":
        return load_jsonl(path, corpus or default_corpus)
    raise EvalDataError(f"{path}: not a data set (give a folder, or a .jsonl file of questions)")


def read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, object) for every non-blank line; a bad line raises with its number."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalDataError(f"{path}: cannot read ({exc})") from exc
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalDataError(f"{path}:{number}: invalid JSON ({exc.msg})") from exc
        if not isinstance(record, dict):
            raise EvalDataError(f"{path}:{number}: expected a JSON object")
        yield number, record


def article_ids_by_doc_id(articles_file: Path) -> dict[str, str]:
    """doc_id -> the id newsbot gives that record when it indexes `articles_file`."""
    path = Path(articles_file).resolve()
    ids: dict[str, str] = {}
    for number, record in read_jsonl(path):
        doc_id = record.get("doc_id") or record.get("id")
        if doc_id in (None, ""):
            continue
        try:
            ids[str(doc_id)] = article_from_record(record, path, f"line {number}").id
        except NewsbotError:
            continue  # a record the indexer cannot read either: it has no article id
    return ids


def load_realtimeqa(folder: Path, corpus: Path | None = None) -> EvalDataset:
    """RealTimeQA: answers scored without choice_dependent questions; retrieval where there is a gold article."""
    folder = Path(folder)
    articles = folder / "articles.jsonl"
    ids = article_ids_by_doc_id(articles)
    questions = []
    for number, q in read_jsonl(folder / "questions.jsonl"):
        answer = _field(q, "answer_plain", str, folder / "questions.jsonl", number)
        questions.append(
            EvalQuestion(
                id=str(q.get("question_id", f"line {number}")),
                question=_field(q, "question", str, folder / "questions.jsonl", number),
                answers=(answer,) if answer.strip() else (),
                gold_article_ids=tuple(ids[d] for d in q.get("gold_doc_ids") or () if d in ids),
                score_answer=not q.get("choice_dependent", False),
                score_retrieval=bool(q.get("has_gold_article", True)),
                asked_on=_date_field(q, "question_date", folder / "questions.jsonl", number),
                answer_in_corpus=_answer_in_corpus(q, folder / "questions.jsonl", number),
            )
        )
    return EvalDataset(folder.name, "realtimeqa", folder, (Path(corpus) if corpus else articles,), tuple(questions))


def _answer_in_corpus(record: dict[str, Any], path: Path, number: int) -> bool | None:
    count = record.get("answer_string_doc_count")
    if count is None:
        return None
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise EvalDataError(f"{path}: line {number}: field 'answer_string_doc_count' must be a count of articles, not {count!r}")
    return count > 0


def load_squad2(folder: Path, corpus: Path | None = None) -> EvalDataset:
    """SQuAD 2.0: `is_impossible` questions have no answer (the bot must refuse)."""
    folder = Path(folder)
    contexts = folder / "contexts.jsonl"
    ids = article_ids_by_doc_id(contexts)
    questions = []
    for number, q in read_jsonl(folder / "questions.jsonl"):
        answers = () if q.get("is_impossible") else tuple(dict.fromkeys(str(a) for a in q.get("answers") or () if str(a).strip()))
        gold = ids.get(str(q.get("context_doc_id", "")))
        questions.append(
            EvalQuestion(
                id=str(q.get("question_id", f"line {number}")),
                question=_field(q, "question", str, folder / "questions.jsonl", number).strip(),
                answers=answers,
                gold_article_ids=(gold,) if gold else (),
            )
        )
    return EvalDataset(folder.name, "squad2", folder, (Path(corpus) if corpus else contexts,), tuple(questions))


def load_jsonl(path: Path, corpus: Path | None) -> EvalDataset:
    """Our own format (and the seed set's): {id, question, answers, article_ids | article} per line."""
    path = Path(path)
    if corpus is None:
        raise EvalDataError(f"{path}: pass --corpus with the articles these questions are about")
    corpus = Path(corpus).expanduser()
    if not corpus.exists():
        raise EvalDataError(f"{corpus}: corpus not found (pass --corpus with a folder or file of articles)")
    questions = []
    for number, q in read_jsonl(path):
        answers = q.get("answers")
        if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
            raise EvalDataError(f"{path}:{number}: field 'answers' must be a list of strings ([] = not answerable)")
        refs = q.get("article_ids", q.get("article"))
        refs = [refs] if isinstance(refs, str) else list(refs or [])
        questions.append(
            EvalQuestion(
                id=str(q.get("id") or f"line {number}"),
                question=_field(q, "question", str, path, number).strip(),
                answers=tuple(a for a in answers if a.strip()),
                gold_article_ids=tuple(resolve_article_ref(str(r), corpus) for r in refs),
                asked_on=_date_field(q, "asked_on", path, number),
            )
        )
    return EvalDataset(path.stem, "jsonl", path, (corpus,), tuple(questions))


def resolve_article_ref(ref: str, corpus: Path) -> str:
    """A gold reference as newsbot's article id: URLs stay; paths (optionally "#record") resolve under the corpus."""
    if ref.startswith(("http://", "https://")):
        return ref
    file_part, hash_sign, record = ref.partition("#")
    base = corpus if corpus.is_dir() else corpus.parent
    for candidate in (base / file_part, Path(file_part).expanduser()):
        if file_part and candidate.exists():
            return f"{candidate.resolve()}{hash_sign}{record}"
    return ref


def _field(record: dict[str, Any], name: str, kind: type, path: Path, number: int) -> Any:
    value = record.get(name)
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        raise EvalDataError(f"{path}:{number}: field {name!r} is missing or not a {kind.__name__}")
    return value


def _date_field(record: dict[str, Any], name: str, path: Path, number: int) -> date | None:
    """An optional date field: None when absent, an error naming the place when unreadable."""
    raw = record.get(name)
    try:
        return parse_date_field(raw)
    except ValueError:
        raise EvalDataError(f"{path}:{number}: field {name!r} has an unreadable date {raw!r} (use YYYY-MM-DD)") from None


def read_corpus(paths: tuple[Path, ...]) -> dict[str, Article]:
    """The articles of the corpus exactly as the indexer reads them (to check quotes against)."""
    articles: dict[str, Article] = {}
    for file in iter_article_files(paths):
        for article in read_file(file).articles:
            articles[article.id] = article
    return articles
