"""Creating users and API tokens outside a request: the CLI and the demo data use these."""

from pydantic import ValidationError
from sqlalchemy import func, select

from app import auth
from app.db import Database
from app.models import ROLES, User
from app.passwords import MIN_PASSWORD_LENGTH, hash_password_async
from app.schemas import UserCreate, validation_errors


class AccountError(Exception):
    """A user or token could not be created; the message gives the reason."""


async def create_user(
    database: Database,
    *,
    username: str,
    role: str,
    password: str,
    display_name: str | None = None,
    timezone: str = "UTC",
) -> User:
    if role not in ROLES:
        raise AccountError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must be at least {MIN_PASSWORD_LENGTH} characters")
    try:
        body = UserCreate(
            username=username,
            role=role,
            password=password,
            display_name=display_name,
            timezone=timezone,
        )
    except ValidationError as error:
        problems = "; ".join(f"{e['field']} {e['message']}" for e in validation_errors(error))
        raise AccountError(problems) from None
    password_hash = await hash_password_async(password)
    async with database.write() as db:
        taken = await db.scalar(
            select(User.id).where(func.lower(User.username) == body.username.lower())
        )
        if taken is not None:
            raise AccountError(f"the username {body.username!r} is taken")
        user = User(
            username=body.username.lower(),
            display_name=body.display_name or body.username,
            role=role,
            password_hash=password_hash,
            timezone=timezone,
        )
        db.add(user)
    return user


async def create_token_for(database: Database, username: str, name: str = "cli") -> str:
    """Create an API token for the user and return its secret, which is shown only once."""
    async with database.write() as db:
        user = await db.scalar(select(User).where(func.lower(User.username) == username.lower()))
        if user is None:
            raise AccountError(f"there is no user {username!r}")
        _, secret = await auth.create_token(db, user, name)
    return secret
