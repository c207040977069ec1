"""Shared fixtures: real parts only. The session runs in a sandbox (HOME, the XDG folders and newsbot's
folders in a temporary folder); the embedding model loads once per session; every test gets its own
data dir; a real `chroma run` server starts when a test asks for one."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bot.settings import BotSettings  # noqa: E402
from indexing.embedding.models import get_embedder  # noqa: E402
from indexing.index import NewsIndex  # noqa: E402
from indexing.settings import IndexSettings, SettingsSource, bundled_seeds_dir  # noqa: E402
from testsupport.sandbox import ORIGINAL_ENV, Sandbox, sandboxed, snapshot, watched_outside, written_between  # noqa: E402
from testsupport.servers import ChromaServer  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def sandbox(tmp_path_factory) -> Iterator[Sandbox]:
    """Every test runs with HOME, the XDG folders and the NEWSBOT_* folders in one temporary folder; at the
    end, the user's own newsbot folders must be as they were."""
    watched = watched_outside(ORIGINAL_ENV)
    before = snapshot(watched)
    with sandboxed(tmp_path_factory.mktemp("sandbox")) as box:
        yield box
    written = written_between(before, snapshot(watched))
    assert not written, (
        f"written outside the tests' temporary folders during the run (by a test, or by a newsbot process running meanwhile): {written[:10]}"
    )


@pytest.fixture(scope="session")
def embedder():
    """The real all-MiniLM-L6-v2 from the installed package, loaded once for the whole run."""
    model = get_embedder()
    model.embed_query("warm up")
    return model


@pytest.fixture
def isolated_env(tmp_path, monkeypatch) -> SettingsSource:
    """Settings read from an empty environment (no user config), data under tmp_path."""
    # torch for batches and queries: exporting the ONNX graph (~5 s) in every test's fresh data dir would
    # dominate the run; the session's seed index exports it once and tests that path.
    env = {
        "NEWSBOT_DATA_DIR": str(tmp_path / "data"),
        "NEWSBOT_CONFIG": str(tmp_path / "no-config.toml"),
        "NEWSBOT_EMBED_BACKEND": "torch",
    }
    return SettingsSource(env=env)


@pytest.fixture
def index_settings(isolated_env) -> IndexSettings:
    return IndexSettings.from_env(isolated_env)


@pytest.fixture
def bot_settings(isolated_env) -> BotSettings:
    return BotSettings.from_env(isolated_env)


@pytest.fixture
def news_index(index_settings, embedder) -> NewsIndex:
    return NewsIndex(index_settings)


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, embedder) -> NewsIndex:
    """The bundled seeds indexed once per session, for tests that only read."""
    data = tmp_path_factory.mktemp("seed-index")
    settings = IndexSettings.from_env(SettingsSource(env={"NEWSBOT_DATA_DIR": str(data), "NEWSBOT_CONFIG": str(data / "none")}))
    index = NewsIndex(settings)
    index.sync()
    return index


@pytest.fixture
def chroma_server(tmp_path):
    """A real Chroma server (`chroma run`) on 127.0.0.1, stopped by its PID after the test."""
    server = ChromaServer(tmp_path / "chroma-server").start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def count_tokens():
    """The embedding model's own word-piece counter (the tokenizer only; no torch)."""
    return get_embedder().count_tokens
