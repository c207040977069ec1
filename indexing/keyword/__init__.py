"""The keyword index: incremental, segmented BM25 derived from Chroma."""
