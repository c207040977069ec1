"""Training the reader on SQuAD with made unanswerables: `python -m newsbot_reader.training` (see README)."""
