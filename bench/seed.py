"""Benchmark databases: create, migrate, fill with users, projects and work logs, copy, drop.

Rows go in with bulk inserts through the app's own tables, so a database of
100,000 work logs takes seconds. Every engineer gets an API token; the tokens
are written to a file the load generators read. Users are many (2,000 by
default) so that load spread over them in turn stays under Track's default
per-user rate limits, and the limiter does its normal work without returning 429.
"""

import asyncio
import datetime as dt
import hashlib
import os
import secrets
import shutil
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from app.auth import TOKEN_PREFIX, digest
from app.db import create_engine
from app.migrate import migrate
from app.models import ApiToken, Membership, Phase, Project, User, WorkLog

POSTGRES_SERVER = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
PROJECTS = 40
PHASES_PER_PROJECT = 4
HISTORY_DAYS = 28
BATCH = 5000


@dataclass(frozen=True)
class Dataset:
    """Contents of a seeded database, and the file that lists its users' tokens."""

    users: int
    worklogs: int
    tokens_file: Path
    manager_token: str


class _Database:
    """Only the attributes ``app.migrate.migrate`` uses: the URL and the engine."""

    def __init__(self, url: str):
        self.url = url
        self.engine = create_engine(url, instrument=False)


def _token_for(seed: str, index: int) -> str:
    # Deterministic per run seed, so copies of one database share their tokens.
    return TOKEN_PREFIX + hashlib.sha256(f"{seed}:{index}".encode()).hexdigest()[:43]


async def _fill(url: str, *, users: int, worklogs: int, seed: str) -> None:
    database = _Database(url)
    await migrate(database)
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    async with database.engine.begin() as connection:
        people = [
            {
                "id": index,
                "username": f"bench{index:05d}",
                "display_name": f"Bench User {index}",
                "role": "engineer",
                "password_hash": None,
                "timezone": "UTC",
                "active": True,
                "created_at": now,
            }
            for index in range(1, users + 1)
        ]
        people.append(
            {
                **people[0],
                "id": users + 1,
                "username": "benchmanager",
                "display_name": "Bench Manager",
                "role": "manager",
            }
        )
        await connection.execute(insert(User.__table__), people)
        tokens = [
            {
                "user_id": row["id"],
                "name": "bench",
                "prefix": _token_for(seed, row["id"])[:10],
                "token_hash": digest(_token_for(seed, row["id"])),
                "created_at": now,
            }
            for row in people
        ]
        await connection.execute(insert(ApiToken.__table__), tokens)
        await connection.execute(
            insert(Project.__table__),
            [
                {
                    "id": project,
                    "name": f"Bench project {project}",
                    "code": f"B{project:03d}",
                    "client": "Bench client",
                    "status": "active",
                    "description": "A project of the benchmark data set.",
                    "planned_hours": Decimal(20000),
                    "created_at": now,
                    "updated_at": now,
                }
                for project in range(1, PROJECTS + 1)
            ],
        )
        await connection.execute(
            insert(Phase.__table__),
            [
                {
                    "id": _phase_id(project, position),
                    "project_id": project,
                    "name": f"Phase {position + 1}",
                    "position": position,
                    "planned_hours": Decimal(5000),
                    "created_at": now,
                }
                for project in range(1, PROJECTS + 1)
                for position in range(PHASES_PER_PROJECT)
            ],
        )
        await connection.execute(
            insert(Membership.__table__),
            [
                {"project_id": project_of(user), "user_id": user, "created_at": now}
                for user in range(1, users + 1)
            ],
        )
        rows = []
        for index in range(worklogs):
            user = index % users + 1
            project = project_of(user)
            rows.append(
                {
                    "user_id": user,
                    "project_id": project,
                    "phase_id": _phase_id(project, index % PHASES_PER_PROJECT),
                    "work_date": today - dt.timedelta(days=(index // users) % HISTORY_DAYS),
                    "hours": Decimal("0.25"),
                    "description": f"seeded work log {index}",
                    "created_at": now,
                    "updated_at": now,
                    "created_by": user,
                    "updated_by": user,
                }
            )
            if len(rows) == BATCH:
                await connection.execute(insert(WorkLog.__table__), rows)
                rows = []
        if rows:
            await connection.execute(insert(WorkLog.__table__), rows)
        if connection.dialect.name == "postgresql":
            await connection.execute(text("ANALYZE"))
    await database.engine.dispose()


def project_of(user: int) -> int:
    return (user - 1) % PROJECTS + 1


def _phase_id(project: int, position: int) -> int:
    return (project - 1) * PHASES_PER_PROJECT + position + 1


def write_tokens(path: Path, *, users: int, seed: str) -> None:
    """Write one line per engineer: token, project id, first phase id (read by wrk's script)."""
    lines = [
        f"{_token_for(seed, user)} {project_of(user)} {_phase_id(project_of(user), 0)}"
        for user in range(1, users + 1)
    ]
    path.write_text("\n".join(lines) + "\n")


def seed(url: str, *, users: int, worklogs: int, workdir: Path) -> Dataset:
    """Migrate and fill the database at ``url``; return what it holds."""
    run_seed = secrets.token_hex(8)
    asyncio.run(_fill(url, users=users, worklogs=worklogs, seed=run_seed))
    tokens_file = workdir / f"tokens-{users}-{run_seed}.txt"
    write_tokens(tokens_file, users=users, seed=run_seed)
    return Dataset(users, worklogs, tokens_file, _token_for(run_seed, users + 1))


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def copy_sqlite(source: Path, target: Path) -> str:
    """Copy a closed SQLite database file and return the copy's URL."""
    shutil.copyfile(source, target)
    return sqlite_url(target)


async def _admin(statements: list[str]) -> None:
    engine = create_engine(POSTGRES_SERVER, instrument=False).execution_options(
        isolation_level="AUTOCOMMIT"
    )
    async with engine.connect() as connection:
        for statement in statements:
            await connection.execute(text(statement))
    await engine.dispose()


def postgres_url(name: str) -> str:
    return make_url(POSTGRES_SERVER).set(database=name).render_as_string(hide_password=False)


def create_postgres(name: str, *, template: str | None = None) -> str:
    """Create a PostgreSQL database (optionally a copy of ``template``) and return its URL."""
    clause = f' TEMPLATE "{template}"' if template else ""
    asyncio.run(
        _admin(
            [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"{clause}']
        )
    )
    return postgres_url(name)


def drop_postgres(names: list[str]) -> None:
    if names:
        asyncio.run(_admin([f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names]))


def postgres_available() -> bool:
    try:
        asyncio.run(_admin(["SELECT 1"]))
    except (OSError, Exception):  # noqa: BLE001 - any failure means "not available"
        return False
    return True
