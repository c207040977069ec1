"""`newsbot --version` and the help, as a user runs them (real subprocesses)."""

from __future__ import annotations

import re

import pytest

from newsbot_reader.runtime import weights_digest
from testsupport.cli import clean_env, newsbot


def test_version_names_the_version_and_the_shipped_models_digests(tmp_path):
    result = newsbot("--version", env=clean_env(), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert re.fullmatch(r"newsbot \d+\.\d+\.\d+\S*", lines[0])
    assert "all-MiniLM-L6-v2" in lines[1] and re.search(r"sha256 [0-9a-f]{16}$", lines[1])
    assert lines[2].startswith("reader") and lines[2].endswith(f"sha256 {weights_digest()}")


@pytest.mark.parametrize("command", [[], ["ask"], ["index"], ["chat"], ["eval"], ["watch"], ["feeds"], ["feeds", "poll"]])
def test_help_reads_like_a_unix_tool(tmp_path, command):
    short, long = (newsbot(*command, flag, env=clean_env(), cwd=tmp_path) for flag in ("-h", "--help"))
    assert short.returncode == long.returncode == 0, short.stderr
    assert short.stdout == long.stdout and short.stdout.startswith("Usage: ")
    assert "<bool>" not in short.stdout and "{" not in short.stdout, short.stdout


def test_ask_usage_names_its_argument(tmp_path):
    usage = newsbot("ask", "-h", env=clean_env(), cwd=tmp_path).stdout
    assert "ask [OPTIONS] QUESTION" in usage and "--as-of DATE" in usage
