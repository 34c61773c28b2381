"""Progress of one project and the portfolio over all of them."""

from decimal import Decimal

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from app.api.common import Keyset, current_user, json_response, path_id
from app.auth import is_manager, require_role
from app.models import PROJECT_STATUSES, Project, User, WorkLog
from app.problems import field_error
from app.projects import get_visible_project, logged_by_phase, percent, phase_json, project_summary


async def project_progress(request: Request) -> Response:
    user = current_user(request)
    project_id = path_id(request, "project_id")
    async with request.app.state.db.read() as db:
        project = await get_visible_project(db, user, project_id)
        logged = await logged_by_phase(db, project.id)
        people_query = (
            select(User, func.sum(WorkLog.hours), func.max(WorkLog.work_date))
            .join(WorkLog, WorkLog.user_id == User.id)
            .where(WorkLog.project_id == project.id)
            .group_by(User.id)
            .order_by(func.sum(WorkLog.hours).desc(), User.id)
        )
        if not is_manager(user):
            # Engineers see the project's totals but only their own hours by person.
            people_query = people_query.where(User.id == user.id)
        people = (await db.execute(people_query)).all()
        last_activity = await db.scalar(
            select(func.max(WorkLog.work_date)).where(WorkLog.project_id == project.id)
        )

    total = sum(logged.values(), Decimal(0))
    phases = [phase_json(phase, logged.get(phase.id, Decimal(0))) for phase in project.phases]
    planned_by_phases = sum(
        (phase.planned_hours for phase in project.phases if phase.planned_hours is not None),
        Decimal(0),
    )
    planned = project.planned_hours if project.planned_hours is not None else planned_by_phases
    return json_response(
        {
            "project": project_summary(project),
            "planned_hours": planned or None,
            "logged_hours": total,
            "remaining_hours": (planned - total) if planned else None,
            "percent": percent(total, planned),
            "phases": phases,
            "unphased_hours": logged.get(None, Decimal(0)),
            "people": [
                {
                    "user_id": person.id,
                    "username": person.username,
                    "display_name": person.display_name,
                    "hours": Decimal(hours),
                    "last_activity": last_day,
                }
                for person, hours, last_day in people
            ],
            "last_activity": last_activity,
        }
    )


async def portfolio(request: Request) -> Response:
    user = current_user(request)
    require_role(user, "manager")
    keyset = Keyset(request, Project.name, Project.id)
    totals = (
        select(
            WorkLog.project_id.label("project_id"),
            func.sum(WorkLog.hours).label("logged"),
            func.max(WorkLog.work_date).label("last_activity"),
            func.count(func.distinct(WorkLog.user_id)).label("people"),
        )
        .group_by(WorkLog.project_id)
        .subquery()
    )
    query = select(Project, totals.c.logged, totals.c.last_activity, totals.c.people).outerjoin(
        totals, totals.c.project_id == Project.id
    )
    status = request.query_params.get("status")
    if status:
        if status not in PROJECT_STATUSES:
            raise field_error("status", f"must be one of {', '.join(PROJECT_STATUSES)}")
        query = query.where(Project.status == status)

    async with request.app.state.db.read() as db:
        rows = (await db.execute(keyset.apply(query))).all()
    return json_response(keyset.page(rows, _portfolio_item, lambda row: [row[0].name, row[0].id]))


def _portfolio_item(row) -> dict:
    project, logged, last_activity, people = row
    logged = Decimal(logged or 0)
    planned = project.planned_hours
    return {
        **project_summary(project),
        "logged_hours": logged,
        "remaining_hours": (planned - logged) if planned is not None else None,
        "percent": percent(logged, planned),
        "people": people or 0,
        "last_activity": last_activity,
    }
