"""Split an article into sentence-aware chunks that keep exact [start, end) offsets into its text.

A chunk is whole sentences up to a word-piece budget; a sentence longer than the budget is split
at word boundaries. Consecutive chunks overlap by trailing sentences up to `overlap_tokens`, so a
fact spanning a chunk border is still found whole in one of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from indexing.text.sentences import sections, split_sentences

TokenCounter = Callable[[Sequence[str]], list[int]]


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    start: int
    end: int
    text: str  # == article_text[start:end]
    sentences: tuple[tuple[int, int], ...]  # absolute offsets of the sentences (or sentence pieces) inside


def whitespace_token_counter(texts: Sequence[str]) -> list[int]:
    """A rough word-piece estimate (1.3 per word) for callers without the model's tokenizer."""
    return [int(len(t.split()) * 1.3) + 1 for t in texts]


def chunk_text(
    text: str,
    count_tokens: TokenCounter = whitespace_token_counter,
    max_tokens: int = 160,
    overlap_tokens: int = 20,
) -> list[Chunk]:
    chunks: list[Chunk] = []
    for start, end in sections(text):  # never across filler (indexing.text.sentences.FILLER_CHARS)
        _pack(text, _sentence_units(text, start, end, count_tokens, max_tokens), max_tokens, overlap_tokens, chunks)
    return chunks


def _pack(text: str, units: list[tuple[int, int, int]], max_tokens: int, overlap_tokens: int, chunks: list[Chunk]) -> None:
    """Append the chunks of one section's sentence units to `chunks`."""
    i = 0
    while i < len(units):
        j, used = i, 0
        while j < len(units) and (j == i or used + units[j][2] <= max_tokens):
            used += units[j][2]
            j += 1
        members = units[i:j]
        start, end = members[0][0], members[-1][1]
        chunks.append(Chunk(len(chunks), start, end, text[start:end], tuple((s, e) for s, e, _ in members)))
        if j >= len(units):
            break
        i = _overlap_start(units, i, j, overlap_tokens, max_tokens)


def _overlap_start(units: list[tuple[int, int, int]], i: int, j: int, overlap_tokens: int, max_tokens: int) -> int:
    """Index of the first unit of the next chunk: back off from j while the overlap fits.

    The overlap must leave room for unit j itself, or the next chunk would repeat a tail of this one.
    """
    k, carried = j, 0
    while k - 1 > i:
        extra = units[k - 1][2]
        if carried + extra > overlap_tokens or carried + extra + units[j][2] > max_tokens:
            break
        k -= 1
        carried += extra
    return k


def _sentence_units(text: str, start: int, end: int, count_tokens: TokenCounter, max_tokens: int) -> list[tuple[int, int, int]]:
    """(start, end, tokens) per sentence of text[start:end]; sentences over the budget become several word-bounded pieces."""
    spans = split_sentences(text, start, end)
    counts = count_tokens([text[s:e] for s, e in spans]) if spans else []
    units: list[tuple[int, int, int]] = []
    for (start, end), tokens in zip(spans, counts):
        if tokens <= max_tokens:
            units.append((start, end, tokens))
        else:
            units.extend(_split_long_sentence(text, start, end, tokens, max_tokens, count_tokens))
    return units


def _split_long_sentence(
    text: str, start: int, end: int, tokens: int, max_tokens: int, count_tokens: TokenCounter
) -> list[tuple[int, int, int]]:
    words = [(m.start(), m.end()) for m in re.finditer(r"\S+", text[start:end])]
    pieces = max(2, -(-tokens // max_tokens))
    while True:
        per_piece = -(-len(words) // pieces)
        groups = [words[k : k + per_piece] for k in range(0, len(words), per_piece)]
        spans = [(start + g[0][0], start + g[-1][1]) for g in groups]
        counts = count_tokens([text[s:e] for s, e in spans])
        if max(counts) <= max_tokens or per_piece == 1:
            return [(s, e, c) for (s, e), c in zip(spans, counts)]
        pieces += 1
