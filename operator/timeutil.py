"""RFC 3339 timestamps as Kubernetes writes them, converted to and from epoch seconds."""

from __future__ import annotations

import datetime


def parse_time(value: str | None) -> float | None:
    """Return epoch seconds of an RFC 3339 timestamp, or None if it is missing or invalid."""
    if not value:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.UTC)
    return parsed.timestamp()


def format_time(epoch: float) -> str:
    """Return an RFC 3339 UTC timestamp with whole seconds, as Kubernetes expects."""
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def format_micro_time(epoch: float) -> str:
    """Return an RFC 3339 UTC timestamp with microseconds."""
    moment = datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
