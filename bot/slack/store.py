"""What the Slack face remembers, in one SQL database that every newsbot process of the app shares.

- handled keys: Slack's event ids and the messages being answered. `first()` is one INSERT on a
  primary key, so when a retry or the same message reaches two processes, exactly one wins.
- answers by id, for the buttons (Slack caps a button value at 2,000 characters, and ephemeral
  messages are not sent back with a click): a click on any process finds an answer any posted.
- feedback: one row per 👍/👎 click, with the question, the answer and its citations.
- channel sources: the folders and feeds a channel is bound to (`/newsbot sources`); every process
  reads them per question, so a binding made on one machine holds on all at once.
- bolt's OAuth installations and states (`bot.slack.oauth`) live in the same database.

SQLite in WAL mode in the data dir by default, safe for several processes on one machine;
`NEWSBOT_STATE_URL=postgresql://...` (psycopg 3) for several machines.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, ProgrammingError, SQLAlchemyError

from bot.answer import Answer, Citation, Copy
from indexing import StoreError, private_file, restrict_umask

KEEP_ANSWERS_DAYS = 90
KEEP_KEYS_SECONDS = 2 * 86400  # Slack retries for about an hour; a message is claimed for good
_PRUNE_EVERY = 1000  # claims between two deletions of expired keys

metadata = sa.MetaData()
# `answers` keeps the name and columns of the earlier SQLite answer store, so old buttons still work.
answers = sa.Table(
    "answers",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("created", sa.Float, nullable=False, index=True),
    sa.Column("channel", sa.String(64)),
    sa.Column("thread_ts", sa.String(32)),
    sa.Column("payload", sa.Text, nullable=False),
)
handled = sa.Table(
    "handled",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("at", sa.Float, nullable=False, index=True),
)
feedback = sa.Table(
    "feedback",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("time", sa.String(32), nullable=False),
    sa.Column("verdict", sa.String(8), nullable=False),
    sa.Column("user_id", sa.String(64), nullable=False),
    sa.Column("channel", sa.String(64)),
    sa.Column("answer_id", sa.String(32), index=True),
    sa.Column("entry", sa.Text, nullable=False),
)


channel_sources = sa.Table(
    "channel_sources",
    metadata,
    sa.Column("team_id", sa.String(32), primary_key=True),
    sa.Column("channel", sa.String(64), primary_key=True),
    sa.Column("source", sa.String(1024), primary_key=True),
    sa.Column("added_by", sa.String(64), nullable=False),
    sa.Column("added", sa.Float, nullable=False),
)


def state_url(configured: str | None, data_dir: Path) -> URL:
    """NEWSBOT_STATE_URL (`postgresql://` meaning psycopg 3), or SQLite in the data dir."""
    if not configured:
        return make_url(f"sqlite:///{data_dir / 'slack.sqlite3'}")
    try:
        url = make_url(configured)
    except ArgumentError:
        raise StoreError("NEWSBOT_STATE_URL is not a database URL; use postgresql://USER:PASSWORD@HOST/DB or sqlite:///PATH") from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")  # SQLAlchemy's default driver is psycopg2, not installed
    return url


def open_engine(url: URL) -> Engine:
    """An engine with the tables created; SQLite in WAL mode with a busy timeout (several writers)."""
    shown = url.render_as_string(hide_password=True)
    try:
        if url.get_backend_name() == "sqlite":
            if url.database:
                _private_sqlite(Path(url.database))
            engine = sa.create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})
            sa.event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = sa.create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)
        create_tables(metadata, engine)
    except (OSError, SQLAlchemyError, ImportError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise StoreError(f"cannot open Slack's state database {shown} ({reason}); check NEWSBOT_STATE_URL and the data dir") from None
    return engine


def _private_sqlite(database: Path) -> None:
    """The database file 0600 before SQLite opens it: it holds every workspace's bot token, and SQLite gives
    its -wal and -shm files the database's mode. Older, wider ones are narrowed (docs/security.md)."""
    restrict_umask()
    database.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    private_file(database, create=True)
    for suffix in ("-wal", "-shm", "-journal"):
        private_file(database.with_name(database.name + suffix))


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers never wait for the writer; several processes share the file
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def create_tables(tables: sa.MetaData, engine: Engine) -> None:
    """CREATE TABLE for those missing; several processes may start at once."""
    try:
        tables.create_all(engine)
    except (IntegrityError, ProgrammingError):  # another process created one in the same instant (PostgreSQL's catalog race)
        tables.create_all(engine)


def answer_from_json(payload: dict[str, Any]) -> Answer:
    """The Answer back from `Answer.to_json()` (its shown passages: citations, or the closest ones)."""
    passages = tuple(
        Citation(
            article_id=c["article_id"],
            title=c["title"],
            published=date.fromisoformat(c["published"]) if c.get("published") else None,
            source=c["source"],
            quote=c["quote"],
            start=c["start"],
            end=c["end"],
            score=c.get("score", 0.0),
            highlight=(int(c["highlight"][0]), int(c["highlight"][1])) if c.get("highlight") else None,
            also_in=tuple(
                Copy(o["article_id"], o["title"], date.fromisoformat(o["published"]) if o.get("published") else None, o["source"])
                for o in c.get("also_in", [])
            ),
        )
        for c in payload.get("citations", [])
    )
    answered = bool(payload.get("answered"))
    return Answer(
        text=payload["answer"],
        citations=passages if answered else (),
        answered=answered,
        question=payload.get("question", ""),
        standalone_question=payload.get("standalone_question", ""),
        confidence=payload.get("confidence", 0.0),
        closest=() if answered else passages,
    )


@dataclass(frozen=True)
class StoredAnswer:
    id: str
    answer: Answer
    channel: str
    thread_ts: str | None


class SlackState:
    """Handled keys, answers and feedback in the database at `url` (thread-safe; shared by processes)."""

    def __init__(self, url: URL):
        self.url = url
        self.engine = open_engine(url)
        self._claims = 0
        self._lock = threading.Lock()
        self._prune()

    def first(self, key: str) -> bool:
        """True for the one caller (in any process) that records `key` first; False for every repeat."""
        try:
            with self.engine.begin() as db:
                db.execute(handled.insert().values(key=key[:255], at=time.time()))
        except IntegrityError:
            return False
        with self._lock:
            self._claims += 1
            due = self._claims % _PRUNE_EVERY == 0
        if due:
            self._prune()
        return True

    def add_answer(self, answer: Answer, channel: str, thread_ts: str | None) -> str:
        answer_id = uuid.uuid4().hex[:16]
        payload = json.dumps(answer.to_json(), ensure_ascii=False)
        with self.engine.begin() as db:
            db.execute(answers.insert().values(id=answer_id, created=time.time(), channel=channel, thread_ts=thread_ts, payload=payload))
        return answer_id

    def answer(self, answer_id: str) -> StoredAnswer | None:
        with self.engine.connect() as db:
            row = db.execute(sa.select(answers.c.channel, answers.c.thread_ts, answers.c.payload).where(answers.c.id == answer_id)).first()
        if row is None:
            return None
        return StoredAnswer(answer_id, answer_from_json(json.loads(row.payload)), row.channel, row.thread_ts)

    def record_feedback(self, *, verdict: str, user: str, answer_id: str, channel: str) -> dict[str, Any]:
        """One row per click, with the answer it rates (or a note that it is no longer stored)."""
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "verdict": verdict,
            "user": user,
            "channel": channel,
            "answer_id": answer_id,
        }
        stored = self.answer(answer_id)
        if stored is not None:
            payload = stored.answer.to_json()
            entry.update(
                question=payload["question"], answer=payload["answer"], answered=payload["answered"], citations=payload["citations"]
            )
        else:
            entry["missing"] = "the answer is no longer in the answer store"
        row = {k: entry[k] for k in ("time", "verdict", "channel", "answer_id")}
        with self.engine.begin() as db:
            db.execute(feedback.insert().values(**row, user_id=user, entry=json.dumps(entry, ensure_ascii=False)))
        return entry

    def feedback(self, answer_id: str | None = None) -> list[dict[str, Any]]:
        """The feedback entries, oldest first (all, or those about one answer)."""
        query = sa.select(feedback.c.entry).order_by(feedback.c.id)
        if answer_id is not None:
            query = query.where(feedback.c.answer_id == answer_id)
        with self.engine.connect() as db:
            return [json.loads(row.entry) for row in db.execute(query)]

    def bind_source(self, team_id: str, channel: str, source: str, user: str) -> bool:
        """Bind `source` to the channel; False when it already was."""
        row = {"team_id": team_id, "channel": channel, "source": source, "added_by": user, "added": time.time()}
        try:
            with self.engine.begin() as db:
                db.execute(channel_sources.insert().values(**row))
        except IntegrityError:
            return False
        return True

    def unbind_source(self, team_id: str, channel: str, source: str) -> bool:
        """Unbind `source` from the channel; False when it was not bound."""
        where = (channel_sources.c.team_id == team_id) & (channel_sources.c.channel == channel) & (channel_sources.c.source == source)
        with self.engine.begin() as db:
            return db.execute(channel_sources.delete().where(where)).rowcount > 0

    def sources(self, team_id: str, channel: str) -> tuple[str, ...]:
        """The sources bound to the channel, in the order they were bound (none: the channel sees everything)."""
        query = (
            sa.select(channel_sources.c.source)
            .where((channel_sources.c.team_id == team_id) & (channel_sources.c.channel == channel))
            .order_by(channel_sources.c.added, channel_sources.c.source)
        )
        with self.engine.connect() as db:
            return tuple(row.source for row in db.execute(query))

    def _prune(self) -> None:
        now = time.time()
        with self.engine.begin() as db:
            db.execute(handled.delete().where(handled.c.at < now - KEEP_KEYS_SECONDS))
            db.execute(answers.delete().where(answers.c.created < now - KEEP_ANSWERS_DAYS * 86400))

    def close(self) -> None:
        self.engine.dispose()
