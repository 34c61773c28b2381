"""Throwaway Redis and PostgreSQL servers, and helpers the recovery tests share.

A test that stops or restarts a server starts its own on 127.0.0.1 and a
free port, in a temporary directory, so the machine's shared Redis and
PostgreSQL keep running for other tests.
"""

import contextlib
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.components import ROOT, find_binary, free_port, missing, port_open
from tests.fixtures import PASSWORD, ServerProcess

START_TIMEOUT = 30.0


def wait_until(predicate: Callable[[], object], *, timeout: float, message: str):
    """Poll ``predicate`` until it returns a true value; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting until {message}")
        time.sleep(0.05)


class RedisServer:
    """A redis-server of this test's own, without persistence, that can be stopped and restarted."""

    def __init__(self, directory: Path):
        self.binary = find_binary("redis-server")
        if self.binary is None:
            missing("redis-server not found (apt-get install redis-server)")
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        command = [
            self.binary,
            "--bind", "127.0.0.1",
            "--port", str(self.port),
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "no",
        ]  # fmt: skip
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        wait_until(
            lambda: port_open("127.0.0.1", self.port),
            timeout=START_TIMEOUT,
            message=f"redis-server listens on port {self.port}",
        )
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        missing("PostgreSQL server binaries not found (apt-get install postgresql)")
    return Path(found[-1]).parent


class PostgresServer:
    """A PostgreSQL cluster of this test's own, in a temporary directory.

    initdb refuses to run as root, so as root the cluster belongs to the
    ``postgres`` system user and every command runs through ``runuser``.
    """

    def __init__(self):
        self.bin = _postgres_bin()
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="track-pg-"))
        self.data = self.directory / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            if runuser is None:
                missing("running as root needs runuser to start PostgreSQL as the postgres user")
            self.as_user = [runuser, "-u", "postgres", "--"]
            shutil.chown(self.directory, "postgres", "postgres")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *command: str) -> None:
        subprocess.run(
            [*self.as_user, *command],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=60,
        )

    def init(self) -> "PostgresServer":
        self._run(
            str(self.bin / "initdb"),
            "--pgdata", str(self.data),
            "--username", "postgres",
            "--auth", "trust",
            "--no-sync",
            "--encoding", "UTF8",
        )  # fmt: skip
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"),
            "--pgdata", str(self.data),
            "--options", options,
            "--log", str(self.directory / "server.log"),
            "--wait",
            "--timeout", str(int(START_TIMEOUT)),
            "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop at once, ending open connections, as a crash or failover would."""
        self._run(
            str(self.bin / "pg_ctl"),
            "--pgdata", str(self.data),
            "--mode", "fast",
            "--wait",
            "--timeout", str(int(START_TIMEOUT)),
            "stop",
        )  # fmt: skip

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


class LoggedServer(ServerProcess):
    """A ``track serve`` process whose output goes to ``log_path``, a file closed afterwards."""

    def __init__(self, env: dict[str, str], log_path: Path, *, workers: int = 1):
        super().__init__(env, workers=workers, log_path=log_path)

    def start(self, *, wait: bool = True) -> "LoggedServer":
        command = [
            sys.executable, "-m", "app.cli", "serve",
            "--host", "127.0.0.1",
            "--port", str(self.port),
            "--workers", str(self.workers),
        ]  # fmt: skip
        with open(self.log_path, "ab") as output:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
            )
        if wait:
            self.wait_ready()
        return self

    def logs(self) -> list[dict]:
        return log_lines(self.log_path)


def metric_samples(base_url: str, name: str) -> list:
    """Scrape ``/metrics`` and return the samples whose name is ``name``."""
    response = httpx.get(base_url + "/metrics", timeout=10)
    response.raise_for_status()
    return [
        sample
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == name
    ]


def metric_total(base_url: str, name: str, **labels: str) -> float:
    """Sum the samples of ``name`` whose labels include ``labels``."""
    return sum(
        sample.value
        for sample in metric_samples(base_url, name)
        if all(sample.labels.get(key) == value for key, value in labels.items())
    )


def log_lines(path: Path) -> list[dict]:
    """Read a server's captured output, returning the lines that are JSON objects."""
    lines = []
    for raw in path.read_text(encoding="utf-8", errors="replace").splitlines():
        with contextlib.suppress(json.JSONDecodeError):
            line = json.loads(raw)
            if isinstance(line, dict):
                lines.append(line)
    return lines


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def sign_in(client: httpx.Client, username: str) -> httpx.Response:
    return client.post("/api/v1/session", json={"username": username, "password": PASSWORD})
