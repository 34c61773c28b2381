"""Render the results of ``python -m bench.run`` as the Markdown report.

``python -m bench.report RESULTS.json REPORT.md`` renders a stored run again.
"""

import json
import math
import sys
from pathlib import Path

from bench.load import PATH_NAMES, PATHS
from bench.stats import percentile, ratios, summary
from bench.throughput import OVERHEAD_PATHS

# Targets, and what limits each one when it is missed; the report names both.
TARGETS = {
    "throughput": "Track >= 0.8x the bare app's throughput with limits, metrics and logs on",
    "overhead": "rate limiting (memory, Redis), metrics and logging each cost <= 5%",
    "startup": "start-up to /healthz/ready 200 <= 1.5 s on SQLite",
    "crash": "0 failed requests after one client retry when one of two processes is killed",
    "rolling": "0 failed requests while each process is restarted with SIGTERM in turn",
    "exactly_once": "logs stored = logs submitted, 0 duplicates, while processes are killed",
    "fairness": "normal users see 0 429s and their p99 moves <= 10% while one user floods",
    "scaling": "progress and export time grows no faster than the number of work logs",
}


def _number(value: float, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:,.{digits}f}"


def _spread(values: list[float], digits: int = 2, scale: float = 1.0) -> str:
    """Median with the range over runs, e.g. '0.84 (0.80-0.90)'."""
    figures = summary([value * scale for value in values if value is not None])
    if figures["runs"] == 0:
        return "n/a"
    if figures["runs"] == 1:
        return _number(figures["median"], digits)
    return (
        f"{_number(figures['median'], digits)} "
        f"({_number(figures['min'], digits)}-{_number(figures['max'], digits)})"
    )


def _field(runs: list[dict], name: str) -> list[float]:
    return [run.get(name) for run in runs]


def _cpu_ratio(numerator_runs: list[dict], denominator_runs: list[dict]) -> list[float]:
    """Paired ratios of CPU time per request; empty when a run has no CPU figure."""
    pairs = zip(
        _field(numerator_runs, "cpu_ms_per_request"),
        _field(denominator_runs, "cpu_ms_per_request"),
        strict=True,
    )
    return [a / b for a, b in pairs if a is not None and b]


def _error(section) -> str | None:
    if isinstance(section, dict) and "error" in section:
        return section["error"]
    return None


class Report:
    def __init__(self, results: dict):
        self.results = results
        self.lines: list[str] = []
        self.missed: list[str] = []
        self.met: list[str] = []

    def add(self, *lines: str) -> None:
        self.lines.extend(lines)

    def table(self, header: list[str], rows: list[list[str]]) -> None:
        self.add("| " + " | ".join(header) + " |", "|" + "---|" * len(header))
        for row in rows:
            self.add("| " + " | ".join(row) + " |")
        self.add("")

    def judge(self, key: str, met: bool, measured: str, limit: str = "") -> None:
        line = f"**{TARGETS[key]}**: {measured}"
        if met:
            self.met.append(line)
        else:
            self.missed.append(line + (f" Limited by: {limit}" if limit else ""))

    def failed_section(self, name: str) -> bool:
        error = _error(self.results.get(name))
        if error is None and name in self.results:
            return False
        self.add(f"Not measured: {error or 'the section did not run'}.", "")
        return True


def _throughput(report: Report) -> None:
    section = report.results.get("throughput", {})
    report.add("## Hot paths: Track against the bare app", "")
    report.add(
        "One worker each. The bare app (`bench/bare.py`) mounts Track's own handlers and "
        "token lookup under Starlette with no middleware, an uninstrumented engine and no "
        "logging. Track runs as in production: default rate limits (20 per 10 s and 1,000 "
        "per 5 minutes per user, memory storage), metrics on, JSON request log at INFO to a "
        "file. wrk keeps 16 connections open from one thread; requests rotate over 2,000 "
        "users so no user nears its limit. Ratios are Track / bare within one round; "
        "cells show the median and, in brackets, the range over rounds. CPU ms per request "
        "is the server process's user and system CPU time during the run divided by its "
        "requests; it includes SQLite's work (in the process) but not PostgreSQL's (in its "
        "own processes), and other work on the machine disturbs it far less than "
        "throughput.",
        "",
    )
    if report.failed_section("throughput"):
        return
    worst = math.inf
    worst_cpu = -math.inf
    for kind, figures in section.items():
        runs = figures["runs"].get(kind, {})
        bare, track = runs.get("bare", {}), runs.get("track", {})
        rows = []
        for path in PATHS:
            if path not in bare or path not in track:
                continue
            rps_ratio = ratios(_field(track[path], "rps"), _field(bare[path], "rps"))
            worst = min(worst, summary(rps_ratio)["median"])
            cpu_ratio = _cpu_ratio(track[path], bare[path])
            if cpu_ratio:
                worst_cpu = max(worst_cpu, summary(cpu_ratio)["median"])
            rows.append(
                [
                    PATH_NAMES[path],
                    _spread(_field(bare[path], "rps"), 0),
                    _spread(_field(track[path], "rps"), 0),
                    _spread(rps_ratio),
                    f"{_spread(_field(bare[path], 'p50_ms'), 0)} / "
                    f"{_spread(_field(bare[path], 'p99_ms'), 0)}",
                    f"{_spread(_field(track[path], 'p50_ms'), 0)} / "
                    f"{_spread(_field(track[path], 'p99_ms'), 0)}",
                    _spread(ratios(_field(track[path], "p50_ms"), _field(bare[path], "p50_ms"))),
                    _spread(ratios(_field(track[path], "p99_ms"), _field(bare[path], "p99_ms"))),
                    f"{_spread(_field(bare[path], 'cpu_ms_per_request'))} / "
                    f"{_spread(_field(track[path], 'cpu_ms_per_request'))}",
                    _spread(cpu_ratio),
                    str(sum(_field(bare[path], "errors")) + sum(_field(track[path], "errors"))),
                ]
            )
        report.add(f"### {kind}", "")
        report.table(
            [
                "path",
                "bare req/s",
                "Track req/s",
                "throughput ratio",
                "bare p50 / p99 ms",
                "Track p50 / p99 ms",
                "p50 ratio",
                "p99 ratio",
                "CPU ms per request, bare / Track",
                "CPU ratio",
                "errors",
            ],
            rows,
        )
    worst_feature = _overheads(report, section.get("sqlite", {}))
    if worst is not math.inf:
        cause = FEATURE_COSTS.get(worst_feature)
        report.judge(
            "throughput",
            worst >= 0.8,
            f"lowest median throughput ratio {worst:.2f}; highest median CPU time per request "
            f"{_number(worst_cpu, 2)}x the bare app's (on an otherwise idle core, the "
            f"throughput ratio would be about {_number(1 / worst_cpu, 2)}).",
            "the rate limiter, metrics and request log run on the same single core as the "
            "handler; their costs are under Overheads"
            + (f", and the largest is {worst_feature}: {cause}" if cause else "")
            + ". Where the throughput and CPU ratios disagree, other work on the shared "
            "machine moved the throughput figures.",
        )


# Cause of each feature's CPU cost, named in the report when it misses its budget.
FEATURE_COSTS = {
    "limits-memory": (
        "a moving-window hit in the synchronous memory storage of limits (one list per "
        "user, kept sorted) plus its background expiry thread, which sweeps every key "
        "after each hit and competes for the GIL with the handler"
    ),
    "limits-redis": "two Redis round trips per request, one per limit, through redis-py",
    "metrics": (
        "two histogram observations and a counter per request, and one histogram "
        "observation per SQL statement, each through prometheus_client"
    ),
    "logging": "one JSON log line per request, built with json.dumps and written to stdout",
}


def _overheads(report: Report, figures: dict) -> str | None:
    """Add the overhead table; return the feature with the largest CPU overhead."""
    report.add("## Overheads, each switched on alone", "")
    report.add(
        "SQLite, one worker. The reference is Track with rate limits and metrics replaced by "
        "no-ops (`bench/variant.py`, because Track has no switch for them) and the request "
        "log filtered out by TRACK_LOG_LEVEL=WARNING; each variant turns one of them back "
        "on. Redis rate limits use database 11 of the local Redis. Throughput overhead = 1 - "
        "variant / reference throughput, and CPU overhead = variant / reference CPU time per "
        "request - 1, both paired by round; a negative figure is noise.",
        "",
    )
    runs = figures.get("runs", {}).get("sqlite", {})
    reference = runs.get("off")
    if not reference:
        report.add("Not measured.", "")
        return None
    rows = []
    worst = -math.inf
    worst_cpu = -math.inf
    worst_label = None
    for label in ("limits-memory", "limits-redis", "metrics", "logging"):
        if label not in runs:
            rows.append([label, "not measured (Redis unreachable)", "", ""])
            continue
        for path in OVERHEAD_PATHS:
            costs = [
                1 - value
                for value in ratios(
                    _field(runs[label][path], "rps"), _field(reference[path], "rps")
                )
            ]
            cpu_costs = [value - 1 for value in _cpu_ratio(runs[label][path], reference[path])]
            worst = max(worst, summary(costs)["median"])
            if cpu_costs and summary(cpu_costs)["median"] > worst_cpu:
                worst_cpu = summary(cpu_costs)["median"]
                worst_label = label
            rows.append(
                [
                    label,
                    PATH_NAMES[path],
                    _spread(costs, 1, 100) + " %",
                    _spread(cpu_costs, 1, 100) + " %",
                    _spread(_field(runs[label][path], "p99_ms"), 0),
                ]
            )
    report.table(["switched on", "path", "throughput overhead", "CPU overhead", "p99 ms"], rows)
    report.judge(
        "overhead",
        worst <= 0.05 and worst_cpu <= 0.05,
        f"largest median throughput overhead {worst * 100:.1f} %, largest median CPU "
        f"overhead {worst_cpu * 100:.1f} % ({worst_label}).",
        f"{worst_label}: {FEATURE_COSTS.get(worst_label, 'see the table')}. Throughput "
        "figures swing by more than the 5% budget between rounds on the shared machine, so "
        "the CPU column is the one to read.",
    )
    bare = runs.get("bare", {})
    baseline = [
        f"{PATH_NAMES[path]}: {_spread(_cpu_ratio(reference[path], bare[path]))}"
        for path in OVERHEAD_PATHS
        if path in bare
    ]
    if baseline:
        report.add(
            "CPU time per request of the reference (all three off) against the bare app, "
            "showing what the rest of Track's request path costs: " + "; ".join(baseline) + ".",
            "",
        )
    return worst_label


def _workers(report: Report) -> None:
    report.add("## Scaling: 1 and 2 workers", "")
    report.add(
        "`track serve --workers N`, wrk with two threads and 16 connections. The machine has "
        "2 cores shared by wrk, the workers and the database, so 2x is out of reach.",
        "",
    )
    if report.failed_section("workers"):
        return
    rows = []
    for kind, by_workers in report.results["workers"].items():
        for path in ("project", "post"):
            one, two = by_workers["1"][path], by_workers["2"][path]
            rows.append(
                [
                    kind,
                    PATH_NAMES[path],
                    _spread(_field(one, "rps"), 0),
                    _spread(_field(two, "rps"), 0),
                    _spread(ratios(_field(two, "rps"), _field(one, "rps"))),
                    f"{_spread(_field(one, 'p99_ms'), 0)} / {_spread(_field(two, 'p99_ms'), 0)}",
                ]
            )
    report.table(
        ["database", "path", "1 worker req/s", "2 workers req/s", "2 / 1", "p99 ms, 1 / 2 workers"],
        rows,
    )


def _data_size(report: Report) -> None:
    report.add("## Scaling: 1,000 and 100,000 work logs", "")
    report.add(
        "SQLite, one worker. Progress covers one project (1/40 of all logs); the project "
        "export is one project's CSV and the full export every log, both as a manager.",
        "",
    )
    if report.failed_section("data_size"):
        return
    figures = report.results["data_size"]
    rows = []
    for size, values in figures.items():
        full = values["full_export"]
        per_row = [seconds / rows_ * 1e6 for seconds, rows_ in full if rows_]
        rows.append(
            [
                f"{int(size):,}",
                _spread(_field(values["progress"], "rps"), 0),
                _spread(_field(values["progress"], "p50_ms"), 1),
                _spread([seconds * 1000 for seconds, _ in values["project_export"]], 0),
                str(values["project_export"][0][1]) if values["project_export"] else "n/a",
                _spread([seconds for seconds, _ in full], 2),
                str(full[0][1]) if full else "n/a",
                _spread(per_row, 1),
            ]
        )
    report.table(
        [
            "work logs",
            "progress req/s",
            "progress p50 ms",
            "project export ms",
            "rows",
            "full export s",
            "rows",
            "full export µs/row",
        ],
        rows,
    )
    small, large = figures.get("1000"), figures.get("100000")
    if small and large and small["full_export"] and large["full_export"]:
        small_row = summary([s / r for s, r in small["full_export"] if r])["median"]
        large_row = summary([s / r for s, r in large["full_export"] if r])["median"]
        report.judge(
            "scaling",
            large_row <= small_row * 1.5,
            f"full export {small_row * 1e6:.0f} µs/row at 1,000 logs, "
            f"{large_row * 1e6:.0f} µs/row at 100,000.",
            "per-row cost rising with table size (index depth, cache misses).",
        )


def _startup(report: Report) -> None:
    report.add("## Start-up", "")
    report.add(
        "From starting `track serve` (a new Python process) to the first 200 from "
        "/healthz/ready, polled every 5 ms; the database is already migrated.",
        "",
    )
    if report.failed_section("startup"):
        return
    rows = [
        [kind, _spread(times, 2), str(len(times))]
        for kind, times in report.results["startup"].items()
    ]
    report.table(["database", "seconds", "runs"], rows)
    sqlite = summary(report.results["startup"].get("sqlite", []))["median"]
    report.judge(
        "startup",
        sqlite <= 1.5,
        f"median {sqlite:.2f} s on SQLite.",
        "importing the app's dependencies (SQLAlchemy, Alembic, Starlette, pydantic, "
        "prometheus_client, limits) and the migration check take most of it, and both "
        "slow down when other work takes the 2 cores.",
    )


def _crash(report: Report) -> None:
    report.add("## Crash drill: kill -9 one of two processes", "")
    report.add(
        "Two Track processes (PostgreSQL when available) behind haproxy 2.6, which checks "
        "/healthz/ready every 200 ms and marks a server down after 2 failures and up after 1 "
        "success, and retries a refused connection on the other server. 8 clients send GET "
        "project page requests back to back and retry a failed one once. The bench starts "
        "a new process as soon as the old one is gone.",
        "",
    )
    if report.failed_section("crash"):
        return
    runs = report.results["crash"]
    rows = [
        [
            str(i + 1),
            str(run["requests"]),
            str(run["first_attempt_failures"]),
            str(run["failed_after_retry"]),
            _number(run["kill_to_process_ready_s"], 2),
            _number(run["kill_to_both_serving_s"], 2),
            _reasons(run.get("failure_reasons", {})),
        ]
        for i, run in enumerate(runs)
    ]
    report.table(
        [
            "run",
            "requests",
            "failed first attempts",
            "failed after retry",
            "kill to new process ready s",
            "kill to both in haproxy s",
            "failures by cause",
        ],
        rows,
    )
    failed = sum(run["failed_after_retry"] for run in runs)
    report.judge(
        "crash",
        failed == 0,
        f"{failed} failed after retry in {len(runs)} runs.",
        "requests in flight on the killed process fail on both attempts when the "
        "retry lands before haproxy has marked it down.",
    )


def _reasons(reasons: dict) -> str:
    return ", ".join(f"{reason} x{count}" for reason, count in sorted(reasons.items())) or "-"


def _rolling(report: Report) -> None:
    report.add("## Rolling restart drill", "")
    report.add(
        "The same pair behind haproxy, TRACK_DRAIN_SECONDS=1: each process in turn gets "
        "SIGTERM, drains, exits and is started again before the next one.",
        "",
    )
    if report.failed_section("rolling"):
        return
    runs = report.results["rolling"]
    rows = [
        [
            str(i + 1),
            str(run["requests"]),
            str(run["first_attempt_failures"]),
            str(run["failed_after_retry"]),
            ", ".join(map(str, run["exit_codes"])),
            _number(run["restart_duration_s"], 1),
        ]
        for i, run in enumerate(runs)
    ]
    report.table(
        [
            "run",
            "requests",
            "failed first attempts",
            "failed after retry",
            "exit statuses",
            "both restarted in s",
        ],
        rows,
    )
    failed = sum(run["first_attempt_failures"] for run in runs)
    report.judge(
        "rolling",
        failed == 0,
        f"{failed} failed requests (before any retry) in {len(runs)} runs.",
        "a request that reaches a process after it stopped accepting connections.",
    )


def _exactly_once(report: Report) -> None:
    report.add("## Exactly-once drill", "")
    report.add(
        "16 clients create work logs through haproxy, each with its own Idempotency-Key, "
        "resending the same key after a connection error, 5xx, 409 or 429 until they get "
        "201 (for at most 60 s). Meanwhile one of the two processes is killed with SIGKILL "
        "and restarted, in turn. Submitted = acknowledged + given up; a log answered with "
        "another 4xx is counted as rejected instead. Each log's description is its key, so "
        "the table shows duplicates and losses directly.",
        "",
    )
    if report.failed_section("exactly_once"):
        return
    rows = []
    clean = True
    for kind, run in report.results["exactly_once"].items():
        rows.append(
            [
                kind,
                str(run["kills"]),
                str(run["submitted"]),
                str(run["acknowledged"]),
                str(run["stored"]),
                str(run["duplicates"]),
                str(run["acknowledged_not_stored"]),
                str(run.get("given_up", 0)),
                str(run.get("rejected", 0)),
                str(run["attempts"]),
                str(run["replays"]),
            ]
        )
        clean = (
            clean
            and run["duplicates"] == 0
            and run["stored"] == run["submitted"]
            and run["acknowledged_not_stored"] == 0
            and run.get("given_up", 0) == 0
        )
    report.table(
        [
            "database",
            "kills",
            "submitted",
            "acknowledged",
            "stored",
            "duplicates",
            "acknowledged, not stored",
            "given up",
            "rejected (4xx)",
            "attempts",
            "replayed answers",
        ],
        rows,
    )
    report.judge(
        "exactly_once",
        clean,
        "see the table.",
        "a log stored without its idempotency record, or a key never acknowledged.",
    )


def _fairness(report: Report) -> None:
    report.add("## Rate-limit fairness", "")
    report.add(
        "One Track process with the default limits (20 per 10 s, 1,000 per 5 minutes per "
        "user, memory storage). 10 users send 1.5 project-page requests per second each at "
        "fixed times (an open loop); in the flood phases one more user sends 20 per second, "
        "10x the limit, from a separate process. Quiet and flood phases alternate.",
        "",
    )
    if report.failed_section("fairness"):
        return
    figures = report.results["fairness"]
    rows = []
    p99 = {}
    limited = {}
    for phase, runs in figures["phases"].items():
        latencies = [value for run in runs for value in run["latencies_ms"]]
        p99[phase] = [percentile(run["latencies_ms"], 0.99) for run in runs]
        limited[phase] = sum(run["statuses"].get("429", 0) for run in runs)
        statuses = {}
        for run in runs:
            for status, count in run["statuses"].items():
                statuses[status] = statuses.get(status, 0) + count
        rows.append(
            [
                phase,
                str(len(latencies)),
                str(limited[phase]),
                ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())),
                _number(percentile(latencies, 0.5), 1),
                _spread(p99[phase], 1),
            ]
        )
    report.table(
        ["phase", "requests of normal users", "429s", "statuses", "p50 ms", "p99 ms per phase"],
        rows,
    )

    flood = figures["flood_statuses"]
    report.add(
        "Flooding user's statuses: "
        + ", ".join(f"{k}: {v}" for k, v in sorted(flood.items()))
        + ".",
        "",
    )

    change = ratios(p99["flood"], p99["quiet"])
    median_change = summary(change)["median"] - 1
    report.add(f"p99 change, flood / quiet by round: {_spread(change)}.", "")
    report.judge(
        "fairness",
        limited["flood"] == 0 and median_change <= 0.10,
        f"{limited['flood']} 429s for normal users, p99 change {median_change * 100:+.0f} %.",
        "p99 of a few hundred requests per phase is set by a handful of slow answers, and "
        "other work on the shared machine moves it by more than 10% between phases.",
    )


def _operator(report: Report) -> None:
    report.add("## Operator", "")
    report.add(
        "`bench/operator_bench.py`: the operator against the kmock Kubernetes emulator, "
        "crash-to-Event latency and memory while it watches the given number of pods.",
        "",
    )
    if report.failed_section("operator"):
        return
    rows = [[key, str(value)] for key, value in report.results["operator"].items()]
    report.table(["figure", "value"], rows)


def render(results: dict) -> str:
    report = Report(results)
    machine = results["machine"]
    kind = "quick run (BENCH_QUICK=1)" if results["quick"] else "full run"
    report.add(
        "# Track benchmarks and recovery drills",
        "",
        f"Generated by `make bench` (`python -m bench.run`), {kind}, started "
        f"{results['started']}, took {results['total_seconds']:.0f} s. Raw figures: "
        "`results.json` next to this file. `BENCH_QUICK=1 make bench` gives a short "
        "version in `bench/raw/`. The machine is shared with other work, so absolute figures "
        "vary between runs; read the ratios, which compare runs made side by side.",
        "",
        "## Machine and versions",
        "",
        f"- CPU: {machine['cpu']}, {machine['cores']} cores; {machine['memory_gib']} GiB; "
        f"Linux {machine['kernel']}; load average at start "
        f"{', '.join(f'{v:.1f}' for v in machine['load_average_at_start'])}",
        f"- Python {machine['python']}; "
        + ", ".join(f"{name} {version}" for name, version in machine["packages"].items()),
        f"- {machine['wrk']}; {machine['haproxy']}; {machine['postgresql']}; "
        f"commit {machine['git_commit']}",
        f"- Plan: {results['plan']['seconds']} s per wrk run, {results['plan']['rounds']} "
        f"rounds; data set 2,000 engineers in 40 projects, 10,000 work logs",
        "",
    )

    # Sections first fill the targets lists, which the report then shows before them.
    body_start = len(report.lines)
    for part in (
        _throughput,
        _workers,
        _data_size,
        _startup,
        _crash,
        _rolling,
        _exactly_once,
        _fairness,
        _operator,
    ):
        part(report)
    body = report.lines[body_start:]
    report.lines = report.lines[:body_start]

    report.add("## Targets", "")
    if report.missed:
        report.add("Not met:", "", *[f"- {line}" for line in report.missed], "")
    if report.met:
        report.add("Met:", "", *[f"- {line}" for line in report.met], "")
    report.lines += body

    report.add(
        "## Method notes",
        "",
        "- wrk is a closed loop: a slow answer delays the next request of its connection, so "
        "its percentiles understate waiting under overload (coordinated omission). The "
        "fairness drill uses an open loop for that reason.",
        "- Each server works on its own copy of the seeded database; work-log POSTs grow the "
        "copies by a few thousand rows over the run.",
        "- Durations of the sections: "
        + ", ".join(
            f"{name} {seconds:.0f} s" for name, seconds in results.get("durations_s", {}).items()
        )
        + ".",
        "",
    )
    return "\n".join(report.lines)


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: python -m bench.report RESULTS.json REPORT.md", file=sys.stderr)
        return 2
    results = json.loads(Path(sys.argv[1]).read_text())
    Path(sys.argv[2]).write_text(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
