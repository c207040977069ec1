"""Shared fixtures: real parts only. The session runs in a sandbox (HOME, the XDG folders and newsbot's
folders in a temporary folder); the embedding model loads once per session; every test gets its own
data dir; a real `chroma run` server starts when a test asks for one.

Two tiers: every test (CI, the README's `pytest`), and the fast tier, `pytest --fast`, in about a minute:
the tests that are not `heavy` (a real model, servers, subprocesses, training; see MODEL_FIXTURES and
HEAVY_MODULES). Tests whose subject is not the model use testsupport.fake_embedder instead."""

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

pytest_plugins = ["testsupport.fake_embedder"]  # its fixtures, for any test: hash_embedder, fake_model

# Fixtures that load the real embedding model; a test that needs one, directly or through another fixture, is `heavy`.
MODEL_FIXTURES = frozenset({"embedder", "seed_index", "news_index"})
# Modules (or single tests) that load a model another way (a subprocess, the reader's export, a training run) or start servers
# and processes: `heavy` too. A test that only needs retrieval to work, not the real model, uses fake_model.
HEAVY_MODULES = frozenset(
    {
        "tests/test_packaging.py",
        "tests/newsbot_reader/test_training.py",
        "tests/indexing/test_embedding_backends.py",
        "tests/indexing/keyword/test_keyword.py",
        "tests/indexing/store/test_server_mode.py",
        "tests/indexing/store/test_server_auth.py",
        "tests/indexing/store/test_processes.py",
        "tests/indexing/store/test_owner.py",
        "tests/indexing/store/test_owner_security.py",
        "tests/indexing/store/test_writer_lock.py",
        "tests/indexing/arrivals/test_watch.py",
        "tests/indexing/sources/test_fuzz.py",
        "tests/indexing/sources/test_properties.py",
        "tests/bot/cli/test_cli_index.py",
        "tests/bot/cli/test_cli_help.py",
        "tests/bot/cli/test_cli_store_outage.py",
        "tests/bot/retrieval/test_copies.py",
        "tests/bot/slack/test_slack.py",
        # single tests: a model fixture asked for by name, or a large store
        "tests/bot/test_chain.py::test_citation_scores_are_relevance_on_one_zero_to_one_scale",
        "tests/indexing/store/test_registry_reads.py::test_a_registry_of_more_records_than_sqlite_binds_at_once_is_read_whole",
        "tests/indexing/test_private.py::test_a_fresh_data_dir_and_every_file_in_it_are_private",
    }
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--fast", action="store_true", help="the fast tier: leave out `heavy` tests (real models, servers, subprocesses)")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "heavy: loads a real model, or runs servers, subprocesses or training; left out by --fast")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        module, _, name = item.nodeid.partition("::")
        test = f"{module}::{name.split('[', 1)[0]}"
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())) or module in HEAVY_MODULES or test in HEAVY_MODULES:
            item.add_marker(pytest.mark.heavy)
    if config.getoption("--fast"):
        kept = [item for item in items if not item.get_closest_marker("heavy")]
        config.hook.pytest_deselected(items=[item for item in items if item.get_closest_marker("heavy")])
        items[:] = kept


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
