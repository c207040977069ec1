"""Batch embedding in worker processes: one single-threaded onnxruntime session in each.

Why not threads: chromadb's bindings hold the GIL for the whole of a write (measured: a Python
thread gets no turn during a 256-chunk upsert, ~0.5 s), so embedding threads stall at every commit
of the indexer's writer thread, and the writes add to the index time instead of filling its idle
moments. A worker process never waits for them. The caller makes the batches (embed_pooled) and a
worker runs each whole, as a thread would, so a text's vector is the same either way.

A worker is `python -m indexing.embedding.processes`, talking pickles over a socket pair: unlike
multiprocessing's spawn, it never re-runs the caller's main script (a script without a
`__main__` guard would index again in every worker), and unlike fork it copies no threads
(onnxruntime's, Chroma's) mid-step.
"""

from __future__ import annotations

import argparse
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from indexing.embedding.pooling import BatchResult, Spans, in_this_process
from indexing.errors import ModelError

# Texts per round trip to a worker: enough to make pickling negligible, few enough that both workers
# stay busy to the end of a call.
TASK_TEXTS = 16

Task = tuple[list[list[str]], list[Spans] | None]


def task_bounds(batch_sizes: Sequence[int], texts_per_task: int = TASK_TEXTS) -> list[tuple[int, int]]:
    """[lo, hi) ranges of consecutive batches, each holding about `texts_per_task` texts (at least one batch)."""
    bounds, lo, held = [], 0, 0
    for i, size in enumerate(batch_sizes):
        held += size
        if held >= texts_per_task:
            bounds.append((lo, i + 1))
            lo, held = i + 1, 0
    if lo < len(batch_sizes):
        bounds.append((lo, len(batch_sizes)))
    return bounds


class WorkerProcesses:
    """`workers` processes embedding batches with the graph at `graph`; `run` is a BatchRunner for embed_pooled."""

    def __init__(self, graph: Path, model_dir: Path, max_tokens: int, workers: int, nice: int = 0):
        self._tasks: queue.SimpleQueue[tuple[Future[list[BatchResult]], Task] | None] = queue.SimpleQueue()
        self._broken: str = ""  # why, once a worker has stopped: every task after it fails at once
        self._workers = [_Worker(graph, model_dir, max_tokens, self, nice) for _ in range(workers)]

    @property
    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers]

    def run(self, texts: list[list[str]], spans: list[Spans] | None) -> Iterator[BatchResult]:
        futures = []
        for lo, hi in task_bounds([len(t) for t in texts]):
            future: Future[list[BatchResult]] = Future()
            self._tasks.put((future, (texts[lo:hi], None if spans is None else spans[lo:hi])))
            futures.append(future)
        if self._broken:
            self._fail_waiting()
        for future in futures:
            yield from future.result()

    def close(self) -> None:
        """Stop the workers after the task each is running; tasks still queued (a failed or
        interrupted call's) are cancelled, not run."""
        queued, _ = self._take_queued()
        for future, _task in queued:
            future.cancel()
        for _ in self._workers:
            self._tasks.put(None)
        for worker in self._workers:
            worker.stop()

    def _stopped(self, reason: str) -> None:
        """A worker is gone: fail what waits (the other workers may be gone too, and nobody would)."""
        self._broken = reason
        self._fail_waiting()

    def _fail_waiting(self) -> None:
        queued, stops = self._take_queued()
        for future, _task in queued:
            if future.set_running_or_notify_cancel():
                future.set_exception(ModelError(self._broken))
        for _ in range(stops):
            self._tasks.put(None)  # a close() in progress: its stop signals stay queued

    def _take_queued(self) -> tuple[list[tuple[Future[list[BatchResult]], Task]], int]:
        """Every task still queued, taken off the queue, and how many stop signals were among them."""
        tasks: list[tuple[Future[list[BatchResult]], Task]] = []
        stops = 0
        while True:
            try:
                item = self._tasks.get_nowait()
            except queue.Empty:
                return tasks, stops
            if item is None:
                stops += 1
            else:
                tasks.append(item)


class _Worker:
    """One worker process and the thread here that feeds it tasks from the shared queue."""

    def __init__(self, graph: Path, model_dir: Path, max_tokens: int, pool: WorkerProcesses, nice: int = 0):
        here, there = socket.socketpair()
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}  # the modules this process sees
        self.process = subprocess.Popen(
            [sys.executable, "-m", __name__, "--graph", str(graph), "--model-dir", str(model_dir)]
            + ["--max-tokens", str(max_tokens), "--fd", str(there.fileno()), "--nice", str(nice)],
            pass_fds=[there.fileno()],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            env=env,
        )
        there.close()
        self._connection = Connection(here.detach())
        self._pool = pool
        self._thread = threading.Thread(target=self._feed, name="embed-worker", daemon=True)
        self._thread.start()

    def _feed(self) -> None:
        while (item := self._pool._tasks.get()) is not None:
            future, task = item
            if not future.set_running_or_notify_cancel():
                continue
            if self._pool._broken:
                future.set_exception(ModelError(self._pool._broken))
                continue
            try:
                self._connection.send(task)
                ok, value = self._connection.recv()
            except (EOFError, OSError):
                reason = f"an embedding worker process stopped ({self._exit()}); nothing after the last commit was written"
                future.set_exception(ModelError(reason))
                self._pool._stopped(reason)
                return
            if ok:
                future.set_result(value)
            else:
                future.set_exception(ModelError(f"an embedding worker process failed: {value}"))

    def _exit(self) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "it no longer answers"
        if code < 0:
            return f"killed by signal {-code}: out of memory, or by hand"
        return f"exit status {code}; its error is above"

    def stop(self) -> None:
        self._thread.join()
        self._connection.close()  # the worker reads end-of-file and exits
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def serve(connection: Connection, graph: Path, model_dir: Path, max_tokens: int) -> None:
    """The worker's loop: a task in, its batches' results out, until the other end closes."""
    from indexing.embedding.models import load_tokenizer
    from indexing.embedding.sessions import open_session, run_session, session_inputs

    session = open_session(graph, threads=1)
    inputs = session_inputs(session)
    embed = in_this_process(load_tokenizer(model_dir, max_tokens), lambda ids, mask: run_session(session, inputs, ids, mask))
    while True:
        try:
            texts, spans = connection.recv()
        except EOFError:
            return
        try:
            reply: tuple[bool, Any] = (True, list(embed(texts, spans)))
        except Exception as exc:  # sent back whole: the parent raises it where the sync can report it
            reply = (False, f"{type(exc).__name__}: {exc}")
        connection.send(reply)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="an embedding worker process (started by newsbot, not by hand)")
    parser.add_argument("--graph", type=Path, required=True)
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--max-tokens", type=int, required=True)
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--nice", type=int, default=0, help="lower this process's CPU priority by this much")
    args = parser.parse_args(argv)
    if args.nice > 0 and hasattr(os, "nice"):
        os.nice(args.nice)  # a serving parent's questions come first (NewsIndex.serving)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it closes the socket
    serve(Connection(args.fd), args.graph, args.model_dir, args.max_tokens)


if __name__ == "__main__":
    main()
