"""From a transformer's token vectors to unit-length text and span vectors (mean pooling), for every backend.

The backends differ only in the forward pass (`Forward`); batching, padding and pooling are here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

# (input ids, attention mask), both (batch, tokens) int64 -> (batch, tokens, dim) token vectors
Forward = Callable[[np.ndarray, np.ndarray], np.ndarray]
Spans = Sequence[Sequence[tuple[int, int]]]


def unit(vector: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(vector))
    return (vector / norm if norm else vector).astype(np.float32)


def mean_pooled(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """(batch, tokens, dim) token vectors and their 0/1 mask -> (batch, dim) unit vectors."""
    m = mask[..., None].astype(np.float32)
    pooled = (hidden * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1.0)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.where(norms == 0, 1.0, norms)).astype(np.float32)


def pool_spans(
    hidden: np.ndarray, offsets: Sequence[tuple[int, int]], special: Sequence[int], spans: Sequence[tuple[int, int]]
) -> np.ndarray:
    """One unit vector per character span: the mean of the token vectors that lie inside it."""
    out = np.zeros((len(spans), hidden.shape[1]), dtype=np.float32)
    starts = np.array([o[0] for o in offsets])
    ends = np.array([o[1] for o in offsets])
    real = (np.asarray(special) == 0) & (ends > starts)
    for k, (a, b) in enumerate(spans):
        inside = real & (starts >= a) & (ends <= b)
        if inside.any():
            out[k] = unit(hidden[inside].mean(0))
    return out


def length_sorted_batches(lengths: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices in batches of similar length, so each batch pads little (attention and padding cost tokens)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    return [order[lo : lo + batch_size] for lo in range(0, len(order), batch_size)]


# One forward pass per batch: its unit text vectors and, when spans are asked for, its span vectors.
BatchResult = tuple[np.ndarray, list[np.ndarray] | None]
# Embeds batches of texts (with their spans, or None), giving one BatchResult per batch, in order.
BatchRunner = Callable[[list[list[str]], list[Spans] | None], Iterable[BatchResult]]


def embed_batch(texts: Sequence[str], spans: Spans | None, tokenizer: Any, forward: Forward) -> BatchResult:
    """One batch through the model. `tokenizer` (tokenizers.Tokenizer) truncates to what the model
    reads and pads to the batch's longest text."""
    encodings = tokenizer.encode_batch(list(texts))
    ids = np.array([e.ids for e in encodings], dtype=np.int64)
    mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
    hidden = forward(ids, mask)
    vectors = mean_pooled(hidden, mask)
    if spans is None:
        return vectors, None
    return vectors, [pool_spans(hidden[row], e.offsets, e.special_tokens_mask, spans[row]) for row, e in enumerate(encodings)]


def in_this_process(tokenizer: Any, forward: Forward, workers: int = 1) -> BatchRunner:
    """Batches run here; with `workers` > 1, that many at once on threads (`forward` must then serve
    concurrent calls)."""

    def run(texts: list[list[str]], spans: list[Spans] | None) -> list[BatchResult]:
        pairs = list(zip(texts, spans if spans is not None else [None] * len(texts)))
        if workers <= 1 or len(pairs) <= 1:
            return [embed_batch(t, s, tokenizer, forward) for t, s in pairs]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="embed") as pool:
            return list(pool.map(lambda pair: embed_batch(pair[0], pair[1], tokenizer, forward), pairs))

    return run


def embed_pooled(
    texts: Sequence[str], spans: Spans | None, batch_size: int, dimension: int, run: BatchRunner
) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """Unit text vectors and, when `spans` are given, one unit vector per character span of each text,
    from one forward pass per length-sorted batch. The batches are the same whoever runs them (`run`:
    this process, its threads, or worker processes), so each text's vector is the same either way."""
    vectors = np.zeros((len(texts), dimension), dtype=np.float32)
    span_vectors = None if spans is None else [np.zeros((0, dimension), dtype=np.float32)] * len(texts)
    batches = length_sorted_batches([len(t) for t in texts], batch_size)
    results = run([[texts[i] for i in b] for b in batches], None if spans is None else [[spans[i] for i in b] for b in batches])
    for batch, (batch_vectors, batch_spans) in zip(batches, results):
        vectors[batch] = batch_vectors
        if span_vectors is not None and batch_spans is not None:
            for i, pooled in zip(batch, batch_spans):
                span_vectors[i] = pooled
    return vectors, span_vectors
