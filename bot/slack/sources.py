"""`/newsbot sources`: the folders and feeds a channel answers from. Admins only (NEWSBOT_SLACK_ADMINS).

- `/newsbot sources` lists the channel's sources; a channel with none sees every indexed article.
- `/newsbot sources add <folder or feed URL>` binds one: questions asked in the channel (mentions,
  threads, `/newsbot`) are then answered from its sources alone, through the metadata filter inside
  both retrievers (bot.retrieval.filters, `Filters.within`), not by sifting the results.
- `/newsbot sources remove <source>` unbinds one.

A folder is kept as its absolute path on newsbot's machine and must exist there; a feed as its URL
(a followed feed's articles are those of its site). The bindings live in the shared state database
(bot.slack.store), so every process and machine answers the same. Each reply is one statement on
that database, given in the command's acknowledgement.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

from bot.slack.blocks import escape
from bot.slack.face import Face
from bot.slack.replies import Workspace

log = logging.getLogger("newsbot.slack")

USAGE = (
    "`/newsbot sources` lists this channel's sources · `/newsbot sources add <folder or feed URL>` binds one · "
    "`/newsbot sources remove <source>` unbinds one"
)
NOT_ADMIN = "Only the admins listed in NEWSBOT_SLACK_ADMINS can change or list a channel's sources."
_SLACK_LINK = re.compile(r"^<([^|>]+)(?:\|[^>]*)?>$")  # Slack sends a URL typed in a command as <https://…|…>


def is_sources_command(text: str) -> bool:
    return text.split(maxsplit=1)[:1] == ["sources"]


def sources_command(face: Face, where: Workspace, user: str, channel: str, text: str) -> str:
    """The ephemeral reply to `/newsbot sources …` (`text` is the command's text)."""
    if user not in face.bot.settings.slack_admins:
        log.info("refused /newsbot %s from %s (not in NEWSBOT_SLACK_ADMINS)", text, user)
        return NOT_ADMIN
    words = text.split(maxsplit=2)[1:]
    action = words[0].lower() if words else "list"
    value = _plain(words[1]) if len(words) > 1 else ""
    if action == "list" and not value:
        return _listing(face.state.sources(where.team_id, channel))
    if action not in ("add", "remove") or not value:
        return USAGE
    if action == "remove":
        removed = face.state.unbind_source(where.team_id, channel, _stored(value) or value)
        removed = removed or face.state.unbind_source(where.team_id, channel, value)
        if not removed:
            return f"`{escape(value)}` is not one of this channel's sources. " + _listing(face.state.sources(where.team_id, channel))
        log.info("/newsbot sources: %s unbound %s from %s", user, value, channel)
        return f"Unbound `{escape(value)}`. " + _listing(face.state.sources(where.team_id, channel))
    source = _stored(value)
    if source is None:
        return f"`{escape(value)}` is neither a folder on newsbot's machine nor a feed URL (https://…). {USAGE}"
    if face.state.bind_source(where.team_id, channel, source, user):
        log.info("/newsbot sources: %s bound %s to %s", user, source, channel)
        return f"Bound `{escape(source)}`. " + _listing(face.state.sources(where.team_id, channel))
    return f"`{escape(source)}` is already one of this channel's sources."


def _plain(value: str) -> str:
    link = _SLACK_LINK.match(value.strip())
    return link.group(1) if link else value.strip()


def _stored(value: str) -> str | None:
    """How a source is kept: a feed's URL as given, a folder as its absolute path (None: neither)."""
    if value.startswith(("http://", "https://")):
        return value
    try:
        folder = Path(value).expanduser().resolve()
    except (OSError, ValueError):
        return None
    return str(folder) if folder.is_dir() else None


def _listing(sources: tuple[str, ...]) -> str:
    if not sources:
        return "This channel has no sources of its own: questions here are answered from every indexed article."
    listed = "\n".join(f"• `{escape(s)}`" for s in sources)
    return f"Questions in this channel are answered from these sources alone:\n{listed}"
