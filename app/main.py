"""The Track ASGI application: routes, middleware and start-up."""

import contextlib
import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from app import passwords
from app.api import (
    admin,
    audit_trail,
    feedback,
    openapi,
    periods,
    probes,
    projects,
    reports,
    session,
    users,
    weeks,
    worklogs,
)
from app.auth import Signer
from app.config import Settings
from app.crash import crash
from app.db import Database
from app.health import Health
from app.middleware import AuthenticationMiddleware, RateLimitMiddleware, RequestMiddleware
from app.migrate import head_revision, migrate
from app.problems import MethodNotAllowed, NotFound, Problem, problem_response
from app.ratelimit import Limiter

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
API = "/api/v1"
PAGES = [
    "/",
    "/login",
    "/week",
    "/grid",
    "/approvals",
    "/admin",
    "/projects",
    "/projects/{project_id:int}",
    "/portfolio",
    "/help",
]


async def page(request: Request) -> Response:
    """Serve the single-page UI; the browser script renders the page for the path."""
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


def api_routes() -> list[Route]:
    return [
        Route(f"{API}/openapi.json", openapi.document, methods=["GET"]),
        Route(f"{API}/session", session.sign_in, methods=["POST"]),
        Route(f"{API}/session", session.sign_out, methods=["DELETE"]),
        Route(f"{API}/session", session.who_am_i, methods=["GET"]),
        Route(f"{API}/me", session.who_am_i, methods=["GET"]),
        Route(f"{API}/projects", projects.list_projects, methods=["GET"]),
        Route(f"{API}/projects", projects.create_project, methods=["POST"]),
        Route(f"{API}/projects/{{project_id:int}}", projects.get_project, methods=["GET"]),
        Route(f"{API}/projects/{{project_id:int}}", projects.update_project, methods=["PATCH"]),
        Route(f"{API}/projects/{{project_id:int}}", projects.delete_project, methods=["DELETE"]),
        Route(f"{API}/projects/{{project_id:int}}/phases", projects.create_phase, methods=["POST"]),
        Route(
            f"{API}/projects/{{project_id:int}}/phases/{{phase_id:int}}",
            projects.update_phase,
            methods=["PATCH"],
        ),
        Route(
            f"{API}/projects/{{project_id:int}}/phases/{{phase_id:int}}",
            projects.delete_phase,
            methods=["DELETE"],
        ),
        Route(f"{API}/projects/{{project_id:int}}/members", projects.list_members, methods=["GET"]),
        Route(f"{API}/projects/{{project_id:int}}/members", projects.add_member, methods=["POST"]),
        Route(
            f"{API}/projects/{{project_id:int}}/members/{{user_id:int}}",
            projects.remove_member,
            methods=["DELETE"],
        ),
        Route(
            f"{API}/projects/{{project_id:int}}/progress", reports.project_progress, methods=["GET"]
        ),
        Route(f"{API}/portfolio", reports.portfolio, methods=["GET"]),
        Route(f"{API}/worklogs", worklogs.list_worklogs, methods=["GET"]),
        Route(f"{API}/worklogs", worklogs.create_worklog, methods=["POST"]),
        Route(f"{API}/worklogs/export.csv", worklogs.export_worklogs, methods=["GET"]),
        Route(f"{API}/worklogs/{{worklog_id:int}}", worklogs.get_worklog, methods=["GET"]),
        Route(f"{API}/worklogs/{{worklog_id:int}}", worklogs.update_worklog, methods=["PATCH"]),
        Route(f"{API}/worklogs/{{worklog_id:int}}", worklogs.delete_worklog, methods=["DELETE"]),
        Route(f"{API}/users", users.list_users, methods=["GET"]),
        Route(f"{API}/users", users.create_user, methods=["POST"]),
        Route(f"{API}/users/{{user_id:int}}", users.update_user, methods=["PATCH"]),
        Route(f"{API}/tokens", users.list_tokens, methods=["GET"]),
        Route(f"{API}/tokens", users.create_token, methods=["POST"]),
        Route(f"{API}/tokens/{{token_id:int}}", users.revoke_token, methods=["DELETE"]),
        Route(
            f"{API}/worklogs/{{worklog_id:int}}/history",
            audit_trail.worklog_history,
            methods=["GET"],
        ),
        Route(f"{API}/weeks/cells", weeks.put_cell, methods=["PUT"]),
        Route(f"{API}/weeks/{{week_start}}", weeks.get_week, methods=["GET"]),
        Route(f"{API}/weeks/{{week_start}}/submit", weeks.submit_week, methods=["POST"]),
        Route(f"{API}/weeks/{{week_start}}/approve", weeks.approve_week, methods=["POST"]),
        Route(f"{API}/weeks/{{week_start}}/return", weeks.return_week, methods=["POST"]),
        Route(f"{API}/approvals", weeks.list_approvals, methods=["GET"]),
        Route(f"{API}/approvals/missing", weeks.missing_submissions, methods=["GET"]),
        Route(f"{API}/lock", periods.get_lock, methods=["GET"]),
        Route(f"{API}/lock", periods.set_lock, methods=["PUT"]),
        Route(f"{API}/audit", audit_trail.list_audit, methods=["GET"]),
        Route(f"{API}/audit/export.csv", audit_trail.export_audit, methods=["GET"]),
        Route(f"{API}/problem-reports", feedback.create_report, methods=["POST"]),
        Route(f"{API}/problem-reports", feedback.list_reports, methods=["GET"]),
        Route(f"{API}/client-errors", feedback.report_client_errors, methods=["POST"]),
        Route(f"{API}/admin/faults", admin.inject_fault, methods=["POST"]),
    ]


def routes() -> list:
    return [
        Route("/healthz/live", probes.live, methods=["GET"]),
        Route("/healthz/ready", probes.ready, methods=["GET"]),
        Route("/healthz/startup", probes.startup, methods=["GET"]),
        Route("/metrics", probes.metrics_endpoint, methods=["GET"]),
        *api_routes(),
        *[Route(path, page, methods=["GET"]) for path in PAGES],
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]


async def on_problem(request: Request, problem: Problem) -> Response:
    return problem_response(problem, request.url.path)


async def on_http_exception(request: Request, error: HTTPException) -> Response:
    wants_page = "text/html" in request.headers.get("accept", "")
    if error.status_code == 404 and wants_page and not request.url.path.startswith("/api/"):
        # A browser gets the UI, which shows its own "page not found".
        return FileResponse(STATIC / "index.html", status_code=404)
    if error.status_code == 404:
        problem = NotFound(f"There is nothing at {request.url.path}.")
    elif error.status_code == 405:
        problem = MethodNotAllowed(
            f"{request.method} is not allowed on {request.url.path}.",
            headers=dict(error.headers or {}),
        )
    else:
        problem = Problem(error.detail)
        problem.status = error.status_code
    return problem_response(problem, request.url.path)


def create_app(settings: Settings, *, migrate_on_start: bool = True) -> Starlette:
    passwords.configure(settings.password_hash_memory_kib)
    health = Health(lag_threshold=settings.loop_lag_threshold_seconds)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):
        app.state.db = Database(settings.database_url)
        try:
            if migrate_on_start:
                await migrate(app.state.db)
            health.start_watchdog()
            health.started = True
        except Exception as error:  # noqa: BLE001 - a failed start is fatal by design
            crash(error, settings.termination_log, "startup")
        log.info("track started", extra={"database": app.state.db.engine.dialect.name})
        yield
        health.set_ready(False)
        await health.stop_watchdog()
        await app.state.db.dispose()
        log.info("track stopped")

    app = Starlette(
        routes=routes(),
        exception_handlers={Problem: on_problem, HTTPException: on_http_exception},
        lifespan=lifespan,
    )
    # add_middleware wraps what was added before, so the outermost comes last.
    app.add_middleware(RateLimitMiddleware, state=app.state)
    app.add_middleware(AuthenticationMiddleware, state=app.state)
    app.add_middleware(RequestMiddleware, state=app.state)
    app.state.settings = settings
    app.state.health = health
    app.state.signer = Signer(settings.secret_key)
    app.state.schema_head = head_revision()
    app.state.limiter = Limiter(settings.rate_limits, settings.rate_limit_storage)
    app.state.report_limiter = Limiter(
        settings.report_limits, settings.rate_limit_storage, namespace="track-reports"
    )
    app.state.login_limiter = Limiter(
        settings.login_attempts, settings.rate_limit_storage, namespace="track-login"
    )
    return app
