"""Per-user rate limits with the ``limits`` library.

Requests are keyed by the signed-in user, or by client address when
anonymous. The moving-window strategy counts every hit in the trailing window,
so a burst at the edge of a fixed window cannot pass twice the limit.

When the storage (Redis) is unreachable the limiter fails open: the request is
served, and the error is counted and logged at most once a minute. The storage
is then not asked again for a few seconds, so no request waits on it repeatedly.
"""

import asyncio
import logging
import math
import time

from limits import RateLimitItem, parse_many
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter as SyncMovingWindowRateLimiter
from redis.exceptions import RedisError

from app import metrics

log = logging.getLogger(__name__)

STORAGE_TIMEOUT = 1.0
STORAGE_RETRY_AFTER = 5.0
ERROR_LOG_INTERVAL = 60.0
LIMITED_USERS_WINDOW = 300.0
# Failures that mean the storage is down or slow, as opposed to a bug.
STORAGE_ERRORS = (StorageError, RedisError, ConnectionError, TimeoutError, OSError)


def _async_uri(uri: str) -> str:
    return uri if uri.startswith("async+") else "async+" + uri


class RateLimitExceeded(Exception):
    def __init__(self, item: RateLimitItem, retry_after: int, remaining: int):
        super().__init__(f"rate limit {item} exceeded")
        self.item = item
        self.retry_after = retry_after
        self.remaining = remaining


class _InProcessLimiter:
    """The async limiter interface over the synchronous memory storage of ``limits``.

    The async memory storage of limits 5 sweeps every key after each hit with
    one thread hand-off per key, which made rate limiting cost more CPU than
    the request itself with thousands of users (see bench/results.md). The
    synchronous storage sweeps in a background thread instead, and its calls
    are in-memory and short enough to make from the event loop.
    """

    def __init__(self):
        self.storage = storage_from_string("memory://")
        self._limiter = SyncMovingWindowRateLimiter(self.storage)

    async def hit(self, item: RateLimitItem, *identifiers: str) -> bool:
        return self._limiter.hit(item, *identifiers)

    async def get_window_stats(self, item: RateLimitItem, *identifiers: str):
        return self._limiter.get_window_stats(item, *identifiers)

    async def clear(self, item: RateLimitItem, *identifiers: str) -> None:
        self._limiter.clear(item, *identifiers)


class Limiter:
    def __init__(self, limits: str, storage_uri: str, *, namespace: str = "track"):
        self.items = parse_many(limits)
        if storage_uri.startswith("memory"):
            self.limiter = _InProcessLimiter()
            self.storage = self.limiter.storage
        else:
            # redis-py, which Track depends on directly, takes these timeout
            # options; the default coredis client of limits rejects them.
            options = {
                "implementation": "redispy",
                "socket_timeout": STORAGE_TIMEOUT,
                "socket_connect_timeout": STORAGE_TIMEOUT,
            }
            self.storage = storage_from_string(_async_uri(storage_uri), **options)
            self.limiter = MovingWindowRateLimiter(self.storage)
        self.namespace = namespace
        self.shared = not storage_uri.startswith("memory")
        self._skip_until = 0.0
        self._last_error_log = -math.inf
        self._limited: dict[str, float] = {}

    def policy_header(self) -> str:
        return ", ".join(
            f'"{self.item_name(item)}";q={item.amount};w={item.get_expiry()}' for item in self.items
        )

    @staticmethod
    def item_name(item: RateLimitItem) -> str:
        return f"{item.amount}-per-{item.get_expiry()}s"

    def _storage_failed(self, error: BaseException) -> None:
        metrics.RATE_LIMIT_STORAGE_ERRORS.inc()
        now = time.monotonic()
        self._skip_until = now + STORAGE_RETRY_AFTER
        if now - self._last_error_log >= ERROR_LOG_INTERVAL:
            self._last_error_log = now
            if isinstance(error, STORAGE_ERRORS):
                log.warning(
                    "rate-limit storage unreachable; serving requests without limits until it "
                    "returns",
                    extra={"error": f"{type(error).__name__}: {error}"},
                )
            else:
                # Not an outage but a bug or a misconfigured client: fail open
                # all the same, and keep the traceback so it can be fixed.
                log.error(
                    "rate-limit check failed unexpectedly; serving requests without limits",
                    exc_info=error,
                )

    def _record_limited(self, key: str) -> None:
        now = time.monotonic()
        self._limited[key] = now
        cutoff = now - LIMITED_USERS_WINDOW
        for stale in [k for k, seen in self._limited.items() if seen < cutoff]:
            del self._limited[stale]
        metrics.RATE_LIMITED_USERS.set(len(self._limited))

    async def _check(self, key: str) -> None:
        for item in self.items:
            if not await self.limiter.hit(item, self.namespace, key):
                stats = await self.limiter.get_window_stats(item, self.namespace, key)
                retry_after = max(1, math.ceil(stats.reset_time - time.time()))
                raise RateLimitExceeded(item, retry_after, stats.remaining)

    async def hit(self, key: str) -> None:
        """Count one request for ``key``; raise RateLimitExceeded when over a limit."""
        if time.monotonic() < self._skip_until:
            return
        try:
            async with asyncio.timeout(2 * STORAGE_TIMEOUT):
                await self._check(key)
        except RateLimitExceeded:
            self._record_limited(key)
            raise
        except Exception as error:  # noqa: BLE001 - any storage failure means fail open
            self._storage_failed(error)

    async def clear(self, key: str) -> None:
        """Forget the hits counted for ``key``, as after a successful sign-in."""
        try:
            async with asyncio.timeout(2 * STORAGE_TIMEOUT):
                for item in self.items:
                    await self.limiter.clear(item, self.namespace, key)
        except Exception as error:  # noqa: BLE001 - the same fail-open rule as hit()
            self._storage_failed(error)
