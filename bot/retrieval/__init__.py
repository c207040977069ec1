"""Retrieval: hybrid dense + keyword search over the index, scoped in time."""
