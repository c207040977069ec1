"""Python's own expat parses every feed: a warning, once a process, when it predates known fixes."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)

# feedparser reads feeds with Python's expat, and Python carries its own copy: 3.11.7's is 2.5.0. Expat
# 2.6.0 (CVE-2023-52425), 2.6.3 (CVE-2024-45490/45491/45492), 2.7.0 (CVE-2024-8176) and 2.7.2
# (CVE-2025-59375) fixed flaws that untrusted XML reaches (docs/security.md).
MIN_EXPAT = (2, 7, 2)
_expat_checked = threading.Event()


def warn_if_old_expat() -> None:
    """Once per process: a warning when this Python's expat predates MIN_EXPAT."""
    if _expat_checked.is_set():
        return
    _expat_checked.set()
    import pyexpat

    if tuple(pyexpat.version_info) < MIN_EXPAT:
        log.warning(
            "this Python parses feeds with %s, older than expat %s that fixed flaws untrusted XML can reach; "
            "run a newer Python patch release (docs/security.md)",
            pyexpat.EXPAT_VERSION,
            ".".join(map(str, MIN_EXPAT)),
        )
