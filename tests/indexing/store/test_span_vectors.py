"""Sentence vectors from the chunk's own forward pass ("late chunking"), stored int8 in chunk metadata."""

from __future__ import annotations

import numpy as np

from indexing.store.span_vectors import decode_vectors, encode_vectors


def test_round_trip_keeps_direction():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(5, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    decoded = decode_vectors(encode_vectors(vectors), 384)
    assert decoded.shape == (5, 384)
    assert np.all((decoded * vectors).sum(axis=1) > 0.999)
    assert decode_vectors(encode_vectors(np.zeros((0, 384))), 384).shape == (0, 384)


def test_text_vectors_equal_sentence_transformers_encode(embedder):
    texts = ["NATO talks\nWendy R. led the U.S. delegation. Russia sent Sergei A.", "A short one."]
    spans = [[(11, 43), (44, 61)], [(0, 12)]]
    vectors, per_span = embedder.embed_with_spans(texts, spans)
    reference = embedder.embed_documents(texts)
    assert np.all((vectors * reference).sum(axis=1) > 0.9999)
    assert [m.shape for m in per_span] == [(2, 384), (1, 384)]
    assert np.allclose(np.linalg.norm(per_span[0], axis=1), 1.0, atol=1e-5)


def test_every_indexed_chunk_carries_one_vector_per_sentence(seed_index):
    question = seed_index.query_embedder.embed_query("Who led the US delegation to the talks?")
    best = (-1.0, "")
    for chunk in seed_index.store.iter_chunks():
        matrix = chunk.sentence_matrix(384)
        assert matrix is not None and len(matrix) == len(chunk.sentences)
        for (start, end), vector in zip(chunk.sentences, matrix):
            best = max(best, (float(vector @ question), chunk.text[start - chunk.start : end - chunk.start]))
    assert best[1].startswith("Wendy R., Under Secretary of State, led the U.S. delegation")
