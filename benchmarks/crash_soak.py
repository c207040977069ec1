#!/usr/bin/env python
"""Crash soak: SIGKILL a real `newsbot index` at random moments, with edits and deletions between
rounds, then compare the index with a clean build of the same files.

    python benchmarks/crash_soak.py                      # 300 articles, 20 kills
    python benchmarks/crash_soak.py --articles 120 --kills 8 --json

Each round edits ~5% of the articles, deletes ~3% and adds ~3%, starts `newsbot index CORPUS` and
kills it with SIGKILL after a random delay (uniform between 0 and the start-up time plus 20 s, the
start-up time being that of a run indexing 5 articles: imports, model load, one commit); a run that
finishes first is a round without a kill, and the next round goes on. A kill during the start-up
can keep nothing: no work has been done yet. After each kill a
separate process reads the index (the data dir is never held here, so each killed run is the
data dir's owner and dies in the middle of its own Chroma writes) and counts the articles whose
committed hash is the one the files ask for: a round "made progress" when that count rose or
removals went through. After the last kill, one more `newsbot index` runs to the end, a clean index
of the final files is built in a fresh data dir, and the two are compared: article ids and hashes,
chunk ids and texts, and the keyword index's chunk ids and their articles' hashes. Every difference
is a mismatch; there must be none.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from testsupport.corpora import news_text  # noqa: E402

# Prints, as one JSON object, what the index at NEWSBOT_DATA_DIR holds (run in its own process).
SNAPSHOT = r"""
import json, sys
from collections import Counter
from indexing.index import NewsIndex
from indexing.settings import IndexSettings
index = NewsIndex(IndexSettings.from_env())
store = index.store
records = store.article_records()
chunks = {c.id: (c.article_id, c.sha256, c.text) for c in store.iter_chunks()}
problems = [f"{r.id} left {r.status}" for r in records.values() if r.status != "ok"]
per_article = Counter()
for cid, (article, sha, _) in chunks.items():
    record = records.get(article)
    if record is None or record.sha256 != sha:
        problems.append(f"chunk {cid} is not of a committed version")
    else:
        per_article[article] += 1
problems += [f"{r.id}: {per_article[r.id]} chunks, registry says {r.n_chunks}" for r in records.values() if per_article[r.id] != r.n_chunks]
keyword = index.keywords.current() if sys.argv[1] == "full" else None
print(json.dumps({
    "articles": {r.id: r.sha256 for r in records.values()},
    "chunks": {cid: text for cid, (_, _, text) in chunks.items()} if sys.argv[1] == "full" else len(chunks),
    "keyword": sorted(keyword.ids) if keyword is not None else [],
    "keyword_articles": {a: sha for a, (sha, _) in keyword.articles.items()} if keyword is not None else {},
    "problems": problems,
}))
"""

# The hashes the files ask for (what a finished sync commits), read the indexer's own way.
TARGET = r"""
import json, sys
from pathlib import Path
from indexing.indexer import plan_sync, indexing_signature
from indexing.settings import IndexSettings
settings = IndexSettings.from_env()
plan = plan_sync([Path(sys.argv[1])], {}, settings.max_file_bytes, indexing_signature(settings))
print(json.dumps({p.id: p.sha256 for p in plan.to_write}))
"""


def environment(data: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSBOT_", "CHROMA_"))}
    env.update(NEWSBOT_DATA_DIR=str(data), NEWSBOT_CONFIG=str(data / "none.toml"), PYTHONPATH=str(REPO))
    env.update(HF_HUB_OFFLINE="1", HF_HUB_DISABLE_PROGRESS_BARS="1", TOKENIZERS_PARALLELISM="false", NEWSBOT_EMBED_BACKEND="torch")
    return env


def python(code: str, env: dict[str, str], *args: str) -> Any:
    done = subprocess.run([sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-2000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def write_article(corpus: Path, n: int, version: int) -> None:
    body = news_text(n * 1000 + version, paragraphs=3, sentences=4)
    (corpus / f"a{n:04d}.txt").write_text(f"Story {n} (v{version})\n{body}\n", encoding="utf-8")


def mutate(corpus: Path, rng: random.Random, versions: dict[int, int], next_id: list[int]) -> str:
    alive = sorted(versions)
    edited = rng.sample(alive, max(1, len(alive) * 5 // 100))
    for n in edited:
        versions[n] += 1
        write_article(corpus, n, versions[n])
    deleted = rng.sample([n for n in alive if n not in edited], max(1, len(alive) * 3 // 100))
    for n in deleted:
        (corpus / f"a{n:04d}.txt").unlink()
        del versions[n]
    added = []
    for _ in range(max(1, len(alive) * 3 // 100)):
        n = next_id[0]
        next_id[0] += 1
        versions[n] = 0
        write_article(corpus, n, 0)
        added.append(n)
    return f"edited {len(edited)}, deleted {len(deleted)}, added {len(added)}"


def progress(snapshot: dict[str, Any], target: dict[str, str]) -> tuple[int, int]:
    """(articles matching their target hash, articles the index holds that the files no longer have)."""
    done = sum(snapshot["articles"].get(a) == sha for a, sha in target.items())
    stale = sum(a not in target for a in snapshot["articles"])
    return done, stale


def compare(soaked: dict[str, Any], clean: dict[str, Any]) -> list[str]:
    mismatches = [f"problem in the soaked index: {p}" for p in soaked["problems"]]
    for key in ("articles", "chunks", "keyword_articles"):
        a, b = soaked[key], clean[key]
        mismatches += [f"{key}: {k} only in the soaked index" for k in a.keys() - b.keys()]
        mismatches += [f"{key}: {k} only in the clean build" for k in b.keys() - a.keys()]
        mismatches += [f"{key}: {k} differs" for k in a.keys() & b.keys() if a[k] != b[k]]
    if soaked["keyword"] != clean["keyword"]:
        mismatches.append(f"keyword index: {len(set(soaked['keyword']) ^ set(clean['keyword']))} chunk ids differ")
    if sorted(soaked["keyword"]) != sorted(soaked["chunks"]):
        mismatches.append("the soaked keyword index does not hold exactly the soaked chunks")
    return mismatches


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    root = Path(tempfile.mkdtemp(prefix="newsbot-soak-"))
    corpus, data = root / "corpus", root / "data"
    corpus.mkdir()
    env = environment(data)
    versions = {n: 0 for n in range(args.articles)}
    for n in versions:
        write_article(corpus, n, 0)
    next_id = [args.articles]
    index = [sys.executable, "-m", "bot.cli", "index", str(corpus), "--json"]
    log = (lambda line: None) if args.json else (lambda line: print(line, flush=True))

    began = time.perf_counter()
    calibration = root / "calibration"
    calibration.mkdir()
    for n in range(5):
        write_article(calibration, n, 0)
    subprocess.run([*index[:4], str(calibration)], env=environment(root / "calibration-data"), capture_output=True, check=True)
    startup = time.perf_counter() - began  # imports, model load, one small commit: a run's cost before it can keep anything
    kills = rounds = with_progress = completed = 0
    before: dict[str, Any] | None = None
    try:
        while kills < args.kills and rounds < args.kills * 3:
            rounds += 1
            change = mutate(corpus, rng, versions, next_id) if rounds > 1 else f"{args.articles} articles"
            target = python(TARGET, env, str(corpus))
            before_done = progress(before, target) if before is not None else (0, 0)
            delay = rng.uniform(0.0, startup + 20.0)
            process = subprocess.Popen(index, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                process.wait(timeout=delay)
                completed += 1
                outcome = "finished before the kill"
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait()
                kills += 1
                outcome = f"killed at {delay:.1f}s"
            after = python(SNAPSHOT, env, "brief")
            done, stale = progress(after, target)
            moved = done > before_done[0] or stale < before_done[1] or (done == len(target) and stale == 0)
            with_progress += moved and outcome.startswith("killed")
            log(f"round {rounds:2d}: {change}; {outcome}; {done}/{len(target)} articles current, {stale} stale")
            before = after
        finish = subprocess.run(index, env=env, cwd=REPO, capture_output=True, text=True)
        if finish.returncode != 0:
            raise RuntimeError(finish.stderr[-2000:])
        soaked = python(SNAPSHOT, env, "full")
        log("building a clean index of the same files ...")
        clean_env = environment(root / "clean")
        subprocess.run(index, env=clean_env, cwd=REPO, capture_output=True, check=True)
        clean = python(SNAPSHOT, clean_env, "full")
        mismatches = compare(soaked, clean)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    result = {
        "articles": len(versions),
        "chunks": len(clean["chunks"]),
        "rounds": rounds,
        "kills": kills,
        "rounds_finished_before_the_kill": completed,
        "kill_rounds_with_progress": with_progress,
        "startup_seconds": round(startup, 1),
        "mismatches": len(mismatches),
        "first_mismatches": mismatches[:10],
        "seconds": round(time.perf_counter() - began, 1),
    }
    if args.json:
        print(json.dumps(result))
    else:
        print(
            f"kills {kills} · rounds {rounds} ({completed} finished before their kill) · kill rounds with progress "
            f"{with_progress}/{kills} (a run needs {startup:.1f}s before it can commit anything) · final index {result['articles']} articles, {result['chunks']} chunks · "
            f"mismatches with a clean build: {len(mismatches)} · {result['seconds']}s"
        )
        for line in mismatches[:10]:
            print(f"  {line}")
    sys.exit(1 if mismatches else 0)


if __name__ == "__main__":
    main()
