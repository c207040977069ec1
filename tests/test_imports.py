"""The project's import rules, read from the source (type-checking and function-level imports included):
the reading model imports neither `bot` nor `indexing`, and `indexing` never imports `bot`."""

from __future__ import annotations

import ast
from pathlib import Path

from testsupport.corpora import REPO

PACKAGES = ("bot", "indexing", "newsbot_reader")


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    """Every module of the project's packages, by dotted name."""
    return {
        module_name(path): path
        for top in PACKAGES
        for path in sorted((REPO / top).rglob("*.py"))
        if "__pycache__" not in path.parts and "_bundled" not in path.parts
    }


def imported(name: str, path: Path) -> list[tuple[int, str]]:
    """(line, dotted name) of every import in a module, wherever it stands; `from a import b` gives `a.b`
    when `a.b` is a module, else `a`. Relative imports are resolved against the module's package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
            found.append((node.lineno, base))
    return found


def top(name: str) -> str:
    return name.split(".", 1)[0]


def broken(rule: dict[str, set[str]]) -> list[str]:
    """The imports that cross a forbidden line: rule maps a package to the packages it may not import."""
    return [
        f"{path.relative_to(REPO)}:{line} imports {target}"
        for name, path in modules().items()
        for line, target in imported(name, path)
        if top(target) in rule.get(top(name), set())
    ]


def test_the_reading_model_imports_neither_bot_nor_indexing():
    assert not broken({"newsbot_reader": {"bot", "indexing"}})


def test_indexing_never_imports_bot():
    assert not broken({"indexing": {"bot"}})


def test_no_top_level_reader_package_is_left():
    assert not (REPO / "reader").exists(), "the reading model lives in newsbot_reader (PyPI's `reader` is a feed reader)"
