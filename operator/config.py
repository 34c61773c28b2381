"""Operator settings, read from the environment when the operator starts."""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field

DEFAULT_SELECTOR = "app.kubernetes.io/part-of=track"


class ConfigError(ValueError):
    """An environment variable has an invalid value."""


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is invalid: expected an integer") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} is invalid: expected at least {minimum}")
    return value


def _float(name: str, default: float, minimum: float = 0.0) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is invalid: expected a number of seconds") from None
    if value < minimum:
        raise ConfigError(f"{name}={value} is invalid: expected at least {minimum}")
    return value


def parse_selector(text: str) -> dict[str, str]:
    """Parse an equality-based label selector ("a=b,c=d") into a dict."""
    labels: dict[str, str] = {}
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        value = value.lstrip("=").strip()
        if not sep or not key or "!" in key:
            raise ConfigError(
                f"TRACK_OPERATOR_SELECTOR part {part!r} is invalid: "
                "only equality selectors such as app.kubernetes.io/part-of=track are supported"
            )
        labels[key] = value
    return labels


def default_priority() -> int:
    """Return a peering priority that differs between replicas of one Deployment.

    kopf pauses every replica whose priority equals another live one, so two
    replicas with one fixed priority would both stop. The pod name differs per
    replica, and its CRC32 collides for two replicas with odds of about one in
    four billion.
    """
    name = os.environ.get("POD_NAME") or os.environ.get("HOSTNAME") or str(os.getpid())
    return 1 + zlib.crc32(name.encode("utf-8")) % 2_000_000_000


@dataclass(frozen=True)
class Settings:
    """Tuning of the operator; every field comes from a TRACK_OPERATOR_* variable."""

    namespaces: tuple[str, ...] = ()
    cluster_wide: bool = False
    selector: dict[str, str] = field(default_factory=lambda: parse_selector(DEFAULT_SELECTOR))
    threshold: int = 3
    window_seconds: float = 86400.0
    quiet_seconds: float = 600.0
    restarts_per_day: int = 10
    event_interval_seconds: float = 600.0
    write_interval_seconds: float = 60.0
    resolve_check_seconds: float = 15.0
    metrics_port: int = 9090
    metrics_host: str = "0.0.0.0"
    health_port: int = 8081
    priority: int = 1
    peering: str = "track-operator"

    @classmethod
    def from_env(cls) -> Settings:
        cluster_wide = os.environ.get("TRACK_OPERATOR_CLUSTER_WIDE", "").strip() in {
            "1",
            "true",
            "yes",
        }
        raw_namespaces = os.environ.get("TRACK_OPERATOR_NAMESPACES", "")
        namespaces = tuple(ns.strip() for ns in raw_namespaces.split(",") if ns.strip())
        if not namespaces and not cluster_wide:
            own = os.environ.get("POD_NAMESPACE", "").strip()
            if not own:
                raise ConfigError(
                    "no namespace to watch: set TRACK_OPERATOR_NAMESPACES, POD_NAMESPACE "
                    "or TRACK_OPERATOR_CLUSTER_WIDE=1"
                )
            namespaces = (own,)
        selector_text = os.environ.get("TRACK_OPERATOR_SELECTOR", DEFAULT_SELECTOR)
        priority_text = os.environ.get("TRACK_OPERATOR_PRIORITY", "").strip()
        return cls(
            namespaces=() if cluster_wide else namespaces,
            cluster_wide=cluster_wide,
            selector=parse_selector(selector_text),
            threshold=_int("TRACK_OPERATOR_THRESHOLD", 3, minimum=1),
            window_seconds=_float("TRACK_OPERATOR_WINDOW_SECONDS", 86400.0, minimum=1.0),
            quiet_seconds=_float("TRACK_OPERATOR_QUIET_SECONDS", 600.0, minimum=1.0),
            restarts_per_day=_int("TRACK_OPERATOR_RESTARTS_PER_DAY", 10, minimum=1),
            event_interval_seconds=_float(
                "TRACK_OPERATOR_EVENT_INTERVAL_SECONDS", 600.0, minimum=1.0
            ),
            write_interval_seconds=_float(
                "TRACK_OPERATOR_WRITE_INTERVAL_SECONDS", 60.0, minimum=0.0
            ),
            resolve_check_seconds=_float("TRACK_OPERATOR_RESOLVE_CHECK_SECONDS", 15.0, minimum=0.1),
            metrics_port=_int("TRACK_OPERATOR_METRICS_PORT", 9090),
            metrics_host=os.environ.get("TRACK_OPERATOR_METRICS_HOST", "0.0.0.0").strip(),
            health_port=_int("TRACK_OPERATOR_HEALTH_PORT", 8081),
            priority=int(priority_text) if priority_text.isdigit() else default_priority(),
            peering=os.environ.get("TRACK_OPERATOR_PEERING", "track-operator").strip(),
        )
