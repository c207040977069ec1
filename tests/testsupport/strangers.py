"""Another local user, for the tests of what such a user can and cannot reach (docs/security.md).

The tests run as root, so a child process can start as root (Python itself may live where another
user cannot read) and then drop to `nobody` with os.setuid before it does anything else.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest


def stranger_uid() -> int:
    try:
        return pwd.getpwnam("nobody").pw_uid
    except KeyError:
        return 65534


needs_root = pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="a second uid needs root to become")

# Prepended to a child's script: imports done, it becomes the stranger.
BECOME_STRANGER = """
import os as _os
_os.setgroups([])
_os.setgid({uid})
_os.setuid({uid})
"""


def run_as_stranger(script: str, *args: str) -> subprocess.Popen[str]:
    """`script` in a child that drops to the stranger's uid before its first line; stdin, stdout piped."""
    uid = stranger_uid()
    head, _, body = script.partition("#: become stranger\n")
    code = head + BECOME_STRANGER.format(uid=uid) + body
    return subprocess.Popen(
        [sys.executable, "-c", code, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd="/"
    )


def shared_folder() -> Path:
    """A fresh folder in the system temp dir that the stranger can reach (pytest's tmp_path is root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="newsbot-test-"))
    folder.chmod(0o755)
    return folder
