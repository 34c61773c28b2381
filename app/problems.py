"""RFC 9457 problem details: the one error format of the API.

Handlers raise a ``Problem`` (or one of its subclasses); the exception handler
turns it into an ``application/problem+json`` response.
"""

import json
from typing import Any

from starlette.responses import Response

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://track.invalid/problems/"


class Problem(Exception):
    status = 400
    title = "Bad request"
    slug = "bad-request"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[dict] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions

    def body(self, instance: str | None = None) -> dict:
        body = {
            "type": TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


class BadRequest(Problem):
    pass


class Unauthorized(Problem):
    status, title, slug = 401, "Authentication required", "unauthorized"


class Forbidden(Problem):
    status, title, slug = 403, "Forbidden", "forbidden"


class NotFound(Problem):
    status, title, slug = 404, "Not found", "not-found"


class MethodNotAllowed(Problem):
    status, title, slug = 405, "Method not allowed", "method-not-allowed"


class Conflict(Problem):
    status, title, slug = 409, "Conflict", "conflict"


class PayloadTooLarge(Problem):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(Problem):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


class ValidationFailed(Problem):
    status, title, slug = 422, "Validation failed", "validation-failed"

    def __init__(self, errors: list[dict], detail: str | None = None, **kwargs):
        if detail is None:
            detail = "; ".join(f"{error['field']}: {error['message']}" for error in errors)
        super().__init__(detail, errors=errors, **kwargs)


class TooManyRequests(Problem):
    status, title, slug = 429, "Too many requests", "rate-limited"


class ServiceUnavailable(Problem):
    status, title, slug = 503, "Service temporarily unavailable", "unavailable"


class InternalError(Problem):
    status, title, slug = 500, "Internal server error", "internal-error"


def field_error(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([{"field": field, "message": message}])


def problem_response(problem: Problem, instance: str | None = None) -> Response:
    return Response(
        json.dumps(problem.body(instance), ensure_ascii=False, separators=(",", ":")),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_CONTENT_TYPE,
    )
