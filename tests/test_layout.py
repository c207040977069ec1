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
    missing, extra = (
        found - listed,
        listed - found - {"newsbot_reader"},
    )  # the reading model is a concept of its own, bot and indexing layers
    assert not missing, f"packages missing from the table in docs/architecture.md: {sorted(missing)}"
    assert not extra, f"docs/architecture.md lists packages that do not exist: {sorted(extra)}"


MAX_FUNCTION_LINES = 60  # the house rule: a longer function is split along its steps


def test_no_function_is_longer_than_the_house_rule():
    """Lines from `def` to the function's last line (decorators apart, its docstring and comments in)."""
    import ast

    long = [
        f"{path.relative_to(REPO)}:{node.lineno} {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for top in TOP
        for path in sorted((REPO / top).rglob("*.py"))
        if "__pycache__" not in path.parts
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and (node.end_lineno or 0) - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"
