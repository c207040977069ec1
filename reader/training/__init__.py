"""Training the reader on SQuAD with made unanswerables: `python -m reader.training` (see README)."""
