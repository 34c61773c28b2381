"""Process lifecycle: draining on SIGTERM, replacing dead workers, failing start-up."""

import json
import os
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.components import ROOT
from tests.fixtures import SECRET_KEY, base_env, create_token, create_user
from tests.recovery.services import LoggedServer, bearer, metric_total, wait_until

FAULTS = "/api/v1/admin/faults"
SLOW_SECONDS = 4


def _admin_token(url: str) -> str:
    create_user(url, "ada", "admin")
    return create_token(url, "ada")


@pytest.mark.slow
def test_sigterm_drains_in_flight_requests(tmp_path):
    url = f"sqlite:///{tmp_path / 'track.db'}"
    env = base_env(url, TRACK_FAULT_INJECTION="1", TRACK_DRAIN_SECONDS="3")
    server = LoggedServer(env, tmp_path / "server.log").start()
    headers = bearer(_admin_token(url))

    def slow_request(_: int) -> httpx.Response:
        body = {"kind": "sleep", "seconds": SLOW_SECONDS}
        return httpx.post(server.url + FAULTS, json=body, headers=headers, timeout=60)

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            futures = [pool.submit(slow_request, n) for n in range(20)]
            # The scrape counts itself as one request in flight.
            wait_until(
                lambda: metric_total(server.url, "track_http_requests_in_flight") >= 21,
                timeout=30,
                message="20 slow requests are in flight",
            )
            server.signal(signal.SIGTERM)
            ready = httpx.get(server.url + "/healthz/ready", timeout=10)
            live = httpx.get(server.url + "/healthz/live", timeout=10)
            responses = [future.result() for future in futures]
        exit_code = server.process.wait(60)
    finally:
        server.stop()

    assert ready.status_code == 503
    assert "shutdown" in ready.json()["failed"]
    assert ready.headers["connection"] == "close"
    assert live.status_code == 200
    assert [response.status_code for response in responses] == [200] * 20
    assert exit_code == 0
    messages = [line["message"] for line in server.logs()]
    assert "draining before shutdown" in messages


def test_sigterm_without_traffic_exits_zero(tmp_path):
    url = f"sqlite:///{tmp_path / 'track.db'}"
    server = LoggedServer(base_env(url), tmp_path / "server.log").start()
    server.signal(signal.SIGTERM)
    assert server.process.wait(30) == 0


def _worker_pids(server: LoggedServer) -> set[int]:
    started = {line["pid"] for line in server.logs() if line["message"] == "worker started"}
    return {pid for pid in started if _is_running(pid)}


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_killed_worker_is_replaced(tmp_path):
    url = f"sqlite:///{tmp_path / 'track.db'}"
    server = LoggedServer(base_env(url), tmp_path / "server.log", workers=2).start()
    try:
        wait_until(lambda: len(_worker_pids(server)) == 2, timeout=30, message="two workers run")
        victim, survivor = sorted(_worker_pids(server))
        os.kill(victim, signal.SIGKILL)

        # The other worker keeps serving while the supervisor replaces the dead one.
        statuses = []
        with httpx.Client(base_url=server.url, timeout=10) as client:

            def replaced() -> set[int]:
                statuses.append(client.get("/healthz/ready").status_code)
                pids = _worker_pids(server)
                return pids - {survivor} if len(pids) == 2 and victim not in pids else set()

            replacement = wait_until(replaced, timeout=30, message="a new worker replaces it")
            served_after = [client.get("/healthz/ready").status_code for _ in range(10)]
        exit_code = server.stop()
    finally:
        server.stop()

    assert survivor not in replacement
    assert victim not in replacement
    assert _is_running(survivor) is False
    assert set(statuses) == {200}
    assert served_after == [200] * 10
    assert exit_code == 0
    warnings = [line for line in server.logs() if line["level"] == "warning"]
    assert any("memory storage" in line["message"] for line in warnings)
    exited = [line for line in server.logs() if line["message"].startswith("worker exited")]
    assert [line["pid"] for line in exited] == [victim]
    assert exited[0]["exit_code"] == -signal.SIGKILL


def _run_track(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**os.environ, **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


BAD_SETTINGS = [
    pytest.param({"TRACK_SECRET_KEY": ""}, "TRACK_SECRET_KEY is not set", id="missing-secret"),
    pytest.param({"TRACK_SECRET_KEY": "short"}, "TRACK_SECRET_KEY is 5 characters", id="short"),
    pytest.param(
        {"TRACK_RATE_LIMITS": "many per hour"}, "TRACK_RATE_LIMITS='many per hour'", id="limits"
    ),
    pytest.param(
        {"TRACK_RATE_LIMIT_STORAGE": "mongodb://x"}, "TRACK_RATE_LIMIT_STORAGE", id="storage"
    ),
    pytest.param({"TRACK_TRUSTED_PROXIES": "10.0.0.0/99"}, "TRACK_TRUSTED_PROXIES", id="proxies"),
]


@pytest.mark.parametrize(("override", "expected"), BAD_SETTINGS)
def test_bad_configuration_fails_clearly(tmp_path, override, expected):
    termination_log = tmp_path / "termination-log"
    env = base_env(f"sqlite:///{tmp_path / 'track.db'}", TRACK_TERMINATION_LOG=str(termination_log))
    env.update(override)
    result = _run_track(env, "serve", "--port", "1")

    assert result.returncode != 0
    assert f"error: {expected}" in result.stderr
    assert "Traceback" not in result.stderr
    lines = termination_log.read_text().splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert report["track_crash"] == 1
    assert report["exception"] == "ConfigurationError"
    assert report["route"] == "configuration"
    assert len(report["signature"]) == 12
    assert expected.split("=")[0] in report["message"]
    assert SECRET_KEY not in lines[0]


def test_failed_startup_writes_crash_report(tmp_path):
    termination_log = tmp_path / "termination-log"
    # A directory where the database file should be: SQLite cannot open it.
    (tmp_path / "track.db").mkdir()
    env = base_env(f"sqlite:///{tmp_path / 'track.db'}", TRACK_TERMINATION_LOG=str(termination_log))
    server = LoggedServer(env, tmp_path / "server.log").start(wait=False)
    exit_code = server.process.wait(60)

    assert exit_code == 1
    report = json.loads(termination_log.read_text())
    assert report["route"] == "startup"
    assert report["track_crash"] == 1
    assert len(report["signature"]) == 12
    assert report["location"].startswith("app/")
