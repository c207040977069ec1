"""A built wheel (not the editable checkout) carries the seed articles and the prompts."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv

from testsupport.corpora import REPO

PROBE = """
import json
from bot.answering.prompts import PROMPTS_DIR, load_prompt
from indexing.settings import bundled_seeds_dir
import indexing
print(json.dumps({"package": indexing.__file__, "seeds": sorted(p.name for p in bundled_seeds_dir().iterdir()),
                  "seeds_dir": str(bundled_seeds_dir()), "prompts_dir": str(PROMPTS_DIR), "answer": load_prompt("answer")}))
"""


def test_a_wheel_install_finds_the_bundled_seeds_and_prompts(tmp_path):
    # Build from a copy: setuptools writes build/ into the source tree.
    source = tmp_path / "source"
    for name in ("pyproject.toml", "README.md"):
        source.mkdir(exist_ok=True)
        shutil.copy2(REPO / name, source / name)
    for name in ("bot", "indexing", "reader", "seeds", "prompts"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    wheels = tmp_path / "wheels"
    build = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(source)]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    wheel = next(wheels.glob("newsbot-*.whl"))
    install = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)]
    subprocess.run(install, check=True, capture_output=True, timeout=300)

    probe = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr
    found = json.loads(probe.stdout)
    assert found["package"].startswith(str(env_dir)), "the probe imported the checkout, not the wheel"
    assert found["seeds_dir"].startswith(str(env_dir)) and found["prompts_dir"].startswith(str(env_dir))
    assert found["seeds"] == sorted(p.name for p in (REPO / "seeds").iterdir())
    assert found["answer"] == (REPO / "prompts" / "answer.md").read_text(encoding="utf-8")
