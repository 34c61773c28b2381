"""Fault drills: an unhandled error, a crash and a blocked event loop."""

import json
import logging
import re
import threading

import httpx
import pytest
from prometheus_client import REGISTRY

from tests.fixtures import Track, base_env, create_token, create_user
from tests.recovery.services import LoggedServer, bearer, wait_until

FAULTS = "/api/v1/admin/faults"


@pytest.fixture
def drill_track(tmp_path):
    url = f"sqlite:///{tmp_path / 'track.db'}"
    instance = Track(url, base_env(url, TRACK_FAULT_INJECTION="1"))
    yield instance
    instance.close()


def _unhandled_count(signature: str) -> float:
    value = REGISTRY.get_sample_value("track_unhandled_errors_total", {"signature": signature})
    return value or 0.0


def test_raise_returns_problem_with_incident(drill_track, caplog):
    admin = drill_track.user("ada", "admin")
    with caplog.at_level(logging.ERROR, logger="app.requests"):
        first = admin.post(FAULTS, json={"kind": "raise"})
        second = admin.post(FAULTS, json={"kind": "raise"})

    assert first.status_code == 500
    assert first.headers["content-type"] == "application/problem+json"
    body = first.json()
    assert body["status"] == 500
    assert re.fullmatch(r"[0-9a-f]{16}", body["incident_id"])
    assert re.fullmatch(r"[0-9a-f]{12}", body["signature"])
    assert body["incident_id"] in body["detail"]
    assert "fault drill" not in body["detail"]
    assert second.json()["signature"] == body["signature"]
    assert second.json()["incident_id"] != body["incident_id"]
    assert _unhandled_count(body["signature"]) == 2

    records = [record for record in caplog.records if record.getMessage() == "unhandled error"]
    assert len(records) == 2
    assert records[0].signature == body["signature"]
    assert records[0].incident_id == body["incident_id"]
    assert records[0].location.startswith("app/api/admin.py:inject_fault:")
    assert records[0].route == "POST /api/v1/admin/faults"


def test_drills_off_by_default(sqlite_track):
    admin = sqlite_track.user("ada", "admin")
    response = admin.post(FAULTS, json={"kind": "raise"})
    assert response.status_code == 404
    assert "TRACK_FAULT_INJECTION=1" in response.json()["detail"]


def test_drills_need_admin(drill_track):
    manager = drill_track.user("mara", "manager")
    assert manager.post(FAULTS, json={"kind": "raise"}).status_code == 403


@pytest.mark.parametrize(
    "body",
    [{"kind": "explode"}, {"kind": "block", "seconds": 0}, {"kind": "sleep", "seconds": 601}],
)
def test_invalid_drill_rejected(drill_track, body):
    admin = drill_track.user("ada", "admin")
    assert admin.post(FAULTS, json=body).status_code == 422


def _drill_server(tmp_path, **extra: str) -> tuple[LoggedServer, dict[str, str]]:
    url = f"sqlite:///{tmp_path / 'track.db'}"
    env = base_env(url, TRACK_FAULT_INJECTION="1", **extra)
    server = LoggedServer(env, tmp_path / "server.log").start()
    create_user(url, "ada", "admin")
    return server, bearer(create_token(url, "ada"))


def test_crash_writes_report_and_exits(tmp_path):
    termination_log = tmp_path / "termination-log"
    server, headers = _drill_server(tmp_path, TRACK_TERMINATION_LOG=str(termination_log))
    try:
        with pytest.raises(httpx.RemoteProtocolError):
            httpx.post(server.url + FAULTS, json={"kind": "crash"}, headers=headers, timeout=30)
        exit_code = server.process.wait(30)
    finally:
        server.stop()

    assert exit_code == 1
    lines = termination_log.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    report = json.loads(lines[0])
    assert set(report) == {"track_crash", "signature", "exception", "location", "route", "message"}
    assert report["track_crash"] == 1
    assert re.fullmatch(r"[0-9a-f]{12}", report["signature"])
    assert report["exception"] == "FaultDrillError"
    assert re.fullmatch(r"app/api/admin\.py:inject_fault:\d+", report["location"])
    assert report["route"] == "POST /api/v1/admin/faults"
    assert report["message"] == "fault drill: crash requested"
    critical = [line for line in server.logs() if line["level"] == "critical"]
    assert [line["crash"]["signature"] for line in critical] == [report["signature"]]


@pytest.mark.slow
def test_block_fails_liveness_then_recovers(tmp_path):
    server, headers = _drill_server(tmp_path, TRACK_LOOP_LAG_THRESHOLD_SECONDS="1")
    block_response: list[httpx.Response] = []

    def block() -> None:
        body = {"kind": "block", "seconds": 3}
        block_response.append(
            httpx.post(server.url + FAULTS, json=body, headers=headers, timeout=30)
        )

    probes: list[httpx.Response] = []
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.get("/healthz/live").status_code == 200
            blocker = threading.Thread(target=block)
            blocker.start()

            def probe_returns(expected: int) -> bool:
                probes.append(client.get("/healthz/live"))
                return probes[-1].status_code == expected

            wait_until(lambda: probe_returns(503), timeout=30, message="liveness fails")
            failing = probes[-1]
            wait_until(lambda: probe_returns(200), timeout=30, message="liveness recovers")
            blocker.join(30)
        ready = httpx.get(server.url + "/healthz/ready", timeout=10)
        running = server.process.poll() is None
    finally:
        server.stop()

    assert failing.json()["failed"] == "event_loop_blocked"
    assert failing.json()["loop_lag_seconds"] > 1
    assert probes[-1].json()["status"] == "ok"
    assert block_response[0].status_code == 200
    assert ready.status_code == 200
    # The orchestrator restarts the process on failed liveness; the drill alone does not.
    assert running


def test_block_threshold_configurable(tmp_path):
    from app.config import load_settings

    url = f"sqlite:///{tmp_path / 'track.db'}"
    settings = load_settings(base_env(url, TRACK_LOOP_LAG_THRESHOLD_SECONDS="1.5"))
    assert settings.loop_lag_threshold_seconds == 1.5
    assert load_settings(base_env(url)).loop_lag_threshold_seconds == 5.0
