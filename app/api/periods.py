"""The period lock: the date on or before which work logs are frozen, and the grace period."""

from starlette.requests import Request
from starlette.responses import Response

from app import audit
from app.api.common import current_user, json_response
from app.auth import require_role
from app.models import PeriodLock, utcnow
from app.periods import current_lock
from app.schemas import LockUpdate, read_body


def lock_json(lock: PeriodLock | None) -> dict:
    if lock is None:
        return {"lock_date": None, "grace_days": 0, "updated_at": None, "updated_by": None}
    return {
        "lock_date": lock.lock_date,
        "grace_days": lock.grace_days,
        "updated_at": lock.updated_at,
        "updated_by": lock.updated_by,
    }


async def get_lock(request: Request) -> Response:
    current_user(request)
    async with request.app.state.db.read() as db:
        return json_response(lock_json(await current_lock(db)))


async def set_lock(request: Request) -> Response:
    actor = current_user(request)
    require_role(actor, "admin")
    body = await read_body(request, LockUpdate)
    async with request.app.state.db.write() as db:
        lock = await current_lock(db)
        before = audit.snapshot(lock) if lock else None
        if lock is None:
            lock = PeriodLock()
            db.add(lock)
        lock.lock_date = body.lock_date
        lock.grace_days = body.grace_days
        lock.updated_at = utcnow()
        lock.updated_by = actor.id
        await db.flush()
        audit.record(
            db,
            actor,
            "update" if before else "create",
            "period_lock",
            entity_id=lock.id,
            before=before,
            after=audit.snapshot(lock),
        )
        return json_response(lock_json(lock))
