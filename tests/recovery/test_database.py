"""Database faults: a PostgreSQL restart under writes, and migrations that never race."""

import asyncio
import threading

import httpx
import pytest
from sqlalchemy import text

from tests.fixtures import base_env, create_token, create_user, postgres_database
from tests.recovery.services import LoggedServer, PostgresServer, bearer, wait_until

PROJECTS = "/api/v1/projects"


def _query_scalars(url: str, statement: str) -> list:
    async def run():
        from app.db import Database

        database = Database(url, instrument=False)
        try:
            async with database.engine.connect() as connection:
                return list((await connection.execute(text(statement))).scalars())
        finally:
            await database.dispose()

    return asyncio.run(run())


class Writer(threading.Thread):
    """Create projects one after another and record every response."""

    def __init__(self, base_url: str, token: str):
        super().__init__(daemon=True)
        self.client = httpx.Client(base_url=base_url, headers=bearer(token), timeout=30)
        self.stopping = threading.Event()
        self.responses: list[httpx.Response] = []
        self.acknowledged: list[str] = []
        self.transport_errors: list[Exception] = []

    def run(self) -> None:
        number = 0
        while not self.stopping.is_set():
            number += 1
            name = f"restart-{number}"
            try:
                response = self.client.post(PROJECTS, json={"name": name})
            except httpx.TransportError as error:
                self.transport_errors.append(error)
                continue
            self.responses.append(response)
            if response.status_code == 201:
                self.acknowledged.append(name)

    def stop(self) -> None:
        self.stopping.set()
        self.join(60)
        self.client.close()

    def statuses(self) -> set[int]:
        return {response.status_code for response in self.responses}


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_restart_during_writes(tmp_path):
    postgres = PostgresServer()
    server = None
    writer = None
    try:
        postgres.init()
        postgres.start()
        server = LoggedServer(base_env(postgres.url), tmp_path / "server.log").start()
        create_user(postgres.url, "mara", "manager")
        writer = Writer(server.url, create_token(postgres.url, "mara"))
        writer.start()
        wait_until(
            lambda: len(writer.acknowledged) >= 20, timeout=30, message="20 writes are stored"
        )

        postgres.stop()
        seen_outage = len(writer.responses)
        wait_until(
            lambda: any(r.status_code == 503 for r in writer.responses[seen_outage:]),
            timeout=30,
            message="a write is answered with 503 while PostgreSQL is down",
        )
        ready_during = httpx.get(server.url + "/healthz/ready", timeout=10)
        live_during = httpx.get(server.url + "/healthz/live", timeout=10)
        acknowledged_before = len(writer.acknowledged)

        postgres.start()
        wait_until(
            lambda: len(writer.acknowledged) >= acknowledged_before + 20,
            timeout=30,
            message="writes are stored again after PostgreSQL restarts",
        )
        ready_after = httpx.get(server.url + "/healthz/ready", timeout=10)
        writer.stop()
        stored = set(_query_scalars(postgres.url, "SELECT name FROM projects"))
        server_running = server.process.poll() is None
    finally:
        if writer is not None:
            writer.stop()
        if server is not None:
            server.stop()
        postgres.destroy()

    assert server_running
    assert writer.transport_errors == []
    assert writer.statuses() <= {201, 503}
    unavailable = [r for r in writer.responses if r.status_code == 503]
    assert unavailable
    assert all(r.headers.get("Retry-After", "").isdigit() for r in unavailable)
    assert all(r.headers["content-type"] == "application/problem+json" for r in unavailable)
    assert ready_during.status_code == 503
    assert ready_during.json()["failed"] == ["database"]
    assert live_during.status_code == 200
    assert ready_after.status_code == 200
    lost = [name for name in writer.acknowledged if name not in stored]
    assert lost == []


def _start_together(env: dict[str, str], directory, count: int) -> list[LoggedServer]:
    servers = [LoggedServer(env, directory / f"server-{n}.log") for n in range(count)]
    for server in servers:
        server.start(wait=False)
    return servers


def _migrations_done(servers: list[LoggedServer]) -> list[str]:
    return [
        line["message"]
        for server in servers
        for line in server.logs()
        if line["message"].startswith("migrated the database schema")
    ]


def _assert_one_migration(servers: list[LoggedServer]) -> None:
    try:
        for server in servers:
            server.wait_ready(timeout=60)
        migrated = _migrations_done(servers)
    finally:
        codes = [server.stop() for server in servers]
    assert len(migrated) == 1
    assert migrated[0] == "migrated the database schema from revision None to " + (_head_revision())
    assert codes == [0] * len(servers)


def _head_revision() -> str:
    from app.migrate import head_revision

    return head_revision()


@pytest.mark.postgres
def test_postgres_migrations_never_race(tmp_path):
    with postgres_database() as url:
        servers = _start_together(base_env(url), tmp_path, 3)
        _assert_one_migration(servers)
        versions = _query_scalars(url, "SELECT version_num FROM alembic_version")
    assert versions == [_head_revision()]


def test_sqlite_migrations_never_race(tmp_path):
    url = f"sqlite:///{tmp_path / 'track.db'}"
    servers = _start_together(base_env(url), tmp_path, 3)
    _assert_one_migration(servers)
    assert _query_scalars(url, "SELECT version_num FROM alembic_version") == [_head_revision()]
