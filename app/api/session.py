"""Signing in and out of the browser UI."""

from sqlalchemy import func, select
from starlette.requests import Request
from starlette.responses import Response

from app import auth
from app.api.common import current_user, json_response
from app.clients import client_address
from app.models import User
from app.passwords import verify_password
from app.problems import TooManyRequests, Unauthorized
from app.projects import user_ref
from app.ratelimit import RateLimitExceeded
from app.schemas import Login, read_body


def me_json(user: User) -> dict:
    return {**user_ref(user), "role": user.role, "timezone": user.timezone}


async def sign_in(request: Request) -> Response:
    body = await read_body(request, Login)
    state = request.app.state
    username = body.username.strip().lower()
    throttle_key = f"{username}|{client_address(request.scope, state.settings.trusted_proxies)}"

    # Every attempt is counted before the password is checked, so parallel
    # guesses cannot all slip in before the first failure is recorded. A
    # successful sign-in clears the count again.
    try:
        await state.login_limiter.hit(throttle_key)
    except RateLimitExceeded as exceeded:
        wait = exceeded.retry_after
        raise TooManyRequests(
            f"Too many sign-in attempts for this account; try again in {wait} s.",
            retry_after=wait,
            headers={"Retry-After": str(wait)},
        ) from None

    async with state.db.read() as db:
        user = await db.scalar(select(User).where(func.lower(User.username) == username))
    valid = await verify_password(user.password_hash if user else None, body.password)
    if user is None or not valid or not user.active:
        raise Unauthorized("The username or password is wrong.")
    await state.login_limiter.clear(throttle_key)

    async with state.db.write() as db:
        token = await auth.create_session(db, user, days=state.settings.session_days)
    response = json_response(me_json(user), status=201)
    response.set_cookie(
        auth.SESSION_COOKIE,
        state.signer.sign(token),
        max_age=state.settings.session_days * 86400,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https",
        path="/",
    )
    return response


async def sign_out(request: Request) -> Response:
    token = request.scope.get("session_token")
    if token:
        async with request.app.state.db.write() as db:
            await auth.end_session(db, token)
    response = Response(status_code=204)
    response.delete_cookie(auth.SESSION_COOKIE, path="/")
    return response


async def who_am_i(request: Request) -> Response:
    return json_response(me_json(current_user(request)))
