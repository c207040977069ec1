"""Bad article files: each is one clear report naming the file and what is wrong, never a crash."""

from __future__ import annotations

import json

import pytest

from testsupport.article_files import BODY, only_article, only_error, write


def test_binary_file(tmp_path):
    error = only_error(write(tmp_path / "photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))))
    assert error.path == str((tmp_path / "photo.txt").resolve())
    assert "binary" in error.reason


def test_empty_file(tmp_path):
    assert "empty" in only_error(write(tmp_path / "empty.txt", "")).reason
    assert "empty" in only_error(write(tmp_path / "blank.md", "  \n\n\t\n")).reason


def test_invalid_utf8(tmp_path):
    error = only_error(write(tmp_path / "latin1.txt", "Caf\xe9 owners protest new rules in the city centre.".encode("latin-1")))
    assert "UTF-8" in error.reason


def test_malformed_json(tmp_path):
    error = only_error(write(tmp_path / "broken.json", '{"title": "x", "text": "unterminated'))
    assert "invalid JSON" in error.reason


def test_a_number_too_long_for_python_is_said_plainly(tmp_path):
    error = only_error(write(tmp_path / "huge.json", '{"id": ' + "7" * 5000 + ', "text": "Some words here."}'))
    assert error.path == str((tmp_path / "huge.json").resolve()) and error.record is None
    assert error.reason == "invalid JSON (a number has more than 4,300 digits, more than Python reads)"


def test_json_that_holds_no_object(tmp_path):
    error = only_error(write(tmp_path / "num.json", "42"))
    assert "not a JSON object" in error.reason


def test_html_with_no_text(tmp_path):
    error = only_error(
        write(tmp_path / "empty.html", "<html><head><title></title></head><body><div></div><script>var x = 1;</script></body></html>")
    )
    assert "no article text" in error.reason


def test_file_over_the_size_limit(tmp_path):
    path = write(tmp_path / "big.txt", f"Title\n{BODY * 20}")
    error = only_error(path, max_bytes=1000)
    assert "limit" in error.reason and "NEWSBOT_MAX_FILE_BYTES" in error.reason
    assert only_article(path, max_bytes=100_000).title == "Title"


def test_missing_file(tmp_path):
    assert "not found" in only_error(tmp_path / "gone.txt").reason


def test_trafilatura_log_lines_are_attributed_to_the_page_not_printed(tmp_path, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    error = only_error(write(tmp_path / "broken.html", "<" * 50))
    assert "trafilatura:" in error.reason and error.path == str((tmp_path / "broken.html").resolve())
    assert not [r for r in caplog.records if r.name.startswith(("trafilatura", "htmldate", "courlan", "justext"))]


@pytest.mark.parametrize(
    "text, kind",
    [
        ("2025-02-30\nTitle\nSome body words here.", "invalid date"),
        ("0001-01-05\nTitle\nSome body words here.", "invalid date"),
        ("December 4, 2022\n", "no article text"),
        ("\u200b\u200b\u200b", "no article text"),
    ],
)
def test_txt_date_rules_and_empty_bodies(tmp_path, text, kind):
    assert only_error(write(tmp_path / "a.txt", text)).kind == kind


@pytest.mark.parametrize("value", ["2025-02-30", "true", "yesterday-ish", "9999-01-01", "[2022]"])
def test_front_matter_and_json_dates_follow_one_rule(tmp_path, value):
    md = only_error(write(tmp_path / "a.md", f"---\ndate: {value}\n---\n{BODY}"))
    js = only_error(
        write(tmp_path / "a.json", json.dumps({"text": BODY, "date": json.loads(value) if value in ("true", "[2022]") else value}))
    )
    assert md.kind == js.kind == "invalid date"


def test_unclosed_front_matter_is_reported_not_indexed_as_body(tmp_path):
    error = only_error(write(tmp_path / "a.md", "---\ntitle: Never closed\ndate: 2022-01-01\n" + BODY))
    assert error.kind == "invalid front matter" and "never closed" in error.reason
