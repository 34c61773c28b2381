"""Running Track: one uvicorn server per process, and a supervisor for several.

On SIGTERM a server first drains: readiness turns 503 at once while it keeps
serving for TRACK_DRAIN_SECONDS, so load balancers stop sending it traffic.
Then it stops accepting connections, lets in-flight requests finish within
TRACK_GRACE_SECONDS, and exits with status 0.

With ``--workers N`` a supervisor binds the socket, starts N worker processes
that share it, and replaces any worker that dies while the others keep
serving, as a process manager in a cluster would.
"""

import logging
import multiprocessing
import os
import shutil
import signal
import socket
import tempfile
import time
from pathlib import Path

import uvicorn

from app.config import Settings
from app.logs import configure_logging

log = logging.getLogger(__name__)

RESTART_BACKOFF_MAX = 10.0


class TrackServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, *, health, drain_seconds: float):
        super().__init__(config)
        self.health = health
        self.drain_seconds = drain_seconds
        self.drain_deadline: float | None = None

    def handle_exit(self, sig, frame) -> None:
        if self.drain_deadline is None and self.drain_seconds > 0:
            self.health.draining = True
            self.health.set_ready(False)
            self.drain_deadline = time.monotonic() + self.drain_seconds
            log.info(
                "draining before shutdown",
                extra={"signal": signal.Signals(sig).name, "drain_seconds": self.drain_seconds},
            )
            return
        # A second signal, or no drain configured: stop now. The signal is not
        # recorded for re-raising, so a graceful stop exits with status 0.
        self.health.draining = True
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True

    async def on_tick(self, counter: int) -> bool:
        if self.drain_deadline is not None and time.monotonic() >= self.drain_deadline:
            self.should_exit = True
        return await super().on_tick(counter)


def _server(settings: Settings, *, host: str, port: int) -> TrackServer:
    from app.main import create_app

    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,
        timeout_keep_alive=settings.keepalive_seconds,
        timeout_graceful_shutdown=int(settings.grace_seconds),
        proxy_headers=False,
        server_header=False,
        lifespan="on",
    )
    return TrackServer(config, health=app.state.health, drain_seconds=settings.drain_seconds)


def _run_worker(settings: Settings, sock: socket.socket) -> None:
    configure_logging(settings.log_level)
    server = _server(settings, host="", port=0)
    server.run(sockets=[sock])


def _prepare_metrics_dir() -> Path:
    """Give the workers a fresh directory for their metric files, wiping an old one."""
    path = Path(
        os.environ.get("PROMETHEUS_MULTIPROC_DIR") or tempfile.mkdtemp(prefix="track-metrics-")
    )
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)
    return path


def serve(settings: Settings, *, host: str, port: int, workers: int) -> None:
    configure_logging(settings.log_level)
    if workers <= 1:
        _server(settings, host=host, port=port).run()
        return
    Supervisor(settings, host=host, port=port, workers=workers).run()


class Supervisor:
    def __init__(self, settings: Settings, *, host: str, port: int, workers: int):
        self.settings = settings
        self.host = host
        self.port = port
        self.count = workers
        self.stopping = False
        self.context = multiprocessing.get_context("spawn")

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(2048)
        sock.set_inheritable(True)
        return sock

    def _start(self, sock: socket.socket):
        process = self.context.Process(
            target=_run_worker, args=(self.settings, sock), name="track-worker", daemon=False
        )
        process.start()
        log.info("worker started", extra={"pid": process.pid})
        return process

    def _on_signal(self, sig, frame) -> None:
        self.stopping = True
        for process in self.processes:
            if process.is_alive():
                os.kill(process.pid, sig)

    def run(self) -> None:
        from prometheus_client import multiprocess

        metrics_dir = _prepare_metrics_dir()
        if self.settings.rate_limit_storage.startswith("memory"):
            log.warning(
                "rate limits use memory storage, so each of the %d workers counts on its own; "
                "set TRACK_RATE_LIMIT_STORAGE=redis://... to share them",
                self.count,
            )
        sock = self._bind()
        self.processes = [self._start(sock) for _ in range(self.count)]
        started = [time.monotonic()] * self.count
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        backoff = 0.0
        while True:
            time.sleep(0.2)
            alive = [p for p in self.processes if p.is_alive()]
            if self.stopping:
                if not alive:
                    break
                continue
            for index, process in enumerate(self.processes):
                if process.is_alive():
                    continue
                multiprocess.mark_process_dead(process.pid, str(metrics_dir))
                # A worker that dies right after starting is likely to die again:
                # wait longer each time so a crash loop does not spin.
                quick = time.monotonic() - started[index] < 5
                backoff = min(RESTART_BACKOFF_MAX, backoff * 2 or 0.5) if quick else 0.0
                log.error(
                    "worker exited; starting a new one",
                    extra={"pid": process.pid, "exit_code": process.exitcode, "delay": backoff},
                )
                time.sleep(backoff)
                self.processes[index] = self._start(sock)
                started[index] = time.monotonic()
        sock.close()
        codes = [p.exitcode for p in self.processes]
        log.info("all workers stopped", extra={"exit_codes": codes})
