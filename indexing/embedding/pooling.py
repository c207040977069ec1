"""From a transformer's token vectors to unit-length text and span vectors (mean pooling), for every backend.

The backends differ only in the forward pass (`Forward`); batching, padding and pooling are here, once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


def embed_pooled(
    texts: Sequence[str],
    spans: Spans | None,
    tokenizer: Any,
    forward: Forward,
    batch_size: int,
    dimension: int,
    workers: int = 1,
) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """Unit text vectors and, when `spans` are given, one unit vector per character span of each text,
    from one forward pass per length-sorted batch. `tokenizer` (tokenizers.Tokenizer) truncates to
    what the model reads and pads to a batch's longest text. With `workers` > 1, that many batches run
    at once (`forward` must then serve concurrent calls); each text's vector is the same either way."""
    vectors = np.zeros((len(texts), dimension), dtype=np.float32)
    span_vectors = None if spans is None else [np.zeros((0, dimension), dtype=np.float32)] * len(texts)

    def run(batch: list[int]) -> None:
        encodings = tokenizer.encode_batch([texts[i] for i in batch])
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        hidden = forward(ids, mask)
        vectors[batch] = mean_pooled(hidden, mask)
        if span_vectors is not None and spans is not None:
            for row, i in enumerate(batch):
                span_vectors[i] = pool_spans(hidden[row], encodings[row].offsets, encodings[row].special_tokens_mask, spans[i])

    batches = length_sorted_batches([len(t) for t in texts], batch_size)
    if workers <= 1 or len(batches) <= 1:
        for batch in batches:
            run(batch)
    else:
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="embed") as pool:
            list(pool.map(run, batches))  # list(): a failed batch raises here
    return vectors, span_vectors
