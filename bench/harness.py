"""Pieces the benchmark scripts share: free loopback ports, the virtualenv's
commands, turning a signal into a clean exit so that clean-up runs, the clean-up
itself, a process's CPU time, a fresh migrated database for a run, and the child
process that measures in it."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"


def socket_folder() -> str:
    """The folder of the PostgreSQL server's Unix socket, as the server says."""
    shown = subprocess.run(["psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, "-At", "-d", "postgres",
                            "-c", "SHOW unix_socket_directories"], check=True, capture_output=True, text=True,
                           timeout=60).stdout.strip().split(",")[0].strip()
    if not shown:
        raise RuntimeError("this PostgreSQL server listens on no Unix socket (unix_socket_directories is empty)")
    return shown


def pg_url(database: str, *, via_socket: bool = False) -> str:
    """DATABASE_URL for a database of the local PostgreSQL server: TCP on loopback, or
    its Unix socket (libpq's `?host=<folder>`)."""
    if via_socket:
        return f"postgresql://{PG_USER}@/{database}?host={socket_folder()}&port={PG_PORT}"
    return f"postgresql://{PG_USER}@{PG_HOST}:{PG_PORT}/{database}"


def raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def venv_bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name


def proc_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc; 0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


@dataclass
class Cleanup:
    processes: list[subprocess.Popen] = field(default_factory=list)
    folders: list[str] = field(default_factory=list)
    databases: list[str] = field(default_factory=list)

    def run(self) -> None:
        for proc in self.processes:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                except (ProcessLookupError, PermissionError):
                    pass
        for proc in self.processes:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    print(f"warning: process {proc.pid} did not stop", file=sys.stderr)
        self.processes.clear()
        for name in self.databases:
            for _ in range(3):
                try:
                    done = subprocess.run(["dropdb", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER,
                                           "--if-exists", "--force", name], capture_output=True, text=True,
                                          timeout=60)
                except subprocess.TimeoutExpired:
                    continue
                if done.returncode == 0:
                    break
                time.sleep(2)
            else:
                print(f"warning: could not drop database {name}: {done.stderr.strip()}", file=sys.stderr)
        self.databases.clear()
        for folder in self.folders:
            shutil.rmtree(folder, ignore_errors=True)
        self.folders.clear()


ROOT = Path(__file__).resolve().parent.parent


def fresh_engine(cleanup: Cleanup, engine: str, name: str) -> dict:
    """The environment of a run on a fresh, migrated database: a new SQLite data folder,
    or a new PostgreSQL database ("postgres"); both removed by the clean-up. `name`
    tells the benchmark's folders and databases apart."""
    env = dict(os.environ)
    for key in ("DATABASE_URL", "FUWU_DATA_DIR", "REDIS_URL"):
        env.pop(key, None)
    folder = tempfile.mkdtemp(prefix=f"fuwu-bench-{name}-{engine}-")
    cleanup.folders.append(folder)
    env.update(PICCOLO_CONF="fuwu.piccolo_conf", FUWU_RUN_SCHEDULER="0", FUWU_DEBUG="0", PYTHONUNBUFFERED="1",
               FUWU_SECRET_KEY=secrets.token_urlsafe(48), FUWU_DATA_DIR=folder)
    if engine == "postgres":
        database = f"fuwu_bench_{name}_{os.getpid()}_{secrets.token_hex(3)}"
        cleanup.databases.append(database)
        subprocess.run(["createdb", "-h", PG_HOST, "-p", str(PG_PORT), "-U", PG_USER, database], check=True,
                       capture_output=True, timeout=60)
        env["DATABASE_URL"] = pg_url(database)
    migrate = subprocess.run([venv_bin("fuwu"), "migrate"], env=env, cwd=str(ROOT), capture_output=True, text=True,
                             timeout=600)
    if migrate.returncode != 0:
        raise RuntimeError(f"fuwu migrate failed on {engine}:\n{migrate.stdout}\n{migrate.stderr}")
    return env


_RESULT = "RESULT "


def run_child(script: str, env: dict, mode: str, scale: float | None = None, extra: tuple[str, ...] = ()) -> dict:
    """Runs `script --child mode [--scale scale] [extra ...]` in the run's environment
    and returns what the child passed to `child_result`."""
    command = [sys.executable, str(Path(script).resolve()), "--child", mode]
    command += ["--scale", str(scale)] if scale is not None else []
    done = subprocess.run([*command, *extra], env=env, cwd=str(ROOT), capture_output=True, text=True, timeout=7200)
    line = next((x for x in done.stdout.splitlines() if x.startswith(_RESULT)), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"{mode} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(line[len(_RESULT):])


def child_result(result: dict) -> int:
    """Hands a child's result to the `run_child` that started it (one line on stdout)."""
    print(_RESULT + json.dumps(result, default=str), flush=True)
    return 0


def runs(values: list[float], unit: str, digits: int = 1) -> str:
    """A figure over its runs: the median, the range and every run (one run: itself)."""
    if len(values) == 1:
        return f"{values[0]:.{digits}f} {unit}"
    listed = ", ".join(f"{v:.{digits}f}" for v in values)
    return (f"median {statistics.median(values):.{digits}f} {unit}, spread {min(values):.{digits}f}-"
            f"{max(values):.{digits}f} (runs {listed})")
