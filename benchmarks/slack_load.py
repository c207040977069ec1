#!/usr/bin/env python
"""Slack at a team's scale: a burst of signed deliveries against `newsbot slack`, and a busy Web API.

    python benchmarks/slack_load.py                      # 200 deliveries; 1 process, then 2 workers on one port
    python benchmarks/slack_load.py --deliveries 100 --workers 2 --json

The bot runs for real, as users run it: `python -m bot.cli slack --workers N` in its own process(es),
with the real chain over the seed articles in a Chroma server (several workers share the index only
through one) and its state in the default SQLite file in the data dir. Slack is the tests' stand-in
(tests/testsupport/slack_fake_api.py): every Web API call takes --latency seconds and --rate-limited
of them answer 429 with Retry-After 1. The deliveries are mentions, DMs, `/newsbot` commands and
button clicks (👍 and "Post to channel" on an answer made before the burst), all sent at the same
instant from one thread each. Measured per run:
- connection resets and non-200 acks; the ack time (p50, p99, max), which Slack wants under 3 s;
- that each delivery was answered exactly once (a reply in its thread or DM, an ephemeral answer,
  the click's effect), and how many got the "busy" notice instead;
- the time from delivery to its answer (p50, p95).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from bot.evaluation.metrics import percentile  # noqa: E402
from bot.slack.blocks import FEEDBACK_UP, POST_TO_CHANNEL  # noqa: E402
from bot.slack.texts import BUSY  # noqa: E402
from indexing.index import NewsIndex  # noqa: E402
from indexing.settings import IndexSettings, SettingsSource  # noqa: E402
from testsupport.servers import ChromaServer, free_port  # noqa: E402
from testsupport.slack_fake_api import Call, FakeSlack  # noqa: E402
from testsupport.slack_requests import APP_TOKEN, BOT_TOKEN, QUESTION, SECRET, button_value, click, send_event, slash, user_message  # noqa: E402

MIX = (("mention", 0.4), ("dm", 0.3), ("command", 0.2), ("click", 0.1))


@dataclass
class Delivery:
    kind: str
    channel: str
    ts: str = ""
    response: str = ""  # the response_url's name (commands and clicks)
    status: int | str = 0
    ack_s: float = 0.0
    sent_at: float = 0.0


@dataclass
class Result:
    workers: int
    deliveries: int
    resets: int
    not_200: int
    ack_p50_ms: float
    ack_p99_ms: float
    ack_max_ms: float
    answered_once: int
    busy: int
    missing: int
    twice: int
    answer_p50_s: float
    answer_p95_s: float
    click_failures: int


class Server:
    """The duck type the request helpers want: a `url`."""

    def __init__(self, port: int):
        self.url = f"http://127.0.0.1:{port}/slack/events"


def start_bot(workers: int, fake: FakeSlack, chroma: ChromaServer, data: Path, log: Path) -> tuple[subprocess.Popen, Server]:
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "NEWSBOT_DATA_DIR": str(data),
        "NEWSBOT_CONFIG": str(data / "none.toml"),
        "CHROMA_HOST": "127.0.0.1",
        "CHROMA_PORT": str(chroma.port),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
    }
    env.pop("SLACK_APP_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "slack", "--port", str(port), "--workers", str(workers)],
        cwd=REPO,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:  # every worker loads its models first
        if process.poll() is not None:
            raise SystemExit(f"newsbot slack exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                break
        except OSError:
            time.sleep(0.5)
    time.sleep(5 if workers > 1 else 0)  # the other workers finish warming up
    return process, Server(port)


def stop_bot(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def answers_of(fake: FakeSlack, d: Delivery) -> list[Call]:
    """The calls that answer delivery `d` (successful ones: a 429 is retried and counted once)."""
    if d.kind == "mention":
        return fake.calls_to(
            "chat.postMessage", lambda c: c.status == 200 and c.params.get("channel") == d.channel and c.params.get("thread_ts") == d.ts
        )
    posted = fake.calls_to(
        "chat.postMessage" if d.kind != "command" else "chat.postEphemeral",
        lambda c: c.status == 200 and c.params.get("channel") == d.channel,
    )
    if d.kind == "dm":
        return posted
    # commands and clicks: also what came back through the response_url (busy, 👍's thanks), not its delete_original
    replied = fake.calls_to("response_url", lambda c: c.path.endswith("/" + d.response) and bool(c.params.get("text")))
    return posted + replied


def deliver(server: Server, fake: FakeSlack, kinds: list[str], answer_id: str) -> list[Delivery]:
    deliveries: list[Delivery] = []
    senders: list[Callable[[], tuple[int, str, float]]] = []
    for n, kind in enumerate(kinds):
        channel = f"{'D' if kind == 'dm' else 'C'}{uuid.uuid4().hex[:8].upper()}"
        d = Delivery(kind, channel, response=f"r-{channel}")
        if kind == "mention":
            event = user_message(fake, channel, f"<@UBOT> {QUESTION}")
        elif kind == "dm":
            event = user_message(fake, channel, QUESTION, kind="message", channel_type="im")
        if kind in ("mention", "dm"):
            d.ts = event["ts"]
            senders.append(lambda e=event: send_event(server, e))  # type: ignore[misc]
        elif kind == "command":
            senders.append(lambda c=channel, r=d.response: slash(server, fake, QUESTION, channel=c, response=r))  # type: ignore[misc]
        else:
            action = POST_TO_CHANNEL if n % 2 else FEEDBACK_UP
            senders.append(lambda c=channel, a=action, r=d.response: click(server, fake, a, answer_id, channel=c, response=r))  # type: ignore[misc]
        deliveries.append(d)
    start = threading.Barrier(len(kinds))

    def send(i: int) -> None:
        start.wait()
        deliveries[i].sent_at = time.monotonic()
        try:
            deliveries[i].status, _, deliveries[i].ack_s = senders[i]()
        except OSError as exc:  # a reset, a refused connection, a timeout
            deliveries[i].status = type(getattr(exc, "reason", exc)).__name__

    with ThreadPoolExecutor(len(kinds)) as pool:
        list(pool.map(send, range(len(kinds))))
    return deliveries


def run(workers: int, n: int, fake: FakeSlack, chroma: ChromaServer, root: Path, timeout: float) -> Result:
    data = root / f"data-{workers}"
    process, server = start_bot(workers, fake, chroma, data, root / f"bot-{workers}.log")
    try:
        fake.latency, fake.rate_limited = 0.0, 0.0  # an answer for the clicks, made before the burst
        prep = f"CPREP{uuid.uuid4().hex[:6].upper()}"  # the stand-in outlives the run: a channel of this run alone
        assert slash(server, fake, QUESTION, channel=prep)[0] == 200
        (ephemeral,) = fake.wait_for("chat.postEphemeral", lambda c: c.params.get("channel") == prep, timeout=120)
        answer_id = button_value(ephemeral.params["blocks"], POST_TO_CHANNEL)
        fake.latency, fake.rate_limited = LATENCY, RATE_LIMITED
        kinds = [kind for kind, share in MIX for _ in range(round(n * share))][:n]
        deliveries = deliver(server, fake, kinds, answer_id)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(not answers_of(fake, d) for d in deliveries if d.status == 200):
            time.sleep(0.5)
        time.sleep(3)  # a second answer to anything would have come by now
    finally:
        stop_bot(process)
    acks = [d.ack_s * 1000 for d in deliveries if d.status == 200]
    answers = {id(d): answers_of(fake, d) for d in deliveries}
    once = [d for d in deliveries if len(answers[id(d)]) == 1]
    busy = [d for d in deliveries if any(c.params.get("text") == BUSY for c in answers[id(d)])]
    waits = [answers[id(d)][0].at - d.sent_at for d in once if d not in busy]
    click_failures = sum(1 for d in deliveries if any("no longer stored" in str(c.params.get("text", "")) for c in answers[id(d)]))
    return Result(
        workers=workers,
        deliveries=len(deliveries),
        resets=sum(1 for d in deliveries if d.status in ("ConnectionResetError", "RemoteDisconnected", "BrokenPipeError")),
        not_200=sum(1 for d in deliveries if d.status != 200),
        ack_p50_ms=round(percentile(acks, 50) or 0, 1),
        ack_p99_ms=round(percentile(acks, 99) or 0, 1),
        ack_max_ms=round(max(acks, default=0), 1),
        answered_once=len(once),
        busy=len(busy),
        missing=sum(1 for d in deliveries if not answers[id(d)]),
        twice=sum(1 for d in deliveries if len(answers[id(d)]) > 1),
        answer_p50_s=round(percentile(waits, 50) or 0, 2),
        answer_p95_s=round(percentile(waits, 95) or 0, 2),
        click_failures=click_failures,
    )


LATENCY = 0.5
RATE_LIMITED = 0.1


def table(results: list[Result]) -> str:
    rows = [
        "| processes | deliveries | resets | non-200 acks | ack p50 / p99 / max (ms) | answered once | of them busy | missing | twice | answer p50 / p95 (s) | failed clicks |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in results:
        rows.append(
            f"| {r.workers} | {r.deliveries} | {r.resets} | {r.not_200} | {r.ack_p50_ms} / {r.ack_p99_ms} / {r.ack_max_ms} | "
            f"{r.answered_once} | {r.busy} | {r.missing} | {r.twice} | {r.answer_p50_s} / {r.answer_p95_s} | {r.click_failures} |"
        )
    return "\n".join(rows)


def main() -> None:
    global LATENCY, RATE_LIMITED
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=200)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts, one run each")
    parser.add_argument("--latency", type=float, default=0.5, help="seconds each Web API call takes")
    parser.add_argument("--rate-limited", type=float, default=0.1, help="fraction of Web API calls answered 429 (Retry-After 1)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for every answer")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    LATENCY, RATE_LIMITED = args.latency, args.rate_limited
    root = Path(tempfile.mkdtemp(prefix="newsbot-slack-load-"))
    fake = FakeSlack(BOT_TOKEN, APP_TOKEN).start()
    chroma = ChromaServer(root / "chroma").start()
    try:
        env = {
            "NEWSBOT_DATA_DIR": str(root / "index"),
            "NEWSBOT_CONFIG": str(root / "none.toml"),
            "CHROMA_HOST": "127.0.0.1",
            "CHROMA_PORT": str(chroma.port),
        }
        NewsIndex(IndexSettings.from_env(SettingsSource(env=env))).sync()
        results = [run(int(w), args.deliveries, fake, chroma, root, args.timeout) for w in args.workers.split(",")]
    finally:
        chroma.stop()
        fake.stop()
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=1))
    else:
        print(
            f"{args.deliveries} simultaneous signed deliveries; Web API latency {args.latency} s, {args.rate_limited:.0%} of calls 429 (Retry-After 1)"
        )
        print(table(results))


if __name__ == "__main__":
    main()
