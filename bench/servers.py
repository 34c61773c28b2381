"""Start and stop the processes under test: Track, its variants and the bare app."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECRET_KEY = "bench-secret-key-that-is-long-enough-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def track_env(database_url: str, **extra: str) -> dict[str, str]:
    """Environment of a Track process as production would run it, on the given database."""
    env = {
        **os.environ,
        "TRACK_DATABASE_URL": database_url,
        "TRACK_SECRET_KEY": SECRET_KEY,
        "TRACK_TERMINATION_LOG": "",
        "TRACK_DRAIN_SECONDS": "0",
        "TRACK_LOG_LEVEL": "INFO",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env.update(extra)
    return env


def status_of(url: str, timeout: float = 1.0) -> int | None:
    """Return the HTTP status of a GET, or None when the connection fails."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, urllib.error.URLError):
        return None


def _descendants(pid: int) -> list[int]:
    found = []
    for children_file in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            children = [int(child) for child in children_file.read_text().split()]
        except OSError:
            continue
        for child in children:
            found += [child, *_descendants(child)]
    return found


def cpu_seconds(pid: int) -> float:
    """Return the user and system CPU seconds of a process and its live descendants (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for process in [pid, *_descendants(pid)]:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # After the command name: utime and stime are the 12th and 13th fields.
        total += int(fields[11]) + int(fields[12])
    return total / ticks


class Server:
    """One server process on 127.0.0.1; its output goes to a log file."""

    def __init__(self, name: str, command: list[str], env: dict, port: int, log_path: Path):
        self.name = name
        self.command = command
        self.env = env
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0

    def start(self) -> "Server":
        with open(self.log_path, "ab") as output:
            self.started_at = time.monotonic()
            self.process = subprocess.Popen(
                self.command, env=self.env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
            )
        return self

    def wait_ready(self, timeout: float = 60, interval: float = 0.01) -> float:
        """Poll /healthz/ready until 200; return the seconds since the process started."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"{self.name} exited with status {self.process.returncode}; see {self.log_path}"
                )
            if status_of(self.url + "/healthz/ready", timeout=0.5) == 200:
                return time.monotonic() - self.started_at
            time.sleep(interval)
        raise TimeoutError(f"{self.name} on port {self.port} not ready within {timeout} s")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            self.process.send_signal(sig)

    def stop(self, timeout: float = 30) -> int | None:
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode

    def pid(self) -> int:
        return self.process.pid


def track(
    name: str,
    env: dict,
    log_dir: Path,
    *,
    workers: int = 1,
    port: int | None = None,
    without: str = "",
) -> Server:
    """Return a ``track serve`` process, or the bench.variant launcher when parts are off."""
    port = port or free_port()
    arguments = ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    if without:
        command = [sys.executable, "-m", "bench.variant", *arguments]
        env = {**env, "BENCH_WITHOUT": without}
    else:
        command = [sys.executable, "-m", "app.cli", "serve", *arguments]
    return Server(name, command, env, port, log_dir / f"{name}.log")


def bare(name: str, database_url: str, log_dir: Path, *, port: int | None = None) -> Server:
    """Return the bare baseline under uvicorn, with the same loop and HTTP parser as Track."""
    port = port or free_port()
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "bench.bare:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    env = {**os.environ, "BENCH_DATABASE_URL": database_url}
    return Server(name, command, env, port, log_dir / f"{name}.log")


@contextlib.contextmanager
def running(servers: list[Server], timeout: float = 60):
    """Start the servers, wait until all are ready, and stop them on exit."""
    try:
        for server in servers:
            server.start()
        for server in servers:
            server.wait_ready(timeout)
        yield servers
    finally:
        for server in servers:
            server.stop()
