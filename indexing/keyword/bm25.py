"""A segmented, updatable BM25 index: what the keyword retriever searches (no Chroma in here).

Why segments: rebuilding a BM25 index from every chunk costs seconds at 100k chunks, and a watched
folder or a feed changes a few articles at a time. Here an update only tokenises the new documents
and appends them as one immutable segment (a sparse term-frequency matrix); removed documents are
masked out. Query-time work is one postings slice per query term per segment.

Why exact statistics: BM25 scores depend on global numbers (documents alive, their total length,
each term's document frequency). They are kept exact on every add and remove, and idf is computed
at query time from them, so an incrementally updated index scores exactly like one built from
scratch over the same documents, and adding documents never rewrites old ones.

Scoring is bm25s's default ("lucene"): idf = ln(1 + (N - df + 0.5) / (df + 0.5)),
tf part = tf / (tf + k1 * (1 - b + b * len / avglen)), k1 = 1.5, b = 0.75.

An update returns a new index object sharing the unchanged segments (copy-on-write): a reader in
another thread keeps searching the object it holds. Dead rows are compacted away when they pass
30% or when there are more than 8 segments (merged from the stored matrices, never re-tokenised).

Saved and loaded by indexing.keyword.files.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType

import numpy as np
import scipy.sparse as sp

from indexing.keyword.packed import PackedStrings
from indexing.text.stemming import english_stemmer

K1, B = 1.5, 0.75
MAX_SEGMENTS = 8
MAX_DEAD_FRACTION = 0.3
KEEP_LARGEST = 3  # on too many segments, the largest stay and the rest are merged into one


@dataclass(frozen=True)
class KeywordHit:
    chunk_id: str
    article_id: str
    sha256: str
    score: float


@dataclass(frozen=True)
class Doc:
    """One document to index: a chunk, with the text BM25 sees (title and chunk text)."""

    chunk_id: str
    article_id: str
    sha256: str
    text: str


def _bm25s():
    import bm25s

    # bm25s sets its logger to DEBUG on import, which would print on every tokenisation.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Lower-cased, English stop words removed, Snowball-stemmed tokens (bm25s's tokenizer)."""
    return _bm25s().tokenize(list(texts), stopwords="en", stemmer=english_stemmer(), return_ids=False, show_progress=False)


def new_segment_name() -> str:
    return f"seg-{uuid.uuid4().hex[:16]}"


@dataclass(frozen=True, eq=False)
class Segment:
    """Immutable rows (documents): their chunk ids, their articles and term frequencies (CSC, rows = docs).

    Articles are held once each (`articles`, `shas`) and rows point at them (`row_article`), so a
    segment's arrays can be memory-mapped as they are (indexing.keyword.files) and loading one
    never walks its rows in Python.
    """

    name: str
    ids: Sequence[str]  # chunk id per row (PackedStrings)
    articles: tuple[str, ...]  # article ids, each once
    shas: tuple[str, ...]  # the sha256 of each article's rows
    row_article: np.ndarray  # per row: its article's position in `articles`
    tf: sp.csc_matrix  # columns: the term ids known when the segment was built
    lengths: np.ndarray  # tokens per row (the sum of its term frequencies), float64

    def __post_init__(self) -> None:
        rows = self.tf.shape[0]
        if not (rows == len(self.ids) == len(self.row_article) == len(self.lengths)) or len(self.articles) != len(self.shas):
            raise ValueError(f"segment {self.name}: {rows} matrix rows for {len(self.ids)} ids")

    @property
    def n_rows(self) -> int:
        return len(self.ids)

    def article_of(self, row: int) -> str:
        return self.articles[int(self.row_article[row])]

    def sha_of(self, row: int) -> str:
        return self.shas[int(self.row_article[row])]

    @cached_property
    def rows_by_article(self) -> dict[str, np.ndarray]:
        order = np.argsort(self.row_article, kind="stable")
        bounds = np.cumsum(np.bincount(self.row_article, minlength=len(self.articles)))[:-1]
        return {a: rows for a, rows in zip(self.articles, np.split(order.astype(np.int64), bounds)) if rows.size}

    def article_rows(self, rows: np.ndarray) -> dict[str, tuple[str, int]]:
        """article id -> (sha, how many of these rows it has), for the articles among `rows`."""
        counts = np.bincount(self.row_article[rows], minlength=len(self.articles))
        return {self.articles[i]: (self.shas[i], int(counts[i])) for i in np.flatnonzero(counts).tolist()}

    def doc_freq(self, rows: np.ndarray, width: int) -> np.ndarray:
        """How many of these rows hold each term, over `width` term ids."""
        counts = np.zeros(width, dtype=np.int64)
        counts[: self.tf.shape[1]] = np.diff(self.tf.indptr)
        if len(rows) == self.n_rows:
            return counts  # all rows: the postings' lengths, no posting read
        if 2 * len(rows) > self.n_rows:  # most rows: subtract the few others
            others = np.setdiff1d(np.arange(self.n_rows), rows, assume_unique=True)
            counts[: self.tf.shape[1]] -= np.diff(self.tf[others].tocsc().indptr)
            return counts
        counts[:] = 0
        counts[: self.tf.shape[1]] = np.diff(self.tf[rows].tocsc().indptr)
        return counts

    @classmethod
    def build(cls, name: str, ids: PackedStrings, article_ids: Sequence[str], shas: Sequence[str], tf: sp.csc_matrix) -> Segment:
        """A segment from per-row article ids and shas (an article's first row gives its sha)."""
        positions: dict[str, int] = {}
        row_article = np.fromiter((positions.setdefault(a, len(positions)) for a in article_ids), dtype=np.int32, count=len(article_ids))
        first_rows = np.unique(row_article, return_index=True)[1]
        lengths = np.asarray(tf.sum(axis=1), dtype=np.float64).ravel()
        return cls(name, ids, tuple(positions), tuple(shas[r] for r in first_rows), row_article, tf, lengths)

    @classmethod
    def from_tokens(cls, docs: Sequence[Doc], tokens: Sequence[Sequence[str]], vocab: dict[str, int]) -> Segment:
        """A segment over these documents; adds their new terms to `vocab` (the caller's own copy)."""
        term_ids = [vocab.setdefault(t, len(vocab)) for doc_tokens in tokens for t in doc_tokens]
        rows = np.repeat(np.arange(len(docs)), [len(t) for t in tokens])
        ones = np.ones(len(term_ids), dtype=np.float32)
        tf = sp.coo_matrix((ones, (rows, np.asarray(term_ids, dtype=np.int64))), shape=(len(docs), len(vocab))).tocsc()
        tf.sum_duplicates()  # one entry per (doc, term): a term's postings list each doc once
        ids = PackedStrings.of(d.chunk_id for d in docs)
        return cls.build(new_segment_name(), ids, [d.article_id for d in docs], [d.sha256 for d in docs], tf)


class BM25Index:
    """Segments, their alive masks and the exact global statistics; never changed once built."""

    def __init__(
        self,
        generation: int,
        vocab: dict[str, int],
        segments: Sequence[Segment],
        alive: Sequence[np.ndarray],
        df: np.ndarray,
        total_length: float,
        articles: dict[str, tuple[str, int]],
    ):
        self.generation = generation
        self._vocab = vocab
        self.segments = tuple(segments)
        self._alive = tuple(alive)
        self._df = df
        self._total_length = total_length
        self._articles = articles
        self.n_alive = int(sum(int(a.sum()) for a in self._alive))

    @classmethod
    def empty(cls, generation: int = 0) -> BM25Index:
        return cls(generation, {}, (), (), np.zeros(0, dtype=np.int64), 0.0, {})

    @classmethod
    def from_segments(cls, generation: int, vocab: dict[str, int], segments: Sequence[Segment], alive: Sequence[np.ndarray]) -> BM25Index:
        """Statistics recomputed from the rows (loading, and the reference for tests)."""
        df = np.zeros(len(vocab), dtype=np.int64)
        total = 0.0
        articles: dict[str, tuple[str, int]] = {}
        for segment, mask in zip(segments, alive):
            rows = np.flatnonzero(mask)
            df += segment.doc_freq(rows, len(vocab))
            total += float(segment.lengths[rows].sum())
            for article_id, (sha, n) in segment.article_rows(rows).items():
                held_sha, held = articles.get(article_id, (sha, 0))
                articles[article_id] = (held_sha, held + n)
        return cls(generation, vocab, segments, alive, df, total, articles)

    # ---- reading -----------------------------------------------------------------------------
    @property
    def ids(self) -> list[str]:
        """The chunk ids of the documents alive, in segment order."""
        return [s.ids[r] for s, mask in zip(self.segments, self._alive) for r in np.flatnonzero(mask).tolist()]

    @property
    def articles(self) -> Mapping[str, tuple[str, int]]:
        """article id -> (sha256 of its indexed rows, how many rows)."""
        return MappingProxyType(self._articles)

    @property
    def vocab(self) -> Mapping[str, int]:
        return MappingProxyType(self._vocab)

    @property
    def alive(self) -> tuple[np.ndarray, ...]:
        """Per segment, which of its rows are alive (read only: shared with later indexes)."""
        return self._alive

    @property
    def dead_rows(self) -> int:
        return sum(s.n_rows for s in self.segments) - self.n_alive

    def search(self, query: str, k: int, articles: AbstractSet[str] | None = None) -> list[KeywordHit]:
        """The k best rows for `query`; with `articles`, the k best among those articles' rows (a filter
        inside the search: scores and statistics stay those of the whole index)."""
        if k <= 0 or self.n_alive == 0 or (articles is not None and not articles):
            return []
        terms = [self._vocab[t] for t in dict.fromkeys(tokenize([query])[0]) if t in self._vocab]
        terms = [t for t in terms if self._df[t] > 0]
        if not terms:
            return []
        idf = np.log1p((self.n_alive - self._df[terms] + 0.5) / (self._df[terms] + 0.5))
        avg_length = self._total_length / self.n_alive
        masks = self._alive if articles is None else [m & _rows_of(s, articles) for s, m in zip(self.segments, self._alive)]
        scores = np.concatenate([_segment_scores(s, mask, terms, idf, avg_length) for s, mask in zip(self.segments, masks)])
        return self._top(scores, k)

    def _top(self, scores: np.ndarray, k: int) -> list[KeywordHit]:
        positive = np.flatnonzero(scores > 0)
        if len(positive) > k:
            positive = positive[np.argpartition(-scores[positive], k - 1)[:k]]
        best = positive[np.lexsort((positive, -scores[positive]))]  # ties: in row order
        starts = np.cumsum([0] + [s.n_rows for s in self.segments])
        hits = []
        for position in best:
            i = int(np.searchsorted(starts, position, side="right")) - 1
            segment, row = self.segments[i], int(position - starts[i])
            hits.append(KeywordHit(segment.ids[row], segment.article_of(row), segment.sha_of(row), float(scores[position])))
        return hits

    # ---- updating (copy-on-write) ------------------------------------------------------------
    def update(self, remove: Iterable[str] = (), add: Sequence[Doc] = (), generation: int | None = None) -> BM25Index:
        """A new index without the rows of the `remove` articles and with `add` as a new segment."""
        generation = self.generation if generation is None else generation
        draft = _Draft(self)
        draft.remove_articles(remove)
        if add:
            draft.add_segment(add)
        return draft.finish(generation)

    def compacted(self) -> BM25Index:
        """The same documents in one segment without dead rows (identical scores)."""
        draft = _Draft(self)
        draft.merge(range(len(self.segments)))
        return draft.finish(self.generation)


class _Draft:
    """The mutable copy an update works on: copies what it changes, shares the rest."""

    def __init__(self, base: BM25Index):
        self.vocab = base._vocab
        self.segments = list(base.segments)
        self.alive = list(base._alive)
        self.df = base._df
        self.total_length = base._total_length
        self.articles = dict(base._articles)
        self._owned: set[int] = set()  # positions of alive masks already copied

    def remove_articles(self, article_ids: Iterable[str]) -> None:
        gone = [a for a in article_ids if self.articles.pop(a, None) is not None]
        if not gone:
            return
        self.df = self.df.copy()
        for i, segment in enumerate(self.segments):
            found = [segment.rows_by_article[a] for a in gone if a in segment.rows_by_article]
            rows = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
            rows = rows[self.alive[i][rows]]
            if rows.size:
                self._mask(i)[rows] = False
                self.df -= segment.doc_freq(rows, len(self.df))
                self.total_length -= float(segment.lengths[rows].sum())

    def add_segment(self, docs: Sequence[Doc]) -> None:
        held = {d.article_id for d in docs} & self.articles.keys()
        if held:
            raise ValueError(f"already indexed, remove first: {sorted(held)[:3]}")
        self.vocab = dict(self.vocab)
        segment = Segment.from_tokens(docs, tokenize([d.text for d in docs]), self.vocab)
        df = np.zeros(len(self.vocab), dtype=np.int64)
        df[: len(self.df)] = self.df
        self.df = df + segment.doc_freq(np.arange(segment.n_rows), len(self.vocab))
        self.total_length += float(segment.lengths.sum())
        self.segments.append(segment)
        self.alive.append(np.ones(segment.n_rows, dtype=bool))
        self._owned.add(len(self.alive) - 1)
        for d in docs:
            sha, n = self.articles.get(d.article_id, (d.sha256, 0))
            self.articles[d.article_id] = (sha, n + 1)

    def merge(self, positions: Iterable[int]) -> None:
        """Replace the segments at these positions with one holding their alive rows."""
        chosen = sorted(set(positions))
        if not chosen:
            return
        parts = [(self.segments[i], np.flatnonzero(self.alive[i])) for i in chosen]
        width = len(self.vocab)
        merged = Segment.build(
            new_segment_name(),
            PackedStrings.concat([_packed(s.ids).take(rows) for s, rows in parts]),
            [s.articles[a] for s, rows in parts for a in s.row_article[rows].tolist()],
            [s.shas[a] for s, rows in parts for a in s.row_article[rows].tolist()],
            sp.vstack([_widen(s.tf[rows].tocsc(), width) for s, rows in parts], format="csc"),
        )
        keep = [i for i in range(len(self.segments)) if i not in chosen]
        self.segments = [self.segments[i] for i in keep] + [merged]
        self.alive = [self.alive[i] for i in keep] + [np.ones(merged.n_rows, dtype=bool)]
        self._owned = {keep.index(i) for i in self._owned if i in keep} | {len(self.alive) - 1}

    def finish(self, generation: int) -> BM25Index:
        self._drop_dead_segments()
        self._compact_if_needed()
        return BM25Index(generation, self.vocab, self.segments, self.alive, self.df, self.total_length, self.articles)

    def _drop_dead_segments(self) -> None:
        keep = [i for i, mask in enumerate(self.alive) if mask.any()]
        if len(keep) < len(self.segments):
            self._owned = {keep.index(i) for i in self._owned if i in keep}
            self.segments = [self.segments[i] for i in keep]
            self.alive = [self.alive[i] for i in keep]

    def _compact_if_needed(self) -> None:
        rows = sum(s.n_rows for s in self.segments)
        dead = rows - sum(int(mask.sum()) for mask in self.alive)
        if dead > MAX_DEAD_FRACTION * rows:
            self.merge(range(len(self.segments)))
        elif len(self.segments) > MAX_SEGMENTS:
            by_size = sorted(range(len(self.segments)), key=lambda i: -int(self.alive[i].sum()))
            self.merge(by_size[KEEP_LARGEST:])

    def _mask(self, i: int) -> np.ndarray:
        if i not in self._owned:
            self.alive[i] = self.alive[i].copy()
            self._owned.add(i)
        return self.alive[i]


def _segment_scores(segment: Segment, alive: np.ndarray, terms: list[int], idf: np.ndarray, avg_length: float) -> np.ndarray:
    scores = np.zeros(segment.n_rows, dtype=np.float64)
    tf = segment.tf
    for term, term_idf in zip(terms, idf):
        if term >= tf.shape[1]:
            continue  # a term first seen after this segment was built
        lo, hi = tf.indptr[term], tf.indptr[term + 1]
        rows, freq = tf.indices[lo:hi], tf.data[lo:hi].astype(np.float64)
        norm = K1 * (1 - B + B * segment.lengths[rows] / avg_length)
        scores[rows] += term_idf * freq / (freq + norm)  # a term lists each row once: no lost adds
    scores[~alive] = 0.0
    return scores


def _rows_of(segment: Segment, articles: AbstractSet[str]) -> np.ndarray:
    """A mask of the segment's rows that belong to `articles` (walking the smaller of the two sets)."""
    mask = np.zeros(segment.n_rows, dtype=bool)
    by_article = segment.rows_by_article
    small, large = (articles, by_article) if len(articles) < len(by_article) else (by_article, articles)
    for article_id in small:
        if article_id in large:
            mask[by_article[article_id]] = True
    return mask


def _widen(tf: sp.csc_matrix, width: int) -> sp.csc_matrix:
    """The same matrix with columns for term ids added after it was built (all empty)."""
    indptr = np.concatenate([tf.indptr, np.full(width - tf.shape[1], tf.indptr[-1], dtype=tf.indptr.dtype)])
    return sp.csc_matrix((tf.data, tf.indices, indptr), shape=(tf.shape[0], width))


def _packed(ids: Sequence[str]) -> PackedStrings:
    return ids if isinstance(ids, PackedStrings) else PackedStrings.of(ids)
