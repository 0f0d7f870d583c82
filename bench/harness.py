"""Pieces the benchmark scripts share: free loopback ports, the virtualenv's
commands, and turning a signal into a clean exit so that clean-up runs."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

HOST = "127.0.0.1"


def raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def venv_bin(name: str) -> str:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else name
