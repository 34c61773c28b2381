"""Shared test fixtures: databases of both kinds, an in-process app, real server processes."""

import asyncio
import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from tests.components import ROOT, free_port, require_postgres

SECRET_KEY = "test-secret-key-that-is-long-enough-0123456789"
PASSWORD = "correct-horse-battery"
# Argon2 at its smallest memory cost keeps the suite fast; production uses 64 MiB.
FAST_HASH_KIB = "64"


def base_env(database_url: str, **extra: str) -> dict[str, str]:
    env = {
        "TRACK_DATABASE_URL": database_url,
        "TRACK_SECRET_KEY": SECRET_KEY,
        "TRACK_PASSWORD_HASH_MEMORY_KIB": FAST_HASH_KIB,
        "TRACK_RATE_LIMITS": "100000/second",
        "TRACK_LOGIN_ATTEMPTS": "100000/second",
        "TRACK_DRAIN_SECONDS": "0",
        "TRACK_TERMINATION_LOG": "",
    }
    env.update(extra)
    return env


def _admin_sql(url: str, statement: str) -> None:
    async def run():
        from sqlalchemy.ext.asyncio import create_async_engine

        from app.db import async_url

        engine = create_async_engine(async_url(url), isolation_level="AUTOCOMMIT")
        async with engine.connect() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    asyncio.run(run())


@contextlib.contextmanager
def postgres_database():
    """Create a database of its own on the machine's PostgreSQL, and drop it afterwards."""
    server = require_postgres()
    name = f"track_test_{os.getpid()}_{secrets.token_hex(4)}"
    _admin_sql(server, f'CREATE DATABASE "{name}"')
    url = make_url(server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        _admin_sql(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def postgres_url():
    with postgres_database() as url:
        yield url


def _truncate_postgres(url: str) -> None:
    async def run():
        from app.db import Database

        database = Database(url, instrument=False)
        async with database.engine.begin() as connection:
            tables = (
                await connection.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename <> 'alembic_version'"
                    )
                )
            ).scalars()
            names = ", ".join(f'"{name}"' for name in tables)
            if names:
                await connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await database.dispose()

    asyncio.run(run())


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", id="postgres", marks=pytest.mark.postgres),
    ]
)
def database_url(request, tmp_path):
    """A migrated, empty database: SQLite in a temporary file, or PostgreSQL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'track.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
        migrate_database(url)
        _truncate_postgres(url)
    migrate_database(url)
    return url


def migrate_database(url: str) -> None:
    from app.db import Database
    from app.migrate import migrate

    async def run():
        database = Database(url, instrument=False)
        await migrate(database)
        await database.dispose()

    asyncio.run(run())


def create_user(url: str, username: str, role: str, timezone: str = "UTC") -> None:
    from app import passwords
    from app.accounts import create_user as create
    from app.db import Database

    passwords.configure(int(FAST_HASH_KIB))

    async def run():
        database = Database(url, instrument=False)
        await create(database, username=username, role=role, password=PASSWORD, timezone=timezone)
        await database.dispose()

    asyncio.run(run())


def create_token(url: str, username: str) -> str:
    from app.accounts import create_token_for
    from app.db import Database

    async def run():
        database = Database(url, instrument=False)
        secret = await create_token_for(database, username, "tests")
        await database.dispose()
        return secret

    return asyncio.run(run())


@dataclass
class Api:
    """Calls to the app as one user, authenticated with that user's API token."""

    client: TestClient
    username: str
    token: str

    def _headers(self, kwargs) -> dict:
        return {"Authorization": f"Bearer {self.token}", **kwargs.pop("headers", {})}

    def get(self, path, **kwargs):
        return self.client.get(path, headers=self._headers(kwargs), **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.client.post(path, json=json, headers=self._headers(kwargs), **kwargs)

    def patch(self, path, json=None, **kwargs):
        return self.client.patch(path, json=json, headers=self._headers(kwargs), **kwargs)

    def delete(self, path, **kwargs):
        return self.client.delete(path, headers=self._headers(kwargs), **kwargs)


class Track:
    """An in-process Track app on one database, and a way to act as any of its users.

    One TestClient runs the app's lifespan; users are told apart by their API
    tokens, so the client's own cookie jar stays free for session tests.
    """

    def __init__(self, url: str, env: dict[str, str]):
        from app.config import load_settings
        from app.main import create_app

        self.url = url
        self.settings = load_settings(env)
        self.app = create_app(self.settings)
        self.client = TestClient(self.app, base_url="http://testserver")
        self.client.__enter__()

    def user(self, username: str, role: str = "engineer", timezone: str = "UTC") -> Api:
        create_user(self.url, username, role, timezone)
        return Api(self.client, username, create_token(self.url, username))

    def close(self) -> None:
        self.client.__exit__(None, None, None)


@pytest.fixture
def track(database_url):
    instance = Track(database_url, base_env(database_url))
    yield instance
    instance.close()


@pytest.fixture
def sqlite_track(tmp_path):
    url = f"sqlite:///{tmp_path / 'track.db'}"
    instance = Track(url, base_env(url))
    yield instance
    instance.close()


class ServerProcess:
    """A real ``track serve`` process on 127.0.0.1 and a free port."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        workers: int = 1,
        port: int | None = None,
        log_path: Path | None = None,
    ):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **env}
        self.workers = workers
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self, *, wait: bool = True) -> "ServerProcess":
        command = [
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--workers",
            str(self.workers),
        ]
        if self.log_path:
            # The child keeps its own copy of the descriptor; ours can close at once.
            with open(self.log_path, "ab") as output:
                self.process = subprocess.Popen(
                    command, env=self.env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
                )
        else:
            self.process = subprocess.Popen(
                command, env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
            )
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"track serve exited with {self.process.returncode}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(self.url + "/healthz/ready", timeout=1).status_code == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"track serve on port {self.port} not ready within {timeout} s")

    def signal(self, sig: int) -> None:
        self.process.send_signal(sig)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(10)

    def stop(self, timeout: float = 30) -> int:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        return self.process.returncode if self.process else 0
