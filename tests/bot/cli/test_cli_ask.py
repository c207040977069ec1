"""`newsbot ask` and `newsbot chat` through the real CLI (typer), in-process so the model loads once."""

from __future__ import annotations

import json

import pytest

import bot.cli as cli
from testsupport.cli_runner import run
from testsupport.corpora import SEED_FILE, SEED_TEXT, write_txt_article
from testsupport.servers import free_port


def test_ask_json_on_a_fresh_install_indexes_the_seeds_first(run):
    result = run("ask", "Who led the US delegation?", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["answered"] is True and payload["answer"].startswith("Wendy R.")
    citation = payload["citations"][0]
    assert SEED_TEXT[citation["start"] : citation["end"]] == citation["quote"]
    assert citation["published"] == "2022-12-04"
    # Nothing else on stdout: exactly one JSON document.
    assert result.stdout.strip().count("\n") == 0


def test_an_index_a_killed_run_left_empty_is_not_filled_with_the_demo_seeds(run, tmp_path):
    from indexing.settings import IndexSettings, SettingsSource
    from indexing.store.chroma import ChunkStore

    store = ChunkStore(IndexSettings.from_env(SettingsSource(env={"NEWSBOT_DATA_DIR": str(tmp_path / "data"), "NEWSBOT_CONFIG": "-"})))
    store.note_roots([str(tmp_path / "my-news")])  # what `newsbot index ~/my-news` records before it is killed
    result = run("ask", "Who led the US delegation?", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["answered"] is False
    assert store.chunk_count() == 0, "the demo seeds were indexed into the user's index"


def test_a_fresh_index_is_filled_from_the_configured_corpus_only(run, tmp_path, monkeypatch):
    corpus = tmp_path / "my-news"
    write_txt_article(corpus, "ferry.txt", "Ferry crosses in storm", "Captain Ingrid Sato steered the Vellmar ferry through the storm.")
    monkeypatch.setenv("NEWSBOT_CORPUS", str(corpus))
    result = run("ask", "Who steered the Vellmar ferry?", "--json")
    assert result.exit_code == 0, result.output
    assert "Ingrid Sato" in json.loads(result.stdout)["answer"]
    status = json.loads(run("status", "--json").stdout)
    assert status["sources"] == [{"path": str(corpus.resolve()), "articles": 1}]


def test_ask_in_the_terminal_numbers_the_passages(run):
    result = run("ask", "How many members does NATO have?")
    assert result.exit_code == 0, result.output
    assert "30 [1]" in result.stdout
    assert "[1] Russia, NATO talks on Ukraine crisis" in result.stdout
    assert "2022-12-04" in result.stdout


def test_ask_reads_the_question_from_stdin_and_refuses_plainly(run):
    result = run("ask", "-", "--json", stdin="Who won the 2022 FIFA World Cup?\n")
    payload = json.loads(result.stdout)
    assert payload["answered"] is False and payload["citations"] == [] and payload["closest"]


def test_as_of_a_day_before_the_article_it_does_not_exist_yet(run):
    before = json.loads(run("ask", "Who led the US delegation?", "--json", "--as-of", "2022-12-01").stdout)
    assert before["answered"] is False and before["closest"] == []
    after = json.loads(run("ask", "Who led the US delegation?", "--json", "--as-of", "2022-12-05").stdout)
    assert after["answer"].startswith("Wendy R.")
    bad = run("ask", "Who led the US delegation?", "--as-of", "5 Dec")
    assert bad.exit_code == 1 and "--as-of '5 Dec' is not a date: write it as YYYY-MM-DD" in bad.output


def test_as_of_a_day_that_does_not_exist_is_called_that(run):
    result = run("ask", "Who led the US delegation?", "--as-of", "2025-02-30")
    assert result.exit_code == 1
    assert result.output.strip() == "error: --as-of 2025-02-30: that date does not exist (February 2025 has 28 days)"


def test_as_of_near_year_one_answers_instead_of_overflowing(run):
    result = run("ask", "Who led the US delegation this week?", "--json", "--as-of", "0001-01-05")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["answered"] is False  # nothing existed yet


def test_explain_prints_each_stage(run):
    result = run("ask", "Who is the NATO Secretary-General?", "--explain")
    assert result.exit_code == 0
    for stage in ("dense", "keyword", "fused", "sentences"):
        assert stage in result.stdout
    rows = [line.strip() for line in result.stdout.splitlines() if line.startswith("  {")]
    assert rows and all(json.loads(row) for row in rows), "a JSON row was wrapped"
    scoped = run("ask", "Who led the US delegation this week?", "--explain", "--as-of", "2022-12-06")
    assert "asked on 2022-12-06; articles of the last 7 days preferred" in scoped.stdout


def test_chat_carries_the_conversation(run):
    stdin = "Who led the US delegation to the talks?\nand who led the Russian side?\n"
    result = run("chat", "--json", stdin=stdin)
    assert result.exit_code == 0, result.output
    first, second = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert first["answer"].startswith("Wendy R.")
    assert second["answer"].startswith("Sergei A.")
    assert "US delegation" in second["standalone_question"]


def test_chat_new_says_the_conversation_starts_over(run):
    result = run("chat", stdin="/new\n")
    assert result.exit_code == 0, result.output
    assert "New conversation" in result.stderr


def test_unreachable_chroma_server_is_one_line_and_exit_1(run, monkeypatch):
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(free_port()))
    result = run("ask", "Who led the US delegation?")
    assert result.exit_code == 1
    assert "cannot reach the Chroma server" in result.output
    assert "Traceback" not in result.output
