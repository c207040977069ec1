"""`newsbot`: the command line (typer). Errors a user can fix print as one line on stderr with exit
code 1; `--json` prints exactly one JSON document on stdout.

The commands live by concept: `commands` (index, status, ask, chat, eval, slack) and `feeds`
(watch, feeds); importing them here registers them on the one typer `app`, core commands first,
so `newsbot --help` lists them in that order.
"""

from __future__ import annotations

import logging
import os

from bot.cli import commands, feeds  # noqa: F401  (registers the commands on `app`)
from bot.cli.common import app, load_settings, open_index

__all__ = ["app", "load_settings", "main", "open_index"]


def main() -> None:
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    app()
