"""`newsbot` in-process through typer's runner, so the model loads once per test session."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

import bot.cli as cli


def invoker(tmp_path, monkeypatch):
    """Invoke the CLI with a fresh data dir, no config file and none of the user's newsbot settings."""
    monkeypatch.setenv("NEWSBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("NEWSBOT_CONFIG", str(tmp_path / "none.toml"))
    monkeypatch.setenv("NEWSBOT_EMBED_BACKEND", "torch")
    for name in ("CHROMA_HOST", "NEWSBOT_LLM", "NEWSBOT_CORPUS", "NEWSBOT_SEEDS"):
        monkeypatch.delenv(name, raising=False)
    cli.load_settings.cache_clear()
    runner = CliRunner()

    def invoke(*args: str, stdin: str | None = None):
        cli.load_settings.cache_clear()
        return runner.invoke(cli.app, list(args), input=stdin)

    return invoke


@pytest.fixture
def run(tmp_path, monkeypatch, embedder):
    """The CLI on the real embedding model and the default answerer (the reader)."""
    return invoker(tmp_path, monkeypatch)


@pytest.fixture
def run_fast(tmp_path, monkeypatch, fake_model):
    """The CLI on the fake embedder (testsupport.fake_embedder) and the heuristic answerer: for tests of the
    CLI's own behaviour, in the fast tier."""
    monkeypatch.setenv("NEWSBOT_ANSWERER", "heuristic")
    return invoker(tmp_path, monkeypatch)
