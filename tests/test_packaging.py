"""A built wheel (not the editable checkout) carries the seed articles, the prompts and the reader,
declares what it needs, and answers the seed questions with the reader from there.

The wheel goes into a fresh venv that sees nothing of this one (no system site packages), with the
dependencies the wheel declares, installed by pip from the package index pip is configured with."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
import zipfile

import pytest

from testsupport.corpora import DATA, REPO
from testsupport.sandbox import ORIGINAL_ENV

# Installing the wheel's dependencies into a fresh venv takes minutes (about 5 on 2 cores).
pytestmark = pytest.mark.timeout(1500)

PROBE = """
import json
from bot.answering.prompts import PROMPTS_DIR, load_prompt
from indexing.settings import bundled_seeds_dir
import indexing
print(json.dumps({"package": indexing.__file__, "seeds": sorted(p.name for p in bundled_seeds_dir().iterdir()),
                  "seeds_dir": str(bundled_seeds_dir()), "prompts_dir": str(PROMPTS_DIR), "answer": load_prompt("answer")}))
"""


READER_PROBE = """
import json, sys
from bot import BotSettings, NewsBot
from indexing import SettingsSource
from newsbot_reader.runtime import WEIGHTS_DIR

data, cache, questions = sys.argv[1:4]
env = {"NEWSBOT_DATA_DIR": data, "NEWSBOT_CACHE_DIR": cache, "NEWSBOT_CONFIG": data + "/none.toml"}
bot = NewsBot(BotSettings.from_env(SettingsSource(env=env)))
bot.ensure_indexed()
asked = [json.loads(line) for line in open(questions, encoding="utf-8") if line.strip()]
answers = [bot.ask(q["question"]).to_json() for q in asked]
print(json.dumps({"weights": str(WEIGHTS_DIR), "answerer": bot.answerer.name, "asked": asked, "answers": answers}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """newsbot built as a wheel and installed, with what it declares, into a fresh venv of its own."""
    tmp_path = tmp_path_factory.mktemp("wheel")
    # Build from a copy: setuptools writes build/ into the source tree.
    source = tmp_path / "source"
    for name in ("pyproject.toml", "README.md"):
        source.mkdir(exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    for name in ("bot", "indexing", "newsbot_reader", "seeds", "prompts"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(source)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=False, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    wheel = next(wheels.glob("newsbot-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    # Our own top-level names only: PyPI's `reader` (a feed reader) must not be clobbered by ours.
    assert {name.split("/")[0] for name in names if ".dist-info/" not in name} == {"bot", "indexing", "newsbot_reader"}
    weights = {name.rpartition("/")[2] for name in names if name.startswith("newsbot_reader/weights/")}
    assert {"reader.fp16.safetensors", "calibration.json", "config.json", "MODEL_CARD.md"} <= weights, weights
    # pip with the user's own environment: its configuration (index, find-links) and download cache live in HOME.
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", str(wheel)]
    done = subprocess.run(install, capture_output=True, text=True, timeout=1200, env=ORIGINAL_ENV)
    assert done.returncode == 0, done.stderr[-3000:]
    return env_dir, python


def test_a_wheel_install_finds_the_bundled_seeds_and_prompts(installed, tmp_path):
    env_dir, python = installed
    probe = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert found["package"].startswith(str(env_dir)), "the probe imported the checkout, not the wheel"
    assert found["seeds_dir"].startswith(str(env_dir)) and found["prompts_dir"].startswith(str(env_dir))
    assert found["seeds"] == sorted(p.name for p in (REPO / "seeds").iterdir())
    assert found["answer"] == (REPO / "prompts" / "answer.md").read_text(encoding="utf-8")


def test_the_installed_wheel_answers_the_seed_questions_with_its_reader(installed, tmp_path):
    env_dir, python = installed
    questions = DATA / "seed_questions.jsonl"
    command = [str(python), "-c", READER_PROBE, str(tmp_path / "data"), str(tmp_path / "cache"), str(questions)]
    probe = subprocess.run(command, capture_output=True, text=True, timeout=600, cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr[-3000:]
    found = json.loads(probe.stdout.strip().splitlines()[-1])
    assert found["weights"].startswith(str(env_dir)), "the reader's weights come from the installed wheel"
    assert found["answerer"] == "reader"
    assert list((tmp_path / "cache" / "reader").glob("reader-*.int8.onnx")), "the int8 graph was derived from the shipped weights"
    for question, answer in zip(found["asked"], found["answers"]):
        if question["answers"]:
            assert answer["answered"] and any(a in answer["answer"] for a in question["answers"]), (question, answer["answer"])
        else:
            assert not answer["answered"], (question, answer["answer"])
