"""Wire copies folded: a passage that several articles carry word for word is cited once, from the earliest.

The index finds an article's copies (indexing.text.minhash: MinHash over word shingles, stored with
each article's record). Being a copy of the same story is not enough to stand in for a citation:
an updated version of a story shares most of its words but may change the very sentence cited. So
a citation moves to a copy, or lists it under `also_in`, only when that copy holds the quoted
passage verbatim. The earliest article that holds it (by publication date; the cited one on a tie)
becomes the citation, with its own offsets, and the others are `also_in`, earliest first. Two
citations that then quote the same span of the same article become one, and the answer's "[n]"
marks are renumbered to match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date

from bot.answer import CITATION_MARK, Answer, Citation, Copy
from indexing import ArticleRecord, ChunkStore, StoredChunk

_REPEATED_MARK = re.compile(r"(\[\d{1,3}\])(?:\s*\1)+")


def fold_copies(answer: Answer, store: ChunkStore) -> Answer:
    """The answer with each passage cited once, from the earliest article that carries it."""
    cited = (*answer.citations, *answer.closest)
    if not cited:
        return answer
    copies = store.copies_of([c.article_id for c in cited])
    if not copies:
        return answer
    texts = _Texts(store, [r for records in copies.values() for r in records])
    citations, numbers = _fold(answer.citations, copies, texts)
    closest, _ = _fold(answer.closest, copies, texts)
    text = renumber(answer.text, numbers) if answer.citations else answer.text
    folded = sum(len(c.also_in) for c in citations + closest)
    return replace(answer, text=text, citations=citations, closest=closest, trace={**answer.trace, "copies_folded": folded})


def renumber(text: str, numbers: dict[int, int]) -> str:
    """ "[1] [2]" with 2 folded into 1 reads "[1]"; "[3]" becomes "[2]" when 2 went."""
    marked = CITATION_MARK.sub(lambda m: f"[{numbers.get(int(m.group(1)), int(m.group(1)))}]", text)
    return _REPEATED_MARK.sub(r"\1", marked)


def _fold(
    citations: Sequence[Citation], copies: dict[str, list[ArticleRecord]], texts: _Texts
) -> tuple[tuple[Citation, ...], dict[int, int]]:
    folded: list[Citation] = []
    numbers: dict[int, int] = {}
    for n, citation in enumerate(citations, start=1):
        earliest = _earliest(citation, copies.get(citation.article_id, []), texts)
        same = next(
            (i for i, f in enumerate(folded) if (f.article_id, f.start, f.end) == (earliest.article_id, earliest.start, earliest.end)), None
        )
        if same is None:
            folded.append(earliest)
            numbers[n] = len(folded)
        else:
            kept = folded[same]
            merged = {c.article_id: c for c in (*kept.also_in, *earliest.also_in) if c.article_id != kept.article_id}
            folded[same] = replace(kept, also_in=_by_date(merged.values()))
            numbers[n] = same + 1
    return tuple(folded), numbers


def _earliest(citation: Citation, records: Iterable[ArticleRecord], texts: _Texts) -> Citation:
    """The citation from the earliest article holding its quote verbatim, the others as `also_in`."""
    cited = Copy(citation.article_id, citation.title, citation.published, citation.source)
    holders: list[tuple[Copy, int]] = [(cited, citation.start)]
    for record in records:
        start = texts.find(record, citation.quote)
        if start is not None:
            holders.append((Copy(record.id, record.title, _day(record.published), record.source), start))
    if len(holders) == 1:
        return citation
    holders.sort(key=lambda h: (h[0].published or date.max, h[0] is not cited, h[0].source))
    (first, start), rest = holders[0], holders[1:]
    shift = start - citation.start
    highlight = (citation.highlight[0] + shift, citation.highlight[1] + shift) if citation.highlight else None
    return replace(
        citation,
        article_id=first.article_id,
        title=first.title,
        published=first.published,
        source=first.source,
        start=start,
        end=citation.end + shift,
        highlight=highlight,
        also_in=tuple(c for c, _ in rest),
    )


def _by_date(copies: Iterable[Copy]) -> tuple[Copy, ...]:
    return tuple(sorted(copies, key=lambda c: (c.published or date.max, c.source)))


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


class _Texts:
    """The committed chunks of the copies, read together once per answer."""

    def __init__(self, store: ChunkStore, records: Sequence[ArticleRecord]):
        shas = {r.id: r.sha256 for r in records}
        self._chunks: dict[str, list[StoredChunk]] = {}
        for chunk in store.chunks_of_articles(list(shas)):
            if chunk.sha256 == shas.get(chunk.article_id):
                self._chunks.setdefault(chunk.article_id, []).append(chunk)

    def find(self, record: ArticleRecord, quote: str) -> int | None:
        """Where the article's text holds `quote` word for word (an offset into it), or None."""
        for chunk in sorted(self._chunks.get(record.id, ()), key=lambda c: c.start):
            at = chunk.text.find(quote)
            if at >= 0:
                return chunk.start + at
        return None
