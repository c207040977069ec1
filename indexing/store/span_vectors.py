"""Compact storage of per-sentence vectors inside chunk metadata (int8 with one scale per vector).

Sentence vectors come free from the chunk's own forward pass (mean of the sentence's token
vectors, "late chunking"); at query time the answerer scores sentences against the question
vector it already has, with no second model call. int8 keeps them at ~400 bytes a sentence.
"""

from __future__ import annotations

import base64

import numpy as np


def encode_vectors(vectors: np.ndarray) -> str:
    """(n, dim) float vectors -> one ASCII string: per row a float32 scale then dim int8 values."""
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.size == 0:
        return ""
    scale = np.abs(vectors).max(axis=1, keepdims=True) / 127.0
    scale[scale == 0] = 1.0
    quantised = np.round(vectors / scale).astype(np.int8)
    rows = [np.float32(s).tobytes() + q.tobytes() for s, q in zip(scale[:, 0], quantised)]
    return base64.b64encode(b"".join(rows)).decode("ascii")


def decode_vectors(blob: str, dim: int) -> np.ndarray:
    """The inverse of encode_vectors: (n, dim) float32, each row unit length."""
    if not blob:
        return np.zeros((0, dim), dtype=np.float32)
    raw = np.frombuffer(base64.b64decode(blob), dtype=np.uint8).reshape(-1, 4 + dim)
    scales = raw[:, :4].copy().view(np.float32)
    vectors = raw[:, 4:].copy().view(np.int8).astype(np.float32) * scales
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return vectors / norms
