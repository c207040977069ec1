"""Finding article files: folders walked in order, hidden and unsupported files skipped, paths
named outright that are not regular files reported without being opened."""

from __future__ import annotations

from pathlib import Path

from indexing.sources.files import SUPPORTED_SUFFIXES, iter_article_files
from testsupport.article_files import write


def test_iter_article_files_recurses_in_order_and_skips_hidden_and_unsupported(tmp_path):
    for name in [
        "b.txt",
        "a.md",
        "sub/c.jsonl",
        "sub/deeper/d.html",
        "notes.docx",
        ".hidden/e.txt",
        "_drafts/f.txt",
        "~g.txt",
        "sub/.h.txt",
    ]:
        write(tmp_path / "corpus" / name, "x")
    found = [p.relative_to(tmp_path / "corpus").as_posix() for p in iter_article_files([tmp_path / "corpus"])]
    assert found == ["a.md", "b.txt", "sub/c.jsonl", "sub/deeper/d.html"]
    assert all(Path(p).suffix in SUPPORTED_SUFFIXES for p in found)


def test_iter_article_files_takes_single_files_too(tmp_path):
    path = write(tmp_path / "one.txt", "x")
    assert list(iter_article_files([path])) == [path]


def test_a_fifo_or_missing_path_named_outright_is_reported_never_opened(tmp_path):
    import os

    from indexing.sources.scan import scan

    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    found = scan([fifo, tmp_path / "gone"])
    assert found.files == [] and found.missing == [tmp_path / "gone"]
    assert [(e.path, e.kind) for e in found.problems] == [(str(fifo), "not a regular file"), (str(tmp_path / "gone"), "missing")]
    assert "never opened" in found.problems[0].reason
