"""`newsbot ask|chat --source/--since/--until` through the real CLI (typer), in-process, on the fake embedder
(the filters, not the model, are the subject: the fast tier)."""

from __future__ import annotations

import json

import pytest

import bot.cli as cli
from indexing.settings import bundled_seeds_dir
from testsupport.cli_runner import run_fast

QUESTION = "Who led the US delegation?"


def test_ask_inside_a_folder_and_a_period_answers(run_fast):
    result = run_fast("ask", QUESTION, "--json", "--source", str(bundled_seeds_dir()), "--since", "2022-12-04", "--until", "2022-12-04")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["answer"].startswith("Wendy R.")


def test_ask_with_a_filter_that_leaves_nothing_names_it(run_fast):
    result = run_fast("ask", QUESTION, "--json", "--source", "reuters.com")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["answered"] is False and payload["citations"] == []
    assert payload["answer"] == "No indexed article is from 'reuters.com': the source filter left nothing to answer from."
    result = run_fast("ask", QUESTION, "--until", "2022-12-03")
    assert "No indexed article was published until 2022-12-03: the date filter left nothing" in result.stdout


@pytest.mark.parametrize(
    "args, message",
    [
        (("--since", "2024-02-30"), "error: --since 2024-02-30: that date does not exist (February 2024 has 29 days)"),
        (("--until", "June"), "error: --until 'June' is not a date: write it as YYYY-MM-DD"),
        (("--since", "2024-06-02", "--until", "2024-06-01"), "error: --since 2024-06-02 is after --until 2024-06-01"),
    ],
)
def test_a_bad_filter_is_one_line_before_anything_loads(run_fast, args, message):
    result = run_fast("ask", QUESTION, *args)
    assert result.exit_code == 1 and result.stderr.strip().startswith(message), result.output


def test_chat_keeps_its_filters_for_every_question(run_fast):
    result = run_fast("chat", "--json", "--source", "reuters.com", stdin=f"{QUESTION}\nand the Russian side?\n")
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(answers) == 2 and all(a["answer"].startswith("No indexed article is from 'reuters.com'") for a in answers)
