"""The package table (docs/architecture.md) names every package of the tree, and only those."""

from __future__ import annotations

import re

from testsupport.corpora import REPO

TOP = ("bot", "indexing", "newsbot_reader")


def test_the_package_table_matches_the_tree():
    page = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    table = page[page.index("<!-- package table") :].split("\n\n", 1)[0]
    listed = set(re.findall(r"^\| `([\w.]+)` \|", table, re.M))
    found = {
        ".".join(init.parent.relative_to(REPO).parts)
        for top in TOP
        for init in (REPO / top).rglob("__init__.py")
        if init.parent != REPO / top and "__pycache__" not in init.parts
    }
    missing, extra = found - listed, listed - found - {"newsbot_reader"}  # the reading model is a concept of its own, bot and indexing layers
    assert not missing, f"packages missing from the table in docs/architecture.md: {sorted(missing)}"
    assert not extra, f"docs/architecture.md lists packages that do not exist: {sorted(extra)}"
