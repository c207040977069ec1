"""Real servers the tests start: `chroma run` on a free local port."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    def __init__(self, path: Path):
        self.path = path
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> ChromaServer:
        chroma = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
        self.process = subprocess.Popen(
            [chroma, "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=1):
                    return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"chroma run exited with {self.process.returncode}") from None
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("chroma run did not become ready in 60 s")

    def restart(self) -> ChromaServer:
        """Stop it and start it again on the same folder and port (clients keep their address)."""
        self.stop()
        return self.start()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _postgres_bin(name: str) -> str | None:
    """Debian keeps the server's programs in /usr/lib/postgresql/VERSION/bin, off the PATH."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    return str(candidates[-1]) if candidates else None


class PostgresUnavailable(RuntimeError):
    pass


class PostgresServer:
    """A real PostgreSQL server in its own temporary cluster (initdb + pg_ctl) on a free local port.

    The server refuses to run as root: as root, the cluster belongs to the `postgres` user (Debian's
    package creates it) and the programs run as that user."""

    def __init__(self) -> None:
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="newsbot-pg-"))
        self.data = self.dir / "data"
        self.started = False

    @property
    def url(self) -> str:
        return f"postgresql://newsbot@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout)

    def start(self) -> PostgresServer:
        initdb, pg_ctl = _postgres_bin("initdb"), _postgres_bin("pg_ctl")
        if not (initdb and pg_ctl):
            raise PostgresUnavailable("PostgreSQL's initdb/pg_ctl are not installed (Debian: apt-get install postgresql)")
        if os.geteuid() == 0:
            try:
                shutil.chown(self.dir, "postgres", "postgres")
            except (LookupError, OSError) as exc:
                raise PostgresUnavailable(f"running as root and there is no usable 'postgres' user ({exc})") from None
        done = self._run(initdb, "-D", str(self.data), "-U", "newsbot", "-A", "trust", "-E", "UTF8", "--no-sync")
        if done.returncode != 0:
            raise PostgresUnavailable(f"initdb failed: {done.stderr.strip()[-300:]}")
        options = f"-h 127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off -c max_connections=200"
        done = self._run(pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", "-t", "60", "start")
        if done.returncode != 0:
            log = (self.dir / "log").read_text(errors="replace")[-300:] if (self.dir / "log").exists() else done.stderr
            raise PostgresUnavailable(f"pg_ctl start failed: {log.strip()}")
        self.started = True
        return self

    def stop(self) -> None:
        pg_ctl = _postgres_bin("pg_ctl")
        if self.started and pg_ctl:
            self._run(pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop", timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)
