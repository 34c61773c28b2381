"""The audit trail: every change to a record, appended in the same transaction as the change."""

import datetime as dt
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.inspection import inspect

from app import logs
from app.models import AuditEvent, User

# Columns never copied into the trail.
SECRET_COLUMNS = {"password_hash", "token_hash"}


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    return value


def snapshot(record) -> dict:
    """Return the record's column values as JSON-ready data, without secrets."""
    return {
        column.key: _plain(getattr(record, column.key))
        for column in inspect(record).mapper.column_attrs
        if column.key not in SECRET_COLUMNS
    }


def record(
    db: AsyncSession,
    actor: User | None,
    action: str,
    entity: str,
    *,
    entity_id: int | None,
    before: dict | None = None,
    after: dict | None = None,
    project_id: int | None = None,
    subject_user_id: int | None = None,
) -> None:
    if before is not None and after is not None:
        changed = {key for key in after if before.get(key) != after.get(key)}
        before = {key: before.get(key) for key in changed}
        after = {key: after[key] for key in changed}
    db.add(
        AuditEvent(
            actor_id=actor.id if actor else None,
            action=action,
            entity=entity,
            entity_id=entity_id,
            project_id=project_id,
            subject_user_id=subject_user_id,
            before=before,
            after=after,
            request_id=logs.request_id.get(),
        )
    )


def record_worklog(
    db: AsyncSession, actor: User, action: str, log, *, before: dict | None = None
) -> None:
    """Record a change to a work log: its state after the change, or before a delete."""
    if action == "delete":
        before, after = snapshot(log), None
    else:
        after = snapshot(log)
    record(
        db,
        actor,
        action,
        "work_log",
        entity_id=log.id,
        before=before,
        after=after,
        project_id=log.project_id,
        subject_user_id=log.user_id,
    )


def event_json(event: AuditEvent, actor_name: str | None) -> dict:
    return {
        "id": event.id,
        "at": event.at,
        "actor_id": event.actor_id,
        "actor": actor_name,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "project_id": event.project_id,
        "subject_user_id": event.subject_user_id,
        "before": event.before,
        "after": event.after,
        "request_id": event.request_id,
    }
