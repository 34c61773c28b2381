"""The work week: the weekly grid, submitting a week, approving or returning it."""

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from app import audit
from app.api.common import (
    Keyset,
    current_user,
    json_response,
    query_date,
    query_id,
)
from app.auth import is_manager, require_role
from app.models import (
    Membership,
    Phase,
    Project,
    ProjectManager,
    User,
    WeekSubmission,
    WorkLog,
    utcnow,
)
from app.periods import check_editable, current_lock, lock_reason, week_start
from app.problems import Conflict, Forbidden, NotFound, field_error
from app.projects import user_ref
from app.schemas import GridCell, WeekDecision, read_body
from app.worklogs import (
    EARLIEST_WORK_DATE,
    Rules,
    check_date,
    check_day_total,
    check_phase,
    check_project,
    local_today,
    lock_user,
)


def _week_param(request: Request) -> dt.date:
    raw = request.path_params["week_start"]
    try:
        day = dt.date.fromisoformat(raw)
    except ValueError:
        raise field_error("week_start", "must be a date written as YYYY-MM-DD") from None
    if day.weekday() != 0:
        raise field_error("week_start", f"{raw} is not a Monday; weeks start on Monday")
    latest = dt.date.today() + dt.timedelta(days=366)
    if not EARLIEST_WORK_DATE <= day <= latest:
        raise field_error(
            "week_start",
            f"must be between {EARLIEST_WORK_DATE.isoformat()} and {latest.isoformat()}",
        )
    return day


def submission_json(submission: WeekSubmission | None) -> dict | None:
    if submission is None:
        return None
    return {
        "id": submission.id,
        "user": user_ref(submission.user),
        "week_start": submission.week_start,
        "status": submission.status,
        "submitted_at": submission.submitted_at,
        "decided_at": submission.decided_at,
        "decided_by": submission.decided_by,
        "comment": submission.comment,
    }


async def _owner(request: Request, db, actor: User) -> User:
    user_id = query_id(request, "user_id")
    if user_id is None or user_id == actor.id:
        return actor
    if not is_manager(actor):
        raise Forbidden("Engineers see only their own weeks.")
    owner = await db.get(User, user_id)
    if owner is None:
        raise NotFound(f"There is no user {user_id}.")
    return owner


async def get_week(request: Request) -> Response:
    actor = current_user(request)
    start = _week_param(request)
    days = [start + dt.timedelta(days=offset) for offset in range(7)]
    async with request.app.state.db.read() as db:
        owner = await _owner(request, db, actor)
        logs = (
            await db.execute(
                select(WorkLog, Project.name, Phase.name)
                .join(Project, Project.id == WorkLog.project_id)
                .outerjoin(Phase, Phase.id == WorkLog.phase_id)
                .where(WorkLog.user_id == owner.id, WorkLog.work_date.between(days[0], days[-1]))
                .order_by(Project.name, Phase.position, WorkLog.work_date, WorkLog.id)
            )
        ).all()
        submission = await db.scalar(
            select(WeekSubmission).where(
                WeekSubmission.user_id == owner.id, WeekSubmission.week_start == start
            )
        )
        lock = await current_lock(db)

    rows: dict[tuple, dict] = {}
    day_totals = {day.isoformat(): Decimal(0) for day in days}
    for log, project_name, phase_name in logs:
        row = rows.setdefault(
            (log.project_id, log.phase_id),
            {
                "project_id": log.project_id,
                "project_name": project_name,
                "phase_id": log.phase_id,
                "phase_name": phase_name,
                "cells": {},
                "total": Decimal(0),
            },
        )
        cell = row["cells"].setdefault(
            log.work_date.isoformat(), {"hours": Decimal(0), "log_ids": []}
        )
        cell["hours"] += log.hours
        cell["log_ids"].append(log.id)
        row["total"] += log.hours
        day_totals[log.work_date.isoformat()] += log.hours

    today = local_today(owner)
    return json_response(
        {
            "week_start": start,
            "week_end": days[-1],
            "user": user_ref(owner),
            "days": days,
            "rows": list(rows.values()),
            "day_totals": day_totals,
            "total": sum(day_totals.values(), Decimal(0)),
            "submission": submission_json(submission),
            "locked": {
                day.isoformat(): reason
                for day in days
                if (reason := lock_reason(lock, day, today)) is not None
            },
        }
    )


async def put_cell(request: Request) -> Response:
    """Set one grid cell: the hours of one project and phase on one day, in one work log."""
    user = current_user(request)
    body = await read_body(request, GridCell)
    async with request.app.state.db.write() as db:
        await lock_user(db, user.id)
        rules = Rules()
        project = await check_project(db, user, body.project_id, rules)
        if project is not None:
            await check_phase(db, project, body.phase_id, rules)
        check_date(user, body.work_date, rules)
        rules.raise_if_any()
        await check_editable(db, user, user.id, body.work_date, local_today(user))

        logs = list(
            await db.scalars(
                select(WorkLog).where(
                    WorkLog.user_id == user.id,
                    WorkLog.project_id == body.project_id,
                    WorkLog.phase_id.is_(None)
                    if body.phase_id is None
                    else WorkLog.phase_id == body.phase_id,
                    WorkLog.work_date == body.work_date,
                )
            )
        )
        if len(logs) > 1:
            raise Conflict(
                f"This cell contains {len(logs)} work logs; change them one by one in My week.",
                rule="cell-has-several-logs",
            )
        log = logs[0] if logs else None

        if body.hours is None:
            if log is not None:
                audit.record_worklog(db, user, "delete", log)
                await db.delete(log)
            return json_response({"work_date": body.work_date, "hours": None, "log_id": None})

        await check_day_total(
            db, user, body.work_date, body.hours, rules, replacing=log.id if log else None
        )
        rules.raise_if_any()
        if log is None:
            log = WorkLog(
                user_id=user.id,
                project_id=body.project_id,
                phase_id=body.phase_id,
                work_date=body.work_date,
                hours=body.hours,
                description="",
                created_by=user.id,
                updated_by=user.id,
            )
            db.add(log)
            await db.flush()
            audit.record_worklog(db, user, "create", log)
            status = 201
        else:
            before = audit.snapshot(log)
            log.hours = body.hours
            log.updated_at = utcnow()
            log.updated_by = user.id
            await db.flush()
            audit.record_worklog(db, user, "update", log, before=before)
            status = 200
    return json_response(
        {"work_date": body.work_date, "hours": body.hours, "log_id": log.id}, status=status
    )


async def submit_week(request: Request) -> Response:
    user = current_user(request)
    start = _week_param(request)
    if start > local_today(user):
        raise field_error("week_start", "this week has not started yet, so it cannot be submitted")
    async with request.app.state.db.write() as db:
        submission = await db.scalar(
            select(WeekSubmission).where(
                WeekSubmission.user_id == user.id, WeekSubmission.week_start == start
            )
        )
        before = audit.snapshot(submission) if submission else None
        if submission is None:
            submission = WeekSubmission(user_id=user.id, week_start=start, status="submitted")
            db.add(submission)
        elif submission.status == "returned":
            submission.status = "submitted"
            submission.submitted_at = utcnow()
            submission.decided_at = None
            submission.decided_by = None
        else:
            raise Conflict(
                f"The week of {start.isoformat()} is already {submission.status}.",
                rule=f"week-{submission.status}",
            )
        await db.flush()
        await db.refresh(submission, ["user"])
        audit.record(
            db,
            user,
            "submit",
            "approval",
            entity_id=submission.id,
            before=before,
            after=audit.snapshot(submission),
            subject_user_id=user.id,
        )
        result = submission_json(submission)
    return json_response(result, status=201 if before is None else 200)


async def _check_approver(db, actor: User, owner_id: int, start: dt.date) -> None:
    """Managers approve any week, except that projects naming managers need one of them."""
    require_role(actor, "manager")
    if owner_id == actor.id:
        raise Forbidden("You cannot approve or return your own week; ask another manager.")
    if actor.role == "admin":
        return
    end = start + dt.timedelta(days=6)
    named = (
        await db.execute(
            select(Project.name, func.count(ProjectManager.user_id))
            .join(ProjectManager, ProjectManager.project_id == Project.id)
            .where(
                Project.id.in_(
                    select(WorkLog.project_id).where(
                        WorkLog.user_id == owner_id, WorkLog.work_date.between(start, end)
                    )
                )
            )
            .where(
                ~Project.id.in_(
                    select(ProjectManager.project_id).where(ProjectManager.user_id == actor.id)
                )
            )
            .group_by(Project.name)
        )
    ).all()
    if named:
        names = ", ".join(repr(name) for name, _ in named)
        raise Forbidden(f"Only the managers named on {names} may decide on this week.")


async def _decide(request: Request, status: str) -> Response:
    actor = current_user(request)
    start = _week_param(request)
    body = await read_body(request, WeekDecision)
    if status == "returned" and not body.comment:
        raise field_error("comment", "is required when returning a week: say what to fix")
    async with request.app.state.db.write() as db:
        await _check_approver(db, actor, body.user_id, start)
        submission = await db.scalar(
            select(WeekSubmission).where(
                WeekSubmission.user_id == body.user_id, WeekSubmission.week_start == start
            )
        )
        if submission is None:
            raise NotFound(
                f"User {body.user_id} has not submitted the week of {start.isoformat()}."
            )
        if submission.status != "submitted":
            raise Conflict(
                f"The week of {start.isoformat()} is {submission.status}, "
                "not waiting for approval.",
                rule=f"week-{submission.status}",
            )
        before = audit.snapshot(submission)
        submission.status = status
        submission.decided_at = utcnow()
        submission.decided_by = actor.id
        submission.comment = body.comment
        await db.flush()
        audit.record(
            db,
            actor,
            "approve" if status == "approved" else "return",
            "approval",
            entity_id=submission.id,
            before=before,
            after=audit.snapshot(submission),
            subject_user_id=submission.user_id,
        )
        result = submission_json(submission)
    return json_response(result)


async def approve_week(request: Request) -> Response:
    return await _decide(request, "approved")


async def return_week(request: Request) -> Response:
    return await _decide(request, "returned")


async def list_approvals(request: Request) -> Response:
    """Weeks waiting for approval (or with another status), oldest week first."""
    require_role(current_user(request), "manager")
    status = request.query_params.get("status", "submitted")
    if status not in {"submitted", "approved", "returned"}:
        raise field_error("status", "must be submitted, approved or returned")
    keyset = Keyset(request, WeekSubmission.week_start, WeekSubmission.id)
    query = keyset.apply(select(WeekSubmission).where(WeekSubmission.status == status))
    async with request.app.state.db.read() as db:
        submissions = list(await db.scalars(query))
        totals = await _week_totals(db, submissions)

    def item(sub: WeekSubmission) -> dict:
        hours = totals.get((sub.user_id, sub.week_start), Decimal(0))
        return {**submission_json(sub), "hours": hours}

    return json_response(keyset.page(submissions, item, lambda sub: [sub.week_start, sub.id]))


async def _week_totals(db, submissions: list[WeekSubmission]) -> dict:
    """Sum the hours of each submitted week with one query over the page's users and dates."""
    if not submissions:
        return {}
    first = min(sub.week_start for sub in submissions)
    last = max(sub.week_start for sub in submissions) + dt.timedelta(days=6)
    rows = await db.execute(
        select(WorkLog.user_id, WorkLog.work_date, WorkLog.hours).where(
            WorkLog.user_id.in_({sub.user_id for sub in submissions}),
            WorkLog.work_date.between(first, last),
        )
    )
    totals: dict = {}
    for user_id, day, hours in rows:
        key = (user_id, week_start(day))
        totals[key] = totals.get(key, Decimal(0)) + hours
    return totals


async def missing_submissions(request: Request) -> Response:
    """Active engineers who have not submitted a week (last week unless ``week_start`` is given)."""
    actor = current_user(request)
    require_role(actor, "manager")
    start = query_date(request, "week_start") or week_start(local_today(actor)) - dt.timedelta(7)
    if start.weekday() != 0:
        raise field_error("week_start", "must be a Monday")
    keyset = Keyset(request, User.username, User.id)
    submitted = select(WeekSubmission.user_id).where(
        WeekSubmission.week_start == start, WeekSubmission.status != "returned"
    )
    query = (
        select(User)
        .where(User.active, User.role == "engineer", ~User.id.in_(submitted))
        .where(User.id.in_(select(Membership.user_id)))
    )
    async with request.app.state.db.read() as db:
        users = list(await db.scalars(keyset.apply(query)))
    result = keyset.page(users, user_ref, lambda u: [u.username, u.id])
    result["week_start"] = start
    return json_response(result)
