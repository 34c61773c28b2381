"""Throughput and latency of the hot paths: Track against the bare app, and overheads.

All servers of a database kind start together, each on its own copy of one
seeded database. Each round then runs every (server, path) pair in turn. Noise
from the shared machine thus falls on all of them alike, and ratios are taken
between runs of the same round.
"""

from pathlib import Path

from bench import load, seed, servers

# Parts switched off (see bench.variant) and log level of each overhead variant.
# The reference "off" has no rate limits, no metrics and no request log.
OVERHEAD_VARIANTS = {
    "off": {"without": "metrics,limits", "env": {"TRACK_LOG_LEVEL": "WARNING"}},
    "limits-memory": {"without": "metrics", "env": {"TRACK_LOG_LEVEL": "WARNING"}},
    "limits-redis": {"without": "metrics", "env": {"TRACK_LOG_LEVEL": "WARNING"}},
    "metrics": {"without": "limits", "env": {"TRACK_LOG_LEVEL": "WARNING"}},
    "logging": {"without": "metrics,limits", "env": {"TRACK_LOG_LEVEL": "INFO"}},
}
OVERHEAD_PATHS = ("project", "post", "week")
REDIS_URL = "redis://127.0.0.1:6379/11"


def flush_redis(url: str = REDIS_URL) -> bool:
    """Empty the bench's own Redis database; return False when Redis is not reachable."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        client.flushdb()
        client.close()
    except redis.RedisError:
        return False
    return True


def build_servers(
    kind: str,
    source: str,
    workdir: Path,
    *,
    overheads: bool,
    redis_ok: bool,
    postgres_names: list[str],
) -> list[tuple[str, servers.Server]]:
    """Return (label, server) pairs for one database kind, each on its own database copy."""

    def database(label: str) -> str:
        if kind == "sqlite":
            return seed.copy_sqlite(Path(source), workdir / f"{kind}-{label}.db")
        name = f"{source}_{label.replace('-', '_')}"
        postgres_names.append(name)
        return seed.create_postgres(name, template=source)

    pairs = [("bare", servers.bare(f"{kind}-bare", database("bare"), workdir))]
    pairs.append(
        ("track", servers.track(f"{kind}-track", servers.track_env(database("track")), workdir))
    )
    if overheads:
        for label, variant in OVERHEAD_VARIANTS.items():
            if label == "limits-redis" and not redis_ok:
                continue
            extra = dict(variant["env"])
            if label == "limits-redis":
                extra["TRACK_RATE_LIMIT_STORAGE"] = REDIS_URL
            env = servers.track_env(database(label), **extra)
            pairs.append(
                (label, servers.track(f"{kind}-{label}", env, workdir, without=variant["without"]))
            )
    return pairs


def measure(
    kinds: dict[str, str],
    dataset: seed.Dataset,
    workdir: Path,
    *,
    seconds: float,
    rounds: int,
    postgres_names: list[str],
    warm_up: bool = True,
) -> dict:
    """Run the rounds; return runs[kind][label][path] = list of wrk results, one per round."""
    redis_ok = flush_redis()
    plan = []
    everything = []
    for kind, source in kinds.items():
        pairs = build_servers(
            kind,
            source,
            workdir,
            overheads=kind == "sqlite",
            redis_ok=redis_ok,
            postgres_names=postgres_names,
        )
        everything += [server for _, server in pairs]
        for label, server in pairs:
            paths = load.PATHS if label in {"bare", "track"} else OVERHEAD_PATHS
            plan += [(kind, label, server, path) for path in paths]

    runs: dict = {}
    with servers.running(everything):
        # One short untimed pass warms connection pools and caches of every server.
        for _, _, server, path in plan if warm_up else []:
            load.run_wrk(server.url, path, dataset.tokens_file, seconds=1)
        for _ in range(rounds):
            for kind, label, server, path in plan:
                result = load.run_wrk(
                    server.url, path, dataset.tokens_file, seconds=seconds, server_pid=server.pid()
                )
                runs.setdefault(kind, {}).setdefault(label, {}).setdefault(path, []).append(result)
    return {"runs": runs, "redis": redis_ok}


def measure_workers(
    kinds: dict[str, str],
    dataset: seed.Dataset,
    workdir: Path,
    *,
    seconds: float,
    rounds: int,
    postgres_names: list[str],
) -> dict:
    """Track with 1 and with 2 workers on the project page and the work-log POST."""
    everything = []
    plan = []
    for kind, source in kinds.items():
        for workers in (1, 2):
            if kind == "sqlite":
                url = seed.copy_sqlite(Path(source), workdir / f"workers-{kind}-{workers}.db")
            else:
                name = f"{source}_workers{workers}"
                postgres_names.append(name)
                url = seed.create_postgres(name, template=source)
            server = servers.track(
                f"workers-{kind}-{workers}", servers.track_env(url), workdir, workers=workers
            )
            everything.append(server)
            plan += [(kind, workers, server, path) for path in ("project", "post")]
    runs: dict = {}
    with servers.running(everything):
        for _, _, server, path in plan:
            load.run_wrk(server.url, path, dataset.tokens_file, seconds=1, threads=2)
        for _ in range(rounds):
            for kind, workers, server, path in plan:
                result = load.run_wrk(
                    server.url,
                    path,
                    dataset.tokens_file,
                    seconds=seconds,
                    threads=2,
                    server_pid=server.pid(),
                )
                runs.setdefault(kind, {}).setdefault(str(workers), {}).setdefault(path, []).append(
                    result
                )
    return runs
