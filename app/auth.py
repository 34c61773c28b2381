"""Sign-in, browser sessions, API tokens and role checks.

A session cookie carries a random token signed with TRACK_SECRET_KEY; the
database keeps only its SHA-256 hash, so a leaked table opens no session and
signing out deletes the row. API tokens are random too, shown once, stored
hashed and revocable.
"""

import datetime as dt
import hashlib
import secrets

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.models import ApiToken, Session, User, utcnow
from app.problems import Forbidden

SESSION_COOKIE = "track_session"
TOKEN_PREFIX = "trk_"
ROLE_RANK = {"engineer": 0, "manager": 1, "admin": 2}


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Signer:
    def __init__(self, secret_key: str):
        self._serializer = URLSafeSerializer(secret_key, salt="track-session")

    def sign(self, token: str) -> str:
        return self._serializer.dumps(token)

    def unsign(self, value: str) -> str | None:
        try:
            token = self._serializer.loads(value)
        except BadSignature:
            return None
        return token if isinstance(token, str) else None


async def create_session(db: AsyncSession, user: User, *, days: int) -> str:
    token = secrets.token_urlsafe(32)
    db.add(
        Session(
            token_hash=digest(token),
            user_id=user.id,
            expires_at=utcnow() + dt.timedelta(days=days),
        )
    )
    return token


async def end_session(db: AsyncSession, token: str) -> None:
    await db.execute(delete(Session).where(Session.token_hash == digest(token)))


async def user_for_session(db: AsyncSession, token: str) -> User | None:
    row = await db.scalar(select(Session).where(Session.token_hash == digest(token)))
    if row is None or row.expires_at <= utcnow() or not row.user.active:
        return None
    return row.user


async def create_token(db: AsyncSession, user: User, name: str) -> tuple[ApiToken, str]:
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=secret[:10], token_hash=digest(secret))
    db.add(token)
    await db.flush()
    return token, secret


async def user_for_token(db: AsyncSession, secret: str) -> User | None:
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token = await db.scalar(select(ApiToken).where(ApiToken.token_hash == digest(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    return token.user


async def touch_token(db: AsyncSession, secret: str) -> None:
    await db.execute(
        update(ApiToken).where(ApiToken.token_hash == digest(secret)).values(last_used_at=utcnow())
    )


def require_role(user: User, role: str) -> None:
    """Raise 403 unless the user's role is ``role`` or above it."""
    if ROLE_RANK[user.role] < ROLE_RANK[role]:
        raise Forbidden(f"This needs the {role} role; you are signed in as {user.role}.")


def is_manager(user: User) -> bool:
    return ROLE_RANK[user.role] >= ROLE_RANK["manager"]
