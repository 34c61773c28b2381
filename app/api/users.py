"""User accounts and API tokens (admins), and the user list managers pick members from."""

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from starlette.requests import Request
from starlette.responses import Response

from app import audit, auth
from app.api.common import Keyset, current_user, json_response, path_id
from app.api.session import me_json
from app.models import ApiToken, Session, User, utcnow
from app.passwords import hash_password_async, verify_password
from app.problems import Conflict, NotFound, field_error
from app.schemas import TokenCreate, UserCreate, UserUpdate, read_body


def user_json(user: User) -> dict:
    return {**me_json(user), "active": user.active, "created_at": user.created_at}


def token_json(token: ApiToken) -> dict:
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "user": {"id": token.user.id, "username": token.user.username},
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


async def list_users(request: Request) -> Response:
    auth.require_role(current_user(request), "manager")
    keyset = Keyset(request, User.username, User.id)
    async with request.app.state.db.read() as db:
        users = list(await db.scalars(keyset.apply(select(User))))
    return json_response(keyset.page(users, user_json, lambda u: [u.username, u.id]))


async def create_user(request: Request) -> Response:
    auth.require_role(current_user(request), "admin")
    body = await read_body(request, UserCreate)
    password_hash = await hash_password_async(body.password)
    async with request.app.state.db.write() as db:
        taken = await db.scalar(
            select(User.id).where(func.lower(User.username) == body.username.lower())
        )
        if taken is not None:
            raise Conflict(
                f"The username {body.username!r} is taken.",
                errors=[{"field": "username", "message": "is already taken"}],
            )
        user = User(
            username=body.username.lower(),
            display_name=body.display_name or body.username,
            role=body.role,
            password_hash=password_hash,
            timezone=body.timezone,
        )
        db.add(user)
        try:
            await db.flush()
        except IntegrityError:
            raise Conflict(f"The username {body.username!r} is taken.") from None
        audit.record(
            db,
            current_user(request),
            "create",
            "user",
            entity_id=user.id,
            after=audit.snapshot(user),
            subject_user_id=user.id,
        )
    return json_response(user_json(user), status=201)


async def update_user(request: Request) -> Response:
    actor = current_user(request)
    user_id = path_id(request, "user_id")
    body = await read_body(request, UserUpdate)
    changes = body.model_dump(exclude_unset=True)
    current_password = changes.pop("current_password", None)
    # People change their own name and password; everything else, including
    # the time zone that decides which day is "tomorrow", is for admins.
    if user_id != actor.id or set(changes) - {"display_name", "password"}:
        auth.require_role(actor, "admin")
    for field, value in changes.items():
        if value is None:
            raise field_error(field, "may not be null")
    if "password" in changes:
        if user_id == actor.id and not await verify_password(
            actor.password_hash, current_password or ""
        ):
            raise field_error("current_password", "is wrong or missing; it is needed to change it")
        changes["password_hash"] = await hash_password_async(changes.pop("password"))
    async with request.app.state.db.write() as db:
        user = await db.get(User, user_id)
        if user is None:
            raise NotFound(f"There is no user {user_id}.")
        if user.id == actor.id and changes.get("active") is False:
            raise field_error("active", "you cannot deactivate your own account")
        if "password_hash" in changes:
            # A new password ends every other session of the user.
            keep = auth.digest(request.scope.get("session_token") or "")
            await db.execute(
                delete(Session).where(Session.user_id == user.id, Session.token_hash != keep)
            )
        before = audit.snapshot(user)
        for field, value in changes.items():
            setattr(user, field, value)
        after = audit.snapshot(user)
        if "password_hash" in changes:
            before["password"], after["password"] = "(unchanged)", "(changed)"
        audit.record(
            db,
            actor,
            "update",
            "user",
            entity_id=user.id,
            before=before,
            after=after,
            subject_user_id=user.id,
        )
    return json_response(user_json(user))


async def list_tokens(request: Request) -> Response:
    actor = current_user(request)
    keyset = Keyset(request, ApiToken.id)
    query = select(ApiToken)
    if actor.role != "admin":
        query = query.where(ApiToken.user_id == actor.id)
    async with request.app.state.db.read() as db:
        tokens = list(await db.scalars(keyset.apply(query)))
    return json_response(keyset.page(tokens, token_json, lambda t: [t.id]))


async def create_token(request: Request) -> Response:
    actor = current_user(request)
    auth.require_role(actor, "admin")
    body = await read_body(request, TokenCreate)
    async with request.app.state.db.write() as db:
        owner = actor
        if body.username is not None:
            owner = await db.scalar(
                select(User).where(func.lower(User.username) == body.username.lower())
            )
            if owner is None:
                raise field_error("username", f"there is no user {body.username!r}")
        token, secret = await auth.create_token(db, owner, body.name)
        token.user = owner
        audit.record(
            db,
            actor,
            "create",
            "token",
            entity_id=token.id,
            after=audit.snapshot(token),
            subject_user_id=owner.id,
        )
        result = {**token_json(token), "token": secret}
    return json_response(result, status=201)


async def revoke_token(request: Request) -> Response:
    actor = current_user(request)
    token_id = path_id(request, "token_id")
    async with request.app.state.db.write() as db:
        token = await db.get(ApiToken, token_id)
        if token is None or (actor.role != "admin" and token.user_id != actor.id):
            raise NotFound(f"There is no token {token_id}.")
        if token.revoked_at is None:
            before = audit.snapshot(token)
            token.revoked_at = utcnow()
            audit.record(
                db,
                actor,
                "update",
                "token",
                entity_id=token.id,
                before=before,
                after=audit.snapshot(token),
                subject_user_id=token.user_id,
            )
    return Response(status_code=204)
