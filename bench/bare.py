"""The baseline: a bare Starlette app that does Track's database work with no middleware.

It mounts Track's own handlers for the measured routes and looks up the API
token with Track's own query, so the database work per request is the same.
What it leaves out is everything the comparison is about: request ids, logs,
metrics (the engine is not instrumented), rate limits, the cross-site check
and the readiness machinery. Run it with
``uvicorn bench.bare:app`` and ``BENCH_DATABASE_URL`` set.
"""

import contextlib
import os

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from app import auth
from app.api import projects, reports, worklogs
from app.db import Database
from app.problems import Problem, problem_response


def authenticated(handler):
    """Wrap a Track handler so it runs as the user of the request's Bearer token."""

    async def endpoint(request: Request) -> Response:
        authorization = request.headers.get("authorization", "")
        async with request.app.state.db.read() as db:
            user = await auth.user_for_token(db, authorization[7:].strip())
        if user is None:
            return Response(status_code=401)
        request.scope["user"] = user
        return await handler(request)

    return endpoint


async def on_problem(request: Request, problem: Problem) -> Response:
    return problem_response(problem, request.url.path)


async def ready(request: Request) -> Response:
    return Response("ready\n")


@contextlib.asynccontextmanager
async def lifespan(app: Starlette):
    app.state.db = Database(os.environ["BENCH_DATABASE_URL"], instrument=False)
    yield
    await app.state.db.dispose()


API = "/api/v1"
app = Starlette(
    routes=[
        Route("/healthz/ready", ready),
        Route(f"{API}/projects/{{project_id:int}}", authenticated(projects.get_project)),
        Route(
            f"{API}/projects/{{project_id:int}}/progress",
            authenticated(reports.project_progress),
        ),
        Route(f"{API}/worklogs", authenticated(worklogs.list_worklogs), methods=["GET"]),
        Route(f"{API}/worklogs", authenticated(worklogs.create_worklog), methods=["POST"]),
        Route(f"{API}/worklogs/export.csv", authenticated(worklogs.export_worklogs)),
    ],
    exception_handlers={Problem: on_problem},
    lifespan=lifespan,
)
