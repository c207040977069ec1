"""Sentence-aware chunks: exact offsets, the model's word-piece budget, word-boundary splits, overlap."""

from __future__ import annotations

import re

import pytest

from indexing.sources.files import read_file
from indexing.text.chunking import chunk_text
from testsupport.corpora import SEED_FILE, news_text

LONG_SENTENCE = " ".join(f"delegates from region {n} argued about fishing quotas, border controls and shared rivers" for n in range(60))


def words(texts):
    """A plain word counter: a real, predictable budget for tests about the packing rules."""
    return [len(t.split()) for t in texts]


def corpus_texts():
    seed = read_file(SEED_FILE).articles[0].text
    return [
        seed,
        news_text(1, paragraphs=6, sentences=5),
        news_text(2, paragraphs=1, sentences=1),
        f"Short intro. {LONG_SENTENCE}. A closing remark.",
        "One line only",
    ]


def assert_well_formed(text, chunks):
    assert chunks, "every non-empty text gives at least one chunk"
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert 0 <= chunk.start < chunk.end <= len(text)
        assert text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip()
        assert chunk.sentences, "a chunk holds at least one sentence (or sentence piece)"
        assert chunk.sentences[0][0] == chunk.start and chunk.sentences[-1][1] == chunk.end
        for s, e in chunk.sentences:
            assert chunk.start <= s < e <= chunk.end
            assert text[s:e] == text[s:e].strip()
        for (_, e), (s2, _) in zip(chunk.sentences, chunk.sentences[1:]):
            assert e <= s2
    for before, after in zip(chunks, chunks[1:]):
        # Each chunk moves forward: it neither repeats nor sits inside the one before.
        assert after.start > before.start
        assert after.end > before.end


@pytest.mark.parametrize("max_tokens, overlap", [(160, 40), (64, 16), (250, 0), (32, 8)])
def test_offsets_are_exact_for_every_chunk(count_tokens, max_tokens, overlap):
    for text in corpus_texts():
        chunks = chunk_text(text, count_tokens, max_tokens, overlap)
        assert_well_formed(text, chunks)


@pytest.mark.parametrize("max_tokens", [160, 64, 32])
def test_no_chunk_over_the_model_budget(count_tokens, max_tokens):
    for text in corpus_texts():
        for chunk in chunk_text(text, count_tokens, max_tokens, 16):
            tokens = count_tokens([chunk.text])[0]
            assert tokens <= max_tokens, (tokens, chunk.text[:80])


def test_every_sentence_lands_in_a_chunk(count_tokens):
    text = corpus_texts()[0]
    chunks = chunk_text(text, count_tokens, 64, 16)
    covered = set()
    for chunk in chunks:
        covered.update(range(chunk.start, chunk.end))
    missing = [i for i, ch in enumerate(text) if not ch.isspace() and i not in covered]
    assert missing == []


def test_a_very_long_sentence_is_split_at_word_boundaries(count_tokens):
    text = LONG_SENTENCE + "."
    assert count_tokens([text])[0] > 600
    chunks = chunk_text(text, count_tokens, 100, 0)
    assert len(chunks) >= 6
    assert_well_formed(text, chunks)
    for chunk in chunks:
        assert count_tokens([chunk.text])[0] <= 100
        assert chunk.start == 0 or text[chunk.start - 1].isspace()
        assert chunk.end == len(text) or text[chunk.end].isspace()
    # Without overlap the pieces tile the sentence: every word exactly once.
    assert " ".join(c.text for c in chunks).split() == text.split()


def test_a_single_unsplittable_word_is_the_only_exception(count_tokens):
    giant = "-".join(["x"] * 300)  # one "word" of ~600 word-pieces
    text = f"Before it. {giant} After it."
    chunks = chunk_text(text, count_tokens, 64, 0)
    assert_well_formed(text, chunks)
    over = [c for c in chunks if count_tokens([c.text])[0] > 64]
    assert [c.text for c in over] == [giant]


def test_consecutive_chunks_overlap_by_whole_sentences(count_tokens):
    text = news_text(7, paragraphs=8, sentences=5)
    chunks = chunk_text(text, count_tokens, 64, 24)
    assert len(chunks) > 4
    for before, after in zip(chunks, chunks[1:]):
        assert after.start < before.end, "consecutive chunks share text"
        shared = set(before.sentences) & set(after.sentences)
        assert shared, "the overlap is made of whole sentences"
        assert count_tokens([text[after.start : before.end]])[0] <= 24 + 2


def test_no_overlap_when_overlap_is_zero(count_tokens):
    text = news_text(8, paragraphs=5, sentences=5)
    chunks = chunk_text(text, count_tokens, 64, 0)
    for before, after in zip(chunks, chunks[1:]):
        assert after.start >= before.end


def test_overlap_never_makes_a_chunk_that_sits_inside_the_previous_one():
    # Sentences of 100, 30, 10 and 150 words with a 160-word budget and 40 of overlap: the chunk after
    # [100, 30, 10] must reach into the 150-word sentence, not repeat [30, 10] on its own.
    sizes = [100, 30, 10, 150]
    text = " ".join(" ".join(f"w{i}x{k}" for k in range(n)) + "." for i, n in enumerate(sizes))
    text = re.sub(r"w(\d)x0", lambda m: f"W{m.group(1)}x0", text)  # sentences start with a capital
    chunks = chunk_text(text, words, 160, 40)
    assert_well_formed(text, chunks)
    assert all(words([c.text])[0] <= 160 for c in chunks)
    assert chunks[-1].end == len(text)


def test_short_text_is_one_chunk(count_tokens):
    text = "The bridge reopened on Tuesday. Traffic flowed."
    (chunk,) = chunk_text(text, count_tokens, 160, 40)
    assert (chunk.start, chunk.end, chunk.text) == (0, len(text), text)
    assert [text[s:e] for s, e in chunk.sentences] == ["The bridge reopened on Tuesday.", "Traffic flowed."]


def test_chunking_is_deterministic(count_tokens):
    text = news_text(9, paragraphs=4, sentences=5)
    assert chunk_text(text, count_tokens, 64, 16) == chunk_text(text, count_tokens, 64, 16)


def test_a_chunk_never_spans_filler_and_a_million_dots_chunk_fast(embedder):
    """Issue 25, item 5: a million dots made one 1M-character chunk (seconds to tokenise, then cut at
    256 word pieces). Filler belongs to no chunk; the text on either side does."""
    import time

    text = "The council met on Monday." + "." * 1_000_000 + " It ended with a vote on the harbour."
    began = time.perf_counter()
    chunks = chunk_text(text, embedder.count_tokens, max_tokens=160, overlap_tokens=20)
    took = time.perf_counter() - began
    assert [c.text for c in chunks] == ["The council met on Monday...", "It ended with a vote on the harbour."]
    assert all(text[c.start : c.end] == c.text for c in chunks)
    assert took < 1.0, f"{took:.2f} s"
