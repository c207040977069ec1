"""Near-duplicate articles (wire copies): MinHash signatures over word shingles, and their LSH band keys.

Two articles are copies of one story when the estimated Jaccard similarity of their sets of
5-word shingles (lower-cased words) is at least COPY_JACCARD: a syndicated story with another
headline, dateline or closing line still shares most of its shingles; two stories on one topic
share few. The signature (datasketch's MinHash, NUM_PERM values) is stored with each article's
registry record, and cut into BANDS band keys stored beside it, so the store finds an article's
candidate copies with an equality `where` on any band (locality-sensitive hashing in Chroma's own
metadata) and confirms them by the signatures. Nothing is stored about pairs, so the answer stays
right when either article changes or goes: its own record changes with it.
"""

from __future__ import annotations

import base64
import hashlib
import re

import numpy as np

SHINGLE_WORDS = 5
NUM_PERM = 120
BANDS = 20  # of NUM_PERM // BANDS = 6 values: a pair at Jaccard 0.7 shares a band with probability 0.92, at 0.3 with 0.01
COPY_JACCARD = 0.7
_SEED = 1  # fixed: signatures must compare across processes and versions
_WORD = re.compile(r"\w+")


def shingles(text: str) -> set[bytes]:
    words = _WORD.findall(text.lower())
    if len(words) <= SHINGLE_WORDS:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i : i + SHINGLE_WORDS]).encode() for i in range(len(words) - SHINGLE_WORDS + 1)}


def signature(text: str) -> np.ndarray:
    """The MinHash signature of the text's shingles (NUM_PERM unsigned 32-bit values)."""
    from datasketch import MinHash

    minhash = MinHash(num_perm=NUM_PERM, seed=_SEED)
    minhash.update_batch(sorted(shingles(text)))
    return np.asarray(minhash.hashvalues, dtype=np.uint32)


def encode(sig: np.ndarray) -> str:
    return base64.b64encode(np.asarray(sig, dtype="<u4").tobytes()).decode("ascii")


def decode(text: str) -> np.ndarray | None:
    """The signature `encode` wrote; None for "" or anything else (an older record, another NUM_PERM)."""
    try:
        sig = np.frombuffer(base64.b64decode(text, validate=True), dtype="<u4")
    except ValueError:
        return None
    return sig if len(sig) == NUM_PERM else None


def band_keys(sig: np.ndarray) -> list[int]:
    """One key per band: 56 bits of a hash of the band's values (an int Chroma stores and compares exactly)."""
    rows = NUM_PERM // BANDS
    values = np.asarray(sig, dtype="<u4")
    return [
        int.from_bytes(hashlib.blake2b(values[b * rows : (b + 1) * rows].tobytes(), digest_size=7).digest(), "big") for b in range(BANDS)
    ]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """The estimated Jaccard similarity of the two signatures' shingle sets."""
    return float(np.mean(a == b))


def copy_fields(text: str) -> dict[str, str | int]:
    """What an article's registry record carries for finding its copies."""
    sig = signature(text)
    return {"minhash": encode(sig), **{f"copy_band_{b}": key for b, key in enumerate(band_keys(sig))}}
