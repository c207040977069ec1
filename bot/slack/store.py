"""What the Slack face remembers: answers by id (for buttons), feedback, and events already handled.

- `AnswerStore`: every answer the bot sends, keyed by a short id that its buttons carry as their
  value (Slack caps a button value at 2,000 characters, and ephemeral messages are not sent back
  with a click). SQLite in the data dir, so a click after a restart still finds its answer.
- `FeedbackLog`: one JSON line per 👍/👎 click in `<data dir>/feedback.jsonl`.
- `RecentKeys`: a bounded in-memory set, to drop Slack's retries of events already handled.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from bot.answer import Answer, Citation
from indexing.errors import StoreError

_KEEP_DAYS = 90


class RecentKeys:
    """The last `size` keys seen; `add()` says whether a key is new. Thread-safe."""

    def __init__(self, size: int = 10_000):
        self.size = size
        self._keys: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, key: str) -> bool:
        with self._lock:
            if key in self._keys:
                self._keys.move_to_end(key)
                return False
            self._keys[key] = None
            if len(self._keys) > self.size:
                self._keys.popitem(last=False)
            return True


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


class AnswerStore:
    """Answers by id in `<data dir>/slack.sqlite3`; entries older than 90 days are dropped on open."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS answers (id TEXT PRIMARY KEY, created REAL, channel TEXT, thread_ts TEXT, payload TEXT)"
            )
            self._db.execute("DELETE FROM answers WHERE created < ?", (time.time() - _KEEP_DAYS * 86400,))
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"{path}: cannot open the Slack answer store ({exc}); check that the data dir is writable") from exc

    def add(self, answer: Answer, channel: str, thread_ts: str | None) -> str:
        answer_id = uuid.uuid4().hex[:16]
        row = (answer_id, time.time(), channel, thread_ts, json.dumps(answer.to_json(), ensure_ascii=False))
        with self._lock:
            self._db.execute("INSERT INTO answers VALUES (?, ?, ?, ?, ?)", row)
        return answer_id

    def get(self, answer_id: str) -> StoredAnswer | None:
        with self._lock:
            row = self._db.execute("SELECT channel, thread_ts, payload FROM answers WHERE id = ?", (answer_id,)).fetchone()
        if row is None:
            return None
        return StoredAnswer(answer_id, answer_from_json(json.loads(row[2])), row[0], row[1])

    def close(self) -> None:
        with self._lock:
            self._db.close()


class FeedbackLog:
    """Appends one JSON object per line; a line is written with one call, so concurrent clicks never interleave."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()

    def record(self, *, verdict: str, user: str, answer_id: str, stored: StoredAnswer | None, channel: str) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "time": datetime.now(UTC).isoformat(timespec="seconds"),
            "verdict": verdict,
            "user": user,
            "channel": channel,
            "answer_id": answer_id,
        }
        if stored is not None:
            payload = stored.answer.to_json()
            entry.update(
                question=payload["question"], answer=payload["answer"], answered=payload["answered"], citations=payload["citations"]
            )
        else:
            entry["missing"] = "the answer is no longer in the answer store"
        line = json.dumps(entry, ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line)
        return entry
