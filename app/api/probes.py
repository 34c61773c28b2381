"""Liveness, readiness and start-up probes, and the metrics endpoint."""

import asyncio

from starlette.requests import Request
from starlette.responses import Response

from app import metrics
from app.api.common import json_response
from app.migrate import current_revision_of

READY_TIMEOUT = 2.0


async def live(request: Request) -> Response:
    health = request.app.state.health
    lag = health.recent_lag()
    alive = lag <= health.lag_threshold
    body = {"status": "ok" if alive else "failing", "loop_lag_seconds": round(lag, 3)}
    if not alive:
        body["failed"] = "event_loop_blocked"
        return json_response(body, status=503)
    return json_response(body)


async def _check_database(request: Request) -> tuple[bool, str | None]:
    state = request.app.state
    try:
        async with asyncio.timeout(READY_TIMEOUT):
            async with state.db.engine.connect() as connection:
                # Alembic returns None when the version table does not exist yet.
                revision = await connection.run_sync(current_revision_of)
    except Exception as error:  # noqa: BLE001 - any failure means not ready
        return False, f"database: {type(error).__name__}"
    if revision != state.schema_head:
        return False, f"schema: at {revision}, expected {state.schema_head}; run `track migrate`"
    return True, None


async def ready(request: Request) -> Response:
    health = request.app.state.health
    checks = {}
    if health.draining:
        checks["shutdown"] = "draining"
    if not health.started:
        checks["startup"] = "not finished"
    ok, problem = await _check_database(request)
    checks["database"] = "ok" if ok else problem
    failing = [name for name, value in checks.items() if value != "ok"]
    health.set_ready(not failing)
    status = 200 if not failing else 503
    return json_response(
        {"status": "ok" if not failing else "failing", "failed": failing, "checks": checks},
        status=status,
    )


async def startup(request: Request) -> Response:
    if request.app.state.health.started:
        return json_response({"status": "ok"})
    return json_response({"status": "starting", "failed": ["startup"]}, status=503)


async def metrics_endpoint(request: Request) -> Response:
    payload, content_type = metrics.exposition()
    return Response(payload, media_type=content_type)
