"""`newsbot index` and `newsbot status` as a user runs them: real subprocesses, real model, real Chroma.

The first run loads the model once (module fixture); the runs after it embed nothing and are quick.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from testsupport.cli import assert_one_line_error, clean_env, newsbot, one_json_object
from testsupport.corpora import REPO, news_text, write_txt_article
from testsupport.servers import free_port

REPORT_KEYS = {"added", "updated", "removed", "unchanged", "failed", "missing", "articles", "chunks"}


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("cli")
    corpus = home / "corpus"
    write_txt_article(corpus, "tram.txt", "Tram network to grow", news_text(1))
    write_txt_article(corpus, "budget.txt", "Schools budget approved", news_text(2))
    (corpus / "feed.jsonl").write_text(
        "\n".join(json.dumps({"url": f"https://news.example.com/s{n}", "title": f"Story {n}", "text": news_text(10 + n)}) for n in range(3))
        + "\n",
        encoding="utf-8",
    )
    (corpus / "broken.json").write_text('{"title": "half a record", "text": ', encoding="utf-8")
    env = clean_env(
        NEWSBOT_DATA_DIR=str(home / "data"),
        NEWSBOT_CONFIG=str(home / "missing-config.toml"),
        NEWSBOT_CORPUS=str(corpus),
    )
    return home, corpus, env


@pytest.fixture(scope="module")
def first_run(cli_home):
    home, corpus, env = cli_home
    # No paths: the default sources, i.e. NEWSBOT_CORPUS (the bundled seeds only when it is unset).
    return newsbot("index", "--json", env=env, cwd=home)


def test_first_index_reports_json_and_exit_0_despite_a_bad_file(first_run, cli_home):
    _, corpus, _ = cli_home
    assert first_run.returncode == 0, first_run.stderr
    report = one_json_object(first_run.stdout)
    assert set(report) == REPORT_KEYS
    assert (report["added"], report["updated"], report["removed"], report["unchanged"]) == (5, 0, 0, 0)  # no seed: a corpus is configured
    assert report["articles"] == 5
    assert report["chunks"] >= 6
    assert report["failed"] == [
        {"path": str((corpus / "broken.json").resolve()), "record": None, "error": report["failed"][0]["error"], "kind": "invalid JSON"}
    ]
    assert "invalid JSON" in report["failed"][0]["error"]
    assert "Traceback" not in first_run.stderr


def test_second_index_reports_unchanged(first_run, cli_home):
    home, _, env = cli_home
    result = newsbot("index", "--json", env=env, cwd=home)
    assert result.returncode == 0, result.stderr
    report = one_json_object(result.stdout)
    assert (report["added"], report["updated"], report["removed"], report["unchanged"]) == (0, 0, 0, 5)
    assert (report["articles"], report["chunks"]) == (5, one_json_object(first_run.stdout)["chunks"])


def test_human_summary_without_json(first_run, cli_home):
    home, _, env = cli_home
    result = newsbot("index", env=env, cwd=home)
    assert result.returncode == 0, result.stderr
    assert "unchanged 5" in result.stdout
    assert "broken.json" in result.stdout and "could not be indexed" in result.stdout
    # A pipe gets whole lines: the summary is not wrapped at 80 columns.
    assert any("added 0" in line and "in the index" in line for line in result.stdout.splitlines()), result.stdout


def test_status_json_and_text(first_run, cli_home):
    home, corpus, env = cli_home
    result = newsbot("status", "--json", env=env, cwd=home)
    assert result.returncode == 0, result.stderr
    status = one_json_object(result.stdout)
    assert status["location"] == str(home / "data" / "chroma")
    assert status["mode"] == "embedded"
    assert status["articles"] == 5
    assert status["sources"] == [{"path": str(corpus.resolve()), "articles": 5}]
    assert status["chunks"] == one_json_object(first_run.stdout)["chunks"]
    assert status["model"] == "all-MiniLM-L6-v2"
    assert status["last_sync"] not in ("", "never")

    text = newsbot("status", env=env, cwd=home)
    assert text.returncode == 0
    assert str(home / "data" / "chroma") in text.stdout and "articles" in text.stdout
    assert str(corpus.resolve()) in text.stdout


def test_index_of_explicit_paths(first_run, cli_home):
    home, corpus, env = cli_home
    # Only the one file: nothing else under other roots is touched.
    result = newsbot("index", str(corpus / "tram.txt"), "--json", env=env, cwd=home)
    assert result.returncode == 0, result.stderr
    report = one_json_object(result.stdout)
    assert (report["unchanged"], report["removed"], report["articles"]) == (1, 0, 5)


def test_index_of_a_path_that_does_not_exist_exits_1(first_run, cli_home):
    home, corpus, env = cli_home
    for args in (["index", str(home / "nonexistent")], ["index", str(home / "nonexistent"), "--json"]):
        result = newsbot(*args, env=env, cwd=home)
        assert result.returncode == 1, result.stdout + result.stderr
        assert "Traceback" not in result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("error:") and str(home / "nonexistent") in last and "no such file or folder" in last
        if "--json" not in args:  # said once, by the error line
            assert (result.stdout + result.stderr).count(str(home / "nonexistent")) == 1, result.stdout + result.stderr
    report = one_json_object(result.stdout)  # --json still prints its one report
    assert report["missing"] == [str(home / "nonexistent")] and report["removed"] == 0


def test_thousands_of_bad_records_are_summarised_and_json_lists_them_all(tmp_path):
    folder = tmp_path / "bulk"
    folder.mkdir()
    (folder / "empty-records.json").write_text(json.dumps([{"title": "", "text": ""}] * 5000), encoding="utf-8")
    env = clean_env(NEWSBOT_DATA_DIR=str(tmp_path / "data"), NEWSBOT_CONFIG=str(tmp_path / "missing.toml"))
    text = newsbot("index", str(folder), env=env, cwd=tmp_path)
    assert text.returncode == 0, text.stderr
    assert len(text.stdout.splitlines()) <= 10, text.stdout
    assert "5000 × no article text" in text.stdout and "and 4995 more" in text.stdout
    report = one_json_object(newsbot("index", str(folder), "--json", env=env, cwd=tmp_path).stdout)
    assert len(report["failed"]) == 5000 and {f["kind"] for f in report["failed"]} == {"no article text"}
    # `path` is the file's path; which record is a field of its own.
    assert {f["path"] for f in report["failed"]} == {str((folder / "empty-records.json").resolve())}
    assert [f["record"] for f in report["failed"][:2]] == ["record 0", "record 1"]


def test_status_of_a_fresh_data_dir(tmp_path):
    env = clean_env(NEWSBOT_DATA_DIR=str(tmp_path / "data"), NEWSBOT_CONFIG=str(tmp_path / "missing.toml"))
    result = newsbot("status", "--json", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    status = one_json_object(result.stdout)
    assert (status["articles"], status["chunks"], status["last_sync"], status["sources"]) == (0, 0, "never", [])


def test_unwritable_data_dir_is_one_line_and_non_zero(tmp_path):
    blocker = tmp_path / "plain-file"
    blocker.write_text("I am a file, not a folder")
    env = clean_env(NEWSBOT_DATA_DIR=str(blocker / "data"), NEWSBOT_CONFIG=str(tmp_path / "missing.toml"))
    line = assert_one_line_error(newsbot("index", "--json", env=env, cwd=tmp_path), str(blocker / "data"), "NEWSBOT_DATA_DIR")
    assert "not writable" in line


def test_unreachable_chroma_server_is_one_line_and_non_zero(tmp_path):
    port = free_port()  # bound and released: nothing listens there
    env = clean_env(
        NEWSBOT_DATA_DIR=str(tmp_path / "data"),
        NEWSBOT_CONFIG=str(tmp_path / "missing.toml"),
        CHROMA_HOST="127.0.0.1",
        CHROMA_PORT=str(port),
    )
    for command in (["index", "--json"], ["status"]):
        line = assert_one_line_error(newsbot(*command, env=env, cwd=tmp_path), f"127.0.0.1:{port}", "CHROMA_HOST")
        assert "cannot reach the Chroma server" in line


def test_invalid_setting_is_one_line_and_non_zero(tmp_path):
    env = clean_env(NEWSBOT_DATA_DIR=str(tmp_path / "data"), NEWSBOT_CONFIG=str(tmp_path / "missing.toml"), NEWSBOT_CHUNK_TOKENS="999")
    assert_one_line_error(newsbot("index", "--json", env=env, cwd=tmp_path), "NEWSBOT_CHUNK_TOKENS")


def test_broken_config_file_is_one_line_and_non_zero(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("this is = = not toml", encoding="utf-8")
    env = clean_env(NEWSBOT_DATA_DIR=str(tmp_path / "data"), NEWSBOT_CONFIG=str(config))
    assert_one_line_error(newsbot("status", env=env, cwd=tmp_path), str(config))


def test_console_script_is_installed():
    result = subprocess.run([Path(sys.executable).parent / "newsbot", "--help"], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0
    assert "index" in result.stdout and "status" in result.stdout
