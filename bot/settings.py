"""Settings for the bot (answering, LLM, Slack, watching), on top of the index settings.

With `indexing.settings`, the only code that reads the environment. Secrets are held here and
never printed: `redacted()` is what logs and `newsbot status` show.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from indexing.settings import IndexSettings, SettingsSource, bundled_seeds_dir

if TYPE_CHECKING:
    from indexing.arrivals.watch import WatchSettings

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
# The offline answerer's refusal threshold. Tuned on SQuAD 2.0 dev (half unanswerable) and
# RealTimeQA dev (all answerable): 0.40 and 0.42 refuse with the same precision (0.74) on SQuAD;
# 0.40 answers more paraphrased questions. Figures in the README.
DEFAULT_MIN_CONFIDENCE = 0.40
_SECRET_FIELDS = {"llm_api_key", "slack_bot_token", "slack_app_token", "slack_signing_secret"}


def default_eval_dir() -> Path:
    """The shared evaluation data beside the checkout (`../shared/eval` next to the repo root), if any."""
    return bundled_seeds_dir().parent.parent / "shared" / "eval"


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in raw.replace(";", ",").split(",") if p.strip())


@dataclass(frozen=True)
class BotSettings:
    index: IndexSettings
    top_k: int = 5  # passages handed to the answerer
    candidates: int = 30  # per retriever before fusion
    # Refusal threshold on the answerer's confidence, tuned on SQuAD 2.0 dev + the seed set (README).
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    llm: str | None = None  # "openai:gpt-4o-mini", "ollama:llama3.2", or an OpenAI-compatible base URL
    llm_api_key: str | None = field(default=None, repr=False)
    llm_base_url: str | None = None
    llm_model: str | None = None  # the model name when NEWSBOT_LLM is a base URL
    llm_timeout: float = 60.0
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_api_url: str = DEFAULT_SLACK_API_URL
    slack_admins: tuple[str, ...] = ()
    watch_debounce_ms: int = 1500  # the longest a burst of file events is gathered into one sync
    watch_quiet_ms: int = 200  # the folders must be this still before a sync starts
    feed_poll_minutes: float = 30.0
    feed_timeout: float = 20.0
    feeds_dir: str = ""  # where fetched feed items are saved as article files ("" = <data dir>/feeds)
    eval_dir: Path = field(default_factory=default_eval_dir)  # `newsbot eval` data sets (NEWSBOT_EVAL_DIR)

    @classmethod
    def from_env(cls, source: SettingsSource | None = None, **overrides: Any) -> "BotSettings":
        s = source or SettingsSource()
        values: dict[str, Any] = dict(
            index=IndexSettings.from_env(s),
            top_k=s.get("NEWSBOT_TOP_K", 5, int),
            candidates=s.get("NEWSBOT_CANDIDATES", 30, int),
            min_confidence=s.get("NEWSBOT_MIN_CONFIDENCE", DEFAULT_MIN_CONFIDENCE, float),
            llm=s.get("NEWSBOT_LLM", None),
            llm_api_key=s.get("NEWSBOT_LLM_API_KEY", None) or s.get("OPENAI_API_KEY", None),
            llm_base_url=s.get("NEWSBOT_LLM_BASE_URL", None),
            llm_model=s.get("NEWSBOT_LLM_MODEL", None),
            llm_timeout=s.get("NEWSBOT_LLM_TIMEOUT", 60.0, float),
            slack_bot_token=s.get("SLACK_BOT_TOKEN", None),
            slack_app_token=s.get("SLACK_APP_TOKEN", None),
            slack_signing_secret=s.get("SLACK_SIGNING_SECRET", None),
            slack_api_url=s.get("SLACK_API_URL", DEFAULT_SLACK_API_URL),
            slack_admins=s.get("NEWSBOT_SLACK_ADMINS", (), _csv),
            watch_debounce_ms=s.get("NEWSBOT_WATCH_DEBOUNCE_MS", 1500, int),
            watch_quiet_ms=s.get("NEWSBOT_WATCH_QUIET_MS", 200, int),
            feed_poll_minutes=s.get("NEWSBOT_FEED_POLL_MINUTES", 30.0, float),
            feed_timeout=s.get("NEWSBOT_FEED_TIMEOUT", 20.0, float),
            feeds_dir=s.get("NEWSBOT_FEEDS_DIR", ""),
            eval_dir=Path(s.get("NEWSBOT_EVAL_DIR", str(default_eval_dir()))).expanduser(),
        )
        values.update(overrides)
        return cls(**values)

    @property
    def feeds_folder(self) -> Path:
        """Where feed items are saved as article files: NEWSBOT_FEEDS_DIR or <data dir>/feeds."""
        return Path(self.feeds_dir).expanduser() if self.feeds_dir else self.index.data_dir / "feeds"

    @property
    def feed_registry_path(self) -> Path:
        """The followed feeds and the items already saved (JSON, in the data dir, outside the feeds folder)."""
        return self.index.data_dir / "feeds.json"

    def watch_settings(self) -> "WatchSettings":
        """What `indexing.arrivals.watch.Watcher` needs (the indexing package never imports bot)."""
        from indexing.arrivals.watch import WatchSettings

        return WatchSettings(
            debounce_ms=self.watch_debounce_ms,
            quiet_ms=self.watch_quiet_ms,
            feed_poll_minutes=self.feed_poll_minutes,
            feed_timeout=self.feed_timeout,
            feeds_dir=self.feeds_folder,
            registry_path=self.feed_registry_path,
        )

    def redacted(self) -> dict[str, Any]:
        """Every setting, secrets replaced by whether they are set."""
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in _SECRET_FIELDS:
                out[f.name] = "(set)" if value else "(not set)"
            elif f.name == "index":
                out[f.name] = {k: str(v) for k, v in value.__dict__.items()}
            else:
                out[f.name] = str(value) if isinstance(value, Path) else value
        return out
