"""User-facing failures: one type per kind, each message names what to fix."""

from __future__ import annotations


class NewsbotError(Exception):
    """Base of every error the CLI prints as one line and Slack replies with."""


class ConfigError(NewsbotError):
    """A setting or the config file is invalid."""


class ArticleError(NewsbotError):
    """One input file or record cannot be read or parsed; the others still index."""

    def __init__(self, path: str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class StoreError(NewsbotError):
    """The index cannot be opened or written (data dir not writable, Chroma server unreachable)."""


class ModelError(NewsbotError):
    """The embedding or language model cannot be loaded or reached."""
