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


def imported(name: str, path: Path) -> list[tuple[int, str, tuple[str, ...]]]:
    """(line, module, names taken from it) of every import in a module, wherever it stands (functions and
    `if TYPE_CHECKING:` blocks included); relative imports are resolved against the module's package."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str, tuple[str, ...]]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, ()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base, tuple(alias.name for alias in node.names)))
    return found


def top(name: str) -> str:
    return name.split(".", 1)[0]


def broken(rule: dict[str, set[str]]) -> list[str]:
    """The imports that cross a forbidden line: rule maps a package to the packages it may not import."""
    return [
        f"{path.relative_to(REPO)}:{line} imports {target}"
        for name, path in modules().items()
        for line, target, _ in imported(name, path)
        if top(target) in rule.get(top(name), set())
    ]


def test_the_reading_model_imports_neither_bot_nor_indexing():
    assert not broken({"newsbot_reader": {"bot", "indexing"}})


def test_indexing_never_imports_bot():
    assert not broken({"indexing": {"bot"}})


def test_no_top_level_reader_package_is_left():
    assert not (REPO / "reader").exists(), "the reading model lives in newsbot_reader (PyPI's `reader` is a feed reader)"


def past_public_api() -> dict[tuple[str, str], int]:
    """(bot module's path, indexing module it imports from) -> line, for every import past the public names."""
    import indexing

    public = set(indexing.__all__)
    return {
        (str(path.relative_to(REPO)), target): line
        for name, path in modules().items()
        if top(name) == "bot"
        for line, target, names in imported(name, path)
        if top(target) == "indexing" and (target != "indexing" or set(names) - public)
    }


def test_bot_imports_only_the_public_names_of_indexing():
    wrong = [f"{path}:{line} imports {target}" for (path, target), line in past_public_api().items()]
    assert not wrong, "bot reaches past indexing's public API (indexing/__init__.py):\n" + "\n".join(wrong)


def test_indexing_public_api_lists_what_it_exports():
    import indexing

    assert sorted(indexing.__all__) == sorted(indexing._EXPORTS)
    for name in indexing.__all__:
        getattr(indexing, name)


def import_graph() -> dict[str, set[str]]:
    """Module -> the project's modules it imports: `from a import b` reaches the module a.b when there is
    one, else a (a package's `__init__`)."""
    known = modules()
    graph: dict[str, set[str]] = {name: set() for name in known}
    for name, path in known.items():
        for _, target, names in imported(name, path):
            reached = {f"{target}.{n}" for n in names if f"{target}.{n}" in known}
            if target in known and (not names or len(reached) < len(names)):
                reached.add(target)
            graph[name] |= reached - {name}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm), sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while (top_node := stack.pop()) != node:
                component.append(top_node)
            component.append(node)
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def test_no_import_circle_among_the_projects_modules():
    assert circles(import_graph()) == []


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
