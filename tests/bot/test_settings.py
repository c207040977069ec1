"""Settings: one declaration each, validated on read, secrets hidden, and the settings table (docs/settings.md) kept true."""

from __future__ import annotations

import pytest

from bot.settings import BotSettings, settings_table
from indexing.errors import ConfigError
from indexing.settings import IndexSettings, SettingsSource
from testsupport.corpora import REPO


def source(**env: str) -> SettingsSource:
    return SettingsSource(env={"NEWSBOT_CONFIG": "/nonexistent/config.toml", **env}, config=None)


def test_the_settings_table_is_the_one_the_declarations_make():
    page = (REPO / "docs" / "settings.md").read_text(encoding="utf-8")
    assert settings_table() in page, "docs/settings.md's table drifted: paste bot.settings.settings_table() into it"


def test_every_declared_setting_is_read_from_its_variable_and_validated():
    settings = BotSettings.from_env(
        source(
            NEWSBOT_DATA_DIR="/tmp/nb",
            NEWSBOT_THREADS="2",
            NEWSBOT_CORPUS="/a:/b",
            CHROMA_SSL="yes",
            NEWSBOT_SLACK_ADMINS="U1, U2",
            NEWSBOT_WATCH_QUIET_MS="50",
        )
    )
    assert settings.index.threads == 2 and settings.index.chroma_ssl is True
    assert [str(p) for p in settings.index.corpus_paths] == ["/a", "/b"]
    assert settings.slack_admins == ("U1", "U2") and settings.watch.quiet_ms == 50


def test_a_config_file_sets_what_the_environment_does_not(tmp_path):
    config = tmp_path / "config.toml"
    config.write_text("[newsbot]\nthreads = 2\nchunk_tokens = 120\n", encoding="utf-8")
    settings = IndexSettings.from_env(SettingsSource(env={"NEWSBOT_CONFIG": str(config), "NEWSBOT_THREADS": "1"}))
    assert settings.threads == 1, "the environment wins over the file"
    assert settings.chunk_tokens == 120


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"NEWSBOT_THREADS": "0"}, "NEWSBOT_THREADS"),
        ({"NEWSBOT_CHUNK_TOKENS": "many"}, "NEWSBOT_CHUNK_TOKENS"),
        ({"CHROMA_PORT": "70000"}, "CHROMA_PORT"),
        ({"NEWSBOT_CHUNK_TOKENS": "40", "NEWSBOT_CHUNK_OVERLAP": "40"}, "NEWSBOT_CHUNK_OVERLAP"),
        ({"NEWSBOT_ANSWERER": "oracle"}, "NEWSBOT_ANSWERER"),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(env, named):
    with pytest.raises(ConfigError) as caught:
        BotSettings.from_env(source(**env))
    message = str(caught.value)
    assert named in message and "\n" not in message


def test_secrets_are_never_shown():
    settings = BotSettings.from_env(source(SLACK_BOT_TOKEN="xoxb-very-secret", OPENAI_API_KEY="sk-hidden"))
    shown = repr(settings) + str(settings.redacted())
    assert "xoxb-very-secret" not in shown and "sk-hidden" not in shown
    assert settings.redacted()["slack_bot_token"] == "(set)" and settings.redacted()["slack_app_token"] == "(not set)"


def test_a_bad_secret_value_is_not_echoed_in_the_error():
    with pytest.raises(ConfigError) as caught:
        BotSettings.from_env(source(NEWSBOT_LLM_TIMEOUT="-1", SLACK_BOT_TOKEN="xoxb-1"))
    assert "xoxb-1" not in str(caught.value)


def test_ci_runs_the_readme_commands_in_a_fresh_venv():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    install = next(line for line in readme.splitlines() if line.startswith("pip install -e . && newsbot ask"))
    tests = next(line for line in readme.splitlines() if line.startswith('pip install -e ".[dev]"'))
    assert "python3 -m venv" in ci
    lines = ci.splitlines()
    assert install in lines and tests in lines and lines.index(install) < lines.index(tests)
