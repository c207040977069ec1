"""Settings for the bot (answering, LLM, Slack, watching), on top of the index settings.

Declared once each, like `indexing.settings` (which explains the mechanism). Secrets are
`SecretStr`: never printed; `redacted()` is what logs and `newsbot status` show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator

from indexing import IndexSettings, SettingsModel, SettingsSource, UserPath, WatchSettings, bundled_seeds_dir, setting
from indexing import settings_table as indexing_settings_table

DEFAULT_SLACK_API_URL = "https://slack.com/api/"


def default_eval_dir() -> Path:
    """The shared evaluation data beside the checkout (`../shared/eval` next to the repo root), if any."""
    return bundled_seeds_dir().parent.parent / "shared" / "eval"


def _csv(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(p.strip() for p in value.replace(";", ",").split(",") if p.strip())
    return value


class BotSettings(SettingsModel):
    index: IndexSettings
    watch: WatchSettings = Field(default_factory=WatchSettings)
    top_k: int = setting(5, env="NEWSBOT_TOP_K", doc="Passages cited at most, and given to a generative model", ge=1, le=20)
    candidates: int = setting(30, env="NEWSBOT_CANDIDATES", doc="Hits each retriever (dense, BM25) contributes before fusion", ge=1)
    answerer: str = setting(
        "reader",
        env="NEWSBOT_ANSWERER",
        pattern="^(reader|heuristic)$",
        doc="Offline answerer: `reader` (the trained reading model) or `heuristic` (NER spans); a configured `NEWSBOT_LLM` answers instead",
    )
    min_confidence: float | None = setting(
        None,
        env="NEWSBOT_MIN_CONFIDENCE",
        shown="the answerer's own (reader: its calibration.json; heuristic 0.40)",
        ge=0.0,
        le=1.0,
        doc="Refusal threshold on the answer's confidence (tuned per answerer: docs/reader.md)",
    )
    llm: str | None = setting(
        None, env="NEWSBOT_LLM", doc="The generative option: `openai:MODEL`, `ollama:MODEL` or an OpenAI-compatible base URL"
    )
    llm_api_key: SecretStr | None = setting(
        None, env="NEWSBOT_LLM_API_KEY", also=("OPENAI_API_KEY",), doc="API key of the generative model (secret)"
    )
    llm_base_url: str | None = setting(None, env="NEWSBOT_LLM_BASE_URL", doc="Base URL for `openai:`/`ollama:` models served elsewhere")
    llm_model: str | None = setting(None, env="NEWSBOT_LLM_MODEL", doc="The model name when `NEWSBOT_LLM` is a base URL")
    llm_timeout: float = setting(60.0, env="NEWSBOT_LLM_TIMEOUT", doc="Seconds before a model call fails", gt=0)
    slack_bot_token: SecretStr | None = setting(None, env="SLACK_BOT_TOKEN", doc="The app's bot token, `xoxb-...` (secret)")
    slack_app_token: SecretStr | None = setting(
        None, env="SLACK_APP_TOKEN", doc="An app-level token, `xapp-...`: Socket Mode instead of HTTP (secret)"
    )
    slack_signing_secret: SecretStr | None = setting(None, env="SLACK_SIGNING_SECRET", doc="Verifies Slack's HTTP requests (secret)")
    slack_api_url: str = setting(DEFAULT_SLACK_API_URL, env="SLACK_API_URL", doc="Slack's Web API base URL")
    slack_client_id: str | None = setting(
        None, env="SLACK_CLIENT_ID", doc="With `SLACK_CLIENT_SECRET`: many workspaces, installed through `/slack/install` (OAuth)"
    )
    slack_client_secret: SecretStr | None = setting(None, env="SLACK_CLIENT_SECRET", doc="The app's Client Secret, for OAuth (secret)")
    slack_state_url: SecretStr | None = setting(
        None,
        env="NEWSBOT_STATE_URL",
        shown="SQLite `<data dir>/slack.sqlite3`",
        doc="Slack's shared state (handled events, answers, feedback, installations) and, on PostgreSQL, the index's writer lock: `postgresql://...` for several machines (secret)",
    )
    slack_threads: int = setting(
        8, env="NEWSBOT_SLACK_THREADS", doc="Slack work done at once per process (answers, reactions, posts)", ge=1, le=256
    )
    slack_queue: int = setting(
        500, env="NEWSBOT_SLACK_QUEUE", doc="Slack work waiting per process; past it a message gets a short 'busy, try again'", ge=1
    )
    slack_workers: int = setting(1, env="NEWSBOT_SLACK_WORKERS", doc="HTTP mode: server processes behind the one port", ge=1, le=64)
    slack_admins: tuple[str, ...] = setting(
        (), env="NEWSBOT_SLACK_ADMINS", doc="Slack user ids allowed to run `/newsbot reindex` and `/newsbot sources` (comma-separated)"
    )
    slack_stream_buffer: int = setting(
        256,
        env="NEWSBOT_SLACK_STREAM_BUFFER",
        doc="A streamed answer goes to Slack once a second, or sooner when this many characters wait (Slack rate-limits appends)",
        ge=1,
        le=12_000,
    )
    feeds_dir: str = setting(
        "", env="NEWSBOT_FEEDS_DIR", shown="`<data dir>/feeds`", doc="Where fetched feed items are saved as article files"
    )
    eval_dir: UserPath = setting(
        env="NEWSBOT_EVAL_DIR",
        default_factory=default_eval_dir,
        shown="`../shared/eval` beside the checkout",
        doc="Where `newsbot eval` finds data sets by name",
    )

    @field_validator("slack_admins", mode="before")
    @classmethod
    def _admins(cls, value: Any) -> Any:
        return _csv(value)

    @classmethod
    def _nested(cls, source: SettingsSource) -> dict[str, Any]:
        return {"index": IndexSettings.from_env(source), "watch": WatchSettings.from_env(source)}

    @property
    def feeds_folder(self) -> Path:
        """Where feed items are saved as article files: NEWSBOT_FEEDS_DIR or <data dir>/feeds."""
        return Path(self.feeds_dir).expanduser() if self.feeds_dir else self.index.data_dir / "feeds"

    @property
    def feed_registry_path(self) -> Path:
        """The followed feeds and the items already saved (JSON, in the data dir, outside the feeds folder)."""
        return self.index.data_dir / "feeds.json"

    def watch_settings(self) -> WatchSettings:
        """What `indexing.arrivals.watch.Watcher` needs, the feed paths resolved (indexing never imports bot)."""
        return self.watch.replace(feeds_dir=self.feeds_folder, registry_path=self.feed_registry_path)


def settings_table() -> str:
    """The README's settings table: every setting of the index, the watcher and the bot."""
    return indexing_settings_table(IndexSettings, WatchSettings, BotSettings)
