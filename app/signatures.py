"""Stable signatures for unhandled errors.

A signature is a short hash of the exception type, the innermost frame in
Track's own code (module, function and the stripped text of the source line)
and the route template. The same bug reached with different inputs gives one
signature; two bugs give two; an edit elsewhere that shifts line numbers keeps
it, because the line number is kept only beside it, as the readable location.
"""

import hashlib
import linecache
import traceback
from dataclasses import dataclass
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent
PROJECT_ROOT = PACKAGE_ROOT.parent


@dataclass(frozen=True)
class ErrorSignature:
    signature: str
    exception: str
    location: str
    route: str


def _own_frame(error: BaseException) -> traceback.FrameSummary | None:
    frames = traceback.extract_tb(error.__traceback__)
    for frame in reversed(frames):
        try:
            Path(frame.filename).resolve().relative_to(PACKAGE_ROOT)
        except ValueError:
            continue
        return frame
    return frames[-1] if frames else None


def _display_path(filename: str) -> str:
    try:
        return str(Path(filename).resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return Path(filename).name


def signature_of(error: BaseException, route: str = "") -> ErrorSignature:
    """Compute the signature of an exception raised while serving ``route``."""
    exception = type(error).__qualname__
    frame = _own_frame(error)
    if frame is None:
        module, function, source, location = "", "", "", "<unknown>"
    else:
        module = _display_path(frame.filename)
        function = frame.name
        source = (frame.line or linecache.getline(frame.filename, frame.lineno or 0)).strip()
        location = f"{module}:{function}:{frame.lineno}"
    material = "\n".join([exception, module, function, source, route])
    digest = hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return ErrorSignature(digest, exception, location, route)
