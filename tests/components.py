"""Checks for the outside components some tests need.

A test that needs PostgreSQL, Redis, Chromium, helm or promtool calls one of
these. Where the component is missing the test is skipped with the reason, but
under ``CI=true`` a missing component fails the test instead: CI must run
everything.
"""

import os
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS = ROOT / ".tools" / "bin"

POSTGRES_URL = os.environ.get(
    "TRACK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("TRACK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CHROMIUM = os.environ.get("TRACK_TEST_CHROMIUM", "/usr/bin/chromium")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def missing(reason: str) -> None:
    """Skip the calling test, or fail it under CI, where nothing may be skipped."""
    if in_ci():
        pytest.fail(f"CI=true but a component is missing: {reason}", pytrace=False)
    pytest.skip(reason)


def port_open(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def find_binary(name: str) -> str | None:
    """Return the path of a tool from PATH or from the project's .tools/bin."""
    local = TOOLS / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    return shutil.which(name)


def require_binary(name: str, hint: str) -> str:
    path = find_binary(name)
    if path is None:
        missing(f"{name} not found on PATH or in .tools/bin ({hint})")
    return path


def require_postgres() -> str:
    if not port_open("127.0.0.1", 5432):
        missing("no PostgreSQL server on 127.0.0.1:5432")
    return POSTGRES_URL


def require_redis() -> str:
    if not port_open("127.0.0.1", 6379):
        missing("no Redis server on 127.0.0.1:6379")
    return REDIS_URL


def require_chromium() -> str:
    if not (Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)):
        missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
