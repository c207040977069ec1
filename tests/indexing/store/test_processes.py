"""A bot answering in one process while other processes index: on one embedded data dir, then on a
real Chroma server. Real subprocesses (`newsbot watch`, `newsbot index`, a chain answering in a loop).

The story, as users run it: a watcher indexes a folder; a bot starts beside it and answers; an
article is edited (the watcher replaces it); the watcher is stopped; an article is added with
`newsbot index`. Every question must succeed, a question about the edited article must always cite
that article (old text or new), and the new article must be answered from within seconds.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from testsupport.cli import REPO, clean_env
from testsupport.corpora import write_txt_article

FERRY_Q = "Who steered the Vellmar ferry through the storm?"
BAKERY_Q = "Who opened the Zorblat bakery?"
V1 = "Captain Ingrid Sato steered the Vellmar ferry through the storm on Tuesday night. All 212 passengers reached the harbour safely."
V2 = "Captain Ingrid Sato steered the Vellmar ferry through the storm late on Tuesday. The operator said all 212 passengers reached port."
BAKERY = "Mayor Quintana Flores opened the Zorblat bakery on Monday after a long delay. Queues formed before dawn."
ASKER = "from testsupport.asking import main; main()"


class Process:
    """A subprocess whose stderr lines are collected as they come."""

    def __init__(self, args: list[str], env: dict[str, str]):
        self.popen = subprocess.Popen(args, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.popen.stderr is not None
        for line in self.popen.stderr:
            self.lines.append(line)

    def stderr(self) -> str:
        return "".join(self.lines)


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.1)


def answers(log: Path) -> list[dict]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(params=["embedded", "server"])
def store_env(request, tmp_path):
    env = clean_env(
        NEWSBOT_DATA_DIR=str(tmp_path / "data"),
        NEWSBOT_CONFIG=str(tmp_path / "none.toml"),
        NEWSBOT_EMBED_BACKEND="torch",
        NEWSBOT_WATCH_QUIET_MS="100",
        PYTHONPATH=f"{REPO}:{REPO / 'tests'}",
    )
    if request.param == "embedded":
        yield request.param, env
        return
    server = request.getfixturevalue("chroma_server")
    yield request.param, {**env, "CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": str(server.port)}


@pytest.mark.timeout(600)
def test_a_bot_answers_while_other_processes_index(store_env, tmp_path):
    mode, env = store_env
    corpus = tmp_path / "corpus"
    ferry = write_txt_article(corpus, "vellmar.txt", "Ferry crosses in storm", V1)
    for ship, captain in [("Kestrel", "Ola Berg"), ("Marlin", "Dana Cole"), ("Osprey", "Yuki Tanaka")]:
        write_txt_article(
            corpus,
            f"{ship.lower()}.txt",
            "Ferry crosses in storm",
            f"Captain {captain} steered the {ship} ferry through the storm on Tuesday.",
        )
    log, stop = tmp_path / "answers.jsonl", tmp_path / "stop"
    watcher = Process([sys.executable, "-m", "bot.cli", "watch", str(corpus), "--no-feeds"], env)
    asker: Process | None = None
    try:
        wait_for(lambda: "sync (start" in watcher.stderr(), 240, f"the watcher's first sync\n{watcher.stderr()}")
        if mode == "embedded":
            owner = json.loads((tmp_path / "data" / "chroma.owner").read_text())
            assert owner["pid"] == watcher.popen.pid, "the watcher, started first, owns the data dir"
        asker = Process([sys.executable, "-c", ASKER, str(log), str(stop), FERRY_Q, BAKERY_Q], env)
        wait_for(lambda: len(answers(log)) >= 6, 240, f"the bot's first answers\n{asker.stderr()}")

        write_txt_article(corpus, "vellmar.txt", "Ferry crosses in storm", V2)  # the watcher replaces it
        wait_for(
            lambda: any(q in V2 and q not in V1 for a in answers(log) for q in a.get("quotes", [])), 60, "the edited article in an answer"
        )

        watcher.popen.send_signal(signal.SIGTERM)
        watcher.popen.wait(timeout=60)
        stopped = time.time()
        wait_for(lambda: sum(a["t"] > stopped for a in answers(log)) >= 6, 60, "answers after the watcher stopped")

        write_txt_article(corpus, "zorblat.txt", "Bakery opens", BAKERY)
        index = subprocess.run(
            [sys.executable, "-m", "bot.cli", "index", str(corpus), "--json"],
            env=env,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert index.returncode == 0, index.stderr
        committed = time.time()
        assert json.loads(index.stdout)["added"] == 1
        bakery = str((corpus / "zorblat.txt").resolve())
        wait_for(
            lambda: any(a["question"] == BAKERY_Q and a.get("articles", [None])[:1] == [bakery] for a in answers(log)),
            30,
            "the new article in an answer",
        )
    finally:
        stop.touch()
        for process in (asker, watcher):
            if process is not None and process.popen.poll() is None:
                try:
                    process.popen.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.popen.kill()

    got = answers(log)
    failed = [a for a in got if not a["ok"]]
    assert failed == [], failed[:3]
    ferry_id = str(ferry.resolve())
    about_ferry = [a for a in got if a["question"] == FERRY_Q]
    wrong = [a for a in about_ferry if a["articles"][:1] != [ferry_id] or not all(q in V1 or q in V2 for q in a["quotes"])]
    assert wrong == [], wrong[:3]
    first_bakery = min(a["t"] for a in got if a["question"] == BAKERY_Q and a["articles"][:1] == [bakery])
    assert first_bakery - committed < 5.0, "the new article took more than a few seconds to be answerable"
    if mode == "embedded":
        assert [a for a in got if a["t"] > stopped + 2][-1]["owner"], "the bot took the data dir over when the watcher stopped"
    print(f"{mode}: {len(got)} questions, 0 failed; new article answerable {max(0.0, first_bakery - committed):.2f}s after its commit")
