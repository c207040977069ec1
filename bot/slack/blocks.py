"""Render an Answer as a Slack message: Block Kit blocks plus the plain `text` fallback.

The same Answer the terminal shows: the answer in a mrkdwn section, then one context block per
cited passage ([n], the title (linked when the source is a URL), the date, the quote with the
answer span in bold). A refusal says so and shows no passage as support: the closest passages,
when there are any, come under a label that says they do not answer the question.

Slack's limits are kept with clean cuts ending in "…": 3,000 characters per text object, 50 blocks,
and 11,500 characters of block text in all: Slack documents 40,000 per message, but refuses
`msg_blocks_too_long` from about 12-13k characters of blocks (bolt-js #2509, #2867). Every text is
mrkdwn-escaped (&, <, >), and no text is ever empty (Slack's invalid_blocks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from bot.answer import Answer, Citation, Copy
from bot.slack.followups import FollowUp

TEXT_LIMIT = 3000  # a section's or a context element's text
MAX_BLOCKS = 50
BLOCKS_TEXT_LIMIT = 11_500  # all the text of one message's blocks: below where Slack starts refusing
FALLBACK_LIMIT = 3000  # notifications show the fallback; keep it short
TITLE_LIMIT = 200
ELLIPSIS = "…"
MAX_ALSO_IN = 5  # copies named in a passage's header; the rest are counted
MAX_LINK = 300  # a longer copy's URL is named by its site alone: the header must leave the quote room

FEEDBACK = "newsbot_feedback"  # Slack's feedback_buttons; the clicked button's value is "up:<answer id>" or "down:…"
FEEDBACK_UP = "newsbot_feedback_up"  # the 👍/👎 buttons of answers posted before feedback_buttons: still handled
FEEDBACK_DOWN = "newsbot_feedback_down"
POST_TO_CHANNEL = "newsbot_post"
FOLLOW_UP = "newsbot_follow_up"  # + "_<n>": a suggested follow-up's button; its value is the question
BUTTON_TEXT_LIMIT = 75

Block = dict[str, Any]


def escape(text: str) -> str:
    """Slack's three control characters in mrkdwn (and plain_text fallbacks)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, cut at a word boundary and ending in "…" when cut."""
    if len(text) <= limit:
        return text
    if limit <= len(ELLIPSIS):
        return ELLIPSIS[:limit]
    head = text[: limit - len(ELLIPSIS)]
    space = head.rfind(" ")
    if space > len(head) // 2:
        head = head[:space]
    return head.rstrip() + ELLIPSIS


def cut_start(text: str, limit: int) -> str:
    """Like `cut`, but keeps the end: "…" + the last words."""
    if len(text) <= limit:
        return text
    tail = text[len(text) - (limit - len(ELLIPSIS)) :]
    space = tail.find(" ")
    if 0 <= space < len(tail) // 2:
        tail = tail[space + 1 :]
    return ELLIPSIS + tail.lstrip()


def fit(raw: str, limit: int, render: Callable[[str], str] = escape, cutter: Callable[[str, int], str] = cut) -> str:
    """The longest clean cut of `raw` whose rendering (escaped, formatted) fits in `limit` characters.

    A binary search over the cut's length: escaping makes the rendering longer than the cut by
    an amount that varies along the text ("&" becomes "&amp;"), so no single subtraction finds it.
    Never empty for a non-empty `raw` and a limit of at least one character ("…")."""
    whole = render(raw)
    if len(whole) <= limit:
        return whole
    best, low, high = "", 0, len(raw) - 1  # `high`: one character less than the whole always cuts
    while low <= high:
        budget = (low + high) // 2
        piece = render(cutter(raw, budget))
        if len(piece) <= limit:
            best, low = piece, budget + 1
        else:
            high = budget - 1
    return best


def _bold(raw: str) -> str:
    """Escaped and bold, line by line (mrkdwn bold cannot span lines), whitespace kept outside the stars."""
    lines = []
    for line in raw.split("\n"):
        core = line.strip()
        if not core:
            lines.append(line)
            continue
        lead = line[: len(line) - len(line.lstrip())]
        trail = line[len(line.rstrip()) :]
        lines.append(f"{lead}*{escape(core)}*{trail}")
    return "\n".join(lines)


def quote_mrkdwn(citation: Citation, limit: int, bold_span: bool = True) -> str:
    """The quote, escaped, with the answer span in bold; cut around the span to fit `limit`."""
    span = citation.highlight if bold_span else None
    if not span:
        return fit(citation.quote, limit)
    a, b = span[0] - citation.start, span[1] - citation.start
    pre, mid, post = citation.quote[:a], citation.quote[a:b], citation.quote[b:]
    # Slack only bolds at word boundaries: a zero-width space makes one inside a word.
    left = "\u200b" if pre[-1:].isalnum() else ""
    right = "\u200b" if post[:1].isalnum() else ""
    core = left + _bold(mid) + right
    if len(core) > limit // 2:  # a very long span: show it plain, cut
        return fit(citation.quote, limit)
    room = limit - len(core)
    # Keep the span: cut the text after it first, then the text before it (from the left).
    after = fit(post, max(room - min(len(escape(pre)), room // 2), 0))
    before = fit(pre, room - len(after), cutter=cut_start)
    return before + core + after


def _link_label(title: str) -> str:
    return escape(title).replace("|", "¦")


def _url(url: str) -> str:
    return escape(url.replace("|", "%7C").replace(" ", "%20"))


def passage_header(n: int, citation: Citation) -> str:
    title = cut(citation.title or "(untitled)", TITLE_LIMIT)
    parts = [f"*[{n}]*"]
    if citation.url:
        parts.append(f"<{_url(citation.url)}|{_link_label(title)}>")
    else:
        parts.append(f"*{escape(title)}*")
    if citation.published:
        parts.append(f"· {citation.published.isoformat()}")
    if not citation.url and citation.source:
        parts.append(f"· {escape(PurePath(citation.source).name)}")
    if citation.also_in:
        parts.append("· also in: " + ", ".join(_copy_label(c) for c in citation.also_in[:MAX_ALSO_IN]))
        if len(citation.also_in) > MAX_ALSO_IN:
            parts.append(f"and {len(citation.also_in) - MAX_ALSO_IN} more")
    return " ".join(parts)


def _copy_label(copy: Copy) -> str:
    """A copy of the passage: its site, linked, or its file's name."""
    if copy.source.startswith(("http://", "https://")) and len(copy.source) <= MAX_LINK:
        site = urlsplit(copy.source).hostname or copy.source
        return f"<{_url(copy.source)}|{_link_label(site.removeprefix('www.'))}>"
    if copy.source.startswith(("http://", "https://")):
        return escape((urlsplit(copy.source).hostname or "").removeprefix("www.")[:100])
    return escape(PurePath(copy.source).name[:100])


def passage_block(n: int, citation: Citation, bold_span: bool = True) -> Block:
    header = passage_header(n, citation)
    room = TEXT_LIMIT - len(header) - len("\n“”")
    quote = quote_mrkdwn(citation, room, bold_span)
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": f"{header}\n“{quote}”"}]}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": fit(text, TEXT_LIMIT, render=lambda s: s)}]}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict[str, Any]:
    button: dict[str, Any] = {
        "type": "button",
        "text": {"type": "plain_text", "text": text, "emoji": True},
        "action_id": action_id,
        "value": value,
    }
    if style:
        button["style"] = style
    return button


def feedback_block(answer_id: str) -> Block:
    """Slack's own feedback buttons for AI answers (context_actions), on every answer; values carry its id."""

    def button(verdict: str, text: str, label: str) -> dict[str, Any]:
        return {"text": {"type": "plain_text", "text": text}, "accessibility_label": label, "value": f"{verdict}:{answer_id}"}

    buttons = {
        "type": "feedback_buttons",
        "action_id": FEEDBACK,
        "positive_button": button("up", "Helpful", "This answer was helpful"),
        "negative_button": button("down", "Not helpful", "This answer was not helpful"),
    }
    return {"type": "context_actions", "block_id": "newsbot_feedback", "elements": [buttons]}


def post_block(answer_id: str) -> Block:
    """ "Post to channel" on the ephemeral reply to /newsbot; the value carries the answer's id."""
    return {
        "type": "actions",
        "block_id": "newsbot_actions",
        "elements": [_button("Post to channel", POST_TO_CHANNEL, answer_id, "primary")],
    }


def follow_up_block(follow_ups: Sequence[FollowUp]) -> Block | None:
    """A button per suggested follow-up; a click asks it in the same thread."""
    if not follow_ups:
        return None
    elements = [_button(cut(f.title, BUTTON_TEXT_LIMIT), f"{FOLLOW_UP}_{n}", f.message[:2000]) for n, f in enumerate(follow_ups)]
    return {"type": "actions", "block_id": "newsbot_follow_ups", "elements": elements}


def _text_size(block: Block) -> int:
    size = len(block.get("text", {}).get("text", ""))
    return size + sum(len(e.get("text", "")) for e in block.get("elements", []) if isinstance(e.get("text"), str))


def answer_blocks(
    answer: Answer,
    answer_id: str,
    *,
    show_question: bool = False,
    post_button: bool = False,
    footer: str = "",
    follow_ups: Sequence[FollowUp] = (),
) -> list[Block]:
    """The whole message: question (optional), answer, passages, search note, footer, buttons."""
    head: list[Block] = []
    if show_question and answer.question:
        head.append(_context(f"*Question:* {escape(answer.question)}"))
    prefix = "" if answer.answered else ":mag: "
    answer_text = prefix + fit(answer.text, TEXT_LIMIT - len(prefix))
    head.append({"type": "section", "block_id": "newsbot_answer", "text": {"type": "mrkdwn", "text": answer_text}})
    return head + closing_blocks(answer, answer_id, post_button=post_button, footer=footer, follow_ups=follow_ups, room=head)


def closing_blocks(
    answer: Answer,
    answer_id: str,
    *,
    post_button: bool = False,
    footer: str = "",
    follow_ups: Sequence[FollowUp] = (),
    room: Sequence[Block] = (),
) -> list[Block]:
    """Everything under the answer's text: passages, search note, footer, follow-ups, buttons. A streamed
    answer ends with these (chat.stopStream); `room` is what the message holds already."""
    passages: list[Block] = [passage_block(n, c) for n, c in enumerate(answer.citations, start=1)]
    if not answer.answered and answer.closest:
        passages = [_context("_Closest passages found (they do not answer the question):_")]
        passages += [passage_block(n, c, bold_span=False) for n, c in enumerate(answer.closest, start=1)]

    tail: list[Block] = []
    if answer.standalone_question and answer.standalone_question != answer.question:
        tail.append(_context(f"_Searched for: {escape(answer.standalone_question)}_"))
    if footer:
        tail.append(_context(footer))
    tail += [b for b in (follow_up_block(follow_ups), post_block(answer_id) if post_button else None) if b]
    tail.append(feedback_block(answer_id))

    # Passages fill what the limits leave; a last line says how many did not fit.
    room_blocks = MAX_BLOCKS - len(room) - len(tail) - 1
    room_chars = BLOCKS_TEXT_LIMIT - sum(map(_text_size, [*room, *tail])) - 100  # 100: the "more not shown" line
    kept: list[Block] = []
    for block in passages:
        if len(kept) >= room_blocks or _text_size(block) > room_chars:
            break
        kept.append(block)
        room_chars -= _text_size(block)
    if len(kept) < len(passages):
        kept.append(_context(f"{ELLIPSIS} and {len(passages) - len(kept)} more passage(s) not shown"))
    return kept + tail


def fallback_text(answer: Answer) -> str:
    """The plain `text` of the message: notifications and clients without Block Kit show it."""
    lines = [answer.text]
    if answer.answered:
        for n, c in enumerate(answer.citations, start=1):
            date = f" ({c.published.isoformat()})" if c.published else ""
            lines.append(f"[{n}] {c.title or '(untitled)'}{date}")
    return fit("\n".join(lines), FALLBACK_LIMIT)
