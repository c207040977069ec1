"""Follow-up questions an answer suggests, read from the answer itself (no model, the same every time).

- The same story elsewhere: for each outlet that carried a cited passage too (a wire copy's
  `also_in`), the question again limited to it (`from:apnews.com`).
- What came after: the question again, in articles published after the newest cited one
  (`after:2024-05-03`), and before the oldest (`before:…`) when the citations span several days.

They use the search words users already know (bot.slack.search_words), so a suggestion asked is a
question like any other. A refusal suggests nothing: no article said anything to follow up.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath
from urllib.parse import urlsplit

from bot.answer import Answer

MAX_FOLLOW_UPS = 3  # Slack's side panel shows up to 4 suggested prompts; a message keeps to a short row


@dataclass(frozen=True)
class FollowUp:
    title: str  # the button's or the suggested prompt's label
    message: str  # what is asked when it is chosen


def follow_ups(answer: Answer) -> list[FollowUp]:
    """Up to MAX_FOLLOW_UPS follow-ups the answer's citations suggest, in a fixed order."""
    question = answer.standalone_question or answer.question
    if not answer.answered or not answer.citations or not question:
        return []
    found: list[FollowUp] = []
    seen = {_outlet(c.source) for c in answer.citations}
    for citation in answer.citations:
        for copy in citation.also_in:
            outlet = _outlet(copy.source)
            if outlet and outlet not in seen and not any(ch.isspace() for ch in outlet):  # a search word ends at a space
                seen.add(outlet)
                found.append(FollowUp(f"As {outlet} reported it", f"{question} from:{outlet}"))
    days = sorted({c.published for c in answer.citations if c.published})
    if days:
        found.append(FollowUp(f"Anything newer than {days[-1].isoformat()}?", f"{question} after:{days[-1].isoformat()}"))
    if len(days) > 1:
        found.append(FollowUp(f"Reports before {days[0].isoformat()}", f"{question} before:{days[0].isoformat()}"))
    return found[:MAX_FOLLOW_UPS]


def _outlet(source: str) -> str:
    """What `from:` names a source by: a site's domain, or the folder an article file lies in."""
    if source.startswith(("http://", "https://")):
        return (urlsplit(source).hostname or "").removeprefix("www.")
    return PurePath(source).parent.name if source else ""
