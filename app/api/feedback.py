"""Problem reports from users and error reports from browsers."""

import logging

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from app import metrics
from app.api.common import current_user, decode_cursor, json_response, page, page_limit
from app.auth import require_role
from app.browser_errors import client_signature
from app.models import ProblemReport, User
from app.problems import BadRequest, TooManyRequests
from app.ratelimit import RateLimitExceeded
from app.schemas import ClientErrorBatch, ProblemReportCreate, read_body

log = logging.getLogger(__name__)

# Browsers choose what they send, so the metric keeps at most this many
# signatures per process and counts the rest under "other".
MAX_CLIENT_SIGNATURES = 200
_seen_signatures: set[str] = set()


def count_client_error(message: str) -> str:
    signature = client_signature(message)
    if signature not in _seen_signatures and len(_seen_signatures) >= MAX_CLIENT_SIGNATURES:
        metrics.CLIENT_ERRORS.labels("other").inc()
        return signature
    _seen_signatures.add(signature)
    metrics.CLIENT_ERRORS.labels(signature).inc()
    return signature


async def report_client_errors(request: Request) -> Response:
    current_user(request)
    batch = await read_body(request, ClientErrorBatch)
    signatures = [count_client_error(error.message) for error in batch.errors]
    return json_response({"signatures": signatures}, status=202)


async def create_report(request: Request) -> Response:
    user = current_user(request)
    try:
        await request.app.state.report_limiter.hit(f"user:{user.id}")
    except RateLimitExceeded as exceeded:
        raise TooManyRequests(
            f"You have sent many problem reports in a short time; try again in "
            f"{exceeded.retry_after} s.",
            retry_after=exceeded.retry_after,
            headers={"Retry-After": str(exceeded.retry_after)},
        ) from None
    body = await read_body(request, ProblemReportCreate)
    if body.client_errors:
        signature = client_signature(body.client_errors[-1].message)
    elif body.incident_id:
        signature = "incident"
    else:
        signature = "no-error"
    async with request.app.state.db.write() as db:
        report = ProblemReport(
            user_id=user.id,
            incident_id=body.incident_id,
            signature=signature,
            page=body.page,
            comment=body.comment,
            client_errors=[error.model_dump() for error in body.client_errors],
            request_id=request.scope["state"].get("request_id"),
        )
        db.add(report)
        await db.flush()
        report_id = report.id
    log.info(
        "problem report received",
        extra={"report_id": report_id, "signature": signature, "incident_id": body.incident_id},
    )
    return json_response({"id": report_id, "signature": signature}, status=201)


async def list_reports(request: Request) -> Response:
    """Problem reports grouped by error signature, the most recent group first."""
    require_role(current_user(request), "admin")
    limit = page_limit(request)
    last = func.max(ProblemReport.id)
    query = (
        select(ProblemReport.signature, func.count(), func.max(ProblemReport.created_at), last)
        .group_by(ProblemReport.signature)
        .order_by(last.desc())
        .limit(limit + 1)
    )
    cursor = decode_cursor(request, 1)
    if cursor is not None:
        if not isinstance(cursor[0], int):
            raise BadRequest("The cursor is invalid; pass back next_cursor unchanged.")
        query = query.having(last < cursor[0])
    async with request.app.state.db.read() as db:
        groups = (await db.execute(query)).all()
        more = len(groups) > limit
        groups = groups[:limit]
        items = []
        for signature, count, last_at, _ in groups:
            recent = (
                await db.execute(
                    select(ProblemReport, User.username)
                    .outerjoin(User, User.id == ProblemReport.user_id)
                    .where(ProblemReport.signature == signature)
                    .order_by(ProblemReport.id.desc())
                    .limit(5)
                )
            ).all()
            items.append(
                {
                    "signature": signature,
                    "count": count,
                    "last_at": last_at,
                    "reports": [
                        {
                            "id": report.id,
                            "created_at": report.created_at,
                            "user": username,
                            "incident_id": report.incident_id,
                            "page": report.page,
                            "comment": report.comment,
                            "client_errors": report.client_errors,
                        }
                        for report, username in recent
                    ],
                }
            )
    next_key = [groups[-1][3]] if more else None
    return json_response(page(items, limit, next_key))
