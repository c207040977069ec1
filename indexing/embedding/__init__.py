"""Embedding: the local sentence-transformers model, and its ONNX export for the query path."""
