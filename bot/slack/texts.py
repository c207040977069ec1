"""What the bot says in Slack besides answers: help, the busy notice, apologies, the side panel's greeting."""

from __future__ import annotations

from indexing import ConfigError, ModelError, StoreError

HELP = (
    "*Ask me about the news* and I answer from the indexed articles, citing the passages.\n"
    "• Mention me in a channel: `@newsbot who led the US delegation?` (I reply in the thread; "
    "ask follow-ups there)\n"
    "• Send me a direct message, or open me in Slack's AI side panel\n"
    "• `/newsbot <question>`: only you see the answer, with a button to post it to the channel\n"
    "• `/newsbot reindex` (admins): index new and changed articles now\n"
    "• `/newsbot sources` (admins): the folders and feeds this channel answers from"
)
BUSY = ":hourglass: I am answering a lot of questions right now; please ask again in a minute."
GREETING = "Hi! Ask me about the news: I answer from the indexed articles and cite the passages."
SUGGESTED_PROMPTS_TITLE = "Try asking"
SUGGESTED_PROMPTS = (
    {"title": "Today's main story", "message": "What is the main story in the news today?"},
    {"title": "Who said it?", "message": "Who led the US delegation to the talks?"},
    {"title": "What happened next?", "message": "What did the talks agree on?"},
)
FOLLOW_UPS_TITLE = "Follow up"
SEARCHING = "searching the articles…"
TITLE_LIMIT = 120


def apology(exc: BaseException) -> str:
    """A fixed text per kind of failure, never the error's own words: those can hold an internal address
    (the model's, the Chroma server's) or text a model wrote (`<!channel>`). The log has the details."""
    if isinstance(exc, StoreError):
        what = "the article index is not reachable right now; please try again in a few minutes."
    elif isinstance(exc, ModelError):
        what = "the language model is not answering right now; please try again in a few minutes."
    elif isinstance(exc, ConfigError):
        what = "newsbot is not set up correctly; its admin can find the details in its log."
    else:
        what = "something went wrong while answering. The error is logged; please try again later."
    return f":warning: Sorry, {what}"
