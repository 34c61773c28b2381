"""Prometheus metrics of the operator, served on their own port at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RESTARTS = Counter(
    "track_operator_restarts",
    "Container restarts counted, by workload and termination reason.",
    ["namespace", "workload", "reason"],
)
PATTERN_OCCURRENCES = Counter(
    "track_operator_pattern_occurrences",
    "Occurrences counted per failure signature.",
    ["namespace", "workload", "signature"],
)
RECURRING_PATTERNS = Gauge(
    "track_operator_recurring_patterns",
    "FailurePatterns currently in the Recurring state.",
    ["namespace"],
)
DETECTION_LATENCY = Histogram(
    "track_operator_detection_latency_seconds",
    "Seconds from a container's finish time to the FailurePattern write that counts it.",
    buckets=(0.25, 0.5, 1, 2, 3, 5, 10, 30, 60, 120, 300),
)
RECOVERY = Histogram(
    "track_operator_recovery_seconds",
    "Seconds from a container's finish time until its pod is Ready again.",
    ["namespace", "workload"],
    buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800),
)
WORKLOAD_PODS = Gauge(
    "track_operator_workload_pods",
    "Watched pods per workload.",
    ["namespace", "workload"],
)
WORKLOAD_PODS_READY = Gauge(
    "track_operator_workload_pods_ready",
    "Watched pods per workload whose Ready condition is True.",
    ["namespace", "workload"],
)
API_ERRORS = Counter(
    "track_operator_api_errors",
    "Kubernetes API requests of the operator that failed, by operation.",
    ["operation"],
)
WATCH_RECONNECTS = Counter(
    "track_operator_watch_reconnects",
    "Times the pod watch was listed again (start, expiry, or reconnection).",
)
EVENTS = Counter(
    "track_operator_events",
    "Kubernetes Events created or updated by the operator, by reason.",
    ["reason"],
)
