"""newsbot: answers questions about news articles with cited passages (CLI and Slack).

The public API, imported lazily (the CLI must not pay for LangChain or the models to start):

    from bot import NewsBot, BotSettings, Answer, Citation, Turn
    bot = NewsBot(BotSettings.from_env())
    answer = bot.ask("Who led the US delegation?")
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.answer import Answer, Citation, Turn
    from bot.chain import NewsBot
    from bot.settings import BotSettings

_EXPORTS = {
    "Answer": "bot.answer",
    "Citation": "bot.answer",
    "Turn": "bot.answer",
    "NewsBot": "bot.chain",
    "BotSettings": "bot.settings",
}
__all__ = ["Answer", "BotSettings", "Citation", "NewsBot", "Turn"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
