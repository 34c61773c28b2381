"""Failure signatures: which container terminations are the same fault.

Everything here is pure: the same termination always yields the same
signature, with no I/O and no clock. The signature is 12 lowercase hex
characters, the format the Track service itself writes into its crash
report, so a pattern keeps one identity whichever source produced it.

Sources, in order of preference:

1. The service's one-line JSON crash report in the termination message
   (``{"track_crash": 1, "signature": ..., "location": ...}``): its
   signature is used as is.
2. A log tail (``terminationMessagePolicy: FallbackToLogsOnError``):
   a stack trace is reduced to the exception type and its frames (file and
   function, never the line number); other text is reduced to its last
   error line. Numbers, ids, hex strings, timestamps and addresses are
   replaced by placeholders before hashing.
3. Nothing usable: the kind of termination (OOM kill, liveness-probe kill,
   exit code with reason, or unknown) and the container name.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

SIGNATURE_PATTERN = re.compile(r"^[0-9a-f]{12}$")

# Kinds of failure; each one is a separate group even when messages match.
KIND_CRASH_REPORT = "CrashReport"
KIND_LOG_TAIL = "LogTail"
KIND_OOM = "OOMKilled"
KIND_LIVENESS = "LivenessProbeFailed"
KIND_EXIT = "ExitCode"
KIND_UNKNOWN = "Unknown"

# The example message kept in a FailurePattern is cut to this many characters.
EXAMPLE_MAX_CHARS = 512


@dataclass(frozen=True)
class Termination:
    """What Kubernetes kept about one container termination."""

    container: str
    reason: str | None = None
    exit_code: int | None = None
    signal: int | None = None
    message: str | None = None
    liveness_kill: bool = False


@dataclass(frozen=True)
class Signature:
    """The identity of a fault and the details shown to people."""

    signature: str
    kind: str
    reason: str
    exit_code: int | None = None
    location: str | None = None
    route: str | None = None
    exception_type: str | None = None
    example: str | None = None


def compute_signature(termination: Termination) -> Signature:
    """Return the signature of one container termination."""
    message = termination.message or ""
    reason = termination.reason or "Unknown"

    if termination.reason == "OOMKilled":
        return _fallback(KIND_OOM, "OOMKilled", termination)
    if termination.liveness_kill:
        return _fallback(KIND_LIVENESS, KIND_LIVENESS, termination)

    report = parse_crash_report(message)
    if report is not None:
        return Signature(
            signature=report["signature"],
            kind=KIND_CRASH_REPORT,
            reason=reason,
            exit_code=termination.exit_code,
            location=report.get("location"),
            route=report.get("route"),
            exception_type=report.get("exception"),
            example=redact(report.get("message") or "") or None,
        )

    if message.strip():
        digest_input, exception_type, location = summarize_log_tail(message)
        if digest_input:
            return Signature(
                signature=_digest("log", digest_input),
                kind=KIND_LOG_TAIL,
                reason=reason,
                exit_code=termination.exit_code,
                location=location,
                exception_type=exception_type,
                example=redact(_last_lines(message, 6)),
            )

    return _fallback(KIND_EXIT if termination.reason else KIND_UNKNOWN, reason, termination)


def unknown_signature(container: str) -> Signature:
    """Return the signature for restarts whose details Kubernetes no longer keeps."""
    return Signature(
        signature=_digest("unknown", container),
        kind=KIND_UNKNOWN,
        reason="Unknown",
    )


def _fallback(kind: str, reason: str, termination: Termination) -> Signature:
    # Without a message the container is the only thing that tells faults apart.
    # The exit code is part of a plain exit's identity but not of an OOM or
    # liveness kill, whose exit codes vary with the runtime (137, 143, 0).
    exit_part = str(termination.exit_code) if kind in (KIND_EXIT, KIND_UNKNOWN) else ""
    message = (termination.message or "").strip()
    return Signature(
        signature=_digest(kind, termination.container, reason, exit_part),
        kind=kind,
        reason=reason,
        exit_code=termination.exit_code,
        example=redact(_last_lines(message, 6)) if message else None,
    )


def _digest(*parts: str) -> str:
    joined = "\x1f".join(parts)
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()[:12]


def parse_crash_report(message: str) -> dict[str, str] | None:
    """Return the fields of the service's JSON crash report, or None if there is none.

    The report is one JSON object with ``"track_crash": 1``. It may follow
    other lines, so every line is tried from the last one up. A report whose
    signature is not 12 hex characters gets one computed from the exception
    type and the location without its line number.
    """
    for line in reversed(message.strip().splitlines()):
        line = line.strip()
        if not (line.startswith("{") and line.endswith("}")):
            continue
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if not isinstance(data, dict) or data.get("track_crash") != 1:
            continue
        fields = {
            key: str(data[key])[:EXAMPLE_MAX_CHARS]
            for key in ("signature", "exception", "location", "route", "message")
            if data.get(key) is not None
        }
        signature = fields.get("signature", "").lower()
        if not SIGNATURE_PATTERN.match(signature):
            location = strip_line_number(fields.get("location", ""))
            signature = _digest("report", fields.get("exception", ""), location)
        fields["signature"] = signature
        return fields
    return None


def strip_line_number(location: str) -> str:
    """Drop the line number from a "path:function:line" location."""
    parts = location.split(":")
    if len(parts) >= 3 and parts[-1].strip().isdigit():
        parts = parts[:-1]
    return ":".join(parts)


# Placeholders replace the parts of a message that differ between occurrences
# of one fault. Order matters: timestamps before numbers, UUIDs before hex.
_NORMALIZERS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\x1b\[[0-9;]*[A-Za-z]"), ""),
    (
        re.compile(
            r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?"
            r"(?:Z|[+-]\d{2}:?\d{2}|\s?UTC)?"
        ),
        "<time>",
    ),
    (
        re.compile(
            r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)\s+\d{1,2}\s+"
            r"\d{2}:\d{2}:\d{2}\b"
        ),
        "<time>",
    ),
    (re.compile(r"\b\d{2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<time>"),
    (re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"), "<email>"),
    (
        re.compile(
            r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
            r"[0-9a-fA-F]{12}\b"
        ),
        "<id>",
    ),
    (re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b"), "<addr>"),
    (re.compile(r"\[?\b(?:[0-9a-fA-F]{1,4}:){2,7}[0-9a-fA-F]{0,4}\b\]?(?::\d+)?"), "<addr>"),
    (re.compile(r"\b0x[0-9a-fA-F]+\b"), "<hex>"),
    (re.compile(r"\b(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{6,}\b"), "<hex>"),
    # Tokens that mix letters and digits (request ids, session keys, pod suffixes).
    (re.compile(r"\b(?=[A-Za-z_-]*\d)(?=\w*[A-Za-z])[A-Za-z0-9_-]{8,}\b"), "<id>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
    (re.compile(r"[ \t]+"), " "),
]

# Secrets that must never reach the example message kept in the cluster.
_SECRETS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 <redacted>"),
    (
        re.compile(
            r"(?i)\b(password|passwd|pwd|secret|token|api[_-]?key|authorization)"
            r"(\"?\s*[:=]\s*\"?)[^\s\"',;&]+"
        ),
        r"\1\2<redacted>",
    ),
    (re.compile(r"(?i)(\w+://[^:/\s@]+:)[^@\s]+@"), r"\1<redacted>@"),
]

_PY_TRACEBACK = "Traceback (most recent call last):"
_PY_FRAME = re.compile(r'^\s*File "(?P<file>[^"]+)", line \d+, in (?P<function>\S+)')
_PY_EXCEPTION = re.compile(
    r"^(?P<type>[A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|"
    r"Warning|Failure|Fault))(?::\s*(?P<message>.*))?$"
)
_JAVA_FRAME = re.compile(r"^\s*at (?P<function>[\w$.<>]+)\((?P<file>[^:)]*)(?::\d+)?\)")
_JAVA_EXCEPTION = re.compile(
    r"^(?:Exception in thread \"[^\"]*\" )?(?P<type>(?:[a-z]\w*\.)+"
    r"[A-Z]\w*(?:Exception|Error))(?::\s*(?P<message>.*))?$"
)
_NODE_FRAME = re.compile(r"^\s*at (?:(?P<function>[^\s(]+) )?\(?(?P<file>[^():]+):\d+:\d+\)?$")
_GO_PANIC = re.compile(r"^panic: (?P<message>.*)$")
_GO_FUNCTION = re.compile(r"^(?P<function>[\w./*()-]+)\(.*\)$")
_ERROR_WORDS = re.compile(
    r"(?i)\b(error|exception|fatal|panic|fail(ed|ure)?|killed|abort(ed)?|segmentation|"
    r"critical|unhandled|traceback)\b"
)


def normalize(text: str) -> str:
    """Replace the variable parts of a message (numbers, ids, hex, times, addresses)."""
    for pattern, replacement in _NORMALIZERS:
        text = pattern.sub(replacement, text)
    return text.strip()


def redact(text: str) -> str:
    """Mask credentials in a message and cut it to the example length."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    text = text.strip()
    if len(text) > EXAMPLE_MAX_CHARS:
        text = text[: EXAMPLE_MAX_CHARS - 3] + "..."
    return text


def summarize_log_tail(message: str) -> tuple[str, str | None, str | None]:
    """Reduce a log tail to the text that identifies its fault.

    Returns the text to hash, the exception type if one was found and a
    display location ("file:function", innermost frame). A stack trace is
    reduced to its exception type and frames, so two requests failing at the
    same place group together even when their messages differ.
    """
    lines = [line.rstrip() for line in message.splitlines() if line.strip()]
    if not lines:
        return "", None, None

    for summarize in (_summarize_python, _summarize_java, _summarize_go, _summarize_node):
        found = summarize(lines)
        if found is not None:
            return found

    error_lines = [line for line in lines if _ERROR_WORDS.search(line)]
    chosen = error_lines[-1] if error_lines else lines[-1]
    return "text\x1f" + normalize(_strip_log_prefix(chosen)), None, None


def _strip_log_prefix(line: str) -> str:
    # "2024-05-01T10:00:00Z ERROR [worker-3] message" and similar prefixes vary
    # per line and per process; the level word is kept as part of the text.
    return re.sub(r"^\s*(?:<time>\s*)?(?:\[[^\]]*\]\s*)*", "", normalize(line))


def _frames_digest(kind: str, exception_type: str, frames: list[tuple[str, str]]) -> str:
    # Frames outside the innermost eight rarely change the fault and often
    # differ by entry point (thread, worker), so only the innermost are hashed.
    innermost = frames[-8:]
    frame_text = "\x1e".join(f"{normalize(file)}:{function}" for file, function in innermost)
    return f"{kind}\x1f{exception_type}\x1f{frame_text}"


def _summarize_python(lines: list[str]) -> tuple[str, str | None, str | None] | None:
    starts = [i for i, line in enumerate(lines) if line.strip() == _PY_TRACEBACK]
    if not starts:
        return None
    block = lines[starts[-1] + 1 :]
    frames = [
        (match["file"], match["function"]) for line in block if (match := _PY_FRAME.match(line))
    ]
    exception_type = None
    for line in reversed(block):
        match = _PY_EXCEPTION.match(line.strip())
        if match:
            exception_type = match["type"]
            break
    if exception_type is None or not frames:
        return None
    location = f"{frames[-1][0]}:{frames[-1][1]}"
    return _frames_digest("python", exception_type, frames), exception_type, location


def _summarize_java(lines: list[str]) -> tuple[str, str | None, str | None] | None:
    frames = [
        (match["file"], match["function"]) for line in lines if (match := _JAVA_FRAME.match(line))
    ]
    exceptions = [match for line in lines if (match := _JAVA_EXCEPTION.match(line.strip()))]
    if not frames or not exceptions:
        return None
    exception_type = exceptions[0]["type"]
    # Java prints the innermost frame first; the digest wants outermost first.
    frames.reverse()
    location = f"{frames[-1][0]}:{frames[-1][1]}"
    return _frames_digest("java", exception_type, frames), exception_type, location


def _summarize_go(lines: list[str]) -> tuple[str, str | None, str | None] | None:
    panics = [match for line in lines if (match := _GO_PANIC.match(line.strip()))]
    if not panics:
        return None
    functions = [
        match["function"]
        for line in lines
        if not line.startswith(("\t", " ")) and (match := _GO_FUNCTION.match(line.strip()))
    ]
    functions = [f for f in functions if not f.startswith(("runtime.", "panic("))]
    # Go prints the innermost call first.
    frames = [("", function) for function in reversed(functions)]
    message = normalize(panics[0]["message"])
    location = functions[0] if functions else None
    return _frames_digest("go", message, frames), "panic", location


def _summarize_node(lines: list[str]) -> tuple[str, str | None, str | None] | None:
    frames = [
        (match["file"], match["function"] or "<anonymous>")
        for line in lines
        if (match := _NODE_FRAME.match(line))
    ]
    if not frames:
        return None
    exception_type = None
    for line in lines:
        match = re.match(r"^\s*(?:Uncaught )?(?P<type>[A-Z]\w*Error)\b", line)
        if match:
            exception_type = match["type"]
            break
    if exception_type is None:
        return None
    frames.reverse()
    location = f"{frames[-1][0]}:{frames[-1][1]}"
    return _frames_digest("node", exception_type, frames), exception_type, location


def _last_lines(text: str, count: int) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(lines[-count:])
