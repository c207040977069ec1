"""Folders the project ships beside its code: the seed articles and the prompt templates.

In a checkout (and an editable install) they are the top-level `seeds/` and `prompts/`. A built
wheel has no top level of its own, so pyproject.toml maps the same folders into the package as
`indexing/_bundled/seeds` and `indexing/_bundled/prompts`; this finds whichever is there.
"""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def bundled_dir(name: str) -> Path:
    """`seeds` or `prompts`: the source tree's folder when there is one, else the installed copy."""
    source_tree = _HERE.parent / name
    return source_tree if source_tree.is_dir() else _HERE / "_bundled" / name
