"""Questions first: in a process that answers while it syncs, Chroma writes wait for a quiet moment.

Why: chromadb's bindings hold the GIL for the whole of a write (a 256-chunk commit's upsert: up to
~0.5 s on 2 cores), so a question asked meanwhile stalls for all of it. Smaller writes alone do not
help: the writer takes the GIL back between them and the question, switched out every 5 ms, waits
for one whole write each time. So in a serving process (`Turns.enable`) each write is cut into
calls of at most `batch` records, and before each call the writer waits while a question is being
answered (`Turns.answering`), for at most `patience` seconds, so constant traffic slows a sync
down but never stops it. A question then waits for at most one small call already under way.

Nothing changes for the commit protocol: an upsert cut in pieces writes the same records (chunks
stay invisible until their article's hash is committed), and a crash between pieces leaves what a
crash inside one call could.

The same holds across processes on one embedded data dir (indexing.store.owner): the owner runs the
calls other processes send it, so their writes take their turn after the owner's questions, and
their questions (reads) count as questions in flight that the owner's own writes wait for.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

SERVING_BATCH = 32  # records per write call in a serving process (~1/8 of a commit)
PATIENCE_S = 1.0  # the longest a write waits for the questions in flight
_SPLIT = ("ids", "embeddings", "documents", "metadatas", "uris")


class Turns:
    """Who goes first between questions and writes; does nothing until enabled."""

    def __init__(self) -> None:
        self.enabled = False
        self.decided = False  # whether enable() was called: a choice a peer's question does not override
        self.batch = SERVING_BATCH
        self.patience = PATIENCE_S
        self._answering: dict[int, int] = {}  # thread id -> questions it is answering
        self._quiet = threading.Condition()

    def enable(self, on: bool = True, batch: int = SERVING_BATCH, patience: float = PATIENCE_S) -> None:
        self.enabled, self.batch, self.patience = on, batch, patience
        self.decided = True

    def serve_questions(self) -> None:
        """Questions are being answered here (another process's, through the owner): questions first,
        unless this process chose otherwise."""
        if not self.decided:
            self.enable()

    @contextmanager
    def answering(self) -> Iterator[None]:
        """Around the work of one question: writes wait until it is done."""
        me = threading.get_ident()
        with self._quiet:
            self._answering[me] = self._answering.get(me, 0) + 1
        try:
            yield
        finally:
            with self._quiet:
                self._answering[me] -= 1
                if not self._answering[me]:
                    del self._answering[me]
                self._quiet.notify_all()

    def write(self, call: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
        """`call(**kwargs)`, in pieces of at most `batch` records when enabled, each after the questions in flight."""
        if not self.enabled:
            return call(**kwargs)
        ids = kwargs.get("ids")
        if not isinstance(ids, list) or len(ids) <= self.batch:
            self._wait_for_quiet()
            return call(**kwargs)
        for lo in range(0, len(ids), self.batch):
            piece = {k: (v[lo : lo + self.batch] if k in _SPLIT and v is not None else v) for k, v in kwargs.items()}
            self._wait_for_quiet()
            call(**piece)
        return None

    def _wait_for_quiet(self) -> None:
        """Until no other thread is answering (a write made while answering, such as an upgrade, never waits for itself)."""
        me = threading.get_ident()
        with self._quiet:
            self._quiet.wait_for(lambda: not (self._answering.keys() - {me}), timeout=self.patience)
