"""Schema migrations, run by exactly one process at a time.

Several processes may start together on an empty database. On PostgreSQL a
session-level advisory lock makes the others wait until the first has
migrated. On SQLite an exclusive lock on a file next to the database does the
same. Whoever gets the lock second finds the schema current and does nothing.
"""

import asyncio
import contextlib
import fcntl
import logging
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import make_url

from app.db import Database

log = logging.getLogger(__name__)

# An arbitrary constant shared by every Track process: the key of the advisory lock.
LOCK_WAIT_SECONDS = 600
LOCK_POLL_SECONDS = 0.25
MIGRATION_LOCK_KEY = 0x7472_6163_6B  # "track"


def alembic_config() -> Config:
    return Config(str(Path(__file__).with_name("alembic.ini")))


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _sqlite_lock_path(url: str) -> Path | None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return None
    return Path(database + ".migrate.lock")


@contextlib.contextmanager
def _file_lock(path: Path | None):
    if path is None:
        yield
        return
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _upgrade(connection) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def current_revision_of(connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(database: Database) -> str | None:
    async with database.engine.connect() as connection:
        return await connection.run_sync(current_revision_of)


async def _wait_for_lock(connection) -> None:
    """Take the migration lock, polling so no statement timeout cuts a long wait short."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        taken = await connection.scalar(
            text("SELECT pg_try_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
        )
        await connection.commit()
        if taken:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"another process held the migration lock for over {LOCK_WAIT_SECONDS} s"
            )
        await asyncio.sleep(LOCK_POLL_SECONDS)


async def migrate(database: Database) -> str:
    """Bring the schema to the latest revision and return that revision."""
    engine = database.engine
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await _wait_for_lock(connection)
            try:
                before = await connection.run_sync(current_revision_of)
                await connection.run_sync(_upgrade)
                await connection.commit()
            finally:
                await connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY}
                )
                await connection.commit()
    else:
        with _file_lock(_sqlite_lock_path(database.url)):
            async with engine.connect() as connection:
                before = await connection.run_sync(current_revision_of)
                await connection.run_sync(_upgrade)
                await connection.commit()
    revision = await current_revision(database)
    if before == revision:
        log.info("database schema already at revision %s", revision)
    else:
        log.info(
            "migrated the database schema from revision %s to %s",
            before,
            revision,
            extra={"from_revision": before, "to_revision": revision},
        )
    return revision
