"""Real server processes for tests whose guarantee spans processes: `fuwu serve`'s app
under uvicorn, each in its own process, on the tests' own database (tests/conftest.py
put FUWU_DATA_DIR, FUWU_SECRET_KEY and maybe DATABASE_URL and REDIS_URL in the
environment; the session fixture has migrated the database)."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STARTUP_TIMEOUT = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, OSError):
        return False


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log_path: str

    def output(self) -> str:
        return Path(self.log_path).read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: the process dies at once, as in a crash."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(**env_overrides: str) -> Server:
    port = free_port()
    log = tempfile.NamedTemporaryFile(prefix="fuwu-server-", suffix=".log", delete=False)
    env = {**os.environ, "FUWU_RUN_SCHEDULER": "0", "PYTHONUNBUFFERED": "1", **env_overrides}
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "fuwu.app:create_app", "--factory", "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    server = Server(url=f"http://127.0.0.1:{port}", process=process, log_path=log.name)
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not healthy(f"{server.url}/readyz"):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"the server on port {port} did not start:\n{server.output()}")
        time.sleep(0.1)
    return server


@contextlib.contextmanager
def servers(count: int, **env_overrides: str):
    """`count` server processes on the same database (and Redis, when REDIS_URL is set)."""
    started: list[Server] = []
    try:
        for _ in range(count):
            started.append(start_server(**env_overrides))
        yield started
    finally:
        for server in started:
            server.stop()
            with contextlib.suppress(OSError):
                os.unlink(server.log_path)
