#!/usr/bin/env python
"""What one owner per embedded data dir costs: cold `newsbot ask` and warm questions, alone and beside
another process, against the alternative (a shared local `chroma run` server per data dir).

    python benchmarks/store_processes.py [--repeat 5] [--json]

Rows (medians; the seeds indexed once, ONNX query model exported, as after a first `newsbot ask`):
- cold `newsbot ask`, embedded, no other process: this process takes the lock and opens Chroma;
- cold `newsbot ask`, embedded, while another process owns the data dir: it routes over the socket;
- cold `newsbot ask` against a `chroma run` server already serving the same folder (the alternative,
  warm), and the time `chroma run` takes to answer its first heartbeat (the alternative, cold);
- warm questions (p50 of 30 through the chain) as owner and as a routed process.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
QUESTION = "Who led the US delegation?"
HOLD = r"""
import sys
from indexing.settings import IndexSettings
from indexing.store.chroma import ChunkStore
store = ChunkStore(IndexSettings.from_env())
print(store.client.owner, flush=True)
sys.stdin.readline()
"""
WARM = r"""
import json, statistics, sys, time
from bot.chain import NewsBot
from bot.settings import BotSettings
bot = NewsBot(BotSettings.from_env())
bot.ask("warm up")
times = []
for _ in range(30):
    began = time.perf_counter()
    bot.ask(sys.argv[1])
    times.append(time.perf_counter() - began)
print(json.dumps({"p50_ms": 1000 * statistics.median(times), "owner": getattr(bot.index.store.client, "owner", None)}))
"""


def env_for(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "CHROMA_"))}
    env.update(NEWSBOT_DATA_DIR=str(data), NEWSBOT_CONFIG=str(data / "none.toml"), PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1")
    env.update(HF_HUB_DISABLE_PROGRESS_BARS="1", TOKENIZERS_PARALLELISM="false", **extra)
    return env


def cold_ask(env: dict[str, str], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "bot.cli", "ask", QUESTION, "--json"], env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - began)
        assert done.returncode == 0 and json.loads(done.stdout)["answered"], done.stderr[-500:]
    return statistics.median(times)


def warm(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", WARM, QUESTION], env=env, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def holder(env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", HOLD], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdout.readline().strip() == "True", "the holder did not get the data dir"
    return process


def release(process: subprocess.Popen) -> None:
    assert process.stdin is not None
    process.stdin.write("go\n")
    process.stdin.flush()
    process.wait(timeout=60)


def chroma_run(path: Path) -> tuple[subprocess.Popen, int, float]:
    from socket import socket

    with socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
    began = time.perf_counter()
    process = subprocess.Popen(
        [chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1):
                return process, port, time.perf_counter() - began
        except OSError:
            time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="newsbot-processes-"))
    env = env_for(data)
    result: dict[str, Any] = {"repeat": args.repeat}
    try:
        subprocess.run([sys.executable, "-m", "bot.cli", "index", "--json"], env=env, capture_output=True, check=True)
        subprocess.run([sys.executable, "-m", "bot.cli", "ask", QUESTION], env=env, capture_output=True, check=True)
        result["cold_embedded_alone_s"] = cold_ask(env, args.repeat)
        held = holder(env)
        try:
            result["cold_embedded_routed_s"] = cold_ask(env, args.repeat)
            result["warm_routed"] = warm(env)
        finally:
            release(held)
        result["warm_owner"] = warm(env)
        server, port, ready = chroma_run(data / "chroma")
        try:
            result["chroma_run_ready_s"] = ready
            result["cold_server_warm_s"] = cold_ask(env_for(data, CHROMA_HOST="127.0.0.1", CHROMA_PORT=str(port)), args.repeat)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    finally:
        shutil.rmtree(data, ignore_errors=True)
    if args.json:
        print(json.dumps(result))
        return
    print(f"cold `newsbot ask`, medians of {args.repeat} (seconds):")
    print(f"  embedded, alone (owner)                    {result['cold_embedded_alone_s']:.2f}")
    print(f"  embedded, another process owns the dir     {result['cold_embedded_routed_s']:.2f}")
    print(f"  a `chroma run` server already up            {result['cold_server_warm_s']:.2f}")
    print(f"  `chroma run` start until its first answer  {result['chroma_run_ready_s']:.2f}")
    print("warm question p50 (ms, 30 questions):")
    print(f"  owner {result['warm_owner']['p50_ms']:.1f}   routed {result['warm_routed']['p50_ms']:.1f}")


if __name__ == "__main__":
    main()
