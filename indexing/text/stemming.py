"""The English Snowball stemmer (PyStemmer) that BM25 and the answerer share, one per thread.

A PyStemmer instance keeps internal state and "must not be called concurrently", while questions
arrive on several threads (Slack) and the keyword index is updated in the background. One instance
per thread is safe, and keeps each instance's word cache warm (creating one per call would not).
"""

from __future__ import annotations

import threading

_LOCAL = threading.local()


def english_stemmer():
    """This thread's Stemmer.Stemmer("english")."""
    stemmer = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _LOCAL.stemmer = Stemmer.Stemmer("english")
    return stemmer
