"""Property-based cases (Hypothesis) for the readers: whatever a file holds, reading it never raises,
and what comes out is either valid articles or reports naming the file. No model, no Chroma."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexing.sources.article import article_problem
from indexing.sources.dates import EARLIEST_YEAR, DateProblem, latest_year, read_date
from indexing.sources.files import SUPPORTED_SUFFIXES, read_file
from indexing.sources.paths import path_text, text_path

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# JSON-like values, nested, with the strings that broke the readers before: surrogates, huge numbers.
_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40)
json_values = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20
)
record_keys = st.sampled_from(["text", "body", "title", "date", "published", "url", "id", "doc_id", "articles"])
records = st.dictionaries(record_keys, json_values, max_size=6)


def assert_clean(result, path: Path) -> None:
    label = path_text(path)
    for article in result.articles:
        assert article_problem(article) is None
        article.text.encode("utf-8")
        article.id.encode("utf-8")
        assert article.origin == label
        if article.published is not None:
            assert EARLIEST_YEAR <= article.published.year <= latest_year()
    for error in result.errors:
        assert error.path.startswith(label), (error.path, label)
        error.reason.encode("utf-8")
        json.dumps({"path": error.path, "error": error.reason}, ensure_ascii=False).encode("utf-8")


@FAST
@given(
    content=st.binary(max_size=400) | st.text(max_size=400).map(lambda t: t.encode("utf-8", "surrogatepass")),
    suffix=st.sampled_from(SUPPORTED_SUFFIXES),
)
def test_any_bytes_in_any_format_are_read_or_reported(tmp_path, content, suffix):
    path = tmp_path / f"entry{suffix}"
    path.write_bytes(content)
    assert_clean(read_file(path), path)


@FAST
@given(record=records | json_values, lines=st.booleans())
def test_any_json_record_is_an_article_or_a_report(tmp_path, record, lines):
    path = tmp_path / ("r.jsonl" if lines else "r.json")
    text = json.dumps(record)  # ensure_ascii: lone surrogates travel as \udXXX escapes, as in real files
    path.write_text(text + "\n", encoding="utf-8")
    assert_clean(read_file(path), path)


@FAST
@given(meta=st.dictionaries(st.sampled_from(["title", "date", "url", "published"]), json_values, max_size=3), body=st.text(max_size=80))
def test_any_front_matter_is_an_article_or_a_report(tmp_path, meta, body):
    import yaml

    path = tmp_path / "a.md"
    front = yaml.safe_dump(meta, allow_unicode=True) if meta else ""
    path.write_text(f"---\n{front}---\n{body}\n", encoding="utf-8", errors="surrogatepass")
    assert_clean(read_file(path), path)


@FAST
@given(value=json_values | st.dates() | st.datetimes())
def test_a_date_is_absent_plausible_or_a_date_problem(value):
    try:
        found = read_date(value)
    except DateProblem:
        return
    assert found is None or (isinstance(found, date) and EARLIEST_YEAR <= found.year <= latest_year())


@FAST
@given(name=st.binary(min_size=1, max_size=30).filter(lambda b: b"/" not in b and b"\x00" not in b and b not in (b".", b"..")))
def test_every_file_name_has_one_unicode_text_that_maps_back(tmp_path, name):
    path = Path(os.fsdecode(os.fsencode(tmp_path) + b"/" + name))
    text = path_text(path)
    text.encode("utf-8")  # storable in Chroma and JSON
    assert text_path(text) == path
    assert path_text(text_path(text)) == text
