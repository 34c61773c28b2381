"""Run ``track serve`` with parts of the request path switched off, for overhead figures.

Track has no settings that switch metrics or rate limiting off, so this
launcher replaces them in the process before the app starts:
``BENCH_WITHOUT=metrics,limits`` (comma list). ``metrics`` makes every
Prometheus metric a no-op and leaves the database engine uninstrumented;
``limits`` makes the per-user limiter count nothing. Logging is switched off
with ``TRACK_LOG_LEVEL=WARNING`` instead, because the request log is at INFO.
The changes reach only this process, so use it with ``--workers 1``: with more,
the supervisor spawns fresh interpreters that run Track unchanged.
Usage: ``python -m bench.variant --host H --port P --workers 1``.
"""

import os
import sys


class NoMetric:
    """Takes every call a Prometheus metric takes and records nothing."""

    def labels(self, *args, **kwargs) -> "NoMetric":
        return self

    def inc(self, amount: float = 1) -> None:
        pass

    def dec(self, amount: float = 1) -> None:
        pass

    def set(self, value: float) -> None:
        pass

    def observe(self, value: float) -> None:
        pass


def switch_off(parts: set[str]) -> None:
    from app import db, metrics, ratelimit

    unknown = parts - {"metrics", "limits"}
    if unknown:
        raise SystemExit(f"BENCH_WITHOUT has unknown parts {sorted(unknown)}; use metrics, limits")
    if "metrics" in parts:
        for name in dir(metrics):
            if name.isupper() and hasattr(getattr(metrics, name), "labels"):
                setattr(metrics, name, NoMetric())
        db._instrument = lambda engine: None
    if "limits" in parts:

        async def hit(self, key: str) -> None:
            return None

        ratelimit.Limiter.hit = hit


def main() -> int:
    parts = {
        part.strip() for part in os.environ.get("BENCH_WITHOUT", "").split(",") if part.strip()
    }
    switch_off(parts)
    from app.cli import main as track_main

    return track_main(["serve", *sys.argv[1:]])


if __name__ == "__main__":
    sys.exit(main())
