"""Shared fixtures: real parts only. The embedding model loads once per session; every test gets
its own data dir; a real `chroma run` server starts when a test asks for one."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bot.settings import BotSettings  # noqa: E402
from indexing.embedding import get_embedder  # noqa: E402
from indexing.index import NewsIndex  # noqa: E402
from indexing.settings import IndexSettings, SettingsSource, bundled_seeds_dir  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SEED_FILE = bundled_seeds_dir() / "000_977251aafc5901a1.txt"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def embedder():
    """The real all-MiniLM-L6-v2 from the installed package, loaded once for the whole run."""
    model = get_embedder()
    model.embed_query("warm up")
    return model


@pytest.fixture
def isolated_env(tmp_path, monkeypatch) -> SettingsSource:
    """Settings read from an empty environment (no user config), data under tmp_path."""
    env = {"NEWSBOT_DATA_DIR": str(tmp_path / "data"), "NEWSBOT_CONFIG": str(tmp_path / "no-config.toml")}
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


class ChromaServer:
    def __init__(self, path: Path):
        self.path = path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> "ChromaServer":
        chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
        self.process = subprocess.Popen(
            [chroma, "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=1):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"chroma run exited with {self.process.returncode}")
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("chroma run did not become ready in 60 s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


@pytest.fixture
def chroma_server(tmp_path):
    """A real Chroma server (`chroma run`) on 127.0.0.1, stopped by its PID after the test."""
    server = ChromaServer(tmp_path / "chroma-server").start()
    yield server
    server.stop()
