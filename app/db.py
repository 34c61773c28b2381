"""Database engines and sessions for SQLite (embedded) and PostgreSQL (clusters).

Plain ``sqlite:///`` and ``postgresql://`` URLs are accepted; the async driver
(aiosqlite or asyncpg) is chosen here. SQLite runs in WAL mode with a busy
timeout, and write transactions start with ``BEGIN IMMEDIATE`` so concurrent
writers queue for the lock instead of failing half-way through.
"""

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from app import metrics

SQLITE_BUSY_TIMEOUT_MS = 30_000


class DatabaseURLError(ValueError):
    """The database URL has a scheme Track does not support."""


def async_url(raw: str) -> URL:
    """Return the URL with the async driver Track uses for its database kind."""
    try:
        url = make_url(raw)
    except Exception:
        raise DatabaseURLError(
            "TRACK_DATABASE_URL is not a valid URL; expected sqlite:///PATH "
            "or postgresql://USER@HOST:PORT/DB"
        ) from None
    backend = url.get_backend_name()
    if backend == "sqlite":
        return url.set(drivername="sqlite+aiosqlite")
    if backend in {"postgresql", "postgres"}:
        return url.set(drivername="postgresql+asyncpg")
    raise DatabaseURLError(
        f"TRACK_DATABASE_URL uses the unsupported scheme {backend!r}; "
        "expected sqlite:/// or postgresql://"
    )


def is_sqlite(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "sqlite"


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def on_begin(connection):
        if connection.get_execution_options().get("write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def _instrument(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info.setdefault("query_start", []).append(time.perf_counter())

    @event.listens_for(engine.sync_engine, "after_cursor_execute")
    def after(conn, cursor, statement, parameters, context, executemany):
        started = conn.info["query_start"].pop()
        operation = statement.lstrip().split(" ", 1)[0].upper()
        if operation not in {"SELECT", "INSERT", "UPDATE", "DELETE"}:
            operation = "OTHER"
        metrics.DB_QUERY_DURATION.labels(operation).observe(time.perf_counter() - started)


def create_engine(raw_url: str, *, instrument: bool = True) -> AsyncEngine:
    # hide_parameters keeps bound values (password hashes, token hashes, user
    # text) out of error messages, which end up in logs.
    url = async_url(raw_url)
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(
            url, hide_parameters=True, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        )
        _configure_sqlite(engine)
    else:
        engine = create_async_engine(
            url,
            hide_parameters=True,
            pool_size=10,
            max_overflow=10,
            pool_timeout=5,
            # A connection that died with the server is noticed and replaced
            # before a request uses it.
            pool_pre_ping=True,
            pool_recycle=1800,
            connect_args={"timeout": 5, "command_timeout": 30},
        )
    if instrument:
        _instrument(engine)
    return engine


class Database:
    """The engine and session factory one process uses."""

    def __init__(self, url: str, *, instrument: bool = True):
        self.url = url
        self.engine = create_engine(url, instrument=instrument)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = async_sessionmaker(
            self.engine.execution_options(write=True), expire_on_commit=False
        )

    @contextlib.asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        async with self._sessions() as session:
            yield session

    @contextlib.asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """Open a session whose transaction commits on success and rolls back on error."""
        async with self._write_sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
