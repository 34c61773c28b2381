"""Projects, their phases and members."""

from decimal import Decimal

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import Response

from app import audit
from app.api.common import Keyset, current_user, json_response, path_id, query_text
from app.auth import require_role
from app.models import Membership, Phase, Project, ProjectManager, User, WorkLog, utcnow
from app.problems import Conflict, NotFound, field_error
from app.projects import (
    get_visible_project,
    phase_json,
    project_detail,
    project_summary,
    user_ref,
    visible_projects,
)
from app.schemas import MemberAdd, PhaseCreate, PhaseUpdate, ProjectCreate, ProjectUpdate, read_body

STATUS_FILTERS = {"active", "on_hold", "completed", "archived"}


async def list_projects(request: Request) -> Response:
    user = current_user(request)
    keyset = Keyset(request, Project.name, Project.id)
    query = visible_projects(user)

    status = request.query_params.get("status")
    if status:
        if status not in STATUS_FILTERS:
            raise field_error("status", f"must be one of {', '.join(sorted(STATUS_FILTERS))}")
        query = query.where(Project.status == status)
    search = query_text(request, "q")
    if search:
        pattern = "%" + search.lower().replace("\\", "").replace("%", "").replace("_", "") + "%"
        query = query.where(func.lower(Project.name).like(pattern))

    async with request.app.state.db.read() as db:
        projects = list(await db.scalars(keyset.apply(query)))
    return json_response(keyset.page(projects, project_summary, lambda p: [p.name, p.id]))


async def _unique_violation(db, project_id: int | None, body) -> None:
    """Turn a duplicate name or code into a 409 that names the project already using it."""
    for field in ("name", "code"):
        value = getattr(body, field, None)
        if value is None:
            continue
        other = await db.scalar(select(Project).where(getattr(Project, field) == value))
        if other is not None and other.id != project_id:
            raise Conflict(
                f"Project {other.id} ({other.name!r}) already has the {field} {value!r}.",
                errors=[{"field": field, "message": f"is already used by project {other.id}"}],
            )


async def create_project(request: Request) -> Response:
    user = current_user(request)
    require_role(user, "manager")
    body = await read_body(request, ProjectCreate)
    async with request.app.state.db.write() as db:
        await _unique_violation(db, None, body)
        project = Project(**body.model_dump())
        db.add(project)
        try:
            await db.flush()
        except IntegrityError:
            raise Conflict("A project with this name or code already exists.") from None
        await db.refresh(project, ["phases"])
        audit.record(
            db,
            user,
            "create",
            "project",
            entity_id=project.id,
            after=audit.snapshot(project),
            project_id=project.id,
        )
        detail = await project_detail(db, project)
    return json_response(detail, status=201, headers={"Location": f"/api/v1/projects/{project.id}"})


async def get_project(request: Request) -> Response:
    user = current_user(request)
    project_id = path_id(request, "project_id")
    async with request.app.state.db.read() as db:
        project = await get_visible_project(db, user, project_id)
        return json_response(await project_detail(db, project))


async def update_project(request: Request) -> Response:
    user = current_user(request)
    require_role(user, "manager")
    project_id = path_id(request, "project_id")
    body = await read_body(request, ProjectUpdate)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name", "") is None or changes.get("status", "") is None:
        raise field_error("name" if "name" in changes else "status", "may not be null")
    async with request.app.state.db.write() as db:
        project = await get_visible_project(db, user, project_id)
        await _unique_violation(db, project.id, body)
        before = audit.snapshot(project)
        for field, value in changes.items():
            setattr(project, field, "" if field == "description" and value is None else value)
        project.updated_at = utcnow()
        try:
            await db.flush()
        except IntegrityError:
            raise Conflict("A project with this name or code already exists.") from None
        audit.record(
            db,
            user,
            "update",
            "project",
            entity_id=project.id,
            before=before,
            after=audit.snapshot(project),
            project_id=project.id,
        )
        return json_response(await project_detail(db, project))


async def delete_project(request: Request) -> Response:
    user = current_user(request)
    require_role(user, "admin")
    project_id = path_id(request, "project_id")
    async with request.app.state.db.write() as db:
        project = await get_visible_project(db, user, project_id)
        audit.record(
            db,
            user,
            "delete",
            "project",
            entity_id=project.id,
            before=audit.snapshot(project),
            project_id=project.id,
        )
        # Work logs point at phases with ON DELETE RESTRICT, so they go first,
        # then everything else that belongs to the project.
        for model in (WorkLog, Phase, Membership, ProjectManager):
            await db.execute(delete(model).where(model.project_id == project.id))
        db.expunge(project)
        await db.execute(delete(Project).where(Project.id == project.id))
    return Response(status_code=204)


async def create_phase(request: Request) -> Response:
    user = current_user(request)
    require_role(user, "manager")
    project_id = path_id(request, "project_id")
    body = await read_body(request, PhaseCreate)
    async with request.app.state.db.write() as db:
        project = await get_visible_project(db, user, project_id)
        if any(phase.name == body.name for phase in project.phases):
            raise Conflict(
                f"Project {project.name!r} already has a phase named {body.name!r}.",
                errors=[{"field": "name", "message": "is already used by another phase"}],
            )
        position = body.position
        if position is None:
            position = max((phase.position for phase in project.phases), default=-1) + 1
        phase = Phase(
            project_id=project.id,
            name=body.name,
            planned_hours=body.planned_hours,
            position=position,
        )
        db.add(phase)
        await db.flush()
        project.updated_at = utcnow()
        audit.record(
            db,
            user,
            "create",
            "phase",
            entity_id=phase.id,
            after=audit.snapshot(phase),
            project_id=project.id,
        )
        result = phase_json(phase, Decimal(0))
    return json_response(
        result, status=201, headers={"Location": f"/api/v1/projects/{project_id}/phases/{phase.id}"}
    )


async def _phase(db, user, request) -> Phase:
    project = await get_visible_project(db, user, path_id(request, "project_id"))
    phase_id = path_id(request, "phase_id")
    phase = next((p for p in project.phases if p.id == phase_id), None)
    if phase is None:
        raise NotFound(f"Project {project.id} has no phase {phase_id}.")
    return phase


async def update_phase(request: Request) -> Response:
    user = current_user(request)
    require_role(user, "manager")
    body = await read_body(request, PhaseUpdate)
    changes = body.model_dump(exclude_unset=True)
    async with request.app.state.db.write() as db:
        phase = await _phase(db, user, request)
        if changes.get("name", "") is None:
            raise field_error("name", "may not be null")
        if changes.get("position", 0) is None:
            raise field_error("position", "may not be null")
        before = audit.snapshot(phase)
        for field, value in changes.items():
            setattr(phase, field, value)
        try:
            await db.flush()
        except IntegrityError:
            raise Conflict("Another phase of this project has that name.") from None
        audit.record(
            db,
            user,
            "update",
            "phase",
            entity_id=phase.id,
            before=before,
            after=audit.snapshot(phase),
            project_id=phase.project_id,
        )
        logged = await db.scalar(
            select(func.coalesce(func.sum(WorkLog.hours), 0)).where(WorkLog.phase_id == phase.id)
        )
        return json_response(phase_json(phase, Decimal(logged)))


async def delete_phase(request: Request) -> Response:
    user = current_user(request)
    require_role(user, "manager")
    async with request.app.state.db.write() as db:
        phase = await _phase(db, user, request)
        used = await db.scalar(
            select(func.count()).select_from(WorkLog).where(WorkLog.phase_id == phase.id)
        )
        if used:
            raise Conflict(
                f"Phase {phase.name!r} has {used} work logs; move or delete them first.",
            )
        audit.record(
            db,
            user,
            "delete",
            "phase",
            entity_id=phase.id,
            before=audit.snapshot(phase),
            project_id=phase.project_id,
        )
        await db.delete(phase)
    return Response(status_code=204)


async def list_members(request: Request) -> Response:
    user = current_user(request)
    project_id = path_id(request, "project_id")
    keyset = Keyset(request, User.username, User.id)
    query = (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.project_id == project_id)
    )
    async with request.app.state.db.read() as db:
        await get_visible_project(db, user, project_id)
        members = list(await db.scalars(keyset.apply(query)))
    return json_response(keyset.page(members, user_ref, lambda m: [m.username, m.id]))


async def add_member(request: Request) -> Response:
    user = current_user(request)
    require_role(user, "manager")
    project_id = path_id(request, "project_id")
    body = await read_body(request, MemberAdd)
    async with request.app.state.db.write() as db:
        project = await get_visible_project(db, user, project_id)
        member = await db.scalar(
            select(User).where(func.lower(User.username) == body.username.lower())
        )
        if member is None:
            raise field_error("username", f"there is no user {body.username!r}")
        existing = await db.get(Membership, (project.id, member.id))
        if existing is None:
            db.add(Membership(project_id=project.id, user_id=member.id))
            audit.record(
                db,
                user,
                "create",
                "membership",
                entity_id=member.id,
                after={"project_id": project.id, "user_id": member.id},
                project_id=project.id,
                subject_user_id=member.id,
            )
            status = 201
        else:
            status = 200
    return json_response({"project_id": project_id, "user": user_ref(member)}, status=status)


async def remove_member(request: Request) -> Response:
    user = current_user(request)
    require_role(user, "manager")
    project_id = path_id(request, "project_id")
    user_id = path_id(request, "user_id")
    async with request.app.state.db.write() as db:
        await get_visible_project(db, user, project_id)
        membership = await db.get(Membership, (project_id, user_id))
        if membership is None:
            raise NotFound(f"User {user_id} is not a member of project {project_id}.")
        audit.record(
            db,
            user,
            "delete",
            "membership",
            entity_id=user_id,
            before={"project_id": project_id, "user_id": user_id},
            project_id=project_id,
            subject_user_id=user_id,
        )
        await db.delete(membership)
    return Response(status_code=204)
