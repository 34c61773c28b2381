"""Kubernetes Events written without storms.

kopf's event helper creates a new Event object on every call. Here an Event
series is keyed by (involved object, signature, reason): the first occurrence
creates one Event object; later occurrences within the event interval only
raise its ``count`` and ``lastTimestamp``, written at most once per write
interval. Posting failures are logged and counted, never raised, so counting
never waits for Events.
"""

from __future__ import annotations

import hashlib
import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from track_operator import metrics
from track_operator.kubeapi import ApiError, ForbiddenError, KubeClient, NotFoundError
from track_operator.timeutil import format_time, parse_time

logger = logging.getLogger(__name__)

COMPONENT = "track-operator"
SERIES_LABEL = "track.dev/event-series"
MANAGED_BY = {"app.kubernetes.io/managed-by": COMPONENT}


@dataclass
class EventSeries:
    """One Event object and the occurrences it stands for."""

    name: str
    namespace: str
    started: float  # wall-clock seconds when the Event object was created
    count: int
    last_time: float
    message: str
    dirty: bool = False
    last_write: float = field(default=0.0)  # monotonic seconds


def series_id(involved: dict[str, Any], signature: str, reason: str) -> str:
    key = "/".join(
        [
            involved.get("namespace", ""),
            involved.get("kind", ""),
            involved.get("name", ""),
            involved.get("uid") or "",
            signature,
            reason,
        ]
    )
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class EventRecorder:
    """Create and update Events, one object per series per event interval."""

    def __init__(
        self, client: KubeClient, *, interval: float, write_interval: float, instance: str
    ) -> None:
        self._client = client
        self._interval = interval
        self._write_interval = write_interval
        self._instance = instance
        self._series: dict[str, EventSeries] = {}
        self._involved: dict[str, tuple[dict[str, Any], str, str]] = {}
        self._forbidden_logged = False

    async def load(self, namespace: str) -> None:
        """Adopt this operator's recent Events so a restart does not duplicate them."""
        path = f"/api/v1/namespaces/{namespace}/events"
        selector = ",".join(f"{k}={v}" for k, v in MANAGED_BY.items())
        try:
            listing = await self._client.get(path, params={"labelSelector": selector})
        except ApiError as error:
            self._report_failure("list", error)
            return
        now = time.time()
        for item in listing.get("items") or []:
            meta = item.get("metadata") or {}
            labels = meta.get("labels") or {}
            if any(labels.get(k) != v for k, v in MANAGED_BY.items()):
                continue
            key = labels.get(SERIES_LABEL)
            started = parse_time(item.get("firstTimestamp")) or 0.0
            if not key or now - started >= self._interval:
                continue
            existing = self._series.get(key)
            if existing is not None and existing.started >= started:
                continue
            self._series[key] = EventSeries(
                name=meta.get("name", ""),
                namespace=namespace,
                started=started,
                count=int(item.get("count") or 1),
                last_time=parse_time(item.get("lastTimestamp")) or started,
                message=item.get("message") or "",
                last_write=time.monotonic(),
            )

    async def record(
        self,
        involved: dict[str, Any],
        *,
        signature: str,
        reason: str,
        event_type: str,
        message: str,
        when: float | None = None,
    ) -> None:
        """Count one occurrence in its series; create a new Event object if needed."""
        now = time.time() if when is None else when
        key = series_id(involved, signature, reason)
        self._involved[key] = (involved, reason, event_type)
        series = self._series.get(key)
        if series is not None and now - series.started < self._interval:
            series.count += 1
            series.last_time = max(series.last_time, now)
            series.message = message
            series.dirty = True
            return
        await self._create(
            key, involved, reason=reason, event_type=event_type, message=message, now=now
        )

    async def flush(self, *, force: bool = False) -> None:
        """Write the changed series whose last write is older than the write interval."""
        monotonic = time.monotonic()
        for key, series in list(self._series.items()):
            if not series.dirty:
                continue
            if not force and monotonic - series.last_write < self._write_interval:
                continue
            await self._update(key, series)
        # Forget series whose interval is over; a new occurrence opens a new object.
        now = time.time()
        for key, series in list(self._series.items()):
            if not series.dirty and now - series.started >= self._interval:
                del self._series[key]
                self._involved.pop(key, None)

    async def _create(
        self,
        key: str,
        involved: dict[str, Any],
        *,
        reason: str,
        event_type: str,
        message: str,
        now: float,
    ) -> None:
        namespace = involved.get("namespace") or ""
        name = f"{involved.get('name', 'object')[:200]}.{uuid.uuid4().hex[:16]}"
        stamp = format_time(now)
        body = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {
                "name": name,
                "namespace": namespace,
                "labels": {**MANAGED_BY, SERIES_LABEL: key},
            },
            "involvedObject": involved,
            "reason": reason,
            "message": message[:1024],
            "type": event_type,
            "count": 1,
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "source": {"component": COMPONENT},
            "reportingComponent": "track.dev/operator",
            "reportingInstance": self._instance,
        }
        # The series is remembered before the request, so a failed post is not
        # retried on every later occurrence: that would turn an outage into a storm.
        self._series[key] = EventSeries(
            name=name,
            namespace=namespace,
            started=now,
            count=1,
            last_time=now,
            message=message,
            last_write=time.monotonic(),
        )
        try:
            await self._client.create(f"/api/v1/namespaces/{namespace}/events", body)
        except ApiError as error:
            self._report_failure("create", error)
            return
        metrics.EVENTS.labels(reason=reason).inc()

    async def _update(self, key: str, series: EventSeries) -> None:
        series.dirty = False
        series.last_write = time.monotonic()
        path = f"/api/v1/namespaces/{series.namespace}/events/{series.name}"
        patch = {
            "count": series.count,
            "lastTimestamp": format_time(series.last_time),
            "message": series.message[:1024],
        }
        involved, reason, event_type = self._involved.get(key, ({}, "", "Normal"))
        try:
            await self._client.merge_patch(path, patch)
        except NotFoundError:
            # Someone deleted the Event (or its TTL expired): start a new object.
            await self._create(
                key,
                involved,
                reason=reason,
                event_type=event_type,
                message=series.message,
                now=series.last_time,
            )
            return
        except ApiError as error:
            self._report_failure("update", error)
            return
        metrics.EVENTS.labels(reason=reason).inc()

    def _report_failure(self, action: str, error: ApiError) -> None:
        metrics.API_ERRORS.labels(operation=f"event_{action}").inc()
        if isinstance(error, ForbiddenError):
            if not self._forbidden_logged:
                logger.error(
                    "RBAC denies writing Events (%s); Events are skipped, counting "
                    "goes on. Grant create and patch on events to the operator.",
                    error,
                )
                self._forbidden_logged = True
            return
        logger.warning("Event %s failed: %s", action, error)
