"""A small asynchronous Kubernetes API client for the objects kopf does not write.

kopf watches the pods; this client writes FailurePatterns and Events and
reads ReplicaSets. It reuses the credentials of kopf's login handler and
raises :class:`ApiError` subclasses that carry the HTTP status.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import os
import ssl
import tempfile
from collections.abc import Callable
from typing import Any

import aiohttp
import kopf

logger = logging.getLogger(__name__)

MERGE_PATCH = "application/merge-patch+json"


class ApiError(Exception):
    """A Kubernetes API request failed."""

    def __init__(self, method: str, path: str, status: int, message: str) -> None:
        super().__init__(f"{method} {path} failed with HTTP {status}: {message}")
        self.method = method
        self.path = path
        self.status = status


class NotFoundError(ApiError):
    """The object or resource does not exist (HTTP 404)."""


class ConflictError(ApiError):
    """The object already exists or changed meanwhile (HTTP 409)."""


class ForbiddenError(ApiError):
    """RBAC denies the request (HTTP 401 or 403); retrying does not help."""


class GoneError(ApiError):
    """The object is being deleted or the resource version expired (HTTP 410)."""


_ERRORS = {
    401: ForbiddenError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    410: GoneError,
}


def _write_temp(data: str | bytes) -> str:
    raw = data.encode("ascii") if isinstance(data, str) else data
    # aiohttp's SSL context loads certificates from files only, so inline
    # kubeconfig data is written to private temporary files for the session.
    with tempfile.NamedTemporaryFile(prefix="track-operator-", delete=False) as handle:
        handle.write(base64.b64decode(raw))
    return handle.name


class KubeClient:
    """Send JSON requests to the API server with kopf's connection info."""

    def __init__(
        self, info_factory: Callable[[], kopf.ConnectionInfo | None], timeout: float = 10.0
    ) -> None:
        self._info_factory = info_factory
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._server = ""
        self._headers: dict[str, str] = {}
        self._temp_files: list[str] = []
        self._lock = asyncio.Lock()

    async def _ensure_session(self) -> aiohttp.ClientSession:
        async with self._lock:
            if self._session is None:
                info = self._info_factory()
                if info is None:
                    raise kopf.LoginError("no Kubernetes credentials: kopf login returned none")
                self._session = self._build_session(info)
            return self._session

    def _build_session(self, info: kopf.ConnectionInfo) -> aiohttp.ClientSession:
        self._server = info.server.rstrip("/")
        headers = {"Accept": "application/json", "User-Agent": "track-operator"}
        if info.scheme and info.token:
            headers["Authorization"] = f"{info.scheme} {info.token}"
        elif info.token:
            headers["Authorization"] = f"Bearer {info.token}"
        auth = aiohttp.BasicAuth(info.username, info.password or "") if info.username else None

        ssl_context: ssl.SSLContext | bool = True
        if self._server.startswith("https"):
            if info.insecure:
                ssl_context = False
            else:
                ca_path = info.ca_path
                if info.ca_data:
                    ca_path = _write_temp(info.ca_data)
                    self._temp_files.append(ca_path)
                ssl_context = ssl.create_default_context(cafile=ca_path)
                cert_path, key_path = info.certificate_path, info.private_key_path
                if info.certificate_data:
                    cert_path = _write_temp(info.certificate_data)
                    self._temp_files.append(cert_path)
                if info.private_key_data:
                    key_path = _write_temp(info.private_key_data)
                    self._temp_files.append(key_path)
                if cert_path:
                    ssl_context.load_cert_chain(cert_path, key_path)
        connector = aiohttp.TCPConnector(ssl=ssl_context, limit=20)
        return aiohttp.ClientSession(
            connector=connector,
            headers=headers,
            auth=auth,
            timeout=aiohttp.ClientTimeout(total=self._timeout),
            trust_env=info.trust_env,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
        for path in self._temp_files:
            with contextlib.suppress(OSError):
                os.unlink(path)
        self._temp_files.clear()

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        content_type: str = "application/json",
    ) -> Any:
        """Send one request and return the decoded JSON body."""
        for attempt in (1, 2):
            session = await self._ensure_session()
            headers = {"Content-Type": content_type} if body is not None else {}
            async with session.request(
                method, self._server + path, json=body, params=params, headers=headers
            ) as response:
                if response.status == 401 and attempt == 1:
                    # Service-account tokens rotate: log in again once, then give up.
                    logger.info(
                        "API server returned 401 for %s %s; reloading credentials", method, path
                    )
                    await self.close()
                    continue
                if response.status >= 400:
                    text = await response.text()
                    try:
                        message = (await response.json(content_type=None)).get("message", text)
                    except (ValueError, AttributeError):
                        message = text
                    error_cls = _ERRORS.get(response.status, ApiError)
                    raise error_cls(method, path, response.status, str(message)[:300])
                if response.status == 204:
                    return None
                return await response.json(content_type=None)
        raise AssertionError("unreachable")  # pragma: no cover

    async def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        return await self.request("GET", path, params=params)

    async def create(self, path: str, body: dict[str, Any]) -> Any:
        return await self.request("POST", path, body=body)

    async def merge_patch(self, path: str, body: dict[str, Any]) -> Any:
        return await self.request("PATCH", path, body=body, content_type=MERGE_PATCH)
