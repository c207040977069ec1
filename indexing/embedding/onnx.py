"""The embedding model run by onnxruntime + tokenizers: batch indexing and single questions, no torch.

`newsbot ask` needs one vector per question: importing sentence-transformers (torch, transformers,
scipy) costs 7-10 s before that, onnxruntime well under one. Indexing embeds thousands of chunks
with the fused graph (onnxruntime's BERT fusions), which does less work per chunk than torch's eager
model. One class serves both; they differ in sessions and threads: one question gets one session
of NEWSBOT_THREADS threads; batches get one single-threaded session per core, each running its own
batches (on 2 cores: 1.2x the chunks/s of one 2-thread session for fp32, 2x for int8, whose small
matrices leave a second thread little to share); a sync of many articles runs them in worker
processes instead (indexing.embedding.processes). Both load the graph of the index's precision
(indexing.embedding.export), so an index's vectors and its questions' vectors come from one graph.
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from indexing.embedding.models import load_tokenizer, max_tokens_of, word_pieces
from indexing.embedding.pooling import BatchRunner, Spans, embed_pooled, in_this_process
from indexing.embedding.processes import WorkerProcesses
from indexing.embedding.sessions import open_session, run_session, session_inputs


class OnnxEmbedder:
    """embed_query / embed_documents / embed_with_spans / count_tokens, like SentenceTransformerEmbedder."""

    backend = "onnx"

    def __init__(
        self,
        name: str,
        model_dir: Path,
        graph: Path,
        precision: str,
        threads: int = 1,
        batch_size: int = 32,
        prepare: Callable[[], object] | None = None,
        workers: int = 1,
        worker_nice: int = 0,
    ):
        self.name = name
        self.model_dir = model_dir
        self.graph = graph
        self.precision = precision
        self.threads = threads
        # Dynamic int8 quantises activations with one scale per run: batched, a text's vector would depend
        # on its neighbours and padding (cosine ~0.99 to itself alone, as far as int8 is from fp32), so
        # int8 embeds each text alone and a question meets exactly the vectors its text would get.
        self.batch_size = 1 if precision == "int8" else batch_size
        self.max_tokens = max_tokens_of(model_dir)
        self.workers = max(1, workers)
        self._prepare = prepare  # makes the graph file, when it may not exist yet (the export)
        self._opening = threading.Lock()
        self._idle: queue.SimpleQueue[Any] = queue.SimpleQueue()  # sessions not running a batch now
        self._opened: list[Any] = []
        self._processes: WorkerProcesses | None = None  # while worker_processes() is entered
        self.worker_nice = worker_nice  # how much lower the workers' CPU priority is than this process's

    @property
    def _session(self):  # onnxruntime.InferenceSession: the first one, for its inputs
        self._open_all()
        return self._opened[0]

    def _open_all(self) -> None:
        with self._opening:  # the sessions (and at most one export) once, however many threads ask at once
            while len(self._opened) < self.workers:
                session = self._open()
                self._opened.append(session)
                self._idle.put(session)

    def _open(self):
        if self._prepare is not None:
            self._prepare()
        return open_session(self.graph, self.threads)

    @cached_property
    def _inputs(self) -> frozenset[str]:
        return session_inputs(self._session)

    @cached_property
    def tokenizer(self):  # tokenizers.Tokenizer: truncated to what the model reads, padded per batch
        return load_tokenizer(self.model_dir, self.max_tokens)

    @cached_property
    def _counting_tokenizer(self):
        return load_tokenizer(self.model_dir)

    @cached_property
    def dimension(self) -> int:
        """The transformer's width (the graph's output), from its config: no session (nor export) for an empty call."""
        return int(json.loads((self.model_dir / "config.json").read_text())["hidden_size"])

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return word_pieces(self._counting_tokenizer, texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        vectors, _ = embed_pooled(texts, None, self.batch_size, self.dimension, self._runner())
        return vectors

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]

    def embed_with_spans(self, texts: Sequence[str], spans: Spans) -> tuple[np.ndarray, list[np.ndarray]]:
        """Text vectors plus, from the same forward pass, one vector per character span of each text
        (the mean of the span's token vectors, unit length): the sentences' vectors, stored for the answerer."""
        vectors, span_vectors = embed_pooled(texts, spans, self.batch_size, self.dimension, self._runner())
        assert span_vectors is not None
        return vectors, span_vectors

    @contextmanager
    def worker_processes(self) -> Iterator[None]:
        """Inside, batch calls run in `workers` processes (indexing.embedding.processes: Chroma's writes
        hold the GIL, which stalls embedding threads); on leaving, the processes stop. For long batch
        work, such as a sync of many articles: starting them costs about a second."""
        if self.workers <= 1 or self._processes is not None:
            yield
            return
        if self._prepare is not None:
            self._prepare()  # the graph exists before a worker opens it
        self._processes = WorkerProcesses(self.graph, self.model_dir, self.max_tokens, self.workers, self.worker_nice)
        try:
            yield
        finally:
            processes, self._processes = self._processes, None
            processes.close()

    def _runner(self) -> BatchRunner:
        if self._processes is not None:
            return self._processes.run
        return in_this_process(self.tokenizer, self._forward, self.workers)

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        self._open_all()
        session = self._idle.get()  # one run per session at a time: each has its own threads
        try:
            return run_session(session, self._inputs, ids, mask)
        finally:
            self._idle.put(session)
