"""Measuring the bot: data set loaders, metrics, the eval runner and a naive-RAG baseline.

`newsbot eval` and `benchmarks/report.py` are the faces; `run_eval()` is the core.
"""
