"""Prompt templates: every prompt a generative model sees lives in prompts/*.md as plain text."""

from __future__ import annotations

import re
from functools import cache

from indexing import bundled_dir

PROMPTS_DIR = bundled_dir("prompts")
_FIELD = re.compile(r"\{([a-z_]+)\}")


@cache
def load_prompt(name: str) -> str:
    return (PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8")


def render_prompt(name: str, **values: str) -> str:
    """Fill {field}s in one pass, so braces inside the values (article text) are never re-read."""
    template = load_prompt(name)
    missing = set(_FIELD.findall(template)) - values.keys()
    if missing:
        raise KeyError(f"prompt {name!r} needs {sorted(missing)}")
    return _FIELD.sub(lambda m: values[m.group(1)], template)
