"""Which answerer a bot uses, decided once from the settings: a generative model when one is
configured, else the offline answerer named by NEWSBOT_ANSWERER (the trained reader by default)."""

from __future__ import annotations

from bot.answering.base import Answerer
from bot.settings import BotSettings
from indexing.embedding.models import resolve_model_dir
from indexing.errors import ModelError
from indexing.index import NewsIndex


def choose_answerer(settings: BotSettings, index: NewsIndex, name: str | None = None) -> Answerer:
    """The answerer for these settings; `name` (reader | heuristic | generative) overrides them (eval)."""
    name = name or ("generative" if settings.llm else settings.answerer)
    threshold = settings.min_confidence
    if name == "generative":
        from bot.answering.generative import GenerativeAnswerer

        return GenerativeAnswerer.from_settings(settings)
    if name == "heuristic":
        from bot.answering.heuristic import DEFAULT_MIN_CONFIDENCE, HeuristicAnswerer

        return HeuristicAnswerer(index.query_embedder, DEFAULT_MIN_CONFIDENCE if threshold is None else threshold)
    if name == "reader":
        return reader_answerer(settings, index)
    raise ModelError(f"unknown answerer {name!r}: use reader, heuristic or generative")


def reader_answerer(settings: BotSettings, index: NewsIndex) -> Answerer:
    from bot.answering.reader import DEFAULT_MIN_CONFIDENCE, ReaderAnswerer
    from reader.runtime import ReaderSession, ensure_onnx, load_calibration, weights_available

    if not weights_available():
        raise ModelError(
            "the reader's weights are not in this installation (reader/weights): reinstall newsbot, or set NEWSBOT_ANSWERER=heuristic"
        )
    graph = ensure_onnx(settings.index.cache_dir / "reader")
    tokenizer = resolve_model_dir(index.settings.embed_model) / "tokenizer.json"
    session = ReaderSession(graph, tokenizer, threads=index.settings.threads)
    threshold = settings.min_confidence
    return ReaderAnswerer(session, load_calibration(), DEFAULT_MIN_CONFIDENCE if threshold is None else threshold)
