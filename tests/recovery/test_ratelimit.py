"""Rate limits: per-user keys, 429 responses, shared Redis storage and failing open."""

import asyncio
import contextlib
import logging
import secrets
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
import redis
from prometheus_client import REGISTRY

from app import ratelimit
from app.ratelimit import Limiter
from tests.components import require_redis
from tests.fixtures import ServerProcess, Track, base_env, create_token, create_user
from tests.recovery.services import (
    LoggedServer,
    RedisServer,
    bearer,
    metric_total,
    wait_until,
)

OPENAPI = "/api/v1/openapi.json"
PROJECTS = "/api/v1/projects"


@pytest.fixture
def limited_track(tmp_path):
    url = f"sqlite:///{tmp_path / 'track.db'}"
    instance = Track(url, base_env(url, TRACK_RATE_LIMITS="5/minute"))
    yield instance
    instance.close()


def test_limited_response_is_problem(limited_track):
    user = limited_track.user("ula")
    statuses = [user.get(PROJECTS).status_code for _ in range(5)]
    limited = user.get(PROJECTS)

    assert statuses == [200] * 5
    assert limited.status_code == 429
    assert limited.headers["content-type"] == "application/problem+json"
    assert limited.json()["status"] == 429
    retry_after = limited.headers["Retry-After"]
    assert retry_after.isdigit()
    assert 1 <= int(retry_after) <= 60
    assert limited.headers["RateLimit-Policy"] == '"5-per-60s";q=5;w=60'
    assert limited.headers["RateLimit"].startswith('"5-per-60s";r=0;t=')


def test_retry_after_wait_succeeds(tmp_path):
    url = f"sqlite:///{tmp_path / 'track.db'}"
    instance = Track(url, base_env(url, TRACK_RATE_LIMITS="3/2 seconds"))
    try:
        user = instance.user("rita")
        for _ in range(10):
            limited = user.get(PROJECTS)
            if limited.status_code == 429:
                break
        assert limited.status_code == 429
        wait = int(limited.headers["Retry-After"])
        assert 1 <= wait <= 2
        # Waiting the Retry-After seconds is the behaviour under test, not a timing assertion.
        time.sleep(wait)
        assert user.get(PROJECTS).status_code == 200
    finally:
        instance.close()


def test_flood_spares_other_user(limited_track):
    flooder = limited_track.user("fred")
    other = limited_track.user("olga")
    flood = [flooder.get(PROJECTS).status_code for _ in range(20)]

    assert flood.count(429) == 15
    assert [other.get(PROJECTS).status_code for _ in range(5)] == [200] * 5


@pytest.mark.parametrize(
    "path",
    ["/healthz/live", "/healthz/ready", "/healthz/startup", "/metrics", "/static/index.html"],
)
def test_exempt_paths_not_limited(limited_track, path):
    statuses = {limited_track.client.get(path).status_code for _ in range(12)}
    assert statuses == {200}
    # The exempt requests did not use up the anonymous client's allowance.
    assert [limited_track.client.get(OPENAPI).status_code for _ in range(5)] == [200] * 5
    assert limited_track.client.get(OPENAPI).status_code == 429


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_limited_counted_by_route(limited_track):
    user = limited_track.user("max")
    before = _sample("track_rate_limited_total", route="/api/v1/projects")
    for _ in range(8):
        user.get(PROJECTS)
    assert _sample("track_rate_limited_total", route="/api/v1/projects") - before == 3


def _anonymous_statuses(server: ServerProcess, forwarded: list[str]) -> list[int]:
    statuses = []
    with httpx.Client(base_url=server.url, timeout=10) as client:
        for address in forwarded:
            response = client.get(OPENAPI, headers={"X-Forwarded-For": address})
            statuses.append(response.status_code)
    return statuses


def test_spoofed_forwarded_for_stays_limited(tmp_path):
    url = f"sqlite:///{tmp_path / 'track.db'}"
    server = ServerProcess(base_env(url, TRACK_RATE_LIMITS="5/minute")).start()
    try:
        invented = [f"203.0.113.{n}" for n in range(1, 11)]
        statuses = _anonymous_statuses(server, invented)
    finally:
        server.stop()
    assert statuses == [200] * 5 + [429] * 5


def test_trusted_proxy_forwards_client(tmp_path):
    url = f"sqlite:///{tmp_path / 'track.db'}"
    env = base_env(url, TRACK_RATE_LIMITS="5/minute", TRACK_TRUSTED_PROXIES="127.0.0.1")
    server = ServerProcess(env).start()
    try:
        distinct = _anonymous_statuses(server, [f"203.0.113.{n}" for n in range(1, 11)])
        same = _anonymous_statuses(server, ["198.51.100.7"] * 6)
        # Only the rightmost entry, added by the trusted proxy, is used, so invented
        # earlier hops share one limit.
        chained = _anonymous_statuses(server, [f"10.9.9.{n}, 198.51.100.7" for n in range(1, 4)])
    finally:
        server.stop()
    assert distinct == [200] * 10
    assert same == [200] * 5 + [429]
    assert chained == [429] * 3


def _empty_redis_db(base_url: str) -> str:
    """Pick a Redis database number with no keys, so this test's counts start at zero."""
    for number in [*range(15, 0, -1)]:
        url = f"{base_url.rsplit('/', 1)[0]}/{number}"
        with contextlib.closing(redis.Redis.from_url(url)) as client:
            if client.dbsize() == 0:
                return url
    pytest.fail("every Redis database 1-15 has keys; no empty one for the shared-limit test")


@pytest.mark.redis
def test_redis_limit_shared_between_processes(tmp_path):
    storage = _empty_redis_db(require_redis())
    url = f"sqlite:///{tmp_path / 'track.db'}"
    env = base_env(url, TRACK_RATE_LIMITS="10/minute", TRACK_RATE_LIMIT_STORAGE=storage)
    first = ServerProcess(env).start()
    second = ServerProcess(env).start()
    try:
        create_user(url, "sam", "engineer")
        headers = bearer(create_token(url, "sam"))
        targets = [first.url, second.url] * 15

        def fetch(base: str) -> int:
            return httpx.get(base + PROJECTS, headers=headers, timeout=10).status_code

        with ThreadPoolExecutor(max_workers=10) as pool:
            statuses = list(pool.map(fetch, targets))
    finally:
        first.stop()
        second.stop()
        with contextlib.closing(redis.Redis.from_url(storage)) as client:
            client.flushdb()
    assert statuses.count(200) == 10
    assert statuses.count(429) == 20


@pytest.mark.redis
def test_redis_outage_fails_open(tmp_path):
    store = RedisServer(tmp_path).start()
    url = f"sqlite:///{tmp_path / 'track.db'}"
    env = base_env(url, TRACK_RATE_LIMITS="5/minute", TRACK_RATE_LIMIT_STORAGE=store.url)
    server = LoggedServer(env, tmp_path / "server.log").start()
    try:
        create_user(url, "una", "engineer")
        headers = bearer(create_token(url, "una"))
        with httpx.Client(base_url=server.url, headers=headers, timeout=10) as client:
            before = [client.get(PROJECTS).status_code for _ in range(6)]

            store.stop()
            during = [client.get(PROJECTS).status_code for _ in range(10)]
            errors = metric_total(server.url, "track_rate_limit_storage_errors_total")

            store.start()

            def limited_again() -> bool:
                return client.get(PROJECTS).status_code == 429

            wait_until(limited_again, timeout=30, message="limits apply again after Redis returns")
    finally:
        server.stop()
        store.stop()

    assert before == [200] * 5 + [429]
    # Failing open: the user who was limited is served while the storage is gone.
    assert during == [200] * 10
    assert errors >= 1
    warnings = [
        line for line in server.logs() if "rate-limit storage unreachable" in line["message"]
    ]
    assert len(warnings) == 1
    assert warnings[0]["level"] == "warning"


class HungServer:
    """A TCP listener that accepts connections and never replies."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.connections = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        with contextlib.suppress(OSError):
            while True:
                connection, _ = self.sock.accept()
                self.connections.append(connection)

    def close(self):
        self.sock.close()
        for connection in self.connections:
            connection.close()


def test_storage_timeouts_bounded():
    limiter = Limiter("5/minute", "redis://127.0.0.1:6399/0")
    options = limiter.storage.bridge.storage.connection_pool.connection_kwargs
    # A request waits on the storage for at most one bounded check. After a
    # failure the limiter skips the storage for a while, so no request waits again.
    assert options["socket_timeout"] <= 1.0
    assert options["socket_connect_timeout"] <= 1.0
    assert 2 * ratelimit.STORAGE_TIMEOUT <= 2.0
    assert ratelimit.STORAGE_RETRY_AFTER >= 1.0


def test_hung_storage_fails_open():
    hung = HungServer()
    limiter = Limiter("1/minute", f"redis://127.0.0.1:{hung.port}/0")
    key = f"user:{secrets.token_hex(4)}"

    async def hit_twice() -> list[None]:
        # Both hits return although the storage never replies, and the
        # second skips the storage entirely.
        return [await asyncio.wait_for(limiter.hit(key), 30) for _ in range(2)]

    errors_before = _sample("track_rate_limit_storage_errors_total")
    try:
        assert asyncio.run(hit_twice()) == [None, None]
    finally:
        hung.close()
    assert _sample("track_rate_limit_storage_errors_total") - errors_before == 1


def test_invalid_tokens_limited_by_address(limited_track):
    client = limited_track.client
    statuses = [client.get(PROJECTS, headers=bearer(f"invalid-{n}")).status_code for n in range(8)]
    assert statuses == [401] * 5 + [429] * 3


def test_unexpected_error_fails_open_loudly(caplog):
    limiter = Limiter("1/minute", "memory://")

    async def broken_hit(*args, **kwargs):
        raise TypeError("unexpected keyword argument 'socket_timeout'")

    limiter.limiter.hit = broken_hit
    with caplog.at_level(logging.WARNING, logger="app.ratelimit"):
        results = asyncio.run(_hit_times(limiter, "user:1", 3))

    assert results == [None, None, None]
    errors = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(errors) == 1
    assert errors[0].exc_info[0] is TypeError
    assert not [record for record in caplog.records if record.levelno == logging.WARNING]


async def _hit_times(limiter: Limiter, key: str, count: int) -> list[None]:
    return [await limiter.hit(key) for _ in range(count)]
