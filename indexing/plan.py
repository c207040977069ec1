"""What a sync has to do: read every file once, compare each article's hash with the registry, and
keep just enough of the changed articles to write them later.

Memory stays bounded however large the corpus: the plan holds an article's text only while the held
texts fit `HELD_TEXT_CHARS`; past that it keeps the article's id and file, and the writing pass reads
that file again (parsing costs far less than embedding: ~1 ms against ~20 ms a chunk on 2 cores).
What grows with the corpus is ids and hashes only (the registry and the ids found).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from indexing.errors import ArticleError
from indexing.settings import IndexSettings
from indexing.sources.article import Article
from indexing.sources.files import read_file
from indexing.sources.paths import is_under, path_text
from indexing.sources.scan import scan
from indexing.store.records import ArticleRecord

log = logging.getLogger(__name__)

# Bump when chunking changes in a way that must re-chunk indexed articles.
_CHUNKER_VERSION = "1"
# Article text a plan keeps in memory for the writing pass (characters); the rest is read again.
HELD_TEXT_CHARS = 8_000_000


def indexing_signature(settings: IndexSettings) -> str:
    """What, besides an article's content, shapes its chunks and vectors: a change re-indexes it."""
    return f"{settings.embed_model}|{settings.chunk_tokens}|{settings.chunk_overlap_tokens}|{_CHUNKER_VERSION}"


def versioned(article: Article, signature: str) -> Article:
    """The article with a hash over its content and the indexing signature: what the store compares."""
    return replace(article, sha256=hashlib.sha256(f"{article.sha256}|{signature}".encode()).hexdigest())


@dataclass(frozen=True)
class PendingArticle:
    """An article to write: its id, hash and file, the hash it replaces ("" if new), and its text while held."""

    id: str
    sha256: str
    path: Path
    previous: str
    article: Article | None  # None: read it again from `path`


@dataclass
class SyncPlan:
    to_write: list[PendingArticle]
    to_remove: list[str]
    unchanged: int
    failed: list[ArticleError]
    missing: list[str] = field(default_factory=list)  # roots that do not exist
    max_file_bytes: int = 20_000_000
    signature: str = ""

    def articles(self) -> Iterator[tuple[Article, str]]:
        """(article, previous sha) to write, in the order found; articles not held are read again, one
        read per file. An article gone or changed in between is skipped: the file changed under this
        sync, and the next sync (or the watcher) sees it as it is then."""
        reread: dict[str, Article] = {}
        reread_path: Path | None = None
        for pending in self.to_write:
            article = pending.article
            if article is None:
                if pending.path != reread_path:
                    reread_path, reread = pending.path, self._read(pending.path)
                article = reread.get(pending.id)
                if article is None or article.sha256 != pending.sha256:
                    log.info("%s changed while it was being indexed; the next sync takes it as it is then", path_text(pending.path))
                    continue
            yield article, pending.previous

    def _read(self, path: Path) -> dict[str, Article]:
        read = read_file(path, max_bytes=self.max_file_bytes)
        return {a.id: self._versioned(a) for a in read.articles}

    def _versioned(self, article: Article) -> Article:
        return versioned(article, self.signature) if self.signature else article


def plan_sync(paths: Sequence[Path], records: dict[str, ArticleRecord], max_file_bytes: int, signature: str = "") -> SyncPlan:
    roots = [Path(p).resolve() for p in paths]
    plan = SyncPlan([], [], 0, [], max_file_bytes=max_file_bytes, signature=signature)
    found: dict[str, str] = {}  # article id -> the file it was read from (ids only: never the texts)
    entries = scan(roots)
    plan.failed.extend(entries.problems)
    # Paths whose previously indexed articles stay: reported entries, files not read completely,
    # missing roots (an unmounted drive, a mistyped path). A broken file never loses its articles.
    held: list[Path] = list(entries.held)
    held_chars = 0
    for path in entries.files:
        read = read_file(path, max_bytes=max_file_bytes)
        plan.failed.extend(read.errors)
        if not read.complete:
            held.append(read.path)
        for article in read.articles:
            if article.id in found:
                plan.failed.append(
                    ArticleError(
                        path_text(path), f"duplicate article id {article.id!r}, already read from {found[article.id]}", "duplicate id"
                    )
                )
                continue
            found[article.id] = article.origin
            article = plan._versioned(article)
            record = records.get(article.id)
            if record and record.sha256 == article.sha256 and record.status == "ok":
                plan.unchanged += 1
                continue
            keep = held_chars + len(article.text) <= HELD_TEXT_CHARS
            held_chars += len(article.text) if keep else 0
            plan.to_write.append(
                PendingArticle(article.id, article.sha256, read.path, record.sha256 if record else "", article if keep else None)
            )
    plan.to_remove = [r.id for r in records.values() if r.id not in found and is_under(r.origin, roots) and not is_under(r.origin, held)]
    plan.missing = [path_text(p) for p in entries.missing]
    return plan
