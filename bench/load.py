"""Closed-loop load with wrk (Debian's package) on Track's hot paths."""

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

from bench.servers import cpu_seconds

SCRIPT = Path(__file__).with_name("hotpaths.lua")
PATHS = ("project", "post", "progress", "week")
PATH_NAMES = {
    "project": "project page JSON (GET /api/v1/projects/{id})",
    "post": "work-log POST (POST /api/v1/worklogs)",
    "progress": "progress (GET /api/v1/projects/{id}/progress)",
    "week": "my week (GET /api/v1/worklogs?from=..&to=..)",
}


class LoadToolMissing(RuntimeError):
    """wrk is not installed."""


def wrk_binary() -> str:
    found = shutil.which("wrk") or ("/usr/bin/wrk" if Path("/usr/bin/wrk").exists() else None)
    if found is None:
        raise LoadToolMissing("wrk is not installed; install it with `apt-get install wrk`")
    return found


def week_range(today: dt.date | None = None) -> tuple[str, str]:
    """Return the last seven days, today included, as the 'my week' query's from and to."""
    today = today or dt.date.today()
    return (today - dt.timedelta(days=6)).isoformat(), today.isoformat()


def post_dates(days: int = 60) -> str:
    today = dt.date.today()
    return ",".join(
        (today - dt.timedelta(days=offset)).isoformat() for offset in range(1, days + 1)
    )


def run_wrk(
    url: str,
    path: str,
    tokens_file: Path,
    *,
    seconds: float,
    connections: int = 16,
    threads: int = 1,
    server_pid: int | None = None,
) -> dict:
    """Run wrk for ``seconds`` against one hot path; return throughput, latency and errors.

    With ``server_pid``, the result also has the server's CPU time per request
    (process and children), which other work on the machine disturbs far less
    than throughput.
    """
    week_from, week_to = week_range()
    env = {
        **os.environ,
        "BENCH_PATH": path,
        "BENCH_TOKENS": str(tokens_file),
        "BENCH_FROM": week_from,
        "BENCH_TO": week_to,
        "BENCH_DATES": post_dates(),
    }
    command = [
        wrk_binary(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
        url,
    ]
    cpu_before = cpu_seconds(server_pid) if server_pid else None
    completed = subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=seconds + 30, check=False
    )
    for line in completed.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            raw = json.loads(line.removeprefix("BENCH_JSON "))
            break
    else:
        raise RuntimeError(
            f"wrk printed no result (exit status {completed.returncode}): "
            f"{completed.stderr.strip()[:300]}"
        )
    cpu_used = cpu_seconds(server_pid) - cpu_before if server_pid else None
    duration = raw["duration_us"] / 1e6
    errors = (
        raw["status_errors"]
        + raw["connect_errors"]
        + raw["read_errors"]
        + raw["write_errors"]
        + raw["timeouts"]
    )
    return {
        "rps": raw["requests"] / duration,
        "p50_ms": raw["p50_us"] / 1000,
        "p90_ms": raw["p90_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "requests": raw["requests"],
        "errors": errors,
        "status_errors": raw["status_errors"],
        "cpu_ms_per_request": (
            cpu_used * 1000 / raw["requests"] if cpu_used is not None and raw["requests"] else None
        ),
    }
