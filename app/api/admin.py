"""Fault drills: deliberate failures for testing recovery, off unless enabled."""

import asyncio
import time

from starlette.requests import Request
from starlette.responses import Response

from app.api.common import current_user, json_response
from app.auth import require_role
from app.crash import crash
from app.problems import NotFound
from app.schemas import FaultDrill, read_body


class FaultDrillError(RuntimeError):
    """Raised on purpose by the fault drill."""


async def inject_fault(request: Request) -> Response:
    if not request.app.state.settings.fault_injection:
        raise NotFound("Fault drills are switched off; set TRACK_FAULT_INJECTION=1 to enable them.")
    require_role(current_user(request), "admin")
    drill = await read_body(request, FaultDrill)
    if drill.kind == "raise":
        raise FaultDrillError("fault drill: unhandled error requested")
    if drill.kind == "crash":
        try:
            raise FaultDrillError("fault drill: crash requested")
        except FaultDrillError as error:
            crash(error, request.app.state.settings.termination_log, "POST /api/v1/admin/faults")
    if drill.kind == "sleep":
        # A slow request that leaves the loop free, as a slow database call would.
        await asyncio.sleep(drill.seconds)
    else:
        # Blocking the loop on purpose is the point of this drill.
        time.sleep(drill.seconds)
    return json_response({"kind": drill.kind, "seconds": drill.seconds})
