"""Reading the audit trail: a work log's history, the whole trail for admins, its CSV export."""

import csv
import io
import json

from sqlalchemy import select
from sqlalchemy.orm import aliased
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from app.api.common import Keyset, current_user, json_response, path_id
from app.audit import event_json
from app.auth import is_manager, require_role
from app.models import AuditEvent, User, WorkLog
from app.problems import BadRequest, NotFound

ENTITIES = {"work_log", "project", "phase", "membership", "user", "token", "approval"}


def _with_actor():
    actor = aliased(User)
    return select(AuditEvent, actor.username).outerjoin(actor, actor.id == AuditEvent.actor_id)


async def worklog_history(request: Request) -> Response:
    """Return the changes of one work log to its owner or to a manager."""
    user = current_user(request)
    log_id = path_id(request, "worklog_id")
    async with request.app.state.db.read() as db:
        first = await db.scalar(
            select(AuditEvent)
            .where(AuditEvent.entity == "work_log", AuditEvent.entity_id == log_id)
            .order_by(AuditEvent.id)
            .limit(1)
        )
        owner_id = first.subject_user_id if first else None
        if owner_id is None:
            log = await db.get(WorkLog, log_id)
            owner_id = log.user_id if log else None
        if owner_id is None or (owner_id != user.id and not is_manager(user)):
            raise NotFound(f"There is no work log {log_id}.")
        rows = (
            await db.execute(
                _with_actor()
                .where(AuditEvent.entity == "work_log", AuditEvent.entity_id == log_id)
                .order_by(AuditEvent.id)
            )
        ).all()
    return json_response({"items": [event_json(event, name) for event, name in rows]})


def _filtered(request: Request):
    query = _with_actor()
    entity = request.query_params.get("entity")
    if entity:
        if entity not in ENTITIES:
            raise BadRequest(f"entity must be one of {', '.join(sorted(ENTITIES))}.")
        query = query.where(AuditEvent.entity == entity)
    return query


async def list_audit(request: Request) -> Response:
    require_role(current_user(request), "admin")
    keyset = Keyset(request, AuditEvent.id, descending=True)
    async with request.app.state.db.read() as db:
        rows = (await db.execute(keyset.apply(_filtered(request)))).all()
    return json_response(keyset.page(rows, lambda row: event_json(*row), lambda row: [row[0].id]))


async def export_audit(request: Request) -> Response:
    require_role(current_user(request), "admin")
    query = _filtered(request).order_by(AuditEvent.id)
    database = request.app.state.db

    async def rows():
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            ["id", "at", "actor", "action", "entity", "entity_id", "before", "after", "request_id"]
        )
        async with database.read() as db:
            result = await db.stream(query.execution_options(yield_per=500))
            async for event, actor in result:
                writer.writerow(
                    [
                        event.id,
                        event.at.isoformat(),
                        actor or "",
                        event.action,
                        event.entity,
                        event.entity_id,
                        json.dumps(event.before, ensure_ascii=False) if event.before else "",
                        json.dumps(event.after, ensure_ascii=False) if event.after else "",
                        event.request_id or "",
                    ]
                )
                if buffer.tell() > 16_384:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    return StreamingResponse(
        rows(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
