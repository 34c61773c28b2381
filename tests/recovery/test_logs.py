"""JSON log lines: request context on every line, and no secret ever written."""

import datetime as dt

import httpx

from app import auth
from tests.fixtures import PASSWORD, SECRET_KEY, base_env, create_token, create_user
from tests.recovery.services import LoggedServer, bearer, sign_in

NEW_PASSWORD = "new-user-password-2931"
WRONG_PASSWORD = "wrong-password-77881"


def test_request_lines_and_no_secrets(tmp_path):
    url = f"sqlite:///{tmp_path / 'track.db'}"
    env = base_env(url, TRACK_FAULT_INJECTION="1", TRACK_LOG_LEVEL="DEBUG")
    server = LoggedServer(env, tmp_path / "server.log").start()
    create_user(url, "ada", "admin")
    token = create_token(url, "ada")
    try:
        with httpx.Client(base_url=server.url, timeout=10) as browser:
            rejected = browser.post(
                "/api/v1/session", json={"username": "ada", "password": WRONG_PASSWORD}
            )
            signed_in = sign_in(browser, "ada")
            session_cookie = browser.cookies[auth.SESSION_COOKIE]
            me = browser.get("/api/v1/me")
        with httpx.Client(base_url=server.url, headers=bearer(token), timeout=10) as api:
            created_user = api.post(
                "/api/v1/users",
                json={"username": "nils", "role": "engineer", "password": NEW_PASSWORD},
            )
            created_token = api.post("/api/v1/tokens", json={"name": "ci"})
            new_token = created_token.json()["token"]
            listed = api.get("/api/v1/projects", headers={"X-Request-ID": "req-logs-1"})
            failed = api.post("/api/v1/admin/faults", json={"kind": "raise"})
        bad_token = httpx.get(
            server.url + "/api/v1/projects", headers=bearer(token + "x"), timeout=10
        )
    finally:
        server.stop()

    assert rejected.status_code == 401
    assert signed_in.status_code == 201
    assert me.status_code == 200
    assert created_user.status_code == 201
    assert created_token.status_code == 201
    assert listed.status_code == 200
    assert failed.status_code == 500
    assert bad_token.status_code == 401

    output = server.log_path.read_text(encoding="utf-8")
    for secret in [PASSWORD, WRONG_PASSWORD, NEW_PASSWORD, token, new_token, SECRET_KEY]:
        assert secret not in output
    assert session_cookie not in output
    assert session_cookie.split(".")[0] not in output

    lines = server.logs()
    requests = [line for line in lines if line["message"] == "request"]
    assert len(requests) >= 8
    for line in requests:
        assert {"time", "level", "logger", "request_id", "route", "status", "duration_ms"} <= set(
            line
        )
        assert dt.datetime.fromisoformat(line["time"]).tzinfo is not None
        assert line["level"] == "info"
        assert line["logger"] == "app.requests"
        assert line["duration_ms"] >= 0

    by_id = {line["request_id"]: line for line in requests}
    listed_line = by_id["req-logs-1"]
    assert listed_line["route"] == "/api/v1/projects"
    assert listed_line["status"] == 200
    assert isinstance(listed_line["user_id"], int)
    me_line = by_id[me.headers["x-request-id"]]
    assert me_line["user_id"] == listed_line["user_id"]
    assert "user_id" not in by_id[rejected.headers["x-request-id"]]

    errors = [line for line in lines if line["message"] == "unhandled error"]
    assert len(errors) == 1
    assert errors[0]["level"] == "error"
    assert errors[0]["signature"] == failed.json()["signature"]
    assert errors[0]["incident_id"] == failed.json()["incident_id"]
    assert errors[0]["request_id"] == failed.headers["x-request-id"]
    assert errors[0]["user_id"] == listed_line["user_id"]
