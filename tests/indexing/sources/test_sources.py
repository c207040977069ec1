"""Article readers: every file format, stable ids, ISO dates and content hashes (bad input:
test_bad_input.py; finding files: test_scan.py).

Pure parsing: no model, no Chroma. Each test writes its own small files under tmp_path.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from indexing.sources.article import looks_like_date_line, parse_date
from indexing.sources.files import read_file
from testsupport.article_files import BODY, only_article, only_error, write
from testsupport.corpora import SEED_FILE

# ---- .txt -------------------------------------------------------------------------------------


def test_txt_seed_convention_date_title_body(tmp_path):
    path = write(tmp_path / "tram.txt", f"December 4, 2022\n\nTram network to grow\n\n\n{BODY}\n")
    article = only_article(path)
    assert article.published == date(2022, 12, 4)
    assert article.title == "Tram network to grow"
    assert article.text == BODY
    assert article.id == str(path.resolve())
    assert article.source == article.origin == str(path.resolve())
    assert article.url is None


def test_txt_without_date_line_uses_first_line_as_title(tmp_path):
    path = write(tmp_path / "nodate.txt", f"Tram network to grow\n{BODY}\n")
    article = only_article(path)
    assert article.published is None
    assert article.title == "Tram network to grow"
    assert article.text == BODY


@pytest.mark.parametrize(
    "line, expected",
    [
        ("December 4, 2022", date(2022, 12, 4)),
        ("2022-12-04", date(2022, 12, 4)),
        ("4 Dec 2022", date(2022, 12, 4)),
        ("Sunday, December 4, 2022", date(2022, 12, 4)),
        ("2022/06/12", date(2022, 6, 12)),
    ],
)
def test_txt_date_line_shapes(tmp_path, line, expected):
    path = write(tmp_path / "a.txt", f"{line}\nTitle here\n{BODY}")
    article = only_article(path)
    assert article.published == expected
    assert article.title == "Title here"


def test_title_that_starts_with_a_date_is_not_a_date_line():
    assert not looks_like_date_line("May 5, 2022 was the day the tram arrived")
    assert looks_like_date_line("May 5, 2022")


def test_the_bundled_seed_article_reads():
    article = only_article(SEED_FILE)
    assert article.published == date(2022, 12, 4)
    assert article.title.startswith("Russia, NATO talks on Ukraine crisis")
    assert "Stoltenberg" in article.text
    assert not article.text.startswith("December 4, 2022")


def test_windows_line_endings_and_bom_are_normalised(tmp_path):
    path = write(tmp_path / "crlf.txt", ("\ufeffDecember 4, 2022\r\nTram network to grow\r\n" + BODY.replace("\n", "\r\n")).encode())
    article = only_article(path)
    assert article.published == date(2022, 12, 4)
    assert article.title == "Tram network to grow"
    assert "\r" not in article.text
    assert article.text == BODY


# ---- .md --------------------------------------------------------------------------------------


def test_markdown_with_front_matter(tmp_path):
    path = write(
        tmp_path / "tram.md",
        "---\ntitle: Tram network to grow\ndate: 2022-12-04\nurl: https://news.example.com/tram\n---\n\n" + BODY + "\n",
    )
    article = only_article(path)
    assert article.title == "Tram network to grow"
    assert article.published == date(2022, 12, 4)
    assert article.url == "https://news.example.com/tram"
    assert article.id == article.source == "https://news.example.com/tram"
    assert article.origin == str(path.resolve())
    assert article.text == BODY


def test_markdown_front_matter_date_as_string_and_heading_not_duplicated(tmp_path):
    path = write(tmp_path / "tram.md", '---\ntitle: Tram network to grow\ndate: "December 4, 2022"\n---\n# Tram network to grow\n\n' + BODY)
    article = only_article(path)
    assert article.published == date(2022, 12, 4)
    assert article.text == BODY  # the heading repeating the title is not part of the body


def test_markdown_without_front_matter_takes_the_heading_as_title(tmp_path):
    path = write(tmp_path / "plain.md", "# Tram network to grow\n\n" + BODY)
    article = only_article(path)
    assert article.title == "Tram network to grow"
    assert article.published is None
    assert article.url is None
    assert article.id == str(path.resolve())
    assert article.text == BODY


def test_markdown_with_bad_front_matter_is_an_error(tmp_path):
    error = only_error(write(tmp_path / "bad.md", "---\ntitle: [unclosed\n---\n" + BODY))
    assert error.path == str((tmp_path / "bad.md").resolve())
    assert "front matter" in error.reason


# ---- .html / .htm -----------------------------------------------------------------------------

HTML = """<!DOCTYPE html>
<html><head>
<title>Harbour bridge reopens after repairs | The Daily Example</title>
<meta property="og:title" content="Harbour bridge reopens after repairs">
<meta property="article:published_time" content="2023-03-14T09:30:00Z">
<link rel="canonical" href="https://news.example.com/2023/03/harbour-bridge-reopens">
</head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<article>
<h1>Harbour bridge reopens after repairs</h1>
<p>The harbour bridge reopened to traffic on Tuesday after eight months of repairs that cost the city 42 million dollars.</p>
<p>Engineers replaced the worn steel cables and resurfaced the deck. Mayor Alice Grant cut the ribbon at dawn.</p>
<p>Commuters had faced detours of up to forty minutes while the bridge was closed.</p>
</article>
<footer>Copyright 2023 The Daily Example</footer>
</body></html>
"""


@pytest.mark.parametrize("name", ["bridge.html", "bridge.htm"])
def test_html_title_date_url_and_main_text(tmp_path, name):
    article = only_article(write(tmp_path / name, HTML))
    assert article.title == "Harbour bridge reopens after repairs"
    assert article.published == date(2023, 3, 14)
    assert article.url == article.id == "https://news.example.com/2023/03/harbour-bridge-reopens"
    assert "eight months of repairs" in article.text
    assert "Commuters had faced detours" in article.text
    assert "Home" not in article.text  # navigation is not article text


def test_html_without_canonical_url_is_identified_by_path(tmp_path):
    html = HTML.replace('<link rel="canonical" href="https://news.example.com/2023/03/harbour-bridge-reopens">', "")
    path = write(tmp_path / "bridge.html", html)
    article = only_article(path)
    assert article.url is None
    assert article.id == str(path.resolve())


# ---- .json / .jsonl ---------------------------------------------------------------------------


def record(n: int, **extra):
    base = {"title": f"Story {n}", "text": f"Story number {n} happened on a Monday. It was reported widely.", "date": "2022-12-04"}
    base.update(extra)
    return base


def test_json_single_object(tmp_path):
    path = write(tmp_path / "one.json", json.dumps(record(1, url="https://news.example.com/one")))
    article = only_article(path)
    assert article.id == article.url == "https://news.example.com/one"
    assert article.title == "Story 1"
    assert article.published == date(2022, 12, 4)


def test_json_list_of_records(tmp_path):
    path = write(tmp_path / "many.json", json.dumps([record(1, id="a"), record(2, id="b"), record(3, id="c")]))
    result = read_file(path)
    assert result.errors == []
    resolved = path.resolve()
    assert [a.id for a in result.articles] == [f"{resolved}#a", f"{resolved}#b", f"{resolved}#c"]
    assert [a.title for a in result.articles] == ["Story 1", "Story 2", "Story 3"]
    assert {a.origin for a in result.articles} == {str(resolved)}


def test_json_articles_wrapper(tmp_path):
    path = write(tmp_path / "wrapped.json", json.dumps({"source": "wire", "articles": [record(1, doc_id=7), record(2, doc_id=8)]}))
    result = read_file(path)
    assert result.errors == []
    assert [a.id for a in result.articles] == [f"{path.resolve()}#7", f"{path.resolve()}#8"]


@pytest.mark.parametrize(
    "fields, expected_date",
    [
        ({"body": "Body text of the story. It goes on.", "published": "2021-05-06T10:00:00Z"}, date(2021, 5, 6)),
        ({"text": "Body text of the story. It goes on.", "publish_date": "2022/06/12"}, date(2022, 6, 12)),
        ({"text": "Body text of the story. It goes on.", "date": "March 3, 2020"}, date(2020, 3, 3)),
        ({"text": "Body text of the story. It goes on."}, None),
    ],
)
def test_json_field_aliases(tmp_path, fields, expected_date):
    article = only_article(write(tmp_path / "a.json", json.dumps({"title": "T", **fields})))
    assert article.text == "Body text of the story. It goes on."
    assert article.published == expected_date


def test_jsonl_many_records_per_file(tmp_path):
    lines = [json.dumps(record(n, id=f"r{n}")) for n in range(5)]
    path = write(tmp_path / "feed.jsonl", "\n".join(lines) + "\n\n")
    result = read_file(path)
    assert result.errors == [] and result.complete
    assert [a.title for a in result.articles] == [f"Story {n}" for n in range(5)]
    assert len({a.id for a in result.articles}) == 5


def realtimeqa_record(n: int, title: str | None = "Vote on tram network") -> dict:
    """The shape of realtimeqa's articles.jsonl (written here, not copied)."""
    return {
        "doc_id": f"2022061{n}_{n}",
        "url": f"https://news.example.com/2022/06/1{n}/tram-vote-{n}",
        "title": title,
        "publish_date": "2022/06/12",
        "authors": ["A. Reporter", "B. Writer"],
        "origin": "cnn",
        "week": "20220612",
        "text": f"Council members met for the {n}th time. They approved the tram plan by a wide margin.\n\nWork starts soon.",
    }


def test_realtimeqa_articles_jsonl_shape_loads_as_is(tmp_path):
    records = [realtimeqa_record(1), realtimeqa_record(2, title=None), realtimeqa_record(3, title="")]
    path = write(tmp_path / "articles.jsonl", "\n".join(json.dumps(r) for r in records) + "\n")
    result = read_file(path)
    assert result.errors == []
    a, b, c = result.articles
    assert a.id == a.url == a.source == records[0]["url"]
    assert a.title == "Vote on tram network"
    assert a.published == date(2022, 6, 12)
    assert a.text.startswith("Council members met")
    # A null or empty title falls back to the URL slug (or the first line), never to "None".
    for article in (b, c):
        assert article.title and article.title != "None"
        assert "Tram vote" in article.title or "Council members" in article.title


def test_jsonl_bad_line_is_reported_and_good_lines_still_read(tmp_path):
    lines = [json.dumps(record(1, id="a")), "{not json", json.dumps(record(3, id="c")), json.dumps({"title": "no text"})]
    path = write(tmp_path / "mixed.jsonl", "\n".join(lines))
    result = read_file(path)
    assert [a.title for a in result.articles] == ["Story 1", "Story 3"]
    assert len(result.errors) == 2
    assert not result.complete
    # The path is the file's path; which line is the record's.
    assert [(e.path, e.record) for e in result.errors] == [(str(path.resolve()), "line 2"), (str(path.resolve()), "line 4")]
    assert "invalid JSON" in result.errors[0].reason
    assert "text" in result.errors[1].reason and result.errors[1].place == f"{path.resolve()} (line 4)"


def test_json_record_with_unreadable_date_is_an_error(tmp_path):
    error = only_error(write(tmp_path / "d.json", json.dumps(record(1, date="not a date at all"))))
    assert "date" in error.reason


# ---- ids, dates and hashes --------------------------------------------------------------------


def test_ids_are_stable_across_reads(tmp_path):
    txt = write(tmp_path / "a.txt", f"December 4, 2022\nTitle\n{BODY}")
    jsonl = write(tmp_path / "b.jsonl", json.dumps(record(1, id="x")) + "\n" + json.dumps(record(2)) + "\n")
    first = [a.id for p in (txt, jsonl) for a in read_file(p).articles]
    second = [a.id for p in (txt, jsonl) for a in read_file(p).articles]
    assert first == second
    assert first[1] == f"{jsonl.resolve()}#x"
    assert first[2].startswith(f"{jsonl.resolve()}#")  # no url and no id: path plus the record's place


def test_url_id_does_not_depend_on_the_file(tmp_path):
    a = only_article(write(tmp_path / "a.json", json.dumps(record(1, url="https://x.example.com/s"))))
    b = only_article(write(tmp_path / "sub" / "b.jsonl", json.dumps(record(1, url="https://x.example.com/s"))))
    assert a.id == b.id == "https://x.example.com/s"
    assert a.sha256 == b.sha256


def test_content_hash_changes_with_text_title_or_date_only(tmp_path):
    path = tmp_path / "a.txt"
    write(path, f"December 4, 2022\nTitle\n{BODY}")
    original = only_article(path).sha256
    assert only_article(path).sha256 == original
    write(path, f"December 4, 2022\nTitle\n{BODY} One more sentence.")
    assert only_article(path).sha256 != original
    write(path, f"December 5, 2022\nTitle\n{BODY}")
    assert only_article(path).sha256 != original
    write(path, f"December 4, 2022\nAnother title\n{BODY}")
    assert only_article(path).sha256 != original
    write(path, f"December 4, 2022\nTitle\n{BODY}")
    assert only_article(path).sha256 == original


def test_parse_date_gives_dates_or_none():
    assert parse_date("2022-12-04T10:11:12+02:00") == date(2022, 12, 4)
    assert parse_date("2022/06/12") == date(2022, 6, 12)
    assert parse_date("12 June 2022") == date(2022, 6, 12)
    assert parse_date(date(2020, 1, 2)) == date(2020, 1, 2)
    assert parse_date("") is None and parse_date(None) is None
    assert parse_date("next tuesday-ish") is None
