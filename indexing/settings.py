"""Settings for the index: defaults that work offline, overridden by a config file, then the environment.

This module and `bot.settings` are the only places that read `os.environ`. Precedence, lowest
first: built-in default < config file (TOML, `NEWSBOT_CONFIG` or the per-user config path) <
environment variable.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from indexing.bundled import bundled_dir
from indexing.errors import ConfigError

APP_NAME = "newsbot"


def _user_dir(kind: str) -> Path:
    import platformdirs

    getter = platformdirs.user_data_dir if kind == "data" else platformdirs.user_config_dir
    return Path(getter(APP_NAME, appauthor=False))


def config_file_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    explicit = env.get("NEWSBOT_CONFIG")
    return Path(explicit).expanduser() if explicit else _user_dir("config") / "config.toml"


def load_config_file(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The `[newsbot]` table (or the top level) of the config file; {} when there is none."""
    path = config_file_path(env)
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc}); fix or remove it") from exc
    return dict(data.get("newsbot", data))


class SettingsSource:
    """Looks a setting up in the environment, then the config file, then falls back to a default."""

    def __init__(self, env: Mapping[str, str] | None = None, config: Mapping[str, Any] | None = None):
        self.env = dict(os.environ if env is None else env)
        self.config = dict(load_config_file(self.env) if config is None else config)

    def get(self, env_name: str, default: Any, cast: Callable[[str], Any] = str) -> Any:
        raw = self.env.get(env_name)
        if raw is None or raw == "":
            # The config file uses the variable's name without its prefix, lower case: chroma_host.
            key = env_name.lower().removeprefix("newsbot_")
            raw = self.config.get(key)
        if raw is None or raw == "":
            return default
        try:
            return cast(raw) if isinstance(raw, str) else raw
        except ValueError as exc:
            raise ConfigError(f"setting {env_name}={raw!r} is not valid: {exc}") from exc

    def get_list(self, env_name: str) -> list[str]:
        value = self.get(env_name, [], lambda s: [p for p in s.split(os.pathsep) if p])
        return [str(v) for v in value]


def _bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true/false")


def bundled_seeds_dir() -> Path:
    """The seed articles shipped with the project."""
    return bundled_dir("seeds")


@dataclass(frozen=True)
class IndexSettings:
    data_dir: Path
    chroma_host: str | None = None
    chroma_port: int = 8000
    chroma_ssl: bool = False
    collection_prefix: str = "newsbot"
    embed_model: str = "all-MiniLM-L6-v2"
    embed_backend: str = "auto"  # auto | torch | onnx
    threads: int = 1
    embed_batch_size: int = 32
    chunk_tokens: int = 160
    chunk_overlap_tokens: int = 40
    max_file_bytes: int = 20_000_000
    corpus_paths: tuple[Path, ...] = field(default_factory=tuple)
    seeds_dir: Path = field(default_factory=bundled_seeds_dir)

    @property
    def location(self) -> str:
        """Where the index lives, for humans: a folder or a server address."""
        if self.chroma_host:
            scheme = "https" if self.chroma_ssl else "http"
            return f"{scheme}://{self.chroma_host}:{self.chroma_port}"
        return str(self.data_dir / "chroma")

    @property
    def default_sources(self) -> tuple[Path, ...]:
        """What `newsbot index` syncs when no path is given: the seeds plus configured corpora."""
        return (self.seeds_dir, *self.corpus_paths)

    @classmethod
    def from_env(cls, source: SettingsSource | None = None, **overrides: Any) -> "IndexSettings":
        s = source or SettingsSource()
        values: dict[str, Any] = dict(
            data_dir=Path(s.get("NEWSBOT_DATA_DIR", str(_user_dir("data")))).expanduser(),
            chroma_host=s.get("CHROMA_HOST", None),
            chroma_port=s.get("CHROMA_PORT", 8000, int),
            chroma_ssl=s.get("CHROMA_SSL", False, _bool),
            collection_prefix=s.get("NEWSBOT_COLLECTION", "newsbot"),
            embed_model=s.get("NEWSBOT_EMBED_MODEL", "all-MiniLM-L6-v2"),
            embed_backend=s.get("NEWSBOT_EMBED_BACKEND", "auto"),
            threads=s.get("NEWSBOT_THREADS", 1, int),
            embed_batch_size=s.get("NEWSBOT_EMBED_BATCH", 32, int),
            chunk_tokens=s.get("NEWSBOT_CHUNK_TOKENS", 160, int),
            chunk_overlap_tokens=s.get("NEWSBOT_CHUNK_OVERLAP", 40, int),
            max_file_bytes=s.get("NEWSBOT_MAX_FILE_BYTES", 20_000_000, int),
            corpus_paths=tuple(Path(p).expanduser() for p in s.get_list("NEWSBOT_CORPUS")),
            seeds_dir=Path(s.get("NEWSBOT_SEEDS", str(bundled_seeds_dir()))).expanduser(),
        )
        values.update(overrides)
        settings = cls(**values)
        if settings.chunk_tokens > 250 or settings.chunk_tokens < 16:
            raise ConfigError("NEWSBOT_CHUNK_TOKENS must be between 16 and 250 (the model reads 256 word-pieces)")
        if settings.threads < 1:
            raise ConfigError("NEWSBOT_THREADS must be at least 1")
        return settings
