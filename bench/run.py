"""Run every benchmark and drill, then write the report and the raw results.

``python -m bench.run`` (what ``make bench`` runs) writes ``bench/results.md``
and ``bench/results.json``; on a 2-core machine shared with other work it took
about 15 minutes. ``BENCH_QUICK=1`` runs shorter and fewer repeats (about 3
minutes there) and writes to ``bench/raw/`` only, so a quick run never replaces
the committed report.
Each section that fails is recorded with its error and the run goes on.
"""

import json
import logging
import os
import platform
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass
from pathlib import Path

from bench import datasize, drills, report, seed, throughput
from bench.servers import ROOT

log = logging.getLogger("bench")

BENCH_DIR = Path(__file__).resolve().parent
USERS = 2000
MAIN_WORKLOGS = 10_000


@dataclass(frozen=True)
class Plan:
    """Durations and repeat counts of one run."""

    quick: bool
    seconds: float  # length of one wrk run
    rounds: int  # repeats of every throughput figure
    startup_runs: int
    crash_runs: int
    rolling_runs: int
    once_kills: int
    once_interval: float
    fairness_seconds: float
    fairness_rounds: int
    full_exports: int
    operator_pods: int
    operator_crashes: int


FULL = Plan(False, 3, 3, 5, 3, 2, 6, 2.0, 10, 3, 2, 1000, 60)
QUICK = Plan(True, 1, 1, 3, 1, 1, 3, 1.5, 6, 1, 1, 100, 20)


def machine() -> dict:
    def command(*args: str) -> str:
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout.strip()
        except OSError:
            return "not installed"

    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    from importlib.metadata import version

    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average_at_start": os.getloadavg(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "packages": {
            name: version(name)
            for name in (
                "starlette",
                "uvicorn",
                "sqlalchemy",
                "aiosqlite",
                "asyncpg",
                "limits",
                "prometheus_client",
                "httpx",
                "uvloop",
                "httptools",
                "redis",
            )
        },
        "wrk": command("wrk", "-v").splitlines()[0] if command("wrk", "-v") else "not installed",
        "haproxy": (command("haproxy", "-v").splitlines() or ["not installed"])[0],
        "postgresql": command("psql", "--version"),
        "git_commit": command("git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"),
    }


def section(results: dict, name: str, action):
    """Run one section, storing its result or its error, and log its duration."""
    started = time.monotonic()
    log.info("section %s: starting", name)
    try:
        results[name] = action()
    except Exception as error:  # noqa: BLE001 - one failed section must not end the run
        results[name] = {"error": f"{type(error).__name__}: {error}"}
        log.error("section %s failed: %s\n%s", name, error, traceback.format_exc())
    results.setdefault("durations_s", {})[name] = round(time.monotonic() - started, 1)
    log.info("section %s: done in %.1f s", name, time.monotonic() - started)


def operator_figures(plan: Plan) -> dict:
    script = BENCH_DIR / "operator_bench.py"
    if not script.exists():
        return {"error": "bench/operator_bench.py is missing"}
    completed = subprocess.run(
        [
            sys.executable,
            str(script),
            "--pods",
            str(plan.operator_pods),
            "--crashes",
            str(plan.operator_crashes),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    start = completed.stdout.find("{")
    if completed.returncode != 0 or start < 0:
        tail = (completed.stderr or completed.stdout).strip().splitlines()[-3:]
        return {"error": f"exit status {completed.returncode}: {' | '.join(tail)}"}
    # The script prints one JSON object, possibly over several lines.
    figures, _ = json.JSONDecoder().raw_decode(completed.stdout[start:])
    return figures


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    plan = QUICK if os.environ.get("BENCH_QUICK", "") not in {"", "0"} else FULL
    stamp = time.strftime("%Y%m%d-%H%M%S")
    workdir = BENCH_DIR / "raw" / stamp
    workdir.mkdir(parents=True)
    started = time.monotonic()
    results: dict = {
        "quick": plan.quick,
        "plan": plan.__dict__,
        "machine": machine(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    postgres_names: list[str] = []
    has_postgres = seed.postgres_available()
    results["postgres"] = has_postgres
    try:
        main_db = workdir / "main.db"
        dataset = seed.seed(
            seed.sqlite_url(main_db), users=USERS, worklogs=MAIN_WORKLOGS, workdir=workdir
        )
        kinds = {"sqlite": str(main_db)}
        if has_postgres:
            template = f"bench_{os.getpid()}"
            postgres_names.append(template)
            seed.create_postgres(template)
            # Seeding writes new tokens, so PostgreSQL runs read their own token file.
            pg_dataset = seed.seed(
                seed.postgres_url(template), users=USERS, worklogs=MAIN_WORKLOGS, workdir=workdir
            )
            kinds["postgres"] = template
        else:
            pg_dataset = None

        def drill_database(label: str) -> tuple[str, Path]:
            if pg_dataset is not None:
                name = f"{template}_{label}"
                postgres_names.append(name)
                return seed.create_postgres(name, template=template), pg_dataset.tokens_file
            return seed.copy_sqlite(main_db, workdir / f"{label}.db"), dataset.tokens_file

        def hot_paths():
            figures = {}
            sqlite_only = {"sqlite": kinds["sqlite"]}
            figures["sqlite"] = throughput.measure(
                sqlite_only,
                dataset,
                workdir,
                seconds=plan.seconds,
                rounds=plan.rounds,
                postgres_names=postgres_names,
            )
            if pg_dataset is not None:
                figures["postgres"] = throughput.measure(
                    {"postgres": template},
                    pg_dataset,
                    workdir,
                    seconds=plan.seconds,
                    rounds=plan.rounds,
                    postgres_names=postgres_names,
                )
            return figures

        section(results, "throughput", hot_paths)

        def workers():
            figures = throughput.measure_workers(
                {"sqlite": kinds["sqlite"]},
                dataset,
                workdir,
                seconds=plan.seconds,
                rounds=plan.rounds,
                postgres_names=postgres_names,
            )
            if pg_dataset is not None:
                figures.update(
                    throughput.measure_workers(
                        {"postgres": template},
                        pg_dataset,
                        workdir,
                        seconds=plan.seconds,
                        rounds=plan.rounds,
                        postgres_names=postgres_names,
                    )
                )
            return figures

        section(results, "workers", workers)
        section(
            results,
            "data_size",
            lambda: datasize.measure(
                workdir,
                users=USERS,
                seconds=plan.seconds,
                rounds=plan.rounds,
                full_exports=plan.full_exports,
            ),
        )

        def startup():
            figures = {
                "sqlite": drills.startup_times(
                    seed.copy_sqlite(main_db, workdir / "startup.db"),
                    workdir,
                    runs=plan.startup_runs,
                )
            }
            if pg_dataset is not None:
                url, _ = drill_database("startup")
                figures["postgres"] = drills.startup_times(url, workdir, runs=plan.startup_runs)
            return figures

        section(results, "startup", startup)

        def crash():
            url, tokens = drill_database("crash")
            return [
                drills.crash_drill(url, tokens, workdir, load_seconds=6)
                for _ in range(plan.crash_runs)
            ]

        section(results, "crash", crash)

        def rolling():
            url, tokens = drill_database("rolling")
            return [
                drills.rolling_drill(url, tokens, workdir, drain_seconds=1)
                for _ in range(plan.rolling_runs)
            ]

        section(results, "rolling", rolling)

        def exactly_once():
            figures = {}
            url, tokens = drill_database("once")
            kind = "postgres" if pg_dataset is not None else "sqlite"
            figures[kind] = drills.exactly_once_drill(
                url,
                tokens,
                workdir,
                kills=plan.once_kills,
                interval=plan.once_interval,
                label=f"once-{stamp}",
            )
            if kind == "postgres" and not plan.quick:
                url = seed.copy_sqlite(main_db, workdir / "once-sqlite.db")
                figures["sqlite"] = drills.exactly_once_drill(
                    url,
                    dataset.tokens_file,
                    workdir,
                    kills=plan.once_kills,
                    interval=plan.once_interval,
                    label=f"once-sqlite-{stamp}",
                )
            return figures

        section(results, "exactly_once", exactly_once)

        def fairness():
            url = seed.copy_sqlite(main_db, workdir / "fairness.db")
            return drills.fairness_drill(
                url,
                dataset.tokens_file,
                workdir,
                phase_seconds=plan.fairness_seconds,
                rounds=plan.fairness_rounds,
            )

        section(results, "fairness", fairness)
        section(results, "operator", lambda: operator_figures(plan))
    finally:
        seed.drop_postgres(postgres_names)
        throughput.flush_redis()

    results["total_seconds"] = round(time.monotonic() - started, 1)
    target = workdir if plan.quick else BENCH_DIR
    (target / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    (target / "results.md").write_text(report.render(results))
    log.info("report written to %s in %.0f s", target / "results.md", results["total_seconds"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
