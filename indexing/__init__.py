"""Reading, chunking, embedding and storing news articles in Chroma; never imports `bot`."""
