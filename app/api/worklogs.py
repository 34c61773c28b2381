"""Work logs: list, create (idempotent), change, delete, and CSV export."""

import csv
import hashlib
import io
import json
from decimal import Decimal

from sqlalchemy import Select, func, select
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from app import audit, metrics
from app.api.common import (
    Keyset,
    current_user,
    dumps,
    json_response,
    path_id,
    query_date,
    query_id,
)
from app.auth import is_manager
from app.models import IdempotencyKey, Membership, Phase, Project, WorkLog, utcnow
from app.periods import check_editable
from app.problems import Forbidden, NotFound, ValidationFailed, field_error
from app.schemas import WorkLogCreate, WorkLogUpdate, read_body
from app.worklogs import (
    Rules,
    check_date,
    check_day_total,
    check_phase,
    check_project,
    get_log_for_change,
    local_today,
    lock_user,
    worklog_json,
)

IDEMPOTENCY_KEY_MAX = 255
EXPORT_BATCH = 1000


def filtered_logs(request: Request) -> Select:
    """Work logs matching the query's filters, limited to what the caller may see."""
    user = current_user(request)
    query = select(WorkLog, Project.name).join(Project, Project.id == WorkLog.project_id)
    project_id = query_id(request, "project_id") or query_id(request, "project")
    user_id = query_id(request, "user_id") or query_id(request, "user")
    date_from = query_date(request, "from")
    date_to = query_date(request, "to")
    if date_from and date_to and date_from > date_to:
        raise field_error("from", "must not be after 'to'")

    if not is_manager(user):
        if user_id is not None and user_id != user.id:
            raise Forbidden("Engineers see only their own work logs.")
        user_id = user.id
        query = query.where(
            select(Membership.user_id)
            .where(Membership.project_id == WorkLog.project_id, Membership.user_id == user.id)
            .exists()
        )
    if project_id is not None:
        query = query.where(WorkLog.project_id == project_id)
    if user_id is not None:
        query = query.where(WorkLog.user_id == user_id)
    if date_from is not None:
        query = query.where(WorkLog.work_date >= date_from)
    if date_to is not None:
        query = query.where(WorkLog.work_date <= date_to)
    return query


async def list_worklogs(request: Request) -> Response:
    keyset = Keyset(request, WorkLog.work_date, WorkLog.id, descending=True)
    query = keyset.apply(filtered_logs(request))
    async with request.app.state.db.read() as db:
        rows = (await db.execute(query)).all()
    return json_response(
        keyset.page(rows, lambda row: worklog_json(*row), lambda row: [row[0].work_date, row[0].id])
    )


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > IDEMPOTENCY_KEY_MAX or not key.isprintable() or not key.isascii():
        raise field_error(
            "Idempotency-Key", f"must be 1 to {IDEMPOTENCY_KEY_MAX} printable ASCII characters"
        )
    return key


def _request_hash(body: WorkLogCreate) -> str:
    canonical = json.dumps(body.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _replay(db, user_id: int, key: str, request_hash: str) -> Response | None:
    stored = await db.scalar(
        select(IdempotencyKey).where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
    )
    if stored is None:
        return None
    if stored.request_hash != request_hash:
        raise ValidationFailed(
            [
                {
                    "field": "Idempotency-Key",
                    "message": "was already used for a different work log; "
                    "send a new key for a new entry",
                }
            ]
        )
    return json_response(stored.body, status=stored.status, headers={"Idempotent-Replayed": "true"})


async def create_worklog(request: Request) -> Response:
    user = current_user(request)
    key = _idempotency_key(request)
    body = await read_body(request, WorkLogCreate)
    request_hash = _request_hash(body)
    database = request.app.state.db

    try:
        async with database.write() as db:
            await lock_user(db, user.id)
            if key is not None and (replay := await _replay(db, user.id, key, request_hash)):
                return replay

            rules = Rules()
            project = await check_project(db, user, body.project_id, rules)
            if project is not None:
                await check_phase(db, project, body.phase_id, rules)
            check_date(user, body.work_date, rules)
            await check_day_total(db, user, body.work_date, body.hours, rules)
            rules.raise_if_any()
            await check_editable(db, user, user.id, body.work_date, local_today(user))

            log = WorkLog(
                user_id=user.id,
                project_id=project.id,
                phase_id=body.phase_id,
                work_date=body.work_date,
                hours=body.hours,
                description=body.description,
                created_by=user.id,
                updated_by=user.id,
            )
            log.user = user
            db.add(log)
            await db.flush()
            await db.refresh(log, ["phase"])
            result = worklog_json(log, project.name)
            result["warnings"] = await _budget_warnings(db, log)
            audit.record_worklog(db, user, "create", log)
            if key is not None:
                stored = json.loads(dumps(result))
                db.add(
                    IdempotencyKey(
                        user_id=user.id,
                        key=key,
                        request_hash=request_hash,
                        status=201,
                        body=stored,
                    )
                )
    except IntegrityError:
        # Only a concurrent request with the same key gets here, so return its stored response.
        if key is None:
            raise
        async with database.read() as db:
            replay = await _replay(db, user.id, key, request_hash)
        if replay is None:
            raise
        return replay
    metrics.WORKLOGS_CREATED.inc()
    return json_response(result, status=201, headers={"Location": f"/api/v1/worklogs/{log.id}"})


async def _budget_warnings(db, log: WorkLog) -> list[str]:
    if log.phase_id is None:
        return []
    phase = await db.get(Phase, log.phase_id)
    if phase is None or phase.planned_hours is None:
        return []
    logged = await db.scalar(
        select(func.coalesce(func.sum(WorkLog.hours), 0)).where(WorkLog.phase_id == phase.id)
    )
    logged = Decimal(logged)
    if logged > phase.planned_hours:
        return [
            f"Phase {phase.name!r} is now over its plan: {logged} h logged "
            f"of {phase.planned_hours} h planned."
        ]
    return []


async def get_worklog(request: Request) -> Response:
    user = current_user(request)
    log_id = path_id(request, "worklog_id")
    query = (
        select(WorkLog, Project.name)
        .join(Project, Project.id == WorkLog.project_id)
        .where(WorkLog.id == log_id)
    )
    if not is_manager(user):
        query = query.where(WorkLog.user_id == user.id)
    async with request.app.state.db.read() as db:
        row = (await db.execute(query)).first()
    if row is None:
        raise NotFound(f"There is no work log {log_id}.")
    return json_response(worklog_json(*row))


async def update_worklog(request: Request) -> Response:
    user = current_user(request)
    log_id = path_id(request, "worklog_id")
    body = await read_body(request, WorkLogUpdate)
    changes = body.model_dump(exclude_unset=True)
    for field in ("hours", "work_date", "description"):
        if field in changes and changes[field] is None:
            raise field_error(field, "may not be null")

    async with request.app.state.db.write() as db:
        log = await get_log_for_change(db, user, log_id)
        await lock_user(db, log.user_id)
        # Another request may have changed the log while this one waited for
        # the owner's lock: check the rules against what is stored now.
        await db.refresh(log)
        owner = log.user
        project = await db.get(Project, log.project_id)
        rules = Rules()
        if project.status == "archived":
            rules.fail("project_id", f"project {project.name!r} is archived; its logs are frozen")
        if "phase_id" in changes:
            await check_phase(db, project, changes["phase_id"], rules)
        work_date = changes.get("work_date", log.work_date)
        hours = changes.get("hours", log.hours)
        if "work_date" in changes:
            check_date(owner, work_date, rules)
        await check_day_total(db, owner, work_date, hours, rules, replacing=log.id)
        rules.raise_if_any()
        today = local_today(user)
        await check_editable(db, user, log.user_id, log.work_date, today)
        if work_date != log.work_date:
            await check_editable(db, user, log.user_id, work_date, today)

        before = audit.snapshot(log)
        for field, value in changes.items():
            setattr(log, field, value)
        log.updated_at = utcnow()
        log.updated_by = user.id
        await db.flush()
        await db.refresh(log, ["phase"])
        audit.record_worklog(db, user, "update", log, before=before)
        result = worklog_json(log, project.name)
        result["warnings"] = await _budget_warnings(db, log)
    return json_response(result)


async def delete_worklog(request: Request) -> Response:
    user = current_user(request)
    log_id = path_id(request, "worklog_id")
    async with request.app.state.db.write() as db:
        log = await get_log_for_change(db, user, log_id)
        await check_editable(db, user, log.user_id, log.work_date, local_today(user))
        audit.record_worklog(db, user, "delete", log)
        await db.delete(log)
    return Response(status_code=204)


def _spreadsheet_safe(text: str) -> str:
    """Keep spreadsheet programs from running a description as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


async def export_worklogs(request: Request) -> Response:
    query = filtered_logs(request).order_by(WorkLog.work_date, WorkLog.id)
    query = query.add_columns(Phase.name).outerjoin(Phase, Phase.id == WorkLog.phase_id)
    database = request.app.state.db

    async def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)

        def flush() -> str:
            text = buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            return text

        writer.writerow(["date", "user", "project", "phase", "hours", "description"])
        total = Decimal(0)
        count = 0
        async with database.read() as db:
            result = await db.stream(query.execution_options(yield_per=EXPORT_BATCH))
            async for log, project_name, phase_name in result:
                hours = log.hours.quantize(Decimal("0.01"))
                total += hours
                count += 1
                writer.writerow(
                    [
                        log.work_date.isoformat(),
                        log.user.username,
                        _spreadsheet_safe(project_name),
                        _spreadsheet_safe(phase_name or ""),
                        f"{hours:.2f}",
                        _spreadsheet_safe(log.description),
                    ]
                )
                if count % 200 == 0:
                    yield flush()
        writer.writerow(["total", "", "", "", f"{total:.2f}", f"{count} work logs"])
        yield flush()

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="worklogs.csv"'},
    )
