"""Process state behind the liveness, readiness and start-up probes.

Liveness does no I/O: it only reads the loop-lag watchdog, a task that wakes
up every half second and measures how late it woke. A loop blocked for longer
than the threshold makes liveness fail so the orchestrator replaces the
process. Readiness checks the database and the schema revision, and turns 503
as soon as the process starts draining.
"""

import asyncio
import contextlib
import time

from app import metrics

WATCHDOG_INTERVAL = 0.5


class Health:
    def __init__(self, *, lag_threshold: float):
        self.lag_threshold = lag_threshold
        self.started = False
        self.draining = False
        self.database_ok = False
        self.last_tick = time.monotonic()
        self.max_recent_lag = 0.0
        self._task: asyncio.Task | None = None

    def loop_lag(self) -> float:
        """Seconds the loop has gone without a watchdog tick, beyond the expected interval."""
        return max(0.0, time.monotonic() - self.last_tick - WATCHDOG_INTERVAL)

    def recent_lag(self) -> float:
        """Seconds of loop lag now or at the last watchdog tick, whichever is larger."""
        return max(self.loop_lag(), self.max_recent_lag)

    def alive(self) -> bool:
        return self.recent_lag() <= self.lag_threshold

    def set_ready(self, ready: bool) -> None:
        metrics.READY.set(1 if ready else 0)

    async def _watch(self) -> None:
        while True:
            before = time.monotonic()
            await asyncio.sleep(WATCHDOG_INTERVAL)
            now = time.monotonic()
            # A late wake-up is remembered for one tick, so a probe that
            # arrives right after a long block still detects it.
            self.max_recent_lag = max(0.0, now - before - WATCHDOG_INTERVAL)
            self.last_tick = now

    def start_watchdog(self) -> None:
        self.last_tick = time.monotonic()
        self._task = asyncio.get_running_loop().create_task(self._watch(), name="loop-watchdog")

    async def stop_watchdog(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
