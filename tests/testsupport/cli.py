"""Running `newsbot` as a user does: a real subprocess in a clean environment."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # the checkout under test, whatever else is installed


def clean_env(**overrides: str) -> dict[str, str]:
    """The user's environment without any newsbot/Chroma/Slack setting, plus ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "CHROMA_", "SLACK_"))}
    env.update(HF_HUB_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1", TOKENIZERS_PARALLELISM="false", PYTHONPATH=str(REPO))
    env.update(overrides)
    return env


def newsbot(*args: str, env: dict[str, str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def one_json_object(stdout: str) -> dict:
    assert stdout.endswith("\n") and stdout.count("\n") == 1, f"expected exactly one line of JSON, got {stdout!r}"
    payload = json.loads(stdout)
    assert isinstance(payload, dict)
    return payload


def assert_one_line_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    assert result.returncode != 0
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("error:")
    for needle in needles:
        assert needle in line
    return line
