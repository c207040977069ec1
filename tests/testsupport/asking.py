"""A bot process that answers in a loop, the code path of `chat` and Slack, logging every answer.

    python -c "from testsupport.asking import main; main()" LOG STOP QUESTION...

One JSON line per question on LOG: the time, whether it failed (and why), the cited articles and
quotes. Runs until the file STOP exists. Settings come from the environment, as for `newsbot`.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def main() -> None:
    log_path, stop, questions = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3:]
    from bot.chain import NewsBot
    from bot.settings import BotSettings

    bot = NewsBot(BotSettings.from_env())
    with log_path.open("a", encoding="utf-8") as log:
        while not stop.exists():
            for question in questions:
                record: dict = {"t": time.time(), "question": question}
                try:
                    answer = bot.ask(question)
                    record.update(
                        ok=True,
                        answered=answer.answered,
                        text=answer.text,
                        articles=[c.article_id for c in answer.citations],
                        quotes=[c.quote for c in answer.citations],
                        owner=bool(getattr(bot.index.store.client, "owner", False)),
                    )
                except Exception as exc:  # noqa: BLE001 - a failed question is what the test counts
                    record.update(ok=False, error=f"{exc.__class__.__name__}: {exc}")
                log.write(json.dumps(record) + "\n")
                log.flush()
