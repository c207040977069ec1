"""A BM25Index on disk: one folder of write-once segment files and a manifest replaced atomically.

- Each segment is written once under its unique name: `<name>.npz` (the CSC term frequencies) and
  `<name>.json` (its chunk ids, article ids, shas), each via a temporary name, so a file that exists
  is complete.
- Then the manifest (format, generation, vocabulary, segment names, dead rows per segment) is
  written to a temporary file and `os.replace`d: a reader sees the old index or the new one.
- Then files no manifest refers to (replaced segments, a crashed writer's, an older format's) go.

A lock file serialises processes sharing the folder (a writer's clean-up never removes files
another process is loading or about to reference). A missing or damaged folder loads as None and
the caller rebuilds; the statistics are recomputed from the rows on load, never trusted from disk.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from indexing.keyword.bm25 import BM25Index, Segment
from indexing.private import private_dir

try:  # a lock between processes sharing the data dir; no such lock outside POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
_LOCK = ".lock"
_FORMAT = 2  # 2: the stamp follows registry changes (records stamped `changed`); a 1 is rebuilt


def save(index: BM25Index, folder: Path) -> None:
    private_dir(folder)
    with _locked(folder):
        for segment in index.segments:
            _write_segment(segment, folder)
        terms = [""] * len(index.vocab)
        for term, term_id in index.vocab.items():
            terms[term_id] = term
        manifest = {
            "format": _FORMAT,
            "generation": index.generation,
            "vocab": terms,
            "segments": [{"name": s.name, "dead": np.flatnonzero(~mask).tolist()} for s, mask in zip(index.segments, index.alive)],
        }
        with _temporary(folder / MANIFEST) as tmp:
            tmp.write_text(json.dumps(manifest), encoding="utf-8")
        _remove_unreferenced(folder, {s.name for s in index.segments})


def load(folder: Path) -> BM25Index | None:
    """The index saved in `folder`, or None when there is none or it is damaged."""
    if not (folder / MANIFEST).is_file():
        return None
    try:
        with _locked(folder):
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
            if manifest.get("format") != _FORMAT:
                raise ValueError(f"format {manifest.get('format')!r}")
            vocab = {term: i for i, term in enumerate(manifest["vocab"])}
            segments = [_read_segment(folder, entry["name"], len(vocab)) for entry in manifest["segments"]]
        alive = []
        for segment, entry in zip(segments, manifest["segments"]):
            mask = np.ones(segment.n_rows, dtype=bool)
            mask[np.asarray(entry["dead"], dtype=np.int64)] = False
            alive.append(mask)
        return BM25Index.from_segments(int(manifest["generation"]), vocab, segments, alive)
    except (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile) as exc:
        log.info("keyword index at %s not usable (%s); rebuilding", folder, exc)
        return None


def _write_segment(segment: Segment, folder: Path) -> None:
    if (folder / f"{segment.name}.npz").exists() and (folder / f"{segment.name}.json").exists():
        return  # written by an earlier save of an index sharing this segment
    rows = {"ids": segment.ids, "article_ids": segment.article_ids, "shas": segment.shas}
    with _temporary(folder / f"{segment.name}.json") as tmp:
        tmp.write_text(json.dumps(rows), encoding="utf-8")
    tf = segment.tf
    with _temporary(folder / f"{segment.name}.npz") as tmp, open(tmp, "wb") as f:
        np.savez(f, data=tf.data, indices=tf.indices, indptr=tf.indptr, shape=np.asarray(tf.shape))


def _read_segment(folder: Path, name: str, vocab_size: int) -> Segment:
    rows = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    with np.load(folder / f"{name}.npz", allow_pickle=False) as arrays:
        shape = tuple(int(n) for n in arrays["shape"])
        tf = sp.csc_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape)
    tf.check_format(full_check=True)
    if tf.shape[1] > vocab_size:
        raise ValueError(f"segment {name} has terms beyond the vocabulary")
    return Segment(name, tuple(rows["ids"]), tuple(rows["article_ids"]), tuple(rows["shas"]), tf)


@contextmanager
def _temporary(target: Path) -> Iterator[Path]:
    """Write to a temporary sibling, then atomically rename it to `target`."""
    tmp = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    with open(folder / _LOCK, "a") as lock:
        if fcntl is not None:
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield  # closing the file releases the lock


def _remove_unreferenced(folder: Path, names: set[str]) -> None:
    for path in folder.iterdir():
        if path.name in (MANIFEST, _LOCK) or path.is_dir():
            continue
        if path.name.split(".")[0] not in names:
            path.unlink(missing_ok=True)
