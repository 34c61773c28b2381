"""Recovery drills: two Track processes behind haproxy, killed or restarted under load.

The bench plays the process manager: when a process dies it starts a new one
on the same port at once, as Kubernetes or systemd would (with no back-off
delay). haproxy health-checks /healthz/ready every 200 ms and takes a server
out after two failed checks. When a connection is refused, haproxy retries on
the other server (``retries 2`` with ``option redispatch``).
"""

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlalchemy import text

from bench import servers
from bench.servers import ROOT, Server, free_port

HAPROXY_CONFIG = """\
global
    maxconn 2000

defaults
    mode http
    timeout connect 1s
    timeout client 30s
    timeout server 30s
    retries 2
    option redispatch 1

frontend track
    bind 127.0.0.1:{frontend}
    default_backend track

backend track
    option httpchk GET /healthz/ready
    default-server inter 200ms fastinter 200ms downinter 200ms fall 2 rise 1
{servers}

listen stats
    bind 127.0.0.1:{stats}
    stats enable
    stats uri /stats
"""


class ToolMissing(RuntimeError):
    """A program the drill needs is not installed."""


def haproxy_binary() -> str:
    for candidate in (shutil.which("haproxy"), "/usr/sbin/haproxy"):
        if candidate and Path(candidate).exists():
            return candidate
    raise ToolMissing("haproxy is not installed; install it with `apt-get install haproxy`")


class Balancer:
    """haproxy in the foreground in front of the given servers."""

    def __init__(self, backends: list[Server], workdir: Path):
        self.port = free_port()
        self.stats_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        lines = "\n".join(
            f"    server {server.name} 127.0.0.1:{server.port} check" for server in backends
        )
        self.config = workdir / "haproxy.cfg"
        self.config.write_text(
            HAPROXY_CONFIG.format(frontend=self.port, stats=self.stats_port, servers=lines)
        )
        self.log = workdir / "haproxy.log"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "Balancer":
        with open(self.log, "ab") as output:
            self.process = subprocess.Popen(
                [haproxy_binary(), "-db", "-f", str(self.config)],
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"haproxy exited with {self.process.returncode}; see {self.log}")
            if len(self.servers_up()) == len(self.server_states()) > 0:
                return self
            time.sleep(0.05)
        raise TimeoutError("haproxy did not mark its servers up within 10 s")

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)

    def server_states(self) -> dict[str, str]:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.stats_port}/stats;csv", timeout=1
            ) as response:
                rows = response.read().decode().splitlines()
        except OSError:
            return {}
        header = rows[0].lstrip("# ").split(",")
        states = {}
        for row in rows[1:]:
            fields = dict(zip(header, row.split(","), strict=False))
            if fields.get("pxname") == "track" and fields.get("svname") not in {
                "FRONTEND",
                "BACKEND",
            }:
                states[fields["svname"]] = fields.get("status", "")
        return states

    def servers_up(self) -> list[str]:
        return [name for name, state in self.server_states().items() if state.startswith("UP")]


def wait_until(condition, timeout: float, interval: float = 0.02) -> float | None:
    """Poll ``condition`` until it is true; return the seconds waited, or None on timeout."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(interval)
    return None


def start_client(mode: str, url: str, tokens: Path, stop_file: Path, **options) -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "bench.client",
        mode,
        "--url",
        url,
        "--tokens",
        str(tokens),
        "--stop-file",
        str(stop_file),
    ]
    for name, value in options.items():
        command += [f"--{name.replace('_', '-')}", str(value)]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)


def finish_client(process: subprocess.Popen, timeout: float = 120) -> dict:
    output, _ = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise RuntimeError(f"load client exited with {process.returncode}")
    return json.loads(output)


def _pair(name: str, env: dict, workdir: Path) -> list[Server]:
    return [servers.track(f"{name}-{letter}", env, workdir) for letter in "ab"]


def _restart(server: Server) -> None:
    """Start a fresh process on the server's port, as a process manager would."""
    server.start()


def crash_drill(database_url: str, tokens: Path, workdir: Path, *, load_seconds: float) -> dict:
    """Kill -9 one of two processes under steady load; count failures and time to recover."""
    env = servers.track_env(database_url, TRACK_RATE_LIMITS="100000/second")
    backends = _pair("crash", env, workdir)
    stop_file = workdir / "crash.stop"
    stop_file.unlink(missing_ok=True)
    with servers.running(backends), Balancer(backends, workdir) as balancer:
        client = start_client(
            "steady", balancer.url, tokens, stop_file, concurrency=8, max_seconds=load_seconds + 60
        )
        time.sleep(load_seconds / 3)
        victim = backends[0]
        killed_at = time.monotonic()
        os.kill(victim.pid(), signal.SIGKILL)
        victim.process.wait(10)
        _restart(victim)
        process_ready = victim.wait_ready(30)
        process_ready_after_kill = time.monotonic() - killed_at
        both_up = wait_until(lambda: len(balancer.servers_up()) == 2, 30)
        both_up_after_kill = None if both_up is None else time.monotonic() - killed_at
        time.sleep(max(0.0, load_seconds - (time.monotonic() - killed_at) - load_seconds / 3))
        stop_file.touch()
        result = finish_client(client)
    return {
        "requests": result["requests"],
        "first_attempt_failures": result["first_attempt_failures"],
        "failed_after_retry": result["failed"],
        "failure_reasons": result["failure_reasons"],
        "restart_to_ready_s": process_ready,
        "kill_to_process_ready_s": process_ready_after_kill,
        "kill_to_both_serving_s": both_up_after_kill,
    }


def rolling_drill(database_url: str, tokens: Path, workdir: Path, *, drain_seconds: float) -> dict:
    """SIGTERM each of two processes in turn under load, restarting each before the next."""
    env = servers.track_env(
        database_url, TRACK_RATE_LIMITS="100000/second", TRACK_DRAIN_SECONDS=str(drain_seconds)
    )
    backends = _pair("rolling", env, workdir)
    stop_file = workdir / "rolling.stop"
    stop_file.unlink(missing_ok=True)
    exit_codes = []
    with servers.running(backends), Balancer(backends, workdir) as balancer:
        client = start_client(
            "steady", balancer.url, tokens, stop_file, concurrency=8, max_seconds=120
        )
        time.sleep(1.0)
        started = time.monotonic()
        for server in backends:
            server.signal(signal.SIGTERM)
            exit_codes.append(server.process.wait(60))
            _restart(server)
            server.wait_ready(30)
            wait_until(lambda: len(balancer.servers_up()) == 2, 30)
        duration = time.monotonic() - started
        time.sleep(1.0)
        stop_file.touch()
        result = finish_client(client)
    return {
        "requests": result["requests"],
        "first_attempt_failures": result["first_attempt_failures"],
        "failed_after_retry": result["failed"],
        "failure_reasons": result["failure_reasons"],
        "exit_codes": exit_codes,
        "restart_duration_s": duration,
    }


async def _stored_descriptions(database_url: str, label: str) -> list[str]:
    from app.db import create_engine

    engine = create_engine(database_url, instrument=False)
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT description FROM work_logs WHERE description LIKE :pattern"),
            {"pattern": f"{label}-%"},
        )
        descriptions = [row[0] for row in rows]
    await engine.dispose()
    return descriptions


def exactly_once_drill(
    database_url: str, tokens: Path, workdir: Path, *, kills: int, interval: float, label: str
) -> dict:
    """Submit work logs with idempotency keys while processes are killed and restarted.

    Each log's description is its idempotency key, so the stored rows show
    both duplicates (one key stored twice) and losses (an acknowledged key
    not stored).
    """
    env = servers.track_env(database_url, TRACK_RATE_LIMITS="100000/second")
    backends = _pair(f"once-{label}", env, workdir)
    stop_file = workdir / f"{label}.stop"
    stop_file.unlink(missing_ok=True)
    with servers.running(backends), Balancer(backends, workdir) as balancer:
        client = start_client(
            "submit",
            balancer.url,
            tokens,
            stop_file,
            concurrency=16,
            max_seconds=kills * interval + 90,
            label=label,
        )
        for number in range(kills):
            time.sleep(interval)
            victim = backends[number % 2]
            os.kill(victim.pid(), signal.SIGKILL)
            victim.process.wait(10)
            _restart(victim)
            victim.wait_ready(30)
        time.sleep(interval)
        stop_file.touch()
        result = finish_client(client, timeout=180)
    stored = asyncio.run(_stored_descriptions(database_url, label))
    acknowledged = set(result["keys"])
    return {
        "kills": kills,
        "submitted": result["acknowledged"] + result["given_up"],
        "acknowledged": result["acknowledged"],
        "given_up": result["given_up"],
        "rejected": result["rejected"],
        "rejections": result["rejections"],
        "attempts": result["attempts"],
        "replays": result["replays"],
        "stored": len(stored),
        "duplicates": len(stored) - len(set(stored)),
        "acknowledged_not_stored": len(acknowledged - set(stored)),
        "stored_not_acknowledged": len(set(stored) - acknowledged),
    }


def fairness_drill(
    database_url: str, tokens: Path, workdir: Path, *, phase_seconds: float, rounds: int
) -> dict:
    """Ten users at 1.5 requests/s each, with and without one user flooding at 10x the limit.

    Track runs with its default limits (20 per 10 s and 1,000 per 5 minutes
    per user), so the flood is 20 requests/s. Phases alternate, so drift of
    the shared machine falls on both alike.
    """
    env = servers.track_env(database_url)
    env.pop("TRACK_RATE_LIMITS", None)
    server = servers.track("fairness", env, workdir)
    phases = {"quiet": [], "flood": []}
    flood_statuses: dict[str, int] = {}
    with servers.running([server]):
        for round_number in range(rounds):
            for phase in ("quiet", "flood"):
                # Fresh users each phase, so the 5-minute limit never nears its end.
                first = 1 + (round_number * 2 + (phase == "flood")) * 10
                normal = start_client(
                    "paced",
                    server.url,
                    tokens,
                    Path("/nonexistent"),
                    first=first,
                    count=10,
                    rate=1.5,
                    max_seconds=phase_seconds,
                )
                flooder = None
                if phase == "flood":
                    flooder = start_client(
                        "paced",
                        server.url,
                        tokens,
                        Path("/nonexistent"),
                        first=0,
                        count=1,
                        rate=20,
                        max_seconds=phase_seconds,
                    )
                phases[phase].append(finish_client(normal))
                if flooder is not None:
                    for status, count in finish_client(flooder)["statuses"].items():
                        flood_statuses[status] = flood_statuses.get(status, 0) + count
    return {"phases": phases, "flood_statuses": flood_statuses}


def startup_times(database_url: str, workdir: Path, *, runs: int) -> list[float]:
    """Seconds from process start to the first 200 from /healthz/ready, one per run."""
    env = servers.track_env(database_url)
    times = []
    for number in range(runs):
        server = servers.track(f"startup-{number}", env, workdir)
        server.start()
        try:
            times.append(server.wait_ready(30, interval=0.005))
        finally:
            server.stop()
    return times
