"""The BM25 keyword index (bm25s + Snowball stemming), derived from Chroma and never drifting from it.

Chroma is the source of truth. The keyword index is a cache stamped with the Chroma sync generation
it was built from: readers compare the stamp with the generation stored in Chroma before answering
and rebuild from Chroma's documents when they differ. That holds with several processes sharing one
Chroma server too, since the generation lives in the shared store. The cache is saved in the data
dir (atomically: a new folder, then a rename), so a fresh process loads it instead of rebuilding.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from indexing.store import ChunkStore

log = logging.getLogger(__name__)
_STAMP = "newsbot-keyword.json"


@dataclass(frozen=True)
class KeywordHit:
    chunk_id: str
    article_id: str
    sha256: str
    score: float


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _bm25s():
    import bm25s

    # bm25s sets its logger to DEBUG on import, which would print on every rebuild.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    bm25s = _bm25s()

    return bm25s.tokenize(list(texts), stopwords="en", stemmer=_stemmer(), return_ids=False, show_progress=False)


class KeywordIndex:
    def __init__(self, generation: int, ids: list[str], article_ids: list[str], shas: list[str], model=None):
        self.generation = generation
        self.ids, self.article_ids, self.shas = ids, article_ids, shas
        self._model = model  # bm25s.BM25, None when the index is empty

    @classmethod
    def build(cls, store: ChunkStore, generation: int | None = None) -> "KeywordIndex":
        bm25s = _bm25s()

        generation = store.generation() if generation is None else generation
        ids, article_ids, shas, texts = [], [], [], []
        for chunk in store.iter_chunks():
            ids.append(chunk.id)
            article_ids.append(chunk.article_id)
            shas.append(chunk.sha256)
            texts.append(f"{chunk.title}\n{chunk.text}")
        model = None
        if texts:
            model = bm25s.BM25()
            model.index(tokenize(texts), show_progress=False)
        return cls(generation, ids, article_ids, shas, model)

    def search(self, query: str, k: int) -> list[KeywordHit]:
        if self._model is None or k <= 0:
            return []
        tokens = [t for t in tokenize([query])[0] if t in self._model.vocab_dict]
        if not tokens:
            return []
        k = min(k, len(self.ids))
        docs, scores = self._model.retrieve([tokens], k=k, show_progress=False, n_threads=1)
        return [
            KeywordHit(self.ids[i], self.article_ids[i], self.shas[i], float(s))
            for i, s in zip(docs[0], scores[0])
            if s > 0
        ]

    # ---- persistence -------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        folder.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".keyword-", dir=folder.parent))
        try:
            if self._model is not None:
                self._model.save(str(staging), show_progress=False)
            stamp = {"generation": self.generation, "ids": self.ids, "article_ids": self.article_ids, "shas": self.shas}
            (staging / _STAMP).write_text(json.dumps(stamp), encoding="utf-8")
            old = folder.with_name(folder.name + ".old")
            if folder.exists():
                os.replace(folder, old)
            os.replace(staging, folder)
            shutil.rmtree(old, ignore_errors=True)
        except OSError as exc:
            log.warning("could not save the keyword index to %s: %s", folder, exc)
            shutil.rmtree(staging, ignore_errors=True)

    @classmethod
    def load(cls, folder: Path) -> "KeywordIndex | None":
        bm25s = _bm25s()

        try:
            stamp = json.loads((folder / _STAMP).read_text(encoding="utf-8"))
            model = bm25s.BM25.load(str(folder), show_progress=False) if stamp["ids"] else None
            return cls(int(stamp["generation"]), stamp["ids"], stamp["article_ids"], stamp["shas"], model)
        except (OSError, ValueError, KeyError) as exc:
            log.info("keyword index at %s not usable (%s); rebuilding", folder, exc)
            return None


class KeywordCache:
    """The current keyword index for one store: loaded from disk, rebuilt when Chroma's generation moves.

    `current(wait=False)` is what a query uses: when the index is behind Chroma it starts one rebuild
    in the background and answers from the previous index meanwhile, so a query never waits seconds
    for a rebuild after another process's sync. That previous index can only miss new chunks (dense
    retrieval still finds them) or return replaced ones, which the committed-hash filter drops.
    """

    def __init__(self, store: ChunkStore, folder: Path | None):
        self.store = store
        self.folder = folder
        self._index: KeywordIndex | None = None
        self._lock = threading.Lock()  # guards _index and _rebuilding
        self._build_lock = threading.Lock()  # one build at a time
        self._rebuilding: threading.Thread | None = None

    def current(self, generation: int | None = None, wait: bool = True) -> KeywordIndex:
        generation = self.store.generation() if generation is None else generation
        with self._lock:
            if self._index is None and self.folder is not None:
                self._index = KeywordIndex.load(self.folder)  # even an old one can serve while we rebuild
            index = self._index
            if index is not None and index.generation == generation:
                return index
            if index is not None and not wait:
                if self._rebuilding is None or not self._rebuilding.is_alive():
                    self._rebuilding = threading.Thread(target=self._rebuild, args=(generation,), daemon=True)
                    self._rebuilding.start()
                return index
        return self._rebuild(generation)

    def _rebuild(self, generation: int) -> KeywordIndex:
        with self._build_lock:
            with self._lock:
                if self._index is not None and self._index.generation == generation:
                    return self._index  # built by another caller while we waited
            built = KeywordIndex.build(self.store, generation)
            if self.folder is not None:
                built.save(self.folder)
            with self._lock:
                # Generations are timestamps: never replace a newer index with an older build.
                if self._index is None or built.generation >= self._index.generation:
                    self._index = built
                return self._index
