"""ASGI middleware: request context and errors, authentication, rate limits.

Order, outermost first: ``RequestMiddleware`` (request id, logs, metrics and
the one place where unhandled errors become problem responses),
``AuthenticationMiddleware`` (who is asking, and cross-site request checks),
``RateLimitMiddleware`` (per-user limits), then the router.
"""

import logging
import re
import time
import uuid
from http.cookies import SimpleCookie

from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.datastructures import Headers, MutableHeaders
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app import auth, logs, metrics
from app.clients import client_address
from app.problems import (
    Conflict,
    Forbidden,
    InternalError,
    Problem,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    problem_response,
)
from app.ratelimit import RateLimitExceeded
from app.signatures import signature_of

log = logging.getLogger("app.requests")

EXEMPT_PREFIXES = ("/healthz/", "/metrics", "/static/", "/favicon.ico")
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_CONVERTOR = re.compile(r"\{(\w+):\w+\}")
DATABASE_RETRY_AFTER = "2"
# The UI loads only its own scripts and styles, and no page may frame it.
SECURITY_HEADERS = [
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "same-origin"),
    (
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; frame-ancestors 'none'; base-uri 'self'; form-action 'self'",
    ),
]


def public_template(path: str) -> str:
    """Remove path convertors from a route template: "/p/{id:int}" becomes "/p/{id}"."""
    return _CONVERTOR.sub(r"{\1}", path)


def route_template(scope: Scope) -> str:
    """Return the request's route template, also when a middleware responded before routing."""
    route = scope.get("route")
    if route is not None and hasattr(route, "path"):
        return public_template(route.path)
    app = scope.get("app")
    if app is not None and hasattr(app, "router"):
        # Authentication, rate limits and database errors can end a request
        # before the router runs; label it by the route it was meant for.
        return match_route(app.router, scope)
    return metrics.UNMATCHED_ROUTE


def match_route(app, scope: Scope) -> str:
    """Find the template of the route a request will reach, before the router runs."""
    for route in getattr(app, "routes", []):
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return public_template(route.path)
    return metrics.UNMATCHED_ROUTE


# SQLSTATE classes that mean the server cannot be reached or is restarting:
# 08 connection exceptions, 57P01-57P03 admin or crash shutdown and "cannot
# connect now" while it starts, 53300 too many connections.
_OUTAGE_SQLSTATES = ("08", "57P01", "57P02", "57P03", "53300")


def is_database_outage(error: BaseException) -> bool:
    if isinstance(error, PoolTimeout | InterfaceError):
        return True
    if isinstance(error, DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, OperationalError):
        return True
    if isinstance(error, DBAPIError):
        sqlstate = getattr(error.orig, "sqlstate", None) or ""
        if sqlstate.startswith(_OUTAGE_SQLSTATES):
            return True
    return isinstance(error, ConnectionError | TimeoutError | OSError)


class RequestMiddleware:
    def __init__(self, app: ASGIApp, *, state):
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        supplied = Headers(scope=scope).get("x-request-id", "")
        rid = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        logs.request_id.set(rid)
        logs.user_id.set(None)
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500
        response_started = False
        draining = self.state.health.draining

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                headers = MutableHeaders(scope=message)
                headers["x-request-id"] = rid
                for name, value in SECURITY_HEADERS:
                    headers.setdefault(name, value)
                if draining or self.state.health.draining:
                    # Ask keep-alive clients to reconnect, so they reach a replica
                    # that is not shutting down.
                    headers["connection"] = "close"
            await send(message)

        metrics.HTTP_IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, send_wrapper)
        except Exception as error:  # noqa: BLE001 - the one place errors become responses
            if response_started:
                log.exception("error after the response started", extra={"path": scope["path"]})
            else:
                await self.answer_error(error, scope, send_wrapper)
        finally:
            metrics.HTTP_IN_FLIGHT.dec()
            route = route_template(scope)
            duration = time.perf_counter() - started
            metrics.HTTP_REQUESTS.labels(scope["method"], route, str(status)).inc()
            metrics.HTTP_DURATION.labels(scope["method"], route).observe(duration)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(duration * 1000, 2),
                },
            )

    async def answer_error(self, error: Exception, scope: Scope, send: Send) -> None:
        route = f"{scope['method']} {route_template(scope)}"
        if isinstance(error, Problem):
            problem = error
        elif isinstance(error, IntegrityError):
            # Handlers check uniqueness first; a violation that still reaches
            # here comes from a concurrent request that stored the same thing.
            log.warning(
                "write conflicted with a concurrent one",
                extra={"route": route, "error": str(error.orig)[:300]},
            )
            problem = Conflict(
                "Another request stored the same thing at the same moment; reload and try again."
            )
        elif is_database_outage(error):
            log.warning(
                "database unavailable", extra={"error": f"{type(error).__name__}: {error}"[:500]}
            )
            problem = ServiceUnavailable(
                "The database is unavailable right now; try again in a few seconds.",
                headers={"Retry-After": DATABASE_RETRY_AFTER},
            )
        else:
            sig = signature_of(error, route)
            incident = uuid.uuid4().hex[:16]
            metrics.UNHANDLED_ERRORS.labels(sig.signature).inc()
            log.error(
                "unhandled error",
                exc_info=error,
                extra={
                    "signature": sig.signature,
                    "location": sig.location,
                    "exception": sig.exception,
                    "incident_id": incident,
                    "route": route,
                },
            )
            problem = InternalError(
                "Something went wrong on the server. The error has been logged; "
                f"quote incident {incident} when you report it.",
                incident_id=incident,
                signature=sig.signature,
            )
        await problem_response(problem, scope.get("path"))(scope, _empty_receive, send)


async def _empty_receive() -> Message:
    return {"type": "http.disconnect"}


def _cookie(scope: Scope, name: str) -> str | None:
    raw = Headers(scope=scope).get("cookie")
    if not raw:
        return None
    cookie = SimpleCookie()
    try:
        cookie.load(raw)
    except Exception:  # noqa: BLE001 - a malformed cookie header means no session
        return None
    morsel = cookie.get(name)
    return morsel.value if morsel else None


def _same_origin(headers: Headers) -> bool:
    """Return False when a request comes from a browser page of another site.

    Browsers send Sec-Fetch-Site or Origin on such requests; a request with
    neither comes from a script, not from a page another site controls. The
    Host header is compared as received: proxies in front of Track are
    expected to pass it through unchanged.
    """
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in {"same-origin", "none"}
    origin = headers.get("origin")
    if origin is None:
        return True
    scheme, _, rest = origin.partition("://")
    return scheme in {"http", "https"} and rest.rstrip("/") == headers.get("host", "")


class AuthenticationMiddleware:
    """Resolve the signed-in user into ``scope["user"]`` and reject cross-site writes."""

    def __init__(self, app: ASGIApp, *, state):
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope["user"] = None
        path = scope["path"]
        if path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return

        try:
            await self._authenticate(scope)
        except (Unauthorized, Forbidden):
            # A rejected request never reaches the rate limit below, so count
            # it by address here: a flood of invented tokens is limited too.
            await enforce_rate_limit(self.state, scope, _address_key(self.state, scope))
            raise
        if scope["user"] is not None:
            logs.user_id.set(scope["user"].id)
        await self.app(scope, receive, send)

    async def _authenticate(self, scope: Scope) -> None:
        headers = Headers(scope=scope)
        if scope["method"] not in SAFE_METHODS and not _same_origin(headers):
            raise Forbidden("Cross-site requests may not change data.")

        authorization = headers.get("authorization", "")
        session_value = _cookie(scope, auth.SESSION_COOKIE)
        if authorization[:7].lower() == "bearer ":
            secret = authorization[7:].strip()
            async with self.state.db.read() as db:
                scope["user"] = await auth.user_for_token(db, secret)
            if scope["user"] is None:
                raise_unauthorized("The API token is invalid or revoked.")
            scope["auth"] = "token"
        elif session_value:
            token = self.state.signer.unsign(session_value)
            if token is not None:
                async with self.state.db.read() as db:
                    scope["user"] = await auth.user_for_session(db, token)
                scope["session_token"] = token
            scope["auth"] = "session" if scope["user"] is not None else None


def raise_unauthorized(detail: str) -> None:
    raise Unauthorized(detail, headers={"WWW-Authenticate": 'Bearer realm="track"'})


def _address_key(state, scope: Scope) -> str:
    return "addr:" + client_address(scope, state.settings.trusted_proxies)


async def enforce_rate_limit(state, scope: Scope, key: str) -> None:
    """Count one request for ``key``; raise TooManyRequests when it is over a limit."""
    limiter = state.limiter
    try:
        await limiter.hit(key)
    except RateLimitExceeded as exceeded:
        metrics.RATE_LIMITED.labels(route_template(scope)).inc()
        raise TooManyRequests(
            f"Too many requests: the limit is {exceeded.item.amount} per "
            f"{exceeded.item.get_expiry()} seconds. Try again in {exceeded.retry_after} s.",
            retry_after=exceeded.retry_after,
            headers={
                "Retry-After": str(exceeded.retry_after),
                "RateLimit-Policy": limiter.policy_header(),
                "RateLimit": (
                    f'"{limiter.item_name(exceeded.item)}";r={exceeded.remaining};'
                    f"t={exceeded.retry_after}"
                ),
            },
        ) from None


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, *, state):
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        exempt = scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES)
        # Page loads only fetch the static UI shell. Limiting them would show a
        # bare 429 body in place of the page that explains the wait.
        page_load = scope.get("method") in SAFE_METHODS and not scope["path"].startswith("/api/")
        if exempt or page_load:
            await self.app(scope, receive, send)
            return
        user = scope.get("user")
        key = f"user:{user.id}" if user is not None else _address_key(self.state, scope)
        await enforce_rate_limit(self.state, scope, key)
        await self.app(scope, receive, send)
