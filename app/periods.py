"""Weeks, approvals and period locks: which work dates may still change, and by whom.

A week runs Monday to Sunday in the user's own calendar (work dates are local
dates). Admins may change anything. Otherwise a work date is frozen when:
- it is on or before the lock date, and the week's grace period is over
  (the grace period is a number of days after the week's Sunday during which
  the week stays editable), or
- its week is approved (for engineers and managers), or
- its week is submitted and waiting for approval (for the engineer who owns it).
Each refusal is a 409 problem that names the rule and the date.
"""

import datetime as dt

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import PeriodLock, User, WeekSubmission
from app.problems import Conflict


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def week_end(day: dt.date) -> dt.date:
    return week_start(day) + dt.timedelta(days=6)


async def current_lock(db: AsyncSession) -> PeriodLock | None:
    return await db.scalar(select(PeriodLock).order_by(PeriodLock.id.desc()).limit(1))


def lock_reason(lock: PeriodLock | None, work_date: dt.date, today: dt.date) -> str | None:
    """Return why ``work_date`` is locked on ``today``, or None while it may change."""
    if lock is None or lock.lock_date is None or work_date > lock.lock_date:
        return None
    grace_ends = week_end(work_date) + dt.timedelta(days=lock.grace_days)
    if today <= grace_ends:
        return None
    return (
        f"{work_date.isoformat()} is in a locked period: work logs on or before "
        f"{lock.lock_date.isoformat()} are locked, and the grace period for that week "
        f"ended on {grace_ends.isoformat()}"
    )


async def submission_for(db: AsyncSession, user_id: int, day: dt.date) -> WeekSubmission | None:
    return await db.scalar(
        select(WeekSubmission).where(
            WeekSubmission.user_id == user_id, WeekSubmission.week_start == week_start(day)
        )
    )


async def check_editable(
    db: AsyncSession, actor: User, owner_id: int, work_date: dt.date, today: dt.date
) -> None:
    """Raise 409 unless ``actor`` may create, change or delete the owner's log on that date."""
    if actor.role == "admin":
        return
    reason = lock_reason(await current_lock(db), work_date, today)
    if reason is not None:
        raise Conflict(
            reason + "; only an admin can change it.",
            rule="period-locked",
            work_date=work_date.isoformat(),
        )
    submission = await submission_for(db, owner_id, work_date)
    if submission is None or submission.status == "returned":
        return
    start = submission.week_start.isoformat()
    if submission.status == "approved":
        raise Conflict(
            f"The week of {start} is approved, so its work logs can no longer change; "
            "ask an admin if something must be corrected.",
            rule="week-approved",
            work_date=work_date.isoformat(),
        )
    if actor.id == owner_id:
        raise Conflict(
            f"The week of {start} is submitted and waiting for approval; "
            "ask a manager to return it if you need to change it.",
            rule="week-submitted",
            work_date=work_date.isoformat(),
        )
