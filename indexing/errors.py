"""User-facing failures: one type per kind, each message names what to fix."""

from __future__ import annotations


class NewsbotError(Exception):
    """Base of every error the CLI prints as one line and Slack replies with."""


class ConfigError(NewsbotError):
    """A setting or the config file is invalid."""


class ArticleError(NewsbotError):
    """One input file, folder entry or record cannot be read or parsed; the others still index.

    `path` is the file (or folder entry) and nothing else; `record` says which record of a file of many
    ("record 0", "line 4"), or is None. `kind` names the reason without its details ("invalid JSON",
    "symlink loop"): reports group by it.
    """

    def __init__(self, path: str, reason: str, kind: str = "unreadable", record: str | None = None):
        # Reports go to terminals and JSON: a lone surrogate from a file's bytes is written as \udcXX.
        path, reason = _printable(path), _printable(reason)
        super().__init__(f"{path} ({record}): {reason}" if record else f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.kind = kind
        self.record = record

    @property
    def place(self) -> str:
        """The file, and the record in it when there is one: what a line of a report names."""
        return f"{self.path} ({self.record})" if self.record else self.path


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


class StoreError(NewsbotError):
    """The index cannot be opened or written (data dir not writable, Chroma server unreachable)."""


class StoreUnavailable(StoreError):
    """The index was open, and a read or write then failed (a Chroma server stopped, the owning process
    gone and no other could take over). Nothing is lost: faces say so and carry on, and the next call
    tries again, so they recover once the store is back."""


class StoreBusy(StoreError):
    """The embedded index is held by another process that cannot share it (see indexing.store.owner)."""


class ModelError(NewsbotError):
    """The embedding or language model cannot be loaded or reached."""
