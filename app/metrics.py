"""Prometheus metrics of the service.

With ``track serve --workers N`` every worker writes its samples to files in
``PROMETHEUS_MULTIPROC_DIR`` (set and wiped by the supervisor before the
workers start), and ``/metrics`` merges them, so whichever worker serves a
scrape returns the totals of all of them.
"""

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from app import __version__

UNMATCHED_ROUTE = "<unmatched>"

# prometheus_client opens its files in this directory as soon as a metric is
# created below. The supervisor imports this module before it wipes and
# recreates the directory, so a configured directory may not exist yet.
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

HTTP_REQUESTS = Counter(
    "track_http_requests_total",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "track_http_request_duration_seconds",
    "Time from receiving a request to sending the end of its response.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_IN_FLIGHT = Gauge(
    "track_http_requests_in_flight",
    "Requests being handled right now.",
    multiprocess_mode="livesum",
)
RATE_LIMITED = Counter(
    "track_rate_limited_total",
    "Requests answered with 429 because a rate limit was exceeded, by route template.",
    ["route"],
)
RATE_LIMITED_USERS = Gauge(
    "track_rate_limited_users",
    "Distinct clients that hit a rate limit in the last five minutes.",
    multiprocess_mode="livesum",
)
RATE_LIMIT_STORAGE_ERRORS = Counter(
    "track_rate_limit_storage_errors_total",
    "Rate-limit checks that failed, mostly because the storage was unreachable; "
    "the request was served without a limit.",
)
UNHANDLED_ERRORS = Counter(
    "track_unhandled_errors_total",
    "Unhandled exceptions answered with 500, by error signature.",
    ["signature"],
)
DB_QUERY_DURATION = Histogram(
    "track_db_query_duration_seconds",
    "Database statement execution time, by SQL operation.",
    ["operation"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
WORKLOGS_CREATED = Counter(
    "track_worklogs_created_total",
    "Work logs stored; an idempotent replay does not count again.",
)
CLIENT_ERRORS = Counter(
    "track_client_errors_total",
    "Errors reported by browsers, by normalised error signature.",
    ["signature"],
)
READY = Gauge(
    "track_ready",
    "1 while the process is ready; 0 while starting, draining or without its database.",
    multiprocess_mode="liveall",
)
BUILD_INFO = Gauge(
    "track_build_info",
    "Always 1; the labels carry the version of the running build.",
    ["version"],
    multiprocess_mode="liveall",
)
BUILD_INFO.labels(__version__).set(1)


def exposition() -> tuple[bytes, str]:
    """Return the current metrics text and its content type."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
