"""Text: sentences, sentence-aware chunks with offsets, and stemming."""
