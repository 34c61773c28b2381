"""Settings read from the environment, validated once at start-up."""

import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from limits import parse_many

DEFAULT_DATABASE_URL = "sqlite:///var/track.db"
DEFAULT_RATE_LIMITS = "20/10 seconds;1000/5 minutes"
MIN_SECRET_KEY_LENGTH = 32
DEMO_SECRET_KEY = "track-local-demo-key-not-for-production-use"


class ConfigurationError(Exception):
    """A setting is missing or invalid; the message names the variable and the fix."""


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    secret_key: str = DEMO_SECRET_KEY
    demo: bool = False
    rate_limits: str = DEFAULT_RATE_LIMITS
    rate_limit_storage: str = "memory://"
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    drain_seconds: float = 5.0
    grace_seconds: float = 20.0
    keepalive_seconds: int = 75
    loop_lag_threshold_seconds: float = 5.0
    fault_injection: bool = False
    termination_log: Path | None = None
    password_hash_memory_kib: int = 65536
    session_days: int = 14
    workers: int = 1
    log_level: str = "INFO"
    login_attempts: str = "5/15 minutes"
    report_limits: str = "5/10 minutes"


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _number(env: dict, name: str, default: float, *, minimum: float = 0) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigurationError(f"{name}={raw!r} is not a number") from None
    if value < minimum:
        raise ConfigurationError(f"{name}={raw!r} must be at least {minimum}")
    return value


def _proxies(raw: str) -> tuple:
    networks = []
    for item in filter(None, (part.strip() for part in raw.split(","))):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ConfigurationError(
                f"TRACK_TRUSTED_PROXIES contains {item!r}, which is not an IP address or CIDR"
            ) from None
    return tuple(networks)


def termination_log_path(env: dict | None = None) -> Path | None:
    """Return the crash-report path: TRACK_TERMINATION_LOG, else Kubernetes' default."""
    env = os.environ if env is None else env
    raw = env.get("TRACK_TERMINATION_LOG")
    if raw:
        return Path(raw)
    default = Path("/dev/termination-log")
    if default.exists() and os.access(default, os.W_OK):
        return default
    return None


def load_settings(env: dict | None = None, *, demo: bool = False) -> Settings:
    """Build Settings from environment variables, raising ConfigurationError on bad values."""
    env = dict(os.environ if env is None else env)
    demo = demo or _flag(env.get("TRACK_DEMO"))

    secret_key = env.get("TRACK_SECRET_KEY", "")
    if not secret_key:
        if not demo:
            raise ConfigurationError(
                "TRACK_SECRET_KEY is not set. Set it to a random string of at least "
                f"{MIN_SECRET_KEY_LENGTH} characters, for example the output of "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`, "
                "or run the local demo with `make run`."
            )
        secret_key = DEMO_SECRET_KEY
    elif len(secret_key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigurationError(
            f"TRACK_SECRET_KEY is {len(secret_key)} characters long; "
            f"it must be at least {MIN_SECRET_KEY_LENGTH}"
        )

    rate_limits = env.get("TRACK_RATE_LIMITS", DEFAULT_RATE_LIMITS)
    try:
        parse_many(rate_limits)
    except ValueError:
        raise ConfigurationError(
            f"TRACK_RATE_LIMITS={rate_limits!r} is not in the limits notation, "
            "for example '20/10 seconds;1000/5 minutes'"
        ) from None

    storage = env.get("TRACK_RATE_LIMIT_STORAGE", "memory://")
    if not storage.startswith(("memory://", "redis://", "rediss://")):
        raise ConfigurationError(
            "TRACK_RATE_LIMIT_STORAGE must start with memory://, redis:// or rediss://"
        )

    memory_kib = int(_number(env, "TRACK_PASSWORD_HASH_MEMORY_KIB", 65536, minimum=64))
    return Settings(
        database_url=env.get("TRACK_DATABASE_URL", DEFAULT_DATABASE_URL),
        secret_key=secret_key,
        demo=demo,
        rate_limits=rate_limits,
        rate_limit_storage=storage,
        trusted_proxies=_proxies(env.get("TRACK_TRUSTED_PROXIES", "")),
        drain_seconds=_number(env, "TRACK_DRAIN_SECONDS", 5.0),
        grace_seconds=_number(env, "TRACK_GRACE_SECONDS", 20.0),
        keepalive_seconds=int(_number(env, "TRACK_KEEPALIVE_SECONDS", 75, minimum=1)),
        loop_lag_threshold_seconds=_number(env, "TRACK_LOOP_LAG_THRESHOLD_SECONDS", 5.0),
        fault_injection=_flag(env.get("TRACK_FAULT_INJECTION")),
        termination_log=termination_log_path(env),
        password_hash_memory_kib=memory_kib,
        workers=int(_number(env, "TRACK_WORKERS", 1, minimum=1)),
        log_level=env.get("TRACK_LOG_LEVEL", "INFO").upper(),
        login_attempts=env.get("TRACK_LOGIN_ATTEMPTS", "5/15 minutes"),
        report_limits=env.get("TRACK_PROBLEM_REPORT_LIMITS", "5/10 minutes"),
    )
