"""A BM25Index on disk: one folder of write-once segment files and a manifest replaced atomically.

- Each segment is written once under its unique name: `<name>.bin` (its arrays, raw: the CSC term
  frequencies, each row's length and article, the packed chunk ids) and `<name>.json` (where each
  array lies in the .bin, the segment's article ids and shas), each via a temporary name, so a file
  that exists is complete.
- Then the manifest (format, generation, vocabulary, segment names, dead rows per segment) is
  written to a temporary file and `os.replace`d: a reader sees the old index or the new one.
- Then files no manifest refers to (replaced segments, a crashed writer's, an older format's) go.

Loading memory-maps each .bin (MMAP; read-only, shared with the page cache and the other processes
on the machine) instead of reading it: a process starts without reading the postings, and the
pages a query touches are read then. A segment file is never changed once written, and one removed
while mapped stays readable until unmapped. Loading checks each segment's shapes and offsets (a
short file is refused, never mapped past its end) and recomputes the statistics from the rows
(each row's length and article, the postings' lengths): it never trusts totals from disk, but it
does not read every posting either. An index saved in format 2 (npz and JSON rows) is read once
and saved again in this format.

A lock file serialises processes sharing the folder (a writer's clean-up never removes files
another process is loading or about to reference). A missing or damaged folder loads as None and
the caller rebuilds.
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
from typing import Any

import numpy as np
import scipy.sparse as sp

from indexing.keyword.bm25 import BM25Index, Segment
from indexing.keyword.packed import PackedStrings
from indexing.private import private_dir

try:  # a lock between processes sharing the data dir; no such lock outside POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MMAP = True  # map segment files rather than read them (False: read into memory, the benchmarks' baseline)
_LOCK = ".lock"
_FORMAT = 3  # 3: raw arrays, mapped; 2: npz and JSON rows (read once and saved again); 1: rebuilt
_ALIGN = 64
_ARRAYS = ("data", "indices", "indptr", "lengths", "row_article", "id_bytes", "id_offsets")


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
            version = manifest.get("format")
            if version not in (2, _FORMAT):
                raise ValueError(f"format {version!r}")
            vocab = {term: i for i, term in enumerate(manifest["vocab"])}
            read = _read_segment if version == _FORMAT else _read_segment_v2
            segments = [read(folder, entry["name"], len(vocab)) for entry in manifest["segments"]]
        alive = []
        for segment, entry in zip(segments, manifest["segments"]):
            mask = np.ones(segment.n_rows, dtype=bool)
            mask[np.asarray(entry["dead"], dtype=np.int64)] = False
            alive.append(mask)
        index = BM25Index.from_segments(int(manifest["generation"]), vocab, segments, alive)
    except (OSError, ValueError, KeyError, TypeError, IndexError, zipfile.BadZipFile) as exc:
        log.info("keyword index at %s not usable (%s); rebuilding", folder, exc)
        return None
    if version != _FORMAT:
        try:
            save(index, folder)  # once: the next start maps it
        except OSError as exc:  # a read-only data dir: serve what was read, convert another time
            log.warning("could not save the keyword index to %s in format %d: %s", folder, _FORMAT, exc)
    return index


def _write_segment(segment: Segment, folder: Path) -> None:
    if (folder / f"{segment.name}.bin").exists() and (folder / f"{segment.name}.json").exists():
        return  # written by an earlier save of an index sharing this segment
    ids = segment.ids if isinstance(segment.ids, PackedStrings) else PackedStrings.of(segment.ids)
    tf = segment.tf
    arrays = dict(zip(_ARRAYS, (tf.data, tf.indices, tf.indptr, segment.lengths, segment.row_article, ids.blob, ids.offsets)))
    layout: dict[str, Any] = {}
    with _temporary(folder / f"{segment.name}.bin") as tmp, open(tmp, "wb") as f:
        for key, array in arrays.items():
            array = np.ascontiguousarray(array)
            f.write(b"\0" * (-f.tell() % _ALIGN))
            layout[key] = [array.dtype.str, f.tell(), len(array)]
            f.write(array.tobytes())
    header = {"shape": list(tf.shape), "arrays": layout, "articles": list(segment.articles), "shas": list(segment.shas)}
    with _temporary(folder / f"{segment.name}.json") as tmp:
        tmp.write_text(json.dumps(header), encoding="utf-8")


def _read_segment(folder: Path, name: str, vocab_size: int) -> Segment:
    header = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    path = folder / f"{name}.bin"
    size = path.stat().st_size
    layout = header["arrays"]
    end = max((offset + count * np.dtype(dtype).itemsize for dtype, offset, count in layout.values()), default=0)
    if end > size:
        raise ValueError(f"segment {name} is {size} bytes, its arrays need {end}")
    if MMAP and size:
        whole = np.memmap(path, dtype=np.uint8, mode="r")
        a = {key: whole[offset : offset + count * np.dtype(dtype).itemsize].view(dtype) for key, (dtype, offset, count) in layout.items()}
    else:  # each array read on its own (scipy copies a view of a much larger array)
        a = {key: np.fromfile(path, dtype=dtype, count=count, offset=offset) for key, (dtype, offset, count) in layout.items()}
    shape = (int(header["shape"][0]), int(header["shape"][1]))
    _check(name, a, shape, vocab_size, len(header["articles"]))
    tf = sp.csc_matrix((a["data"], a["indices"], a["indptr"]), shape=shape, copy=False)
    ids = PackedStrings(a["id_bytes"], a["id_offsets"])
    return Segment(name, ids, tuple(header["articles"]), tuple(header["shas"]), a["row_article"], tf, a["lengths"])


def _check(name: str, a: dict[str, np.ndarray], shape: tuple[int, int], vocab_size: int, articles: int) -> None:
    """What loading can check without reading the postings: shapes, offsets, row -> article."""
    rows, columns = shape
    indptr, row_article = a["indptr"], a["row_article"]
    if columns > vocab_size:
        raise ValueError(f"segment {name} has terms beyond the vocabulary")
    if len(indptr) != columns + 1 or indptr[0] != 0 or indptr[-1] != len(a["indices"]) or len(a["indices"]) != len(a["data"]):
        raise ValueError(f"segment {name}: postings offsets do not match its {len(a['indices'])} postings")
    if np.any(np.diff(indptr) < 0) or np.any(np.diff(a["id_offsets"]) < 0):
        raise ValueError(f"segment {name}: offsets go backwards")
    if len(row_article) != rows or len(a["lengths"]) != rows or (rows and (row_article.min() < 0 or row_article.max() >= articles)):
        raise ValueError(f"segment {name}: rows do not match its {articles} articles")


def _read_segment_v2(folder: Path, name: str, vocab_size: int) -> Segment:
    """A segment saved by format 2 (npz matrix, JSON rows): read whole, and checked in full."""
    rows = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
    with np.load(folder / f"{name}.npz", allow_pickle=False) as arrays:
        shape = tuple(int(n) for n in arrays["shape"])
        tf = sp.csc_matrix((arrays["data"], arrays["indices"], arrays["indptr"]), shape=shape)
    tf.check_format(full_check=True)
    if tf.shape[1] > vocab_size:
        raise ValueError(f"segment {name} has terms beyond the vocabulary")
    return Segment.build(name, PackedStrings.of(rows["ids"]), rows["article_ids"], rows["shas"], tf)


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
    keep = {MANIFEST, _LOCK} | {f"{n}.{kind}" for n in names for kind in ("bin", "json")}
    for path in folder.iterdir():
        if path.name not in keep and not path.is_dir():
            try:
                path.unlink(missing_ok=True)
            except OSError:  # a file mapped by a process (Windows): the next save removes it
                pass
