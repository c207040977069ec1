"""The fast tier's stand-in for the embedding model keeps the contract the index relies on."""

from __future__ import annotations

import numpy as np

from indexing.embedding.models import SpanEmbedder
from testsupport.fake_embedder import DIM, HashEmbedder


def test_the_hash_embedder_is_deterministic_unit_length_and_lexical():
    embedder = HashEmbedder()
    assert isinstance(embedder, SpanEmbedder)
    first = embedder.embed_query("Wendy Sherman led the delegation")
    assert np.array_equal(first, HashEmbedder().embed_query("Wendy Sherman led the delegation"))
    assert first.shape == (DIM,) and np.isclose(np.linalg.norm(first), 1.0)
    near, far = embedder.embed_documents(["Sherman led the US delegation", "The tram line opens in May"])
    assert float(first @ near) > float(first @ far)
    text = "One sentence. Another one."
    vectors, sentences = embedder.embed_with_spans([text], [[(0, 13), (14, 26)]])
    assert vectors.shape == (1, DIM) and sentences[0].shape == (2, DIM)
    assert embedder.count_tokens([text]) == [len(embedder.tokenizer.encode(text, add_special_tokens=False).ids)]
