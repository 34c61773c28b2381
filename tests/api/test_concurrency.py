"""Concurrent writers against a real server process lose nothing and break no rule."""

import concurrent.futures
import datetime as dt
from decimal import Decimal

import httpx
import pytest

from tests.fixtures import ServerProcess, base_env, create_token, create_user

WRITERS = 20


@pytest.fixture
def server(database_url, tmp_path):
    process = ServerProcess(base_env(database_url), log_path=tmp_path / "server.log").start()
    yield process
    process.stop()


def _setup(url, server) -> tuple[str, list[str], int]:
    create_user(url, "mara", "manager")
    manager = create_token(url, "mara")
    headers = {"Authorization": f"Bearer {manager}"}
    project = httpx.post(f"{server.url}/api/v1/projects", json={"name": "Load"}, headers=headers)
    project_id = project.json()["id"]
    tokens = []
    for index in range(4):
        name = f"eng{index}"
        create_user(url, name, "engineer")
        httpx.post(
            f"{server.url}/api/v1/projects/{project_id}/members",
            json={"username": name},
            headers=headers,
        )
        tokens.append(create_token(url, name))
    return manager, tokens, project_id


def test_concurrent_writers_keep_daily_limit(database_url, server):
    manager, tokens, project_id = _setup(database_url, server)
    today = dt.date.today().isoformat()

    def write(index: int) -> int:
        # Five writers per engineer, 6 h each: only four of each five fit in 24 h.
        token = tokens[index % len(tokens)]
        response = httpx.post(
            f"{server.url}/api/v1/worklogs",
            json={"project_id": project_id, "hours": 6, "work_date": today},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"w-{index}"},
            timeout=60,
        )
        return response.status_code

    with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
        statuses = list(pool.map(write, range(WRITERS)))

    assert 500 not in statuses
    assert statuses.count(201) == 16
    assert statuses.count(422) == 4
    logs = httpx.get(
        f"{server.url}/api/v1/worklogs?limit=500",
        headers={"Authorization": f"Bearer {manager}"},
    ).json()["items"]
    assert len(logs) == 16
    per_user: dict[str, Decimal] = {}
    for log in logs:
        per_user[log["user"]["username"]] = per_user.get(log["user"]["username"], 0) + Decimal(
            str(log["hours"])
        )
    assert set(per_user.values()) == {Decimal(24)}


def test_concurrent_writers_lose_nothing(database_url, server):
    manager, tokens, project_id = _setup(database_url, server)

    def write(index: int) -> int:
        day = (dt.date.today() - dt.timedelta(days=index)).isoformat()
        response = httpx.post(
            f"{server.url}/api/v1/worklogs",
            json={"project_id": project_id, "hours": "1.25", "work_date": day},
            headers={"Authorization": f"Bearer {tokens[index % len(tokens)]}"},
            timeout=60,
        )
        return response.status_code

    with concurrent.futures.ThreadPoolExecutor(WRITERS) as pool:
        statuses = list(pool.map(write, range(WRITERS * 3)))

    assert statuses == [201] * (WRITERS * 3)
    progress = httpx.get(
        f"{server.url}/api/v1/projects/{project_id}/progress",
        headers={"Authorization": f"Bearer {manager}"},
    ).json()
    assert Decimal(str(progress["logged_hours"])) == Decimal("1.25") * WRITERS * 3


def test_same_idempotency_key_creates_one_row(database_url, server):
    manager, tokens, project_id = _setup(database_url, server)
    body = {"project_id": project_id, "hours": 2, "work_date": dt.date.today().isoformat()}
    headers = {"Authorization": f"Bearer {tokens[0]}", "Idempotency-Key": "same-key-1"}

    def write(_: int) -> httpx.Response:
        return httpx.post(f"{server.url}/api/v1/worklogs", json=body, headers=headers, timeout=60)

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(write, range(10)))

    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    logs = httpx.get(
        f"{server.url}/api/v1/worklogs",
        headers={"Authorization": f"Bearer {manager}"},
    ).json()["items"]
    assert len(logs) == 1
