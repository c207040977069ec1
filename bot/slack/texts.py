"""What the bot says in Slack besides answers: help, the busy notice, apologies, the side panel's greeting."""

from __future__ import annotations

from indexing.errors import NewsbotError

HELP = (
    "*Ask me about the news* and I answer from the indexed articles, citing the passages.\n"
    "• Mention me in a channel: `@newsbot who led the US delegation?` (I reply in the thread; "
    "ask follow-ups there)\n"
    "• Send me a direct message, or open me in Slack's AI side panel\n"
    "• `/newsbot <question>`: only you see the answer, with a button to post it to the channel\n"
    "• `/newsbot reindex` (admins): index new and changed articles now"
)
BUSY = ":hourglass: I am answering a lot of questions right now; please ask again in a minute."
GREETING = "Hi! Ask me about the news: I answer from the indexed articles and cite the passages."
SUGGESTED_PROMPTS_TITLE = "Try asking"
SUGGESTED_PROMPTS = (
    {"title": "Today's main story", "message": "What is the main story in the news today?"},
    {"title": "Who said it?", "message": "Who led the US delegation to the talks?"},
    {"title": "What happened next?", "message": "What did the talks agree on?"},
)
SEARCHING = "searching the articles…"
TITLE_LIMIT = 120


def apology(exc: BaseException) -> str:
    if isinstance(exc, NewsbotError):
        return f":warning: Sorry, I could not answer that: {exc}"
    return ":warning: Sorry, something went wrong while answering. The error is logged; please try again later."
