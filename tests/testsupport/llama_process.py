"""The llama.cpp server process the tests start (testsupport.llm_server): `python llama_process.py GGUF THREADS
MAX_TOKENS GRAMMAR` loads the model with xllamacpp, prints the address it listens on, and serves until its
stdin closes. Only the standard library and xllamacpp: it starts in a fraction of a second."""

from __future__ import annotations

import sys


def serve(gguf: str, threads: int, max_tokens: int, grammar: str) -> None:
    """Load the model, print the address, serve until stdin closes."""
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = gguf
    params.port = 0  # a free port, chosen when it binds; 127.0.0.1 is its default host
    params.n_ctx = 4096
    params.n_predict = max_tokens  # a rambling reply cannot hold a test for minutes
    # One thread: with the other core busy, two llama.cpp threads wait on each other (10x slower here).
    params.cpuparams.n_threads = threads
    params.cpuparams_batch.n_threads = threads
    if grammar:
        params.sampling.grammar = xllamacpp.CommonGrammar(xllamacpp.common_grammar_type.COMMON_GRAMMAR_TYPE_USER, grammar)
    server = xllamacpp.Server(params)
    print(server.listening_address, flush=True)
    sys.stdin.read()  # EOF: the tests are done (or gone)
    del server


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
