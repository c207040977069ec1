"""The committed hash of the articles a query touches, read lazily and cached per sync generation.

Every query keeps only chunks whose article hash is the article's committed hash in the registry
(so a query during a sync never sees half of a replaced article). Reading the whole registry
after each sync costs ~0.5 s at 10,000 articles, paid by the first question after every new
arrival; reading just the records of the articles among the hits is one small Chroma read.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

from indexing.store.chroma import ChunkStore


class CommittedHashes:
    def __init__(self, store: ChunkStore):
        self.store = store
        self._generation: int | None = None
        self._known: dict[str, str] = {}  # article id -> committed sha ("" when none: absent or never committed)
        self._lock = threading.Lock()

    def of(self, article_ids: Iterable[str], generation: int) -> dict[str, str]:
        """article id -> committed sha for these articles, as of `generation` or later."""
        wanted = set(article_ids)
        with self._lock:
            if generation != self._generation:
                self._generation, self._known = generation, {}
            known = self._known
            missing = [a for a in wanted if a not in known]
        fresh: dict[str, str] = {}
        if missing:
            # Read outside the lock; a registry newer than `generation` is only ever more current.
            found = self.store.committed_hashes_of(missing)
            fresh = {a: found.get(a, "") for a in missing}
            with self._lock:
                if self._known is known:  # not cleared by a newer generation meanwhile
                    known.update(fresh)
        return {a: fresh[a] if a in fresh else known[a] for a in wanted}
