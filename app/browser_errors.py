"""Signatures for errors that browsers report.

Browser error messages carry values that change between occurrences of one
fault: URLs, ids, counters and quoted values. They are replaced before the
message is hashed, so one fault gives one signature.
"""

import hashlib
import re

_VOLATILE = [
    (re.compile(r"https?://\S+"), "<url>"),
    (
        re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I),
        "<uuid>",
    ),
    (re.compile(r"\b0x[0-9a-f]+\b|\b[0-9a-f]{12,}\b", re.I), "<hex>"),
    (re.compile(r"\d+(?:\.\d+)*"), "<n>"),
    (re.compile(r"'[^']*'|\"[^\"]*\""), "<str>"),
    (re.compile(r"\s+"), " "),
]


def normalise_message(message: str) -> str:
    """Strip what changes between occurrences of one error: URLs, ids, numbers, quoted values."""
    text = message[:1000]
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text.strip().lower()


def client_signature(message: str) -> str:
    """Return the signature of a browser error: a short hash of its normalised message."""
    material = "client\n" + normalise_message(message)
    return hashlib.sha256(material.encode("utf-8", "surrogatepass")).hexdigest()[:12]
