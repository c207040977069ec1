"""A folder of malformed entries of every kind a user has fed the indexer, beside good articles.

`build(folder, seed)` writes them and returns what a sync must do with each: the bad entries (each
must be reported by its path) and the good articles (each must be indexed and answerable).
"""

from __future__ import annotations

import json
import os
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from indexing.sources.paths import path_text


@dataclass(frozen=True)
class Good:
    path: Path  # the file (or link) it is read from
    article_id: str  # what the index must hold
    question: str  # a question only this article answers
    answer: str  # words of the answer


@dataclass
class Corpus:
    root: Path
    bad: dict[Path, str] = field(default_factory=dict)  # entry -> the kind of trouble it is
    good: list[Good] = field(default_factory=list)
    sockets: list[socket.socket] = field(default_factory=list)  # kept open so the socket files stay

    def close(self) -> None:
        for s in self.sockets:
            s.close()


_GOOD_FACTS = [
    (
        "Zorblat bakery",
        "Quintana Flores",
        "Mayor Quintana Flores opened the Zorblat bakery on Monday after a long delay.",
        "Who opened the Zorblat bakery?",
    ),
    ("Vellmar ferry", "Ingrid Sato", "Captain Ingrid Sato steered the Vellmar ferry through the storm.", "Who steered the Vellmar ferry?"),
    (
        "Ostrava observatory",
        "Pavel Mensah",
        "Astronomer Pavel Mensah discovered a comet from the Ostrava observatory.",
        "Who discovered a comet from the Ostrava observatory?",
    ),
    (
        "Kelso marathon",
        "Amara Lindqvist",
        "Runner Amara Lindqvist won the Kelso marathon in record time on Sunday.",
        "Who won the Kelso marathon?",
    ),
    (
        "Durrow library",
        "Tomas Okafor",
        "Architect Tomas Okafor designed the new Durrow library with a glass roof.",
        "Who designed the Durrow library?",
    ),
    (
        "Brinmoor dam",
        "Lucia Haddad",
        "Engineer Lucia Haddad inspected the Brinmoor dam after the heavy rains.",
        "Who inspected the Brinmoor dam?",
    ),
    (
        "Fenwick orchestra",
        "Rafael Duarte",
        "Conductor Rafael Duarte led the Fenwick orchestra at the summer festival.",
        "Who led the Fenwick orchestra?",
    ),
    (
        "Tallis bridge",
        "Noor Eriksen",
        "Inspector Noor Eriksen closed the Tallis bridge because of cracked cables.",
        "Who closed the Tallis bridge?",
    ),
]


def _body(sentence: str) -> str:
    return f"{sentence} Residents said they had waited for years. Officials promised more news soon."


def build(root: Path, seed: int = 0, per_kind: int = 20) -> Corpus:
    rng = random.Random(seed)
    corpus = Corpus(root)
    root.mkdir(parents=True, exist_ok=True)
    _write_good(corpus)
    makers = _bad_makers(rng)
    for kind, make in makers.items():
        for n in range(per_kind):
            for path in make(root / kind.replace(" ", "-"), n):
                corpus.bad[path] = kind
    for n in range(per_kind):
        corpus.sockets.append(_socket(root / "sockets" / f"s{n}.txt", corpus))
    return corpus


def _write_good(corpus: Corpus) -> None:
    root = corpus.root / "good"
    root.mkdir(parents=True)
    facts = iter(_GOOD_FACTS)

    def add(path: Path, article_id: str) -> None:
        _, who, _, question = current
        corpus.good.append(Good(path, article_id, question, who))

    current = next(facts)
    p = root / "plain.txt"
    p.write_text(f"December 4, 2022\n{current[0]} news\n{_body(current[2])}\n", encoding="utf-8")
    add(p, path_text(p))
    current = next(facts)
    p = root / "front.md"
    p.write_text(f"---\ntitle: {current[0]} news\ndate: 2023-05-06\n---\n{_body(current[2])}\n", encoding="utf-8")
    add(p, path_text(p))
    current = next(facts)
    p = root / "page.html"
    paragraphs = "".join(f"<p>{s}</p>" for s in _body(current[2]).split(". "))
    p.write_text(f"<html><head><title>{current[0]}</title></head><body><article>{paragraphs}</article></body></html>", encoding="utf-8")
    add(p, path_text(p))
    current = next(facts)
    p = root / "record.json"
    p.write_text(json.dumps({"title": f"{current[0]} news", "text": _body(current[2]), "date": "2021-03-04"}), encoding="utf-8")
    add(p, f"{path_text(p)}#record 0")
    current = next(facts)
    p = root / "lines.jsonl"
    p.write_text(json.dumps({"id": "r1", "title": f"{current[0]} news", "text": _body(current[2])}) + "\n", encoding="utf-8")
    add(p, f"{path_text(p)}#r1")
    current = next(facts)
    # A good article whose name is not UTF-8: indexed, its id escaped (%E9%FF), mapping back to it.
    raw = os.fsencode(root) + b"/latin1-\xe9\xff-name.txt"
    p = Path(os.fsdecode(raw))
    p.write_text(f"{current[0]} news\n{_body(current[2])}\n", encoding="utf-8")
    add(p, path_text(p))
    current = next(facts)
    # A good article reached through a link to a folder: read by the path it is found at.
    elsewhere = corpus.root.parent / f"{corpus.root.name}-elsewhere"
    elsewhere.mkdir(exist_ok=True)
    (elsewhere / "linked.txt").write_text(f"{current[0]} news\n{_body(current[2])}\n", encoding="utf-8")
    (root / "via-link").symlink_to(elsewhere, target_is_directory=True)
    p = root / "via-link" / "linked.txt"
    add(p, path_text(p))
    current = next(facts)
    p = root / "with % sign.txt"
    p.write_text(f"{current[0]} news\n{_body(current[2])}\n", encoding="utf-8")
    add(p, path_text(p))


def _deep(n: int) -> str:
    return "[" * n + "]" * n


def _bad_makers(rng: random.Random) -> dict[str, Callable[[Path, int], list[Path]]]:
    """kind -> a function writing the n-th entry of that kind into a folder, returning its paths."""

    def files(suffix: str, content: Callable[[int], str | bytes]) -> Callable[[Path, int], list[Path]]:
        def make(folder: Path, n: int) -> list[Path]:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / f"e{n:03d}{suffix}"
            data = content(n)
            if isinstance(data, bytes):
                path.write_bytes(data)
            else:
                path.write_text(data, encoding="utf-8", errors="surrogatepass")
            return [path]

        return make

    def fifo(folder: Path, n: int) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"pipe{n:03d}{rng.choice(['.txt', '.json', ''])}"
        os.mkfifo(path)
        return [path]

    def device_link(folder: Path, n: int) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"dev{n:03d}.txt"
        path.symlink_to(rng.choice(["/dev/zero", "/dev/urandom", "/dev/null"]))
        return [path]

    def dangling(folder: Path, n: int) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"gone{n:03d}.md"
        path.symlink_to(folder / f"never-existed-{n}.md")
        return [path]

    def loop(folder: Path, n: int) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        shape = n % 3
        if shape == 0:  # a link to itself
            path = folder / f"self{n:03d}.txt"
            path.symlink_to(path.name)
            return [path]
        if shape == 1:  # two links to each other
            a, b = folder / f"a{n:03d}.txt", folder / f"b{n:03d}.txt"
            a.symlink_to(b.name)
            b.symlink_to(a.name)
            return [a, b]
        inner = folder / f"dir{n:03d}"  # a folder holding a link to its own parent
        inner.mkdir()
        path = inner / "up"
        path.symlink_to("..")
        return [path]

    year = lambda n: rng.choice(["0001", "0999", "1492", "9999", "3000"])  # noqa: E731
    return {
        "huge json id": files(".json", lambda n: '{"id": ' + "7" * (4400 + n) + ', "text": "Some words here."}'),
        "deep json": files(".json", lambda n: _deep(1000 + n)),
        "deep jsonl": files(".jsonl", lambda n: '{"text": ' + _deep(1000 + n) + "}\n"),
        "lone surrogate": files(
            ".json", lambda n: rng.choice(['{"text": "bad \\ud800 text here"}', '{"title": "\\udfff", "text": "Words."}'])
        ),
        "impossible date md": files(".md", lambda n: f"---\ndate: 2025-02-{29 + n % 3}\n---\nSome body words here.\n"),
        "date true md": files(".md", lambda n: f"---\ndate: {rng.choice(['true', 'false', 'yes'])}\n---\nSome body words.\n"),
        "non-date md": files(".md", lambda n: f"---\ndate: yesterday-ish {n}\n---\nSome body words.\n"),
        "non-date json": files(
            ".json", lambda n: json.dumps({"text": "Body words.", "date": rng.choice(["yesterday-ish", True, [1], {"d": 1}])})
        ),
        "implausible year": files(".json", lambda n: json.dumps({"text": "Words.", "date": f"{year(n)}-01-05"})),
        "implausible year md": files(".md", lambda n: f"---\ndate: {year(n)}-01-05\n---\nSome body words.\n"),
        "implausible year txt": files(".txt", lambda n: f"{year(n)}-01-05\nA title\nSome body words.\n"),
        "date only txt": files(".txt", lambda n: rng.choice(["December 4, 2022\n", "2022-12-04", "  4 Dec 2022  \n\n"])),
        "date only json": files(".jsonl", lambda n: json.dumps({"text": "2022-12-04"}) + "\n"),
        "zero width": files(".txt", lambda n: "\u200b\u200c\u200d\ufeff\u2060" * (1 + n)),
        "punctuation only": files(".md", lambda n: "... --- !!!\n" * (1 + n % 3)),
        "unclosed front matter": files(".md", lambda n: f"---\ntitle: Unclosed {n}\ndate: 2022-01-01\nSome body words.\n"),
        "binary": files(".txt", lambda n: bytes(rng.randrange(256) for _ in range(64)) + b"\x00"),
        "not utf8": files(".txt", lambda n: "Caf\xe9 news and more words".encode("latin-1")),
        "empty": files(rng.choice([".txt", ".md", ".json"]), lambda n: " \n\t" * (n % 3)),
        "invalid json": files(".json", lambda n: '{"text": "unterminated' + "x" * n),
        "not a record": files(".json", lambda n: json.dumps(rng.choice([42, "text", None, [1, 2], True]))),
        "html without text": files(".html", lambda n: "<html><body><script>var x = 1;</script></body></html>"),
        "not html": files(".htm", lambda n: "plain words, no markup at all " * (n + 1)),
        "fifo": fifo,
        "device link": device_link,
        "dangling link": dangling,
        "link loop": loop,
    }


def _socket(path: Path, corpus: Corpus) -> socket.socket:
    path.parent.mkdir(parents=True, exist_ok=True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(str(path))
    corpus.bad[path] = "socket"
    return s
