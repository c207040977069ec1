"""A real Chroma server stopped under a running `newsbot index` and `newsbot chat`, then started again.

`index` must end with one line and exit 1 (no traceback); `chat` must say the index is unreachable
and carry on, and answer again once the server is back, without a restart.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

import chromadb
from chromadb.config import Settings as ChromaSettings

from indexing.index import NewsIndex
from testsupport.cli import clean_env
from testsupport.corpora import REPO, news_text, write_txt_article
from testsupport.servers import ChromaServer


def server_env(tmp_path, server: ChromaServer) -> dict[str, str]:
    return clean_env(
        NEWSBOT_DATA_DIR=str(tmp_path / "data"),
        NEWSBOT_CONFIG=str(tmp_path / "none.toml"),
        CHROMA_HOST="127.0.0.1",
        CHROMA_PORT=str(server.port),
        NEWSBOT_EMBED_BACKEND="torch",
    )


def chunk_count(server: ChromaServer) -> int:
    try:
        client = chromadb.HttpClient(host="127.0.0.1", port=server.port, settings=ChromaSettings(anonymized_telemetry=False))
        return client.get_collection("newsbot_chunks").count()
    except Exception:  # noqa: BLE001 - not created yet
        return 0


def test_server_stopped_mid_index_is_one_line_and_exit_1_then_a_rerun_finishes(chroma_server, tmp_path):
    corpus = tmp_path / "corpus"
    for i in range(60):  # ~900 one-sentence chunks: four commits, the first long before the last
        write_txt_article(corpus, f"a{i:02d}.txt", f"Story {i}", news_text(i, paragraphs=3, sentences=5))
    env = server_env(tmp_path, chroma_server) | {"NEWSBOT_CHUNK_TOKENS": "32", "NEWSBOT_CHUNK_OVERLAP": "0"}
    index = [sys.executable, "-m", "bot.cli", "index", str(corpus), "--json"]
    process = subprocess.Popen(index, env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while chunk_count(chroma_server) == 0 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert process.poll() is None, "the run finished before the server could be stopped"
    chroma_server.stop()
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr and stdout == ""
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "unreachable" in lines[0] and str(chroma_server.port) in lines[0]

    chroma_server.start()  # same folder, same port
    rerun = subprocess.run(index, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    report = json.loads(rerun.stdout)
    assert report["articles"] == 60 and report["failed"] == []


def test_server_stopped_mid_chat_is_answered_and_the_chat_recovers(chroma_server, tmp_path, index_settings, embedder):
    settings = index_settings.replace(chroma_host="127.0.0.1", chroma_port=chroma_server.port, embed_backend="torch")
    NewsIndex(settings).sync()  # the seeds, on the server
    env = server_env(tmp_path, chroma_server)
    chat = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat", "--json"],
        env=env,
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
    )

    def ask(question: str) -> dict:
        assert chat.stdin is not None and chat.stdout is not None
        chat.stdin.write(question + "\n")
        chat.stdin.flush()
        line = chat.stdout.readline()
        assert line, chat.stderr.read() if chat.stderr else ""
        return json.loads(line)

    try:
        assert ask("Who led the US delegation?")["answer"].startswith("Wendy R.")
        chroma_server.stop()
        down = ask("Who is the secretary general of NATO?")
        assert down["answered"] is False and "unreachable" in down["error"]
        assert chat.poll() is None, "the chat died with the store"
        chroma_server.start()
        again = ask("Who is the secretary general of NATO?")
        assert again["answered"] and "Stoltenberg" in again["answer"]
    finally:
        if chat.stdin:
            chat.stdin.close()
        chat.wait(timeout=60)
    assert chat.returncode == 0
    assert "Traceback" not in (chat.stderr.read() if chat.stderr else "")
