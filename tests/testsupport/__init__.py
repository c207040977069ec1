"""Helpers the tests share (corpora, real servers, Slack's and OpenAI's side of the wire); not tests."""
