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

_LINK = re.compile(r"^\s*(and|but|also|so|then|what about|how about|and what|what else)\b[\s,]*", re.I)
_ANAPHOR = re.compile(r"\b(he|she|him|her|his|hers|they|them|their|it|its|that|this|those|these|there|then|the same|the other)\b", re.I)
_MAX_TURNS = 2


def needs_context(question: str) -> bool:
    return bool(_LINK.search(question)) or refers_back(question) or len(content_words(question)) <= 1


def refers_back(question: str) -> bool:
    """A pronoun or "the other" that only an earlier turn can resolve."""
    return bool(_ANAPHOR.search(question))


def own_question(question: str) -> str | None:
    """A follow-up that leans on history only through its opening link ("and who led the Russian
    side?"): the question without it. None when it needs the earlier turns to be understood."""
    own = _LINK.sub("", question).strip()
    if refers_back(own) or len(content_words(own)) <= 1:
        return None
    return own


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
