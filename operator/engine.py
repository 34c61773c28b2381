"""The tracker: turns pod status changes into counted occurrences, patterns and Events.

kopf calls :meth:`Tracker.handle_pod` for every pod event; a background task
calls :meth:`Tracker.flush` and :meth:`Tracker.check_resolution`. Every change
of state happens under one lock, so concurrent pod events cannot count one
termination twice.

Exactness rests on one rule: a container's restarts are counted from its
``restartCount``. The baseline (the highest restart number counted so far
for each pod and container) is stored in the FailurePatterns' status and
loaded on start, so duplicate watch events, relists and operator restarts
count nothing twice. When the count jumps by more than one, the newest
termination is counted with its details and the others with an unknown
signature.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from track_operator import metrics
from track_operator.config import Settings
from track_operator.events import EventRecorder
from track_operator.kubeapi import (
    ApiError,
    ConflictError,
    ForbiddenError,
    KubeClient,
    NotFoundError,
)
from track_operator.patterns import (
    GROUP,
    KIND,
    PLURAL,
    RECURRING,
    RESOLVED,
    VERSION,
    CountRecord,
    Pattern,
    pattern_key,
    pattern_name,
)
from track_operator.signatures import Signature, Termination, compute_signature, unknown_signature
from track_operator.timeutil import parse_time
from track_operator.workloads import (
    ANNOTATION_RESTARTS_PER_DAY,
    ANNOTATION_THRESHOLD,
    ANNOTATION_WINDOW,
    AnnotationCache,
    Workload,
    WorkloadResolver,
)

logger = logging.getLogger(__name__)

DAY = 86400.0
# Exit codes after which the kubelet's Events are checked for a liveness kill:
# a clean exit on SIGTERM, SIGKILL (128+9) and SIGTERM (128+15).
_LIVENESS_EXIT_CODES = {0, 137, 143}


@dataclass
class PodInfo:
    """What the tracker keeps per watched pod."""

    namespace: str
    name: str
    workload: Workload
    ready: bool
    recovering_since: float | None = None


class RestartWindow:
    """Restarts of one workload in the last 24 hours, in one-minute buckets."""

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}

    def add(self, when: float, count: int = 1) -> None:
        minute = int(when // 60)
        self.buckets[minute] = self.buckets.get(minute, 0) + count

    def total(self, now: float) -> int:
        oldest = int((now - DAY) // 60)
        for minute in [m for m in self.buckets if m <= oldest]:
            del self.buckets[minute]
        return sum(self.buckets.values())


def matches_selector(labels: dict[str, str], selector: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{max(1, round(seconds))} s"
    if seconds < 7200:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def describe(signature: Signature) -> str:
    """Return a one-line description such as "TypeError at app/x.py:f:3 (GET /x)"."""
    what = signature.exception_type or signature.reason
    text = what
    if signature.location:
        text += f" at {signature.location}"
    if signature.route:
        text += f" ({signature.route})"
    if signature.exit_code is not None and not signature.location:
        text += f" with exit code {signature.exit_code}"
    return text


class Tracker:
    """Count container restarts per failure pattern and report them."""

    def __init__(self, settings: Settings, client: KubeClient, instance: str) -> None:
        self.settings = settings
        self.client = client
        self.events = EventRecorder(
            client,
            interval=settings.event_interval_seconds,
            write_interval=settings.write_interval_seconds,
            instance=instance,
        )
        self.resolver = WorkloadResolver(client)
        self.annotations = AnnotationCache(client)
        self.patterns: dict[str, Pattern] = {}
        self.baselines: dict[tuple[str, str], tuple[int, str | None]] = {}
        self.pods: dict[str, PodInfo] = {}
        self.restart_windows: dict[str, RestartWindow] = {}
        self.last_restart: dict[str, float] = {}
        self.lock = asyncio.Lock()
        self.last_load = 0.0
        self._forbidden_logged: set[str] = set()

    # -- loading stored state -------------------------------------------------------

    def _pattern_paths(self) -> list[str]:
        if self.settings.cluster_wide:
            return [f"/apis/{GROUP}/{VERSION}/{PLURAL}"]
        return [
            f"/apis/{GROUP}/{VERSION}/namespaces/{ns}/{PLURAL}" for ns in self.settings.namespaces
        ]

    async def load(self) -> None:
        """Read the stored FailurePatterns and Events; merge them into memory."""
        async with self.lock:
            for path in self._pattern_paths():
                try:
                    listing = await self.client.get(path)
                except ApiError as error:
                    self._report_api_error("list_patterns", error)
                    raise
                for obj in listing.get("items") or []:
                    stored = Pattern.from_object(obj)
                    if stored is not None:
                        self._merge(stored)
            namespaces = self.settings.namespaces or tuple(
                sorted({p.namespace for p in self.patterns.values()})
            )
            for namespace in namespaces:
                await self.events.load(namespace)
            self.last_load = time.monotonic()
            logger.info(
                "Loaded %d FailurePatterns and %d container baselines",
                len(self.patterns),
                len(self.baselines),
            )

    def _merge(self, stored: Pattern) -> None:
        current = self.patterns.get(stored.key)
        if current is None:
            self.patterns[stored.key] = stored
            current = stored
            window = self.restart_windows.setdefault(stored.workload.key, RestartWindow())
            for when in stored.recent:
                window.add(when)
        else:
            current.merge_stored(stored)
        for (pod_uid, container), record in current.records.items():
            base = self.baselines.get((pod_uid, container))
            if base is None or base[0] < record.restart_count:
                self.baselines[(pod_uid, container)] = (
                    record.restart_count,
                    record.termination_key,
                )
        last = self.last_restart.get(current.workload.key, 0.0)
        self.last_restart[current.workload.key] = max(last, current.last_seen)
        self._update_recurring_gauge(current.namespace)

    async def reload_if_stale(self, min_age: float = 10.0) -> None:
        """Reload stored state before a relist, as another replica may have counted."""
        if time.monotonic() - self.last_load < min_age:
            return
        metrics.WATCH_RECONNECTS.inc()
        try:
            await self.load()
        except ApiError:
            logger.warning("Reloading FailurePatterns failed; counting continues from memory")

    # -- pods -----------------------------------------------------------------------

    async def handle_pod(self, pod: dict[str, Any], event_type: str | None) -> None:
        meta = pod.get("metadata") or {}
        if not matches_selector(meta.get("labels") or {}, self.settings.selector):
            return
        if event_type == "DELETED":
            async with self.lock:
                self._forget_pod(pod)
            return
        workload = await self.resolver.resolve(pod)
        async with self.lock:
            await self._process_pod(pod, workload)

    def _forget_pod(self, pod: dict[str, Any]) -> None:
        meta = pod.get("metadata") or {}
        uid = meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}"
        info = self.pods.pop(uid, None)
        for key in [k for k in self.baselines if k[0] == uid]:
            del self.baselines[key]
        for pattern in self.patterns.values():
            if pattern.records and any(k[0] == uid for k in pattern.records):
                pattern.prune_pod(uid)
        if info is not None:
            self._update_pod_gauges(info.workload)

    async def _process_pod(self, pod: dict[str, Any], workload: Workload) -> None:
        meta = pod.get("metadata") or {}
        status = pod.get("status") or {}
        uid = meta.get("uid") or f"{meta.get('namespace')}/{meta.get('name')}"
        namespace = meta.get("namespace") or ""
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions") or []
        )
        info = self.pods.get(uid)
        if info is None:
            info = PodInfo(namespace, meta.get("name", ""), workload, ready)
            self.pods[uid] = info
        info.workload = workload
        if ready and info.recovering_since is not None:
            metrics.RECOVERY.labels(namespace=namespace, workload=workload.label).observe(
                max(0.0, time.time() - info.recovering_since)
            )
            info.recovering_since = None
        info.ready = ready
        self._update_pod_gauges(workload)

        statuses = (status.get("initContainerStatuses") or []) + (
            status.get("containerStatuses") or []
        )
        for container_status in statuses:
            await self._process_container(pod, uid, workload, info, container_status)

    async def _process_container(
        self,
        pod: dict[str, Any],
        uid: str,
        workload: Workload,
        info: PodInfo,
        container_status: dict[str, Any],
    ) -> None:
        container = container_status.get("name", "")
        restart_count = int(container_status.get("restartCount") or 0)
        base_count, base_key = self.baselines.get((uid, container), (0, None))
        if restart_count <= base_count:
            return

        terminated = (container_status.get("lastState") or {}).get("terminated")
        key = None
        if terminated:
            key = f"{terminated.get('containerID', '')}|{terminated.get('finishedAt', '')}"
            if key == base_key:
                # NOTE: the count grew but lastState still shows the termination
                # counted before. Kubelet updates both at once, so this waits
                # for the next status change instead of guessing.
                return

        now = time.time()
        pod_name = info.name
        occurrences: list[tuple[Signature, float, int, str | None]] = []
        first_unknown = base_count + 1
        last_unknown = restart_count - 1 if terminated else restart_count
        for number in range(first_unknown, last_unknown + 1):
            occurrences.append((unknown_signature(container), now, number, None))
        if terminated:
            finished = parse_time(terminated.get("finishedAt")) or now
            termination = Termination(
                container=container,
                reason=terminated.get("reason"),
                exit_code=terminated.get("exitCode"),
                signal=terminated.get("signal"),
                message=terminated.get("message"),
            )
            signature = compute_signature(termination)
            maybe_probe_kill = signature.kind in ("ExitCode", "Unknown", "LogTail") and (
                terminated.get("exitCode") in _LIVENESS_EXIT_CODES
            )
            if maybe_probe_kill and await self._was_liveness_kill(pod, container, terminated):
                termination = Termination(
                    container=container,
                    reason=terminated.get("reason"),
                    exit_code=terminated.get("exitCode"),
                    message=terminated.get("message"),
                    liveness_kill=True,
                )
                signature = compute_signature(termination)
            occurrences.append((signature, finished, restart_count, key))
            info.recovering_since = finished

        self.baselines[(uid, container)] = (restart_count, key)
        for signature, finished, number, termination_key in occurrences:
            record = CountRecord(
                pod=pod_name,
                pod_uid=uid,
                container=container,
                restart_count=number,
                termination_key=termination_key,
                finished_at=finished,
            )
            await self._count(pod, workload, signature, record)

    async def _was_liveness_kill(
        self, pod: dict[str, Any], container: str, terminated: dict[str, Any]
    ) -> bool:
        """Return whether the kubelet reported killing this container for its liveness probe."""
        meta = pod.get("metadata") or {}
        namespace = meta.get("namespace", "")
        started = parse_time(terminated.get("startedAt")) or 0.0
        finished = parse_time(terminated.get("finishedAt")) or time.time()
        params = {"fieldSelector": f"involvedObject.name={meta.get('name', '')},reason=Killing"}
        try:
            listing = await self.client.get(f"/api/v1/namespaces/{namespace}/events", params=params)
        except ApiError as error:
            self._report_api_error("list_events", error)
            return False
        for event in listing.get("items") or []:
            involved = event.get("involvedObject") or {}
            if involved.get("name") != meta.get("name") or event.get("reason") != "Killing":
                continue
            if container not in (involved.get("fieldPath") or f"{{{container}}}"):
                continue
            if "liveness" not in (event.get("message") or "").lower():
                continue
            when = parse_time(event.get("lastTimestamp") or event.get("eventTime")) or 0.0
            if started - 1 <= when <= finished + 60:
                return True
        return False

    # -- counting -------------------------------------------------------------------

    async def _count(
        self, pod: dict[str, Any], workload: Workload, signature: Signature, record: CountRecord
    ) -> None:
        namespace = workload.namespace
        annotations = await self.annotations.get(workload, pod, time.time())
        threshold = _annotation_int(annotations, ANNOTATION_THRESHOLD, self.settings.threshold)
        window = float(
            _annotation_int(annotations, ANNOTATION_WINDOW, int(self.settings.window_seconds))
        )
        per_day = _annotation_int(
            annotations, ANNOTATION_RESTARTS_PER_DAY, self.settings.restarts_per_day
        )

        name = pattern_name(workload, signature.signature)
        key = pattern_key(namespace, name)
        pattern = self.patterns.get(key)
        if pattern is None:
            pattern = Pattern(
                namespace=namespace, name=name, workload=workload, signature=signature
            )
            self.patterns[key] = pattern
        else:
            pattern.workload = workload
            if signature.example:
                pattern.signature = signature
        became_recurring = pattern.add(
            finished_at=record.finished_at, record=record, threshold=threshold, window=window
        )

        metrics.RESTARTS.labels(
            namespace=namespace, workload=workload.label, reason=signature.reason
        ).inc()
        metrics.PATTERN_OCCURRENCES.labels(
            namespace=namespace, workload=workload.label, signature=signature.signature
        ).inc()
        self.last_restart[workload.key] = max(
            self.last_restart.get(workload.key, 0.0), record.finished_at
        )
        restarts = self.restart_windows.setdefault(workload.key, RestartWindow())
        restarts.add(record.finished_at)

        if pattern.urgent:
            await self._write_pattern(pattern)
        self._update_recurring_gauge(namespace)

        await self._emit_restart_event(pod, record, signature)
        if pattern.state == RECURRING:
            await self._emit_recurring(pattern, threshold, window, became_recurring)
        total = restarts.total(time.time())
        if total > per_day:
            await self.events.record(
                self._involved(workload),
                signature="",
                reason="FrequentRestarts",
                event_type="Warning",
                message=(
                    f"{workload.kind} {workload.name} restarted {total} times in the last "
                    f"24 h, more than the limit of {per_day}"
                ),
            )

    async def _emit_restart_event(
        self, pod: dict[str, Any], record: CountRecord, signature: Signature
    ) -> None:
        meta = pod.get("metadata") or {}
        involved = {
            "apiVersion": "v1",
            "kind": "Pod",
            "namespace": meta.get("namespace", ""),
            "name": meta.get("name", ""),
            "uid": meta.get("uid", ""),
            "fieldPath": f"spec.containers{{{record.container}}}",
        }
        message = (
            f"Container {record.container} restarted (restart {record.restart_count}): "
            f"{describe(signature)}; signature {signature.signature}"
        )
        await self.events.record(
            involved,
            signature=signature.signature,
            reason="ContainerRestarted",
            event_type="Normal",
            message=message,
        )

    async def _emit_recurring(
        self, pattern: Pattern, threshold: int, window: float, became_recurring: bool
    ) -> None:
        count = sum(1 for t in pattern.recent if t >= pattern.last_seen - window)
        pods = ", ".join(pattern.pods[-5:])
        message = (
            f"{describe(pattern.signature)} happened {count} times in "
            f"{_duration(pattern.window_span(count))} in {len(pattern.pods)} pod"
            f"{'s' if len(pattern.pods) != 1 else ''} ({pods}); threshold {threshold} "
            f"in {_duration(window)}; FailurePattern {pattern.name}"
        )
        targets = [
            self._involved(pattern.workload),
            {
                "apiVersion": f"{GROUP}/{VERSION}",
                "kind": KIND,
                "namespace": pattern.namespace,
                "name": pattern.name,
            },
        ]
        for involved in targets:
            await self.events.record(
                involved,
                signature=pattern.signature.signature,
                reason="RecurringFailure",
                event_type="Warning",
                message=message,
            )
        if became_recurring:
            logger.warning("Recurring failure in %s: %s", pattern.workload.key, message)

    @staticmethod
    def _involved(workload: Workload) -> dict[str, Any]:
        involved = {
            "apiVersion": workload.api_version,
            "kind": workload.kind,
            "namespace": workload.namespace,
            "name": workload.name,
        }
        if workload.uid:
            involved["uid"] = workload.uid
        return involved

    # -- writing patterns -------------------------------------------------------------

    async def _write_pattern(self, pattern: Pattern) -> None:
        pattern.urgent = False
        pattern.dirty = False
        pattern.last_write = time.monotonic()
        base = f"/apis/{GROUP}/{VERSION}/namespaces/{pattern.namespace}/{PLURAL}"
        finishes, pattern.pending_finishes = pattern.pending_finishes, []
        try:
            if not pattern.exists:
                body = {
                    "apiVersion": f"{GROUP}/{VERSION}",
                    "kind": KIND,
                    "metadata": pattern.metadata(),
                    "spec": pattern.spec(),
                }
                try:
                    await self.client.create(base, body)
                except ConflictError:
                    stored = Pattern.from_object(await self.client.get(f"{base}/{pattern.name}"))
                    if stored is not None:
                        pattern.merge_stored(stored)
                pattern.exists = True
            try:
                await self.client.merge_patch(
                    f"{base}/{pattern.name}/status", {"status": pattern.status()}
                )
            except NotFoundError:
                # Deleted by someone, or garbage-collected with a workload that
                # has since been recreated: create it again next time.
                pattern.exists = False
                pattern.dirty = True
                pattern.urgent = True
                pattern.pending_finishes.extend(finishes)
                return
        except ApiError as error:
            self._report_api_error("write_pattern", error)
            pattern.dirty = True
            pattern.pending_finishes.extend(finishes)
            return
        now = time.time()
        for finished in finishes:
            metrics.DETECTION_LATENCY.observe(max(0.0, now - finished))

    async def flush(self, *, force: bool = False) -> None:
        """Write changed patterns and Events whose last write is a write interval old."""
        async with self.lock:
            monotonic = time.monotonic()
            for pattern in list(self.patterns.values()):
                due = monotonic - pattern.last_write >= self.settings.write_interval_seconds
                if pattern.urgent or (pattern.dirty and (due or force)):
                    await self._write_pattern(pattern)
            await self.events.flush(force=force)

    async def check_resolution(self) -> None:
        """Mark patterns Resolved once their workload ran clean for the quiet period."""
        async with self.lock:
            now = time.time()
            for pattern in list(self.patterns.values()):
                if pattern.state == RESOLVED:
                    continue
                clean_since = self.last_restart.get(pattern.workload.key, pattern.last_seen)
                if now - max(clean_since, pattern.last_seen) < self.settings.quiet_seconds:
                    continue
                if not await self._still_quiet(pattern):
                    continue
                pattern.state = RESOLVED
                pattern.urgent = True
                await self._write_pattern(pattern)
                logger.info(
                    "FailurePattern %s resolved: %s ran clean for %s",
                    pattern.key,
                    pattern.workload.key,
                    _duration(self.settings.quiet_seconds),
                )
                self._update_recurring_gauge(pattern.namespace)

    async def _still_quiet(self, pattern: Pattern) -> bool:
        # A standby replica's memory can be behind; read the stored object first.
        if not pattern.exists:
            return True
        path = f"/apis/{GROUP}/{VERSION}/namespaces/{pattern.namespace}/{PLURAL}/{pattern.name}"
        try:
            stored = Pattern.from_object(await self.client.get(path))
        except NotFoundError:
            pattern.exists = False
            return True
        except ApiError as error:
            self._report_api_error("read_pattern", error)
            return False
        if stored is not None and stored.last_seen > pattern.last_seen:
            self._merge(stored)
            return False
        return True

    async def run_background(self) -> None:
        """Flush and check resolution until cancelled; errors are logged, never fatal."""
        last_resolution = 0.0
        while True:
            await asyncio.sleep(min(1.0, self.settings.write_interval_seconds or 1.0))
            try:
                await self.flush()
                if time.monotonic() - last_resolution >= self.settings.resolve_check_seconds:
                    last_resolution = time.monotonic()
                    await self.check_resolution()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("Background flush of FailurePatterns failed; retrying")

    # -- metrics and errors -------------------------------------------------------------

    def _update_recurring_gauge(self, namespace: str) -> None:
        recurring = sum(
            1 for p in self.patterns.values() if p.namespace == namespace and p.state == RECURRING
        )
        metrics.RECURRING_PATTERNS.labels(namespace=namespace).set(recurring)

    def _update_pod_gauges(self, workload: Workload) -> None:
        pods = [p for p in self.pods.values() if p.workload.key == workload.key]
        labels = {"namespace": workload.namespace, "workload": workload.label}
        metrics.WORKLOAD_PODS.labels(**labels).set(len(pods))
        metrics.WORKLOAD_PODS_READY.labels(**labels).set(sum(1 for p in pods if p.ready))

    def _report_api_error(self, operation: str, error: ApiError) -> None:
        metrics.API_ERRORS.labels(operation=operation).inc()
        if isinstance(error, ForbiddenError):
            if operation not in self._forbidden_logged:
                self._forbidden_logged.add(operation)
                logger.error(
                    "RBAC denies %s: %s. Not retried until the role allows it; "
                    "compare the operator's Role with operator/manifests.",
                    operation,
                    error,
                )
            return
        logger.warning("API request for %s failed: %s", operation, error)


def _annotation_int(annotations: dict[str, str], name: str, default: int) -> int:
    raw = annotations.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        logger.warning(
            "Annotation %s=%r is invalid, expected an integer; using %d", name, raw, default
        )
        return default
    return value if value > 0 else default
