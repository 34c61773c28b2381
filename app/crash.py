"""Crash reports for fatal errors.

A process that cannot go on writes one line of JSON to the termination log
(Kubernetes shows it as the container's last state; Track's operator groups
restarts by its signature), logs it, and exits with status 1.
"""

import json
import logging
import os
from pathlib import Path

from app.signatures import signature_of

log = logging.getLogger(__name__)

MAX_MESSAGE = 300


def crash_report(error: BaseException, route: str = "") -> dict:
    sig = signature_of(error, route)
    message = str(error).replace("\n", " ")[:MAX_MESSAGE]
    return {
        "track_crash": 1,
        "signature": sig.signature,
        "exception": sig.exception,
        "location": sig.location,
        "route": route,
        "message": message,
    }


def write_crash_report(report: dict, path: Path | None) -> None:
    line = json.dumps(report, ensure_ascii=False, separators=(",", ":"))
    log.critical("fatal error, exiting", extra={"crash": report})
    if path is None:
        return
    try:
        # Kubernetes reads at most 4096 bytes of the termination log.
        path.write_text(line[:4000] + "\n", encoding="utf-8")
    except OSError as error:
        log.error(
            "could not write the crash report", extra={"path": str(path), "error": str(error)}
        )


def crash(error: BaseException, path: Path | None, route: str = "") -> None:
    """Write the crash report for ``error`` and end the process at once with status 1."""
    write_crash_report(crash_report(error, route), path)
    logging.shutdown()
    os._exit(1)
