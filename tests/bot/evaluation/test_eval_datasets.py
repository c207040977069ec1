"""The eval loaders on tiny files in each format, and gold article ids equal to the indexer's ids."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bot.evaluation.datasets import (
    EvalDataError,
    EvalDataMissing,
    load_dataset,
    read_corpus,
    resolve_article_ref,
    resolve_dataset,
)
from testsupport.corpora import write_jsonl


@pytest.fixture
def realtimeqa(tmp_path) -> Path:
    folder = tmp_path / "rtqa"
    write_jsonl(
        folder / "articles.jsonl",
        [
            {
                "doc_id": "d1",
                "url": "https://news.example/2022/06/12/harbour-plan",
                "title": None,
                "publish_date": "2022/06/12",
                "origin": "gold",
                "text": "The harbour plan was approved on Monday.",
            },
            {
                "doc_id": "d2",
                "url": "",
                "title": "Tram",
                "publish_date": "2022/06/13",
                "origin": "search_result",
                "text": "The tram line opens in March.",
            },
        ],
    )
    write_jsonl(
        folder / "questions.jsonl",
        [
            {
                "question_id": "q1",
                "question": "What was approved?",
                "answer_plain": "The harbour plan",
                "choices": ["a", "b"],
                "gold_doc_ids": ["d1"],
                "has_gold_article": True,
                "choice_dependent": False,
                "question_date": "2022/06/16",
                "answer_string_doc_count": 1,
            },
            {
                "question_id": "q2",
                "question": "Which of these is true?",
                "answer_plain": "All of the above",
                "choices": ["a", "b"],
                "gold_doc_ids": [],
                "has_gold_article": False,
                "choice_dependent": True,
                "answer_string_doc_count": 0,
            },
            {
                "question_id": "q3",
                "question": "When does the tram open?",
                "answer_plain": "March",
                "gold_doc_ids": ["d2"],
                "has_gold_article": True,
                "choice_dependent": False,
            },
        ],
    )
    return folder


def test_realtimeqa(realtimeqa):
    data = load_dataset(realtimeqa)
    assert data.kind == "realtimeqa" and data.name == "rtqa"
    assert data.corpus == (realtimeqa / "articles.jsonl",)
    q1, q2, q3 = data.questions
    assert q1.answers == ("The harbour plan",) and q1.score_answer and q1.retrieval_scored
    assert q1.gold_article_ids == ("https://news.example/2022/06/12/harbour-plan",)  # the URL is the id
    assert q1.asked_on == date(2022, 6, 16) and q3.asked_on is None
    assert all(q.asked_on is None for q in data.undated().questions)
    assert not q2.score_answer and not q2.retrieval_scored  # choice dependent, no gold article
    assert q3.gold_article_ids == (f"{(realtimeqa / 'articles.jsonl').resolve()}#d2",)  # no URL: path#doc_id
    assert (q1.answer_in_corpus, q2.answer_in_corpus, q3.answer_in_corpus) == (True, False, None)  # q3: the set does not say
    corpus = read_corpus(data.corpus)
    assert set(q1.gold_article_ids + q3.gold_article_ids) == set(corpus)  # the indexer's own ids


def test_squad2(tmp_path):
    folder = tmp_path / "squad"
    write_jsonl(folder / "contexts.jsonl", [{"doc_id": "c1", "text": "Southern California has 22,680,010 people."}])
    write_jsonl(
        folder / "questions.jsonl",
        [
            {
                "question_id": "a",
                "question": "How many people live there? ",
                "answers": ["22,680,010", "22,680,010"],
                "is_impossible": False,
                "context_doc_id": "c1",
            },
            {
                "question_id": "b",
                "question": "How many people live in Oregon?",
                "answers": [],
                "is_impossible": True,
                "context_doc_id": "c1",
            },
        ],
    )
    data = load_dataset(folder)
    assert data.kind == "squad2"
    a, b = data.questions
    assert a.question == "How many people live there?" and a.answers == ("22,680,010",)  # duplicates dropped
    assert not b.answerable and b.answers == ()
    assert a.gold_article_ids == b.gold_article_ids == (f"{(folder / 'contexts.jsonl').resolve()}#c1",)
    assert set(read_corpus(data.corpus)) == set(a.gold_article_ids)


def test_own_jsonl_format(tmp_path):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / "sub" / "a.txt").write_text("June 1, 2022\n\nTitle\n\nBody text.\n", encoding="utf-8")
    questions = write_jsonl(
        tmp_path / "mine.jsonl",
        [
            {"id": "x", "question": "What?", "answers": ["Body"], "article_ids": ["sub/a.txt", "https://example.org/n"]},
            {"question": "Seed style?", "answers": [], "article": None},
            {"id": "z", "question": "One ref", "answers": ["y"], "article": "sub/a.txt", "asked_on": "2022-06-03"},
        ],
    )
    data = load_dataset(questions, corpus=corpus)
    x, unanswerable, z = data.questions
    local_id = str((corpus / "sub" / "a.txt").resolve())
    assert x.gold_article_ids == (local_id, "https://example.org/n")
    assert unanswerable.id == "line 2" and unanswerable.gold_article_ids == () and not unanswerable.answerable
    assert z.gold_article_ids == (local_id,) and z.asked_on == date(2022, 6, 3) and x.asked_on is None
    assert local_id in read_corpus(data.corpus)


def test_own_jsonl_default_corpus_and_errors(tmp_path):
    questions = write_jsonl(tmp_path / "q.jsonl", [{"id": "1", "question": "Q?", "answers": ["a"]}])
    with pytest.raises(EvalDataError, match="--corpus"):
        load_dataset(questions)
    assert load_dataset(questions, default_corpus=tmp_path).corpus == (tmp_path,)
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"id": "1", "question": "Q?", "answers": "a"}])
    with pytest.raises(EvalDataError, match=r"bad.jsonl:1: field 'answers'"):
        load_dataset(bad, corpus=tmp_path)
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"question": "ok", "answers": []}\n{nope\n', encoding="utf-8")
    with pytest.raises(EvalDataError, match=r"broken.jsonl:2: invalid JSON"):
        load_dataset(broken, corpus=tmp_path)
    with pytest.raises(EvalDataError, match="questions.jsonl"):
        load_dataset(tmp_path)  # a folder that is no data set
    undated = write_jsonl(tmp_path / "when.jsonl", [{"question": "Q?", "answers": [], "asked_on": "last Tuesday"}])
    with pytest.raises(EvalDataError, match=r"when.jsonl:1: field 'asked_on' has an unreadable date 'last Tuesday'"):
        load_dataset(undated, corpus=tmp_path)


def test_resolve_article_ref(tmp_path):
    (tmp_path / "a.jsonl").write_text("{}\n", encoding="utf-8")
    assert resolve_article_ref("https://x.org/a#frag", tmp_path) == "https://x.org/a#frag"
    assert resolve_article_ref("a.jsonl#7", tmp_path) == f"{(tmp_path / 'a.jsonl').resolve()}#7"
    assert resolve_article_ref("a.jsonl#7", tmp_path / "a.jsonl") == f"{(tmp_path / 'a.jsonl').resolve()}#7"
    assert resolve_article_ref("some-id", tmp_path) == "some-id"


def test_resolve_dataset(tmp_path, realtimeqa):
    eval_dir = realtimeqa.parent
    assert resolve_dataset(str(realtimeqa), tmp_path / "elsewhere") == realtimeqa
    assert resolve_dataset("rtqa", eval_dir) == eval_dir / "rtqa"
    with pytest.raises(EvalDataMissing):
        resolve_dataset("realtimeqa_dev", tmp_path / "no-shared")
    with pytest.raises(EvalDataMissing):
        resolve_dataset(str(tmp_path / "no-shared" / "x.jsonl"), tmp_path / "no-shared")
    with pytest.raises(EvalDataError) as raised:
        resolve_dataset("my-typo.jsonl", tmp_path / "no-shared")
    assert not isinstance(raised.value, EvalDataMissing)


def test_a_count_of_articles_that_is_not_one_is_named_in_one_line(realtimeqa):
    path = realtimeqa / "questions.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    rows[2]["answer_string_doc_count"] = "several"
    write_jsonl(path, rows)
    with pytest.raises(
        EvalDataError, match=r"questions.jsonl: line 3: field 'answer_string_doc_count' must be a count of articles, not 'several'"
    ):
        load_dataset(realtimeqa)
