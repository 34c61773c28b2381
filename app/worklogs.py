"""Work-log rules: who may log what, on which day, and how much.

Every rule fails with a 422 that names the field and, where another entry
is involved, names that entry too. Writes run in a transaction that holds the
user's write lock (``BEGIN IMMEDIATE`` on SQLite, the user's row locked on
PostgreSQL), so two concurrent logs cannot both pass the daily 24-hour check.
"""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import is_manager
from app.hours import MAX_DAY
from app.models import Phase, Project, User, WorkLog, utcnow
from app.problems import Forbidden, NotFound, ValidationFailed
from app.projects import is_member, user_ref

EARLIEST_WORK_DATE = dt.date(2000, 1, 1)


def local_today(user: User, now: dt.datetime | None = None) -> dt.date:
    now = now or utcnow()
    return now.astimezone(ZoneInfo(user.timezone)).date()


def worklog_json(log: WorkLog, project_name: str | None = None) -> dict:
    return {
        "id": log.id,
        "user": user_ref(log.user),
        "project_id": log.project_id,
        "project_name": project_name,
        "phase_id": log.phase_id,
        "phase_name": log.phase.name if log.phase else None,
        "work_date": log.work_date,
        "hours": log.hours,
        "description": log.description,
        "created_at": log.created_at,
        "updated_at": log.updated_at,
        "created_by": log.created_by,
        "updated_by": log.updated_by,
    }


async def lock_user(db: AsyncSession, user_id: int) -> None:
    """Serialise one user's work-log writes on PostgreSQL; SQLite's write lock already does."""
    if db.bind.dialect.name == "postgresql":
        await db.execute(select(User.id).where(User.id == user_id).with_for_update())


class Rules:
    """Collects rule violations so one response lists every field that is wrong."""

    def __init__(self):
        self.errors: list[dict] = []

    def fail(self, field: str, message: str) -> None:
        self.errors.append({"field": field, "message": message})

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)


async def check_project(
    db: AsyncSession, actor: User, project_id: int, rules: Rules
) -> Project | None:
    project = await db.get(Project, project_id)
    if project is None or not (is_manager(actor) or await is_member(db, actor.id, project_id)):
        rules.fail("project_id", f"there is no project {project_id} that you are a member of")
        return None
    if project.status == "archived":
        rules.fail("project_id", f"project {project.name!r} is archived and takes no new work logs")
    return project


async def check_phase(
    db: AsyncSession, project: Project, phase_id: int | None, rules: Rules
) -> None:
    if phase_id is None:
        if project.phases:
            names = ", ".join(repr(phase.name) for phase in project.phases[:5])
            rules.fail("phase_id", f"is required: project {project.name!r} has phases ({names})")
        return
    phase = await db.get(Phase, phase_id)
    if phase is None or phase.project_id != project.id:
        rules.fail("phase_id", f"phase {phase_id} does not belong to project {project.name!r}")


def check_date(owner: User, work_date: dt.date, rules: Rules) -> None:
    tomorrow = local_today(owner) + dt.timedelta(days=1)
    if work_date > tomorrow:
        rules.fail(
            "work_date",
            f"{display_date(work_date)} is later than tomorrow ({display_date(tomorrow)}) "
            f"in your time zone {owner.timezone}",
        )
    elif work_date < EARLIEST_WORK_DATE:
        rules.fail("work_date", f"must be on or after {EARLIEST_WORK_DATE.isoformat()}")


async def check_day_total(
    db: AsyncSession,
    owner: User,
    work_date: dt.date,
    hours: Decimal,
    rules: Rules,
    *,
    replacing: int | None = None,
) -> None:
    query = (
        select(WorkLog.id, WorkLog.hours, Project.name, Phase.name)
        .join(Project, Project.id == WorkLog.project_id)
        .outerjoin(Phase, Phase.id == WorkLog.phase_id)
        .where(WorkLog.user_id == owner.id, WorkLog.work_date == work_date)
        .order_by(WorkLog.id)
    )
    if replacing is not None:
        query = query.where(WorkLog.id != replacing)
    others = (await db.execute(query)).all()
    logged = sum((row.hours for row in others), Decimal(0))
    if logged + hours > MAX_DAY:
        entries = ", ".join(
            f"{_hours_text(row.hours)} on {row[2]}{' / ' + row[3] if row[3] else ''} "
            f"(work log {row.id})"
            for row in others[:5]
        )
        rules.fail(
            "hours",
            f"would bring {display_date(work_date)} to {_hours_text(logged + hours)}, "
            f"over the 24 h a day allows; already logged that day: {entries}",
        )


def display_date(day: dt.date) -> str:
    """Format a date the way the UI shows dates, e.g. "Fri 4 Dec 2026"."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def _hours_text(hours: Decimal) -> str:
    return f"{hours.normalize():f} h"


async def get_log_for_change(db: AsyncSession, actor: User, log_id: int) -> WorkLog:
    """Return the log if the actor may change it: managers any, engineers their own."""
    log = await db.get(WorkLog, log_id)
    if log is None:
        raise NotFound(f"There is no work log {log_id}.")
    if log.user_id != actor.id and not is_manager(actor):
        if await is_member(db, actor.id, log.project_id):
            raise Forbidden("Engineers may change only their own work logs.")
        raise NotFound(f"There is no work log {log_id}.")
    return log


async def day_totals(db: AsyncSession, user_id: int, start: dt.date, end: dt.date) -> dict:
    rows = await db.execute(
        select(WorkLog.work_date, func.sum(WorkLog.hours))
        .where(WorkLog.user_id == user_id, WorkLog.work_date.between(start, end))
        .group_by(WorkLog.work_date)
    )
    return {day: Decimal(total) for day, total in rows}
