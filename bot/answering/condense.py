"""Follow-up questions: turn "and who led the Russian side?" into a question that stands alone.

Offline, a follow-up that leans on earlier turns (a pronoun, a leading "and"/"what about", or no
key term of its own) gets the earlier question and answer appended as context, so retrieval sees
the topic and entities. With an LLM configured, `prompts/condense.md` rewrites it instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.answer import Turn, strip_citation_marks
from bot.answering.question import content_words

_DEPENDENT = re.compile(
    r"^\s*(and|but|also|so|then|what about|how about|and what|what else)\b"
    r"|\b(he|she|him|her|his|hers|they|them|their|it|its|that|this|those|these|there|then|the same|the other)\b",
    re.I,
)
_MAX_TURNS = 2


def needs_context(question: str) -> bool:
    return bool(_DEPENDENT.search(question)) or len(content_words(question)) <= 1


def condense_offline(question: str, history: Sequence[Turn]) -> str:
    """The question, plus the last turns' question and answer when it depends on them."""
    if not history or not needs_context(question):
        return question
    context = []
    for turn in list(history)[-_MAX_TURNS:]:
        context.append(turn.question.strip())
        answer = strip_citation_marks(turn.answer)
        if answer and len(answer) < 200:
            context.append(answer)
    return f"{question.strip()} ({' '.join(context)})"
