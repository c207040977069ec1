"""A column of strings packed in two arrays (UTF-8 bytes and offsets), decoded one at a time.

Why: a keyword index at 1M chunks holds 1M chunk ids. As Python strings they cost ~100 MB and,
read from JSON, seconds at every start; packed, they are two arrays that can be memory-mapped
from disk (indexing.keyword.files) and only the ids of a query's hits are ever decoded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import overload

import numpy as np


class PackedStrings(Sequence[str]):
    """Immutable: string i is `blob[offsets[i]:offsets[i + 1]]` decoded as UTF-8."""

    def __init__(self, blob: np.ndarray, offsets: np.ndarray):
        if offsets.ndim != 1 or len(offsets) == 0 or offsets[0] != 0 or offsets[-1] != len(blob):
            raise ValueError(f"packed strings: offsets do not span the {len(blob)} bytes")
        self.blob = blob  # uint8
        self.offsets = offsets  # int64, one more than there are strings

    @classmethod
    def of(cls, items: Iterable[str]) -> PackedStrings:
        encoded = [s.encode("utf-8") for s in items]
        offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
        np.cumsum([len(e) for e in encoded], out=offsets[1:])
        return cls(np.frombuffer(b"".join(encoded), dtype=np.uint8), offsets)

    @classmethod
    def concat(cls, parts: Sequence[PackedStrings]) -> PackedStrings:
        if not parts:
            return cls.of(())
        starts = np.cumsum([0] + [len(p.blob) for p in parts[:-1]])
        offsets = np.concatenate([np.zeros(1, dtype=np.int64)] + [p.offsets[1:] + s for p, s in zip(parts, starts)])
        return cls(np.concatenate([np.asarray(p.blob) for p in parts]), offsets)

    def take(self, rows: np.ndarray) -> PackedStrings:
        """These strings, in this order (vectorised: no string is decoded)."""
        rows = np.asarray(rows, dtype=np.int64)
        starts, sizes = self.offsets[rows], self.offsets[rows + 1] - self.offsets[rows]
        offsets = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(sizes, out=offsets[1:])
        where = np.repeat(starts - offsets[:-1], sizes) + np.arange(offsets[-1], dtype=np.int64)
        return PackedStrings(np.asarray(self.blob)[where], offsets)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError(i)
        return bytes(self.blob[self.offsets[i] : self.offsets[i + 1]]).decode("utf-8")

    def __iter__(self) -> Iterator[str]:
        text = bytes(self.blob)
        bounds = self.offsets.tolist()
        return (text[a:b].decode("utf-8") for a, b in zip(bounds, bounds[1:]))
