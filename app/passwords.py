"""Password hashing with Argon2id, a memory-hard key derivation function."""

import asyncio
import contextlib

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# A hash of a random password, checked when the user does not exist so that a
# sign-in for an unknown name takes as long as one with a wrong password.
_dummy_hash: str | None = None

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024


def configure(memory_kib: int) -> None:
    """Set the Argon2 memory cost; tests lower it to keep hashing fast."""
    global _hasher, _dummy_hash
    _hasher = PasswordHasher(memory_cost=memory_kib)
    _dummy_hash = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _verify(stored_hash: str | None, password: str) -> bool:
    global _dummy_hash
    if stored_hash is None:
        if _dummy_hash is None:
            _dummy_hash = _hasher.hash("placeholder for users that do not exist")
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher.verify(_dummy_hash, password)
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """Check a password in a worker thread: Argon2 is deliberately slow and would block the loop."""
    return await asyncio.to_thread(_verify, stored_hash, password)


async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)
