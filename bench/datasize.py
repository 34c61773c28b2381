"""Progress and export with 1,000 and with 100,000 work logs in the database."""

import time
import urllib.request
from pathlib import Path

from bench import load, seed, servers

SIZES = (1_000, 100_000)
# With 100,000 logs over 40 projects, one project's export is 2,500 rows.
PROJECT = 1


def timed_export(url: str, token: str, query: str) -> tuple[float, int]:
    """Download the CSV export; return the seconds taken and the data rows received."""
    request = urllib.request.Request(
        f"{url}/api/v1/worklogs/export.csv{query}", headers={"Authorization": f"Bearer {token}"}
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=120) as response:
        body = response.read()
    elapsed = time.monotonic() - started
    # The header row and the closing total row are not work logs.
    return elapsed, body.count(b"\n") - 2


def measure(workdir: Path, *, users: int, seconds: float, rounds: int, full_exports: int) -> dict:
    """Seed one SQLite database per size, then measure both sizes in alternating rounds."""
    datasets = {}
    tracks = {}
    for size in SIZES:
        path = workdir / f"size-{size}.db"
        datasets[size] = seed.seed(
            seed.sqlite_url(path), users=users, worklogs=size, workdir=workdir
        )
        tracks[size] = servers.track(
            f"size-{size}",
            servers.track_env(seed.sqlite_url(path), TRACK_RATE_LIMITS="100000/second"),
            workdir,
        )
    result = {
        str(size): {"progress": [], "project_export": [], "full_export": []} for size in SIZES
    }
    with servers.running(list(tracks.values())):
        for size, server in tracks.items():
            load.run_wrk(server.url, "progress", datasets[size].tokens_file, seconds=1)
        for round_number in range(rounds):
            for size, server in tracks.items():
                figures = result[str(size)]
                dataset = datasets[size]
                figures["progress"].append(
                    load.run_wrk(
                        server.url,
                        "progress",
                        dataset.tokens_file,
                        seconds=seconds,
                        server_pid=server.pid(),
                    )
                )
                figures["project_export"].append(
                    timed_export(server.url, dataset.manager_token, f"?project_id={PROJECT}")
                )
                if round_number < full_exports:
                    figures["full_export"].append(
                        timed_export(server.url, dataset.manager_token, "")
                    )
    return result
