"""Abuse cases found by attacking Track: each must stay fixed."""

import base64
import concurrent.futures
import datetime as dt
import json

import httpx
import pytest

from tests.api.conftest import TODAY, log_body
from tests.fixtures import PASSWORD, ServerProcess, base_env, create_token, create_user


def cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.fixture
def server(database_url):
    env = base_env(database_url, TRACK_LOGIN_ATTEMPTS="5/15 minutes")
    process = ServerProcess(env).start()
    yield process
    process.stop()


def test_parallel_guesses_share_the_sign_in_limit(database_url, server):
    create_user(database_url, "victim", "engineer")

    def guess(index: int) -> int:
        body = {"username": "victim", "password": f"wrong-guess-{index}"}
        return httpx.post(f"{server.url}/api/v1/session", json=body, timeout=60).status_code

    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(guess, range(12)))
    assert statuses.count(401) <= 5
    assert statuses.count(429) >= 7
    right = httpx.post(
        f"{server.url}/api/v1/session", json={"username": "victim", "password": PASSWORD}
    )
    assert right.status_code == 429


def test_parallel_patches_keep_daily_limit(database_url, server):
    create_user(database_url, "mara", "manager")
    create_user(database_url, "emma", "engineer")
    manager = {"Authorization": f"Bearer {create_token(database_url, 'mara')}"}
    emma = {"Authorization": f"Bearer {create_token(database_url, 'emma')}"}
    project = httpx.post(f"{server.url}/api/v1/projects", json={"name": "Race"}, headers=manager)
    project_id = project.json()["id"]
    httpx.post(
        f"{server.url}/api/v1/projects/{project_id}/members",
        json={"username": "emma"},
        headers=manager,
    )
    day_one = (TODAY - dt.timedelta(days=20)).isoformat()
    for trial in range(5):
        day_two = (TODAY - dt.timedelta(days=trial + 1)).isoformat()
        base = {"project_id": project_id, "work_date": day_two, "hours": 16}
        httpx.post(f"{server.url}/api/v1/worklogs", json=base, headers=emma)
        moving = httpx.post(
            f"{server.url}/api/v1/worklogs",
            json={"project_id": project_id, "work_date": day_one, "hours": 4},
            headers=emma,
        ).json()
        patches = [{"work_date": day_two}, {"hours": 12}]

        def send(patch):
            url = f"{server.url}/api/v1/worklogs/{moving['id']}"
            return httpx.patch(url, json=patch, headers=emma, timeout=60).status_code

        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            statuses = list(pool.map(send, patches))
        assert 500 not in statuses
        logs = httpx.get(
            f"{server.url}/api/v1/worklogs?from={day_two}&to={day_two}", headers=emma
        ).json()["items"]
        assert sum(item["hours"] for item in logs) <= 24
        httpx.delete(f"{server.url}/api/v1/worklogs/{moving['id']}", headers=emma)


def test_parallel_duplicates_conflict_not_fail(database_url, server):
    create_user(database_url, "mara", "manager")
    create_user(database_url, "lea", "engineer")
    manager = {"Authorization": f"Bearer {create_token(database_url, 'mara')}"}
    project_id = httpx.post(
        f"{server.url}/api/v1/projects", json={"name": "Dup"}, headers=manager
    ).json()["id"]

    def add(path_body):
        path, body = path_body
        return httpx.post(f"{server.url}{path}", json=body, headers=manager, timeout=60)

    requests = [(f"/api/v1/projects/{project_id}/members", {"username": "lea"})] * 6
    requests += [(f"/api/v1/projects/{project_id}/phases", {"name": "Survey"})] * 6
    with concurrent.futures.ThreadPoolExecutor(12) as pool:
        responses = list(pool.map(add, requests))
    statuses = {response.status_code for response in responses}
    assert statuses <= {200, 201, 409}
    members = httpx.get(f"{server.url}/api/v1/projects/{project_id}/members", headers=manager)
    assert len(members.json()["items"]) == 1


def test_far_future_weeks_rejected(office):
    emma, manager = office["emma"], office["manager"]
    assert emma.post("/api/v1/weeks/9999-12-27/submit").status_code == 422
    assert emma.get("/api/v1/weeks/9999-12-27").status_code == 422
    next_year = TODAY + dt.timedelta(days=400)
    monday = next_year - dt.timedelta(days=next_year.weekday())
    assert emma.post(f"/api/v1/weeks/{monday}/submit").status_code == 422
    this_monday = TODAY - dt.timedelta(days=TODAY.weekday())
    next_monday = this_monday + dt.timedelta(days=7)
    assert emma.post(f"/api/v1/weeks/{next_monday}/submit").status_code == 422
    assert manager.get("/api/v1/approvals").status_code == 200


def test_admin_deletes_project_with_phases_and_logs(office):
    admin = office["track"].user("root", "admin")
    office["emma"].post("/api/v1/worklogs", json=log_body(office))
    project_id = office["project"]["id"]
    assert admin.delete(f"/api/v1/projects/{project_id}").status_code == 204
    assert admin.get(f"/api/v1/projects/{project_id}").status_code == 404
    assert admin.get("/api/v1/worklogs").json()["items"] == []
    events = admin.get("/api/v1/audit?entity=project").json()["items"]
    assert events[0]["action"] == "delete"


def test_sql_parameters_hidden_from_errors(office):
    assert office["track"].app.state.db.engine.sync_engine.hide_parameters


def test_own_password_change_needs_current(office):
    track, emma = office["track"], office["emma"]
    emma_id = emma.get("/api/v1/me").json()["id"]
    missing = emma.patch(f"/api/v1/users/{emma_id}", json={"password": "a-new-password-1"})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "current_password"
    wrong = emma.patch(
        f"/api/v1/users/{emma_id}",
        json={"password": "a-new-password-1", "current_password": "not-it"},
    )
    assert wrong.status_code == 422

    browser = track.client
    browser.post("/api/v1/session", json={"username": "emma", "password": PASSWORD})
    assert browser.get("/api/v1/me").status_code == 200
    changed = emma.patch(
        f"/api/v1/users/{emma_id}",
        json={"password": "a-new-password-1", "current_password": PASSWORD},
    )
    assert changed.status_code == 200
    # The browser session opened with the old password has ended.
    assert browser.get("/api/v1/me").status_code == 401


def test_engineer_cannot_change_own_time_zone(office):
    emma = office["emma"]
    emma_id = emma.get("/api/v1/me").json()["id"]
    response = emma.patch(f"/api/v1/users/{emma_id}", json={"timezone": "Pacific/Kiritimati"})
    assert response.status_code == 403


def test_nobody_approves_own_week(office):
    manager = office["manager"]
    monday = TODAY - dt.timedelta(days=TODAY.weekday() + 7)
    manager_id = manager.get("/api/v1/me").json()["id"]
    assert manager.post(f"/api/v1/weeks/{monday}/submit").status_code == 201
    response = manager.post(f"/api/v1/weeks/{monday}/approve", json={"user_id": manager_id})
    assert response.status_code == 403
    assert "own week" in response.json()["detail"]


def test_normalisation_cannot_exceed_limits(office):
    emma = office["emma"]
    expanding = "\ufb2c" * 1024
    response = emma.post("/api/v1/worklogs", json=log_body(office, description=expanding))
    assert response.status_code == 422
    assert "1024" in response.json()["errors"][0]["message"]
    name = office["manager"].post("/api/v1/projects", json={"name": "\ufb2c" * 100})
    assert name.status_code == 422


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/session", {"username": "jo\u0000nas", "password": "x"}),
        ("GET", "/api/v1/projects?q=%00", None),
        ("GET", "/api/v1/portfolio?status=%00", None),
        ("POST", "/api/v1/problem-reports", {"page": "a\u0000b"}),
    ],
)
def test_nul_bytes_rejected(office, method, path, body):
    manager = office["manager"]
    response = manager.client.request(
        method, path, json=body, headers={"Authorization": f"Bearer {manager.token}"}
    )
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    ("path", "values"),
    [
        ("/api/v1/worklogs", ["2026-01-01", 10**30]),
        ("/api/v1/projects", ["a", 10**30]),
        ("/api/v1/tokens", [10**30]),
        ("/api/v1/users", ["a", True]),
        ("/api/v1/worklogs", ["2026-01-01", True]),
        ("/api/v1/projects", ["\ud800", 1]),
        ("/api/v1/audit", [-1.5]),
    ],
)
def test_hostile_cursors_rejected(office, path, values):
    admin = office["track"].user("root", "admin")
    response = admin.get(f"{path}?cursor={cursor(values)}")
    assert response.status_code == 400


def test_long_token_name_rejected(office):
    admin = office["track"].user("root", "admin")
    assert admin.post("/api/v1/tokens", json={"name": "n" * 150}).status_code == 422


def test_security_headers_and_origin_checks(office):
    client = office["track"].client
    page = client.get("/")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    create_user(office["track"].url, "lea", "engineer")
    client.post("/api/v1/session", json={"username": "lea", "password": PASSWORD})
    odd_scheme = client.post("/api/v1/worklogs", json={}, headers={"Origin": "ftp://testserver"})
    assert odd_scheme.status_code == 403
    forwarded = client.post(
        "/api/v1/worklogs",
        json={},
        headers={"Origin": "http://evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert forwarded.status_code == 403


def test_openapi_references_resolve(shared_app_client):
    document = shared_app_client.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    text = json.dumps(document)
    for name in set(part.split('"')[0] for part in text.split("#/components/schemas/")[1:]):
        assert name in schemas
