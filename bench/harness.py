"""Pieces the benchmark scripts share: free loopback ports, the virtualenv's
commands, turning a signal into a clean exit so that clean-up runs, the clean-up
itself, and a process's CPU time."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HOST = "127.0.0.1"
PG_HOST, PG_PORT, PG_USER = "127.0.0.1", 5432, "postgres"


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
