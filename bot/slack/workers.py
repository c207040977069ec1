"""newsbot's own worker pool for Slack: everything slow runs here, never before an ack.

Reactions, thread reads, answers, posts and their 429 back-off (slack_sdk's retry handler sleeps
for Retry-After) all run in these threads, so the threads that acknowledge Slack's requests stay
free. The queue is bounded: when it is full, a job's cheap `shed` notice ("busy, try again")
goes to a lane of its own instead, so a burst is told to retry rather than silently dropped.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

log = logging.getLogger("newsbot.slack")

Job = Callable[[], None]
_STOP = None


class _Lane:
    """`threads` threads taking jobs from one bounded queue."""

    def __init__(self, name: str, threads: int, size: int):
        self.jobs: queue.Queue[Job | None] = queue.Queue(maxsize=size)
        self.threads = [threading.Thread(target=self._run, name=f"{name}-{n}", daemon=True) for n in range(threads)]
        for thread in self.threads:
            thread.start()

    def offer(self, job: Job) -> bool:
        try:
            self.jobs.put_nowait(job)
            return True
        except queue.Full:
            return False

    def _run(self) -> None:
        while (job := self.jobs.get()) is not _STOP:
            try:
                job()
            except Exception:  # a pool would swallow it: log it, keep the thread
                log.exception("%s failed", getattr(job, "__name__", "slack work"))

    def close(self) -> None:
        for _ in self.threads:
            self.jobs.put(_STOP)  # after the jobs already queued
        for thread in self.threads:
            thread.join(60)


class Workers:
    """Run jobs on `threads` threads with at most `queue_size` waiting; `submit` never blocks."""

    def __init__(self, threads: int, queue_size: int, name: str = "newsbot-slack"):
        self._work = _Lane(name, threads, queue_size)
        self._notices = _Lane(f"{name}-busy", 1, max(queue_size, 100))

    def submit(self, job: Job, shed: Job | None = None) -> bool:
        """Queue `job`; when the queue is full, queue `shed` (the polite refusal) and return False."""
        if self._work.offer(job):
            return True
        log.warning("the Slack work queue is full (%d waiting): shedding %s", self._work.jobs.maxsize, getattr(job, "__name__", "a job"))
        if shed is not None and not self._notices.offer(shed):
            log.warning("the busy-notice queue is full too: a request goes unanswered")
        return False

    @property
    def waiting(self) -> int:
        return self._work.jobs.qsize()

    def close(self) -> None:
        """Finish what is queued, then stop the threads."""
        self._work.close()
        self._notices.close()
