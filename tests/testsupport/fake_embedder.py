"""A deterministic stand-in for the embedding model, for tests whose subject is not the model (the CLI's
output, Slack's blocks, settings), as llm's `EmbedDemo` and langchain-core's fake embeddings are.

Words are hashed into the vector's dimensions (signed feature hashing), so texts that share words are
near and the rest are not: retrieval still finds the passage a question names, with no torch and no
model load. Chunk budgets use the real model's tokenizer (the light `tokenizers` package), so chunks are
cut where the real model would cut them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import cached_property

import numpy as np
import pytest

from indexing.embedding.models import DEFAULT_MODEL, load_tokenizer, resolve_model_dir, word_pieces

_WORD = re.compile(r"[a-z0-9]+")
DIM = 384  # the real model's, so an index made with it keeps the shape Chroma expects


class HashEmbedder:
    """The `Embedder` contract, plus sentence vectors (`embed_with_spans`), from hashed words."""

    name = DEFAULT_MODEL  # an index records its model by the settings' name: the fake stands in for it
    backend = "torch"
    precision = "fp32"

    @cached_property
    def tokenizer(self):  # tokenizers.Tokenizer
        return load_tokenizer(resolve_model_dir(DEFAULT_MODEL))

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return word_pieces(self.tokenizer, texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, DIM), dtype=np.float32)

    def embed_with_spans(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> tuple[np.ndarray, list[np.ndarray]]:
        per_text = [
            np.stack([self._vector(text[a:b]) for a, b in s]) if s else np.zeros((0, DIM), np.float32) for text, s in zip(texts, spans)
        ]
        return self.embed_documents(texts), per_text

    @staticmethod
    def _vector(text: str) -> np.ndarray:
        vector = np.zeros(DIM, dtype=np.float32)
        for word in _WORD.findall(text.lower()):
            digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
            vector[int.from_bytes(digest[:4], "little") % DIM] += 1.0 if digest[4] & 1 else -1.0
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            vector[0] = 1.0  # a text without words still gets a unit vector (cosine needs one)
            return vector
        return vector / norm


@pytest.fixture(scope="session")
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture
def fake_model(monkeypatch, hash_embedder) -> HashEmbedder:
    """Every NewsIndex made during the test embeds with the HashEmbedder (its torch backend, which the
    tests' settings choose, is the one `get_embedder` builds)."""
    import indexing.index

    monkeypatch.setattr(indexing.index, "get_embedder", lambda *args, **kwargs: hash_embedder)
    return hash_embedder
