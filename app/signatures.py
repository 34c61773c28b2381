"""Stable signatures for unhandled errors.

A signature is a short hash of the exception type, the innermost frame in
Track's own code (module, function and the stripped text of the source line)
and the route template. The same bug reached with different inputs gives one
signature, and two bugs give two. An edit elsewhere that shifts line numbers
keeps the signature, because the line number is kept only beside it, in the
readable location.
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


@dataclass(frozen=True)
class _Frame:
    filename: str
    function: str
    lineno: int
    first_lineno: int


def _own_frame(error: BaseException) -> _Frame | None:
    """Return the innermost traceback frame in Track's code, else the innermost frame."""
    frames = [
        _Frame(frame.f_code.co_filename, frame.f_code.co_name, lineno, frame.f_code.co_firstlineno)
        for frame, lineno in traceback.walk_tb(error.__traceback__)
    ]
    for frame in reversed(frames):
        try:
            Path(frame.filename).resolve().relative_to(PACKAGE_ROOT)
        except ValueError:
            continue
        return frame
    return frames[-1] if frames else None


def _source_line(filename: str, lineno: int) -> str:
    return linecache.getline(filename, lineno).strip()


def _occurrence(frame: _Frame, source: str) -> int:
    """Count the earlier lines of the same function whose text equals ``source``.

    Two identical lines in one function, such as two copies of one ``raise``
    statement, are different faults. The count separates them, and unlike a
    line number it does not change when code outside the function moves.
    """
    start = min(frame.first_lineno, frame.lineno)
    return sum(
        1 for number in range(start, frame.lineno) if _source_line(frame.filename, number) == source
    )


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
        occurrence = 0
    else:
        module = _display_path(frame.filename)
        function = frame.function
        source = _source_line(frame.filename, frame.lineno)
        occurrence = _occurrence(frame, source) if source else 0
        location = f"{module}:{function}:{frame.lineno}"
    parts = [exception, module, function, source, route]
    if occurrence:
        parts.append(str(occurrence))
    material = "\n".join(parts)
    digest = hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return ErrorSignature(digest, exception, location, route)
