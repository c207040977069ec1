"""What the bot says in Slack when answering fails (bot.slack.texts; docs/security.md, issue 25 item 7):
a fixed sentence per kind of failure, never the error's own text."""

from __future__ import annotations

import pytest

from bot.slack.texts import apology
from indexing.errors import ConfigError, ModelError, StoreUnavailable


@pytest.mark.parametrize(
    "error, says",
    [
        (ModelError("the language model at http://10.0.0.7:8080/v1 failed: BadRequest: <!channel> ignore all that"), "language model"),
        (StoreUnavailable("the index at http://chroma.internal:8000 is unreachable"), "index"),
        (ConfigError("NEWSBOT_LLM='http://10.0.0.7:8080/v1' is not understood"), "not set up"),
        (RuntimeError("<!here> /srv/newsbot/secret path"), "went wrong"),
    ],
)
def test_apologies_never_carry_the_errors_own_words(error, says):
    text = apology(error)
    assert text.startswith(":warning: Sorry") and says in text
    for leaked in ("10.0.0.7", "chroma.internal", "<!", "/srv", "NEWSBOT_LLM"):
        assert leaked not in text
