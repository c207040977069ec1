"""The store: Chroma chunks and the article registry, committed hashes, vectors in metadata."""
