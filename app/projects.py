"""Projects, phases and memberships: who may see what, and the queries behind it."""

from decimal import Decimal

from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth import is_manager
from app.models import Membership, Phase, Project, User, WorkLog
from app.problems import NotFound


def visible_projects(user: User) -> Select:
    """Projects the user may see: all for managers and admins, their own for engineers."""
    query = select(Project)
    if not is_manager(user):
        query = query.where(
            exists().where(Membership.project_id == Project.id, Membership.user_id == user.id)
        )
    return query


async def get_visible_project(db: AsyncSession, user: User, project_id: int) -> Project:
    """Return the project, or raise 404 alike for missing and not-visible projects."""
    project = await db.scalar(visible_projects(user).where(Project.id == project_id))
    if project is None:
        raise NotFound(f"There is no project {project_id}, or you are not a member of it.")
    return project


async def is_member(db: AsyncSession, user_id: int, project_id: int) -> bool:
    found = await db.scalar(
        select(Membership.user_id).where(
            Membership.project_id == project_id, Membership.user_id == user_id
        )
    )
    return found is not None


async def logged_by_phase(db: AsyncSession, project_id: int) -> dict[int | None, Decimal]:
    rows = await db.execute(
        select(WorkLog.phase_id, func.sum(WorkLog.hours))
        .where(WorkLog.project_id == project_id)
        .group_by(WorkLog.phase_id)
    )
    return {phase_id: Decimal(total or 0) for phase_id, total in rows}


def percent(logged: Decimal, planned: Decimal | None) -> float | None:
    if not planned:
        return None
    return round(float(logged / planned * 100), 1)


def phase_json(phase: Phase, logged: Decimal) -> dict:
    planned = phase.planned_hours
    return {
        "id": phase.id,
        "project_id": phase.project_id,
        "name": phase.name,
        "position": phase.position,
        "planned_hours": planned,
        "logged_hours": logged,
        "remaining_hours": (planned - logged) if planned is not None else None,
        "percent": percent(logged, planned),
    }


def project_summary(project: Project) -> dict:
    return {
        "id": project.id,
        "name": project.name,
        "code": project.code,
        "client": project.client,
        "status": project.status,
        "planned_hours": project.planned_hours,
        "created_at": project.created_at,
        "updated_at": project.updated_at,
    }


async def project_detail(db: AsyncSession, project: Project) -> dict:
    logged = await logged_by_phase(db, project.id)
    members = await db.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.project_id == project.id)
        .order_by(User.username)
    )
    return {
        **project_summary(project),
        "description": project.description,
        "logged_hours": sum(logged.values(), Decimal(0)),
        "phases": [phase_json(phase, logged.get(phase.id, Decimal(0))) for phase in project.phases],
        "members": [user_ref(member) for member in members],
    }


def user_ref(user: User) -> dict:
    return {"id": user.id, "username": user.username, "display_name": user.display_name}
