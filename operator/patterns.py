"""FailurePattern state: counting, the Active/Recurring/Resolved state, and the status body.

A pattern is one (workload, signature) pair. Its status stores, besides what
people read, what the operator needs to count exactly after a restart: the
latest counted termination of every container (``counted``) and the times of
the latest occurrences (``recentOccurrences``) for the threshold window.
"""

from __future__ import annotations

import hashlib
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from track_operator.signatures import Signature
from track_operator.timeutil import format_micro_time, format_time, parse_time
from track_operator.workloads import Workload

GROUP = "track.dev"
VERSION = "v1"
PLURAL = "failurepatterns"
KIND = "FailurePattern"

ACTIVE = "Active"
RECURRING = "Recurring"
RESOLVED = "Resolved"

LABEL_MANAGED_BY = "app.kubernetes.io/managed-by"
LABEL_WORKLOAD_KIND = "track.dev/workload-kind"
LABEL_WORKLOAD_NAME = "track.dev/workload-name"
LABEL_SIGNATURE = "track.dev/signature"

MAX_PODS = 20
MAX_CONTAINERS = 20
# Counted records (one per container that hit this pattern). Beyond this, the
# oldest are dropped; a dropped container that still exists could be counted
# again after an operator restart.
MAX_RECORDS = 500
MAX_RECENT = 100


@dataclass
class CountRecord:
    """The latest termination of one container that this pattern counted."""

    pod: str
    pod_uid: str
    container: str
    restart_count: int
    termination_key: str | None
    finished_at: float

    def to_status(self) -> dict[str, Any]:
        return {
            "pod": self.pod,
            "podUID": self.pod_uid,
            "container": self.container,
            "restartCount": self.restart_count,
            "terminationKey": self.termination_key or "",
            "finishedAt": format_time(self.finished_at),
        }

    @classmethod
    def from_status(cls, data: dict[str, Any]) -> CountRecord:
        return cls(
            pod=str(data.get("pod", "")),
            pod_uid=str(data.get("podUID", "")),
            container=str(data.get("container", "")),
            restart_count=int(data.get("restartCount", 0)),
            termination_key=data.get("terminationKey") or None,
            finished_at=parse_time(data.get("finishedAt")) or 0.0,
        )


def pattern_name(workload: Workload, signature: str) -> str:
    """Return the FailurePattern's object name: readable, unique, a valid DNS subdomain."""
    base = re.sub(r"[^a-z0-9.-]", "-", f"{workload.kind.lower()}-{workload.name.lower()}")
    base = base.strip("-.")[:200] or "workload"
    return f"{base}-{signature}"


def pattern_key(namespace: str, name: str) -> str:
    return f"{namespace}/{name}"


@dataclass
class Pattern:
    """One failure signature of one workload, as counted so far."""

    namespace: str
    name: str
    workload: Workload
    signature: Signature
    occurrences: int = 0
    first_seen: float = 0.0
    last_seen: float = 0.0
    state: str = ACTIVE
    recent: deque[float] = field(default_factory=lambda: deque(maxlen=MAX_RECENT))
    pods: list[str] = field(default_factory=list)
    containers: list[str] = field(default_factory=list)
    records: dict[tuple[str, str], CountRecord] = field(default_factory=dict)

    # Bookkeeping of writes; not part of the status.
    exists: bool = False
    dirty: bool = False
    urgent: bool = False
    last_write: float = 0.0
    pending_finishes: list[float] = field(default_factory=list)

    @property
    def key(self) -> str:
        return pattern_key(self.namespace, self.name)

    def add(
        self, *, finished_at: float, record: CountRecord, threshold: int, window: float
    ) -> bool:
        """Count one occurrence; return True when it makes the pattern Recurring."""
        self.occurrences += 1
        if not self.first_seen or finished_at < self.first_seen:
            self.first_seen = finished_at
        self.last_seen = max(self.last_seen, finished_at)
        self.recent.append(finished_at)
        _remember(self.pods, record.pod, MAX_PODS)
        _remember(self.containers, record.container, MAX_CONTAINERS)

        previous = self.records.get((record.pod_uid, record.container))
        if previous is None or previous.restart_count <= record.restart_count:
            self.records[(record.pod_uid, record.container)] = record
        if len(self.records) > MAX_RECORDS:
            oldest = sorted(self.records.items(), key=lambda item: item[1].finished_at)
            for record_key, _ in oldest[: len(self.records) - MAX_RECORDS]:
                del self.records[record_key]

        self.dirty = True
        self.pending_finishes.append(finished_at)
        old_state = self.state
        self.state = RECURRING if self.in_window(threshold, window, now=finished_at) else ACTIVE
        if old_state != self.state or not self.exists:
            self.urgent = True
        return self.state == RECURRING and old_state != RECURRING

    def in_window(self, threshold: int, window: float, *, now: float) -> bool:
        """Return whether `threshold` occurrences happened within `window` seconds."""
        if len(self.recent) < threshold:
            return False
        ordered = sorted(self.recent)
        return now - ordered[-threshold] <= window

    def window_span(self, threshold: int) -> float:
        """Return the seconds between the last `threshold` occurrences."""
        ordered = sorted(self.recent)[-threshold:]
        return ordered[-1] - ordered[0] if ordered else 0.0

    def prune_pod(self, pod_uid: str) -> None:
        for record_key in [k for k in self.records if k[0] == pod_uid]:
            del self.records[record_key]

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "name": self.name,
            "namespace": self.namespace,
            "labels": {
                LABEL_MANAGED_BY: "track-operator",
                LABEL_WORKLOAD_KIND: self.workload.kind,
                LABEL_WORKLOAD_NAME: self.workload.name[:63],
                LABEL_SIGNATURE: self.signature.signature,
            },
        }
        owner = self.workload.owner_reference()
        if owner is not None:
            meta["ownerReferences"] = [owner]
        return meta

    def spec(self) -> dict[str, Any]:
        return {
            "workload": {"kind": self.workload.kind, "name": self.workload.name},
            "signature": self.signature.signature,
        }

    def status(self) -> dict[str, Any]:
        sig = self.signature
        status: dict[str, Any] = {
            "state": self.state,
            "occurrences": self.occurrences,
            "firstSeen": format_time(self.first_seen),
            "lastSeen": format_time(self.last_seen),
            "workload": {"kind": self.workload.kind, "name": self.workload.name},
            "signature": sig.signature,
            "kind": sig.kind,
            "reason": sig.reason,
            "pods": list(self.pods),
            "containers": list(self.containers),
            "recentOccurrences": [format_micro_time(t) for t in sorted(self.recent)],
            "counted": [record.to_status() for record in self.records.values()],
        }
        optional = {
            "exitCode": sig.exit_code,
            "location": sig.location,
            "route": sig.route,
            "exceptionType": sig.exception_type,
            "exampleMessage": sig.example,
        }
        status.update({key: value for key, value in optional.items() if value is not None})
        return status

    @classmethod
    def from_object(cls, obj: dict[str, Any]) -> Pattern | None:
        """Rebuild a pattern from a stored FailurePattern, or None if it has no status."""
        meta = obj.get("metadata") or {}
        status = obj.get("status") or {}
        spec = obj.get("spec") or {}
        if not status.get("signature"):
            return None
        workload_data = status.get("workload") or spec.get("workload") or {}
        owner = next(iter(meta.get("ownerReferences") or []), {})
        workload = Workload(
            namespace=meta.get("namespace", ""),
            kind=workload_data.get("kind", owner.get("kind", "Pod")),
            name=workload_data.get("name", owner.get("name", "")),
            api_version=owner.get("apiVersion", "v1"),
            uid=owner.get("uid"),
        )
        signature = Signature(
            signature=status["signature"],
            kind=status.get("kind", "Unknown"),
            reason=status.get("reason", "Unknown"),
            exit_code=status.get("exitCode"),
            location=status.get("location"),
            route=status.get("route"),
            exception_type=status.get("exceptionType"),
            example=status.get("exampleMessage"),
        )
        pattern = cls(
            namespace=workload.namespace,
            name=meta.get("name", ""),
            workload=workload,
            signature=signature,
            occurrences=int(status.get("occurrences", 0)),
            first_seen=parse_time(status.get("firstSeen")) or 0.0,
            last_seen=parse_time(status.get("lastSeen")) or 0.0,
            state=status.get("state", ACTIVE),
            pods=list(status.get("pods") or []),
            containers=list(status.get("containers") or []),
            exists=True,
        )
        for stamp in status.get("recentOccurrences") or []:
            parsed = parse_time(stamp)
            if parsed is not None:
                pattern.recent.append(parsed)
        for data in status.get("counted") or []:
            record = CountRecord.from_status(data)
            pattern.records[(record.pod_uid, record.container)] = record
        return pattern

    def merge_stored(self, stored: Pattern) -> None:
        """Take what another replica stored when it counted more than this one."""
        if stored.occurrences > self.occurrences:
            self.occurrences = stored.occurrences
            self.recent = stored.recent
            self.pods = stored.pods
            self.containers = stored.containers
            self.state = stored.state
            self.first_seen = min(self.first_seen or stored.first_seen, stored.first_seen)
            self.last_seen = max(self.last_seen, stored.last_seen)
        for record_key, record in stored.records.items():
            mine = self.records.get(record_key)
            if mine is None or mine.restart_count < record.restart_count:
                self.records[record_key] = record
        self.exists = True


def _remember(items: list[str], value: str, limit: int) -> None:
    if value in items:
        items.remove(value)
    items.append(value)
    del items[:-limit]


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]
