"""Which answerer a bot uses, decided once from the settings: a generative model when one is
configured, else the offline answerer named by NEWSBOT_ANSWERER (the trained reader by default)."""

from __future__ import annotations

from pathlib import Path

from bot.answering.base import Answerer
from bot.settings import BotSettings
from indexing import ModelError, NewsIndex, resolve_model_dir


def choose_answerer(settings: BotSettings, index: NewsIndex, name: str | None = None) -> Answerer:
    """The answerer for these settings; `name` (reader | heuristic | generative) overrides them (eval)."""
    name = name or ("generative" if settings.llm else settings.answerer)
    threshold = settings.min_confidence
    if name == "generative":
        from bot.answering.generative import GenerativeAnswerer

        return GenerativeAnswerer.from_settings(settings)
    if name == "heuristic":
        from bot.answering.heuristic import DEFAULT_MIN_CONFIDENCE, HeuristicAnswerer

        return HeuristicAnswerer(index.query_embedder, DEFAULT_MIN_CONFIDENCE if threshold is None else threshold, settings.top_k)
    if name == "reader":
        return reader_answerer(settings, index)
    if name.startswith("reader:"):  # other weights, side by side with the shipped ones (eval)
        return reader_answerer(settings, index, Path(name.removeprefix("reader:")).expanduser())
    raise ModelError(f"unknown answerer {name!r}: use reader, reader:WEIGHTS_DIR, heuristic or generative")


def reader_answerer(settings: BotSettings, index: NewsIndex, weights: Path | None = None) -> Answerer:
    """The trained reader on `weights` (default: the shipped ones), calibrated by their calibration.json."""
    from bot.answering.reader import ReaderAnswerer
    from newsbot_reader.runtime import WEIGHTS_DIR, ReaderSession, ensure_onnx, load_calibration, weights_available

    weights = weights or WEIGHTS_DIR
    if not weights_available(weights):
        if weights != WEIGHTS_DIR:
            raise ModelError(f"no reader weights in {weights}: it needs reader.fp16.safetensors and config.json")
        raise ModelError(
            "the reader's weights are not in this installation (newsbot_reader/weights): reinstall newsbot, or set NEWSBOT_ANSWERER=heuristic"
        )
    graph = ensure_onnx(settings.index.cache_dir / "reader", weights)
    tokenizer = resolve_model_dir(index.settings.embed_model) / "tokenizer.json"
    session = ReaderSession(graph, tokenizer, threads=index.settings.threads)
    return ReaderAnswerer(session, load_calibration(weights), settings.min_confidence, settings.top_k)
