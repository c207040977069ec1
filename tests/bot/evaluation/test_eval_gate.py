"""The CI gate: seed questions through the real chain (real model, real Chroma, real NER).

(a) always: our own questions about the seed article (tests/data/seed_questions.jsonl);
(b) when the shared evaluation data is beside the checkout: every question of its seed set.
Every question must be right (an accepted answer inside the answer text; a refusal on the
unanswerable one) and every quote verbatim article text.
(c) the trap set (tests/data/traps: near misses, typed answers, a superseded figure, a reason): the
reader must keep the 16 of 24 it gets right, each of those named, so a regression says which.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.evaluation.datasets import load_dataset
from bot.evaluation.runner import EvalReport, run_eval
from bot.settings import default_eval_dir
from indexing.settings import bundled_seeds_dir
from testsupport.corpora import DATA

OWN_QUESTIONS = DATA / "seed_questions.jsonl"
SHARED_SEED_QA = default_eval_dir() / "seed_qa.jsonl"


def seed_eval(path: Path, bot_settings) -> EvalReport:
    return run_eval(load_dataset(path, default_corpus=bundled_seeds_dir()), bot_settings)


def assert_all_right(report: EvalReport) -> None:
    results = report.system("newsbot").results
    assert results, "no question was asked"
    wrong = [
        f"{r.id}: {r.question!r} -> {r.prediction!r} (answered={r.answered}, confidence={r.confidence}, want {r.answers})"
        for r in results
        if not r.correct
    ]
    assert not wrong, "seed questions regressed:\n" + "\n".join(wrong)
    for r in results:
        assert r.verbatim == r.citations, f"{r.id}: {r.citations - r.verbatim} quote(s) not verbatim article text"
        if r.answered:
            assert r.citations >= 1, f"{r.id}: an answer without a citation"
        if r.answers:
            assert r.gold_rank == 1, f"{r.id}: the seed article is not the first article retrieved"
    summary = report.system("newsbot").summary
    assert summary["verbatim_citations"] == 1.0
    assert summary["refusal_recall"] == 1.0 and summary["refusal_precision"] == 1.0


def test_own_seed_questions_all_right(bot_settings, embedder):
    questions = [json.loads(line) for line in OWN_QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert any(q["answers"] == [] for q in questions), "the set must keep an unanswerable question"
    assert_all_right(seed_eval(OWN_QUESTIONS, bot_settings))


@pytest.mark.skipif(not SHARED_SEED_QA.is_file(), reason="shared evaluation data (../shared/eval) not in this checkout")
def test_shared_seed_set_all_right(bot_settings, embedder):
    assert_all_right(seed_eval(SHARED_SEED_QA, bot_settings))


def test_eval_command_json_with_baseline(tmp_path, monkeypatch, embedder):
    import bot.cli as cli

    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "user-data"))
    monkeypatch.setenv("NEWSBOT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.delenv("CHROMA_HOST", raising=False)
    cli.load_settings.cache_clear()
    out_file = tmp_path / "report.json"
    try:
        result = CliRunner().invoke(cli.app, ["eval", str(OWN_QUESTIONS), "--json", "--baseline", "--limit", "3", "--out", str(out_file)])
    finally:
        cli.load_settings.cache_clear()
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(payload["systems"]) == {"newsbot", "baseline"}
    for name, system in payload["systems"].items():
        assert len(system["questions"]) == 3
        assert system["summary"]["verbatim_citations"] == 1.0, name
        assert set(system["misses"]) == {"answer", "retrieval@5", "not_verbatim"}
    assert payload["systems"]["baseline"]["summary"]["refused_answerable"] == 0.0  # it never refuses
    assert json.loads(out_file.read_text(encoding="utf-8"))["dataset"] == "seed_questions"
    assert not (tmp_path / "user-data").exists(), "eval must never write to the user's index"


def test_eval_command_skips_without_shared_data(tmp_path, monkeypatch):
    import bot.cli as cli

    monkeypatch.setenv("NEWSBOT_EVAL_DIR", str(tmp_path / "no-shared-eval"))
    monkeypatch.setenv("NEWSBOT_CONFIG", str(tmp_path / "none.toml"))
    cli.load_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli.app, ["eval", "realtimeqa_dev", "--json"])
    finally:
        cli.load_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "skipped" in json.loads(result.stdout.strip().splitlines()[-1])


TRAP_QUESTIONS = DATA / "trap_questions.jsonl"
# What the shipped reader gets right, each by name. Its known failures (docs/evaluation.md): the
# replaced coach for the new one, the loser of a by-election, a runner-up (refused), a subgroup's count
# given as the total, a whole's value for a part's, and a population the articles never give.
TRAPS_RIGHT = {
    "trap-age", "trap-aircraft", "trap-arena-cost", "trap-ceo-age", "trap-closing-date", "trap-coach-salary",
    "trap-dateline-gallery", "trap-demonym-country", "trap-demonym-drama", "trap-ferry-why", "trap-fire-hospital", "trap-jobs",
    "trap-latest-evacuations", "trap-leader", "trap-loser-share", "trap-mayor", "trap-roofing-company",
    "trap-tablet-on-sale", "trap-tablet-price", "trap-union-leader", "trap-union-predecessor",
}  # fmt: skip


def test_the_reader_keeps_the_trap_questions_it_gets_right(bot_settings, embedder):
    report = run_eval(load_dataset(TRAP_QUESTIONS, default_corpus=DATA / "traps"), bot_settings)
    results = report.system("newsbot").results
    assert len(results) == len(TRAP_QUESTIONS.read_text(encoding="utf-8").splitlines())
    lost = sorted(f"{r.id}: {r.question!r} -> {r.prediction!r}" for r in results if r.id in TRAPS_RIGHT and not r.correct)
    assert not lost, "trap questions regressed:\n" + "\n".join(lost)
    assert all(r.verbatim == r.citations for r in results)
