"""Shared fixtures: real parts only. The embedding model loads once per session; every test gets
its own data dir; a real `chroma run` server starts when a test asks for one."""

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
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from bot.settings import BotSettings  # noqa: E402
from indexing.embedding.models import get_embedder  # noqa: E402
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
    # torch for queries too: exporting the ONNX query model (~5 s) in every test's fresh data dir would
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


# ---- small realistic corpora (appended for the indexing tests) ---------------------------------

_PEOPLE = ["Mayor Alice Grant", "Dr. Omar Haddad", "Sen. Maria Lopez", "the finance minister", "union leaders",
           "the U.S. ambassador", "local residents", "the harbour authority", "Prof. Ken Ito", "the city council"]
_VERBS = ["announced", "criticised", "approved", "delayed", "questioned", "welcomed", "rejected", "reviewed"]
_THINGS = ["a plan to expand the tram network", "the new budget for schools", "a proposal to raise water prices",
           "the contract for the bridge repairs", "an inquiry into the flooding", "the trade agreement with Norway",
           "a ban on night flights", "the strategy for wind power", "the merger of two hospitals", "a tax on sugar"]
_TAILS = ["on Monday", "after a long debate", "despite strong objections", "in a statement on Friday",
          "at a press conference in the capital", "for the third time this year", "with immediate effect",
          "citing rising costs", "following months of talks", "before the summer recess"]
_EXTRAS = ["Officials said the decision would cost about {n} million dollars.",
           "About {n} people attended the meeting, according to organisers.",
           "The vote was {n} to 12.", "Critics called it \"a step in the wrong direction.\"",
           "Supporters said it was long overdue.", "A final decision is expected by {month}.",
           "It was not clear how the measure would be enforced.", "Turnout was {n} percent."]
_MONTHS = ["January", "March", "June", "September", "November"]


def news_text(seed: int, paragraphs: int = 3, sentences: int = 4) -> str:
    """Deterministic news-like prose: paragraphs of plausible sentences, different for every seed."""
    import random

    rng = random.Random(seed)
    paras = []
    for _ in range(paragraphs):
        parts = []
        for _ in range(sentences):
            if rng.random() < 0.6:
                parts.append(f"{rng.choice(_PEOPLE)} {rng.choice(_VERBS)} {rng.choice(_THINGS)} {rng.choice(_TAILS)}.")
                parts[-1] = parts[-1][0].upper() + parts[-1][1:]
            else:
                parts.append(rng.choice(_EXTRAS).format(n=rng.randint(2, 400), month=rng.choice(_MONTHS)))
        paras.append(" ".join(parts))
    return "\n\n".join(paras)


def write_jsonl(path: Path, records: list[dict]) -> Path:
    """A JSON Lines file (articles or questions), one record a line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def write_txt_article(folder: Path, name: str, title: str, body: str, published: str = "December 4, 2022") -> Path:
    """An article file in the seed convention (date line, title line, body)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"{published}\n\n{title}\n\n{body}\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def count_tokens():
    """The embedding model's own word-piece counter (the tokenizer only; no torch)."""
    return get_embedder().count_tokens
