"""The CLI's own behaviour (JSON shape, terminal layout, stdin, status) on the fake embedder and the
heuristic answerer: the fast tier's check of a change to the CLI. The real model's answers are
tests/bot/cli/test_cli_ask.py's."""

from __future__ import annotations

import json

from testsupport.cli_runner import run_fast
from testsupport.corpora import SEED_TEXT, write_txt_article


def test_ask_json_indexes_the_seeds_first_and_quotes_them_verbatim(run_fast):
    result = run_fast("ask", "Who led the US delegation?", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) >= {"question", "answer", "answered", "confidence", "citations"}
    assert result.stdout.strip().count("\n") == 0, "exactly one JSON document on stdout"
    assert payload["answered"] is True and payload["answer"].startswith("Wendy R.")
    citation = payload["citations"][0]
    assert SEED_TEXT[citation["start"] : citation["end"]] == citation["quote"]
    assert citation["published"] == "2022-12-04"


def test_ask_in_the_terminal_numbers_the_passages(run_fast):
    result = run_fast("ask", "How many members does NATO have?")
    assert result.exit_code == 0, result.output
    assert "[1]" in result.stdout and "Russia, NATO talks on Ukraine crisis" in result.stdout and "2022-12-04" in result.stdout


def test_a_question_from_stdin_the_articles_do_not_answer_is_refused(run_fast):
    result = run_fast("ask", "-", "--json", stdin="Who won the 2022 FIFA World Cup?\n")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["answered"] is False and payload["citations"] == []


def test_index_then_status_count_the_folder(run_fast, tmp_path):
    corpus = tmp_path / "my-news"
    write_txt_article(corpus, "ferry.txt", "Ferry crosses in storm", "Captain Ingrid Sato steered the Vellmar ferry through the storm.")
    assert run_fast("index", str(corpus)).exit_code == 0
    status = json.loads(run_fast("status", "--json").stdout)
    assert status["sources"] == [{"path": str(corpus.resolve()), "articles": 1}] and status["articles"] == 1
    answer = json.loads(run_fast("ask", "Who steered the Vellmar ferry?", "--json").stdout)
    assert "Ingrid Sato" in answer["answer"]
