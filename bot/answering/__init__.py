"""Answering: the Answerer contract and its implementations (reader, heuristic, generative)."""
