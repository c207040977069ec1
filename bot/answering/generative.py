"""The generative option: any OpenAI-compatible chat model (OpenAI, Ollama, llama.cpp, vLLM) via LangChain.

The model sees the rules in the system message (prompts/answer.md), the top passages in a message of
their own, numbered and delimited as data (answer_passages.md), and the question last
(answer_question.md); it must cite passages as [n]. We keep only the passages the reply actually cites
(renumbered in order of first use), drop numbers that match no passage, and treat a reply that cites
nothing, or that the passages it cites do not back (bot.answering.support), as "not found". Quotes are
still sentences of the indexed articles: for each cited passage, its sentence closest to the answer.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

from pydantic import SecretStr

from bot.answer import CITATION_MARK, Answer, Citation, Turn, strip_citation_marks
from bot.answering.base import Request
from bot.answering.prompts import render_prompt
from bot.answering.question import content_words, stems
from bot.answering.quotes import citation
from bot.answering.support import unsupported
from bot.retrieval.search import Passage
from bot.settings import BotSettings
from indexing import ConfigError, ModelError, secret

_NOT_FOUND = re.compile(r"^\W*not[_ ]found\W*$", re.I)
OLLAMA_URL = "http://127.0.0.1:11434/v1"


def chat_model(settings: BotSettings) -> Any:
    """A LangChain chat model from NEWSBOT_LLM: openai:MODEL, ollama:MODEL, or an OpenAI-compatible URL."""
    from langchain_openai import ChatOpenAI

    spec = (settings.llm or "").strip()
    base_url: str | None
    provider, _, name = spec.partition(":")
    if spec.startswith(("http://", "https://")):
        base_url, model, key = spec, settings.llm_model or "default", secret(settings.llm_api_key) or "not-needed"
    elif provider == "openai" and name:
        if not secret(settings.llm_api_key) and not settings.llm_base_url:
            raise ConfigError("NEWSBOT_LLM=openai:... needs OPENAI_API_KEY (or NEWSBOT_LLM_API_KEY) in the environment")
        base_url, model, key = settings.llm_base_url, name, secret(settings.llm_api_key) or "not-needed"
    elif provider == "ollama" and name:
        base_url, model, key = settings.llm_base_url or OLLAMA_URL, name, secret(settings.llm_api_key) or "ollama"
    else:
        raise ConfigError(f"NEWSBOT_LLM={spec!r} is not understood: use openai:MODEL, ollama:MODEL or an OpenAI-compatible base URL")
    return ChatOpenAI(model=model, base_url=base_url, api_key=SecretStr(key), temperature=0, timeout=settings.llm_timeout, max_retries=1)


def format_passages(passages: Sequence[Passage]) -> str:
    """Numbered passages as delimited data; markup inside the text is escaped so it cannot close the tag."""
    blocks = []
    for n, p in enumerate(passages, start=1):
        c = p.chunk
        blocks.append(
            f'<passage n="{n}" title="{escape(c.title)}" date="{c.published or "unknown"}">\n{escape(c.text, quote=False)}\n</passage>'
        )
    return "\n".join(blocks)


def format_history(history: Sequence[Turn]) -> str:
    lines = []
    for turn in history:
        lines.append(f"User: {turn.question}")
        if turn.answer:
            lines.append(f"Assistant: {strip_citation_marks(turn.answer)}")
    return "\n".join(lines)


@dataclass
class GenerativeAnswerer:
    model: Any  # a LangChain BaseChatModel
    endpoint: str
    top_k: int = 5  # passages the model sees
    name: str = "generative"

    @classmethod
    def from_settings(cls, settings: BotSettings) -> GenerativeAnswerer:
        return cls(chat_model(settings), settings.llm_base_url or settings.llm or "", settings.top_k)

    def _invoke(self, prompt: str | list[tuple[str, str]], on_text: Callable[[str], None] | None = None) -> str:
        """The model's reply; with `on_text`, streamed (`model.stream`) and handed over piece by piece as it comes."""
        if on_text is not None:
            pieces = []
            for piece in self._stream(prompt):  # on_text runs here, outside the model's error handling
                pieces.append(piece)
                on_text(piece)
            return "".join(pieces).strip()
        try:
            reply = self.model.invoke(prompt)
        except Exception as exc:  # the client raises many transport and API error types
            raise ModelError(f"the language model at {self.endpoint} failed: {exc.__class__.__name__}: {exc}") from exc
        return _text(reply).strip()

    def _stream(self, prompt: str | list[tuple[str, str]]) -> Iterator[str]:
        try:
            for chunk in self.model.stream(prompt):
                if piece := _text(chunk):
                    yield piece
        except Exception as exc:
            raise ModelError(f"the language model at {self.endpoint} failed: {exc.__class__.__name__}: {exc}") from exc

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        rewritten = self._invoke(render_prompt("condense", history=format_history(history), question=question))
        return rewritten.strip().strip('"') or question

    def answer(self, request: Request, passages: Sequence[Passage]) -> Answer:
        """The model's answer from the top passages; the prompt names the day asked, so "this week" reads right."""
        passages = passages[: self.top_k]
        if not passages:
            return Answer.refusal(request.question, request.standalone)
        day = (request.as_of or date.today()).isoformat()
        messages = [  # rules, data and question apart: a passage's words never read as the rules' own
            ("system", render_prompt("answer", today=day)),
            ("human", render_prompt("answer_passages", passages=format_passages(passages))),
            ("human", render_prompt("answer_question", question=request.standalone)),
        ]
        return parse_reply(self._invoke(messages, request.on_text), request.question, request.standalone, passages)

    def rerank(self, request: Request, passages: Sequence[Passage]) -> list[Passage]:
        return list(passages)


def _text(reply: Any) -> str:
    """A message's (or a streamed chunk's) text, content blocks joined."""
    content = reply.content if hasattr(reply, "content") else reply
    if isinstance(content, list):  # content blocks
        content = "".join(part.get("text", "") if isinstance(part, dict) else str(part) for part in content)
    return str(content)


def parse_reply(reply: str, question: str, standalone: str, passages: Sequence[Passage]) -> Answer:
    """Keep only citations of passages that exist; an answer that cites none, or that the passages it
    cites do not back, is not an answer."""
    order: list[int] = []
    for m in CITATION_MARK.finditer(reply):
        n = int(m.group(1))
        if 1 <= n <= len(passages) and n not in order:
            order.append(n)
    trace = {"llm_reply": reply, "cited": order}
    closest = tuple(_best_sentence(p, standalone) for p in passages[:3])
    if _NOT_FOUND.match(reply) or not order:
        return Answer.refusal(question, standalone, closest=closest, trace=trace)
    trace["unsupported"] = unsupported(reply, [passages[n - 1].chunk.text for n in order], standalone)
    if trace["unsupported"]:  # an instruction inside a passage, or the model's own knowledge
        return Answer.refusal(question, standalone, closest=closest, trace=trace)
    renumber = {old: new for new, old in enumerate(order, start=1)}

    def mark(m: re.Match) -> str:
        n = int(m.group(1))
        return f"[{renumber[n]}]" if n in renumber else ""

    text = re.sub(r"\s+([.,;:])", r"\1", CITATION_MARK.sub(mark, reply)).strip()
    citations = tuple(_best_sentence(passages[n - 1], text) for n in order)
    return Answer.from_spans(text, citations, question, standalone, confidence=1.0, trace=trace)


def _best_sentence(passage: Passage, text: str) -> Citation:
    """The passage's sentence sharing most key terms with `text`: a verbatim quote, never model output."""
    chunk = passage.chunk
    wanted = set(stems(content_words(strip_citation_marks(text))))
    best, best_overlap = chunk.sentences[0] if chunk.sentences else (chunk.start, chunk.end), -1
    for start, end in chunk.sentences:
        overlap = len(wanted & set(stems(content_words(chunk.excerpt(start, end)))))
        if overlap > best_overlap:
            best, best_overlap = (start, end), overlap
    return citation(passage, best[0], best[1], passage.score)
