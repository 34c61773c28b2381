"""The OpenAPI 3.1 document of the API, built from the routes and request models."""

from starlette.requests import Request
from starlette.responses import Response

from app import __version__, schemas
from app.api.common import json_response

PROBLEM = {"$ref": "#/components/schemas/Problem"}

# (method, path) -> (summary, request body model, success status)
OPERATIONS = {
    ("POST", "/api/v1/session"): ("Sign in and receive a session cookie", schemas.Login, 201),
    ("DELETE", "/api/v1/session"): ("Sign out", None, 204),
    ("GET", "/api/v1/session"): ("The signed-in user", None, 200),
    ("GET", "/api/v1/me"): ("The signed-in user", None, 200),
    ("GET", "/api/v1/projects"): ("List visible projects (paginated)", None, 200),
    ("POST", "/api/v1/projects"): ("Create a project (manager)", schemas.ProjectCreate, 201),
    ("GET", "/api/v1/projects/{project_id}"): ("A project with phases and members", None, 200),
    ("PATCH", "/api/v1/projects/{project_id}"): ("Change a project", schemas.ProjectUpdate, 200),
    ("DELETE", "/api/v1/projects/{project_id}"): ("Delete a project (admin)", None, 204),
    ("POST", "/api/v1/projects/{project_id}/phases"): ("Add a phase", schemas.PhaseCreate, 201),
    ("PATCH", "/api/v1/projects/{project_id}/phases/{phase_id}"): (
        "Change a phase",
        schemas.PhaseUpdate,
        200,
    ),
    ("DELETE", "/api/v1/projects/{project_id}/phases/{phase_id}"): (
        "Delete an unused phase",
        None,
        204,
    ),
    ("GET", "/api/v1/projects/{project_id}/members"): ("List members (paginated)", None, 200),
    ("POST", "/api/v1/projects/{project_id}/members"): ("Add a member", schemas.MemberAdd, 201),
    ("DELETE", "/api/v1/projects/{project_id}/members/{user_id}"): ("Remove a member", None, 204),
    ("GET", "/api/v1/projects/{project_id}/progress"): ("Planned vs logged hours", None, 200),
    ("GET", "/api/v1/portfolio"): ("Progress of all projects (manager)", None, 200),
    ("GET", "/api/v1/worklogs"): ("List work logs (paginated, filtered)", None, 200),
    ("POST", "/api/v1/worklogs"): (
        "Log hours; send Idempotency-Key to make retries safe",
        schemas.WorkLogCreate,
        201,
    ),
    ("GET", "/api/v1/worklogs/export.csv"): ("Export work logs as CSV", None, 200),
    ("GET", "/api/v1/worklogs/{worklog_id}"): ("A work log", None, 200),
    ("PATCH", "/api/v1/worklogs/{worklog_id}"): ("Change a work log", schemas.WorkLogUpdate, 200),
    ("DELETE", "/api/v1/worklogs/{worklog_id}"): ("Delete a work log", None, 204),
    ("GET", "/api/v1/users"): ("List users (manager)", None, 200),
    ("POST", "/api/v1/users"): ("Create a user (admin)", schemas.UserCreate, 201),
    ("PATCH", "/api/v1/users/{user_id}"): ("Change a user", schemas.UserUpdate, 200),
    ("GET", "/api/v1/tokens"): ("List API tokens", None, 200),
    ("POST", "/api/v1/tokens"): ("Create an API token (admin)", schemas.TokenCreate, 201),
    ("DELETE", "/api/v1/tokens/{token_id}"): ("Revoke an API token", None, 204),
    ("POST", "/api/v1/admin/faults"): ("Run a fault drill (admin)", schemas.FaultDrill, 200),
    ("GET", "/api/v1/worklogs/{worklog_id}/history"): ("A work log's changes", None, 200),
    ("PUT", "/api/v1/weeks/cells"): ("Set one cell of the weekly grid", schemas.GridCell, 200),
    ("GET", "/api/v1/weeks/{week_start}"): ("A week as a grid with totals", None, 200),
    ("POST", "/api/v1/weeks/{week_start}/submit"): ("Submit your week", None, 201),
    ("POST", "/api/v1/weeks/{week_start}/approve"): (
        "Approve a submitted week (manager)",
        schemas.WeekDecision,
        200,
    ),
    ("POST", "/api/v1/weeks/{week_start}/return"): (
        "Return a submitted week with a comment (manager)",
        schemas.WeekDecision,
        200,
    ),
    ("GET", "/api/v1/approvals"): ("Weeks waiting for approval (manager)", None, 200),
    ("GET", "/api/v1/approvals/missing"): ("People who have not submitted a week", None, 200),
    ("GET", "/api/v1/lock"): ("The period lock", None, 200),
    ("PUT", "/api/v1/lock"): ("Set the period lock (admin)", schemas.LockUpdate, 200),
    ("GET", "/api/v1/audit"): ("The audit trail (admin)", None, 200),
    ("GET", "/api/v1/audit/export.csv"): ("Export the audit trail as CSV (admin)", None, 200),
    ("POST", "/api/v1/problem-reports"): (
        "Report a problem",
        schemas.ProblemReportCreate,
        201,
    ),
    ("GET", "/api/v1/problem-reports"): ("Problem reports by signature (admin)", None, 200),
    ("POST", "/api/v1/client-errors"): (
        "Count browser errors by signature",
        schemas.ClientErrorBatch,
        202,
    ),
}

LIST_PARAMETERS = [
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
]
WORKLOG_FILTERS = [
    {"name": "project_id", "in": "query", "schema": {"type": "integer"}},
    {"name": "user_id", "in": "query", "schema": {"type": "integer"}},
    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date"}},
    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date"}},
]


def _operation(method: str, path: str, summary: str, model, status: int) -> dict:
    operation: dict = {
        "summary": summary,
        "operationId": f"{method.lower()}_{path.strip('/').replace('/', '_')}".replace("{", "")
        .replace("}", "")
        .replace(".", "_"),
        "responses": {
            str(status): {"description": "Success"},
            "default": {
                "description": "An error, as RFC 9457 problem details",
                "content": {"application/problem+json": {"schema": PROBLEM}},
            },
        },
    }
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}
        for name in ("project_id", "phase_id", "user_id", "worklog_id", "token_id")
        if "{" + name + "}" in path
    ]
    if "{week_start}" in path:
        parameters.append(
            {
                "name": "week_start",
                "in": "path",
                "required": True,
                "schema": {"type": "string", "format": "date"},
            }
        )
    if method == "GET" and not path.endswith("}") and path not in {"/api/v1/session", "/api/v1/me"}:
        if not path.endswith((".csv", "/progress", "/history", "/lock")):
            parameters += LIST_PARAMETERS
        if "/worklogs" in path:
            parameters += WORKLOG_FILTERS
    if parameters:
        operation["parameters"] = parameters
    if model is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        }
    return operation


def build_document() -> dict:
    paths: dict = {}
    models = {}
    for (method, path), (summary, model, status) in OPERATIONS.items():
        paths.setdefault(path, {})[method.lower()] = _operation(
            method, path, summary, model, status
        )
        if model is not None:
            schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
            # Nested models come back under $defs; OpenAPI wants them beside the others.
            models.update(schema.pop("$defs", {}))
            models[model.__name__] = schema
    models["Problem"] = {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                },
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Track API", "version": __version__},
        "components": {
            "schemas": models,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "track_session"},
            },
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
    }


_DOCUMENT = None


async def document(request: Request) -> Response:
    global _DOCUMENT
    if _DOCUMENT is None:
        _DOCUMENT = build_document()
    return json_response(_DOCUMENT)
