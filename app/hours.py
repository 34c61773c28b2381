"""Parsing and checking of hour amounts.

Hours are exact decimals in quarter-hour steps. People type them in several
ways, all accepted: ``8``, ``7.5``, ``7,5``, ``7:30``, ``8h``, ``7h30`` and
``7h 30m``. JSON numbers are read as decimals too, never as floats.
"""

import re
from decimal import Decimal, InvalidOperation

QUARTER = Decimal("0.25")
MAX_DAY = Decimal("24")

_CLOCK = re.compile(r"^(\d{1,2}):([0-5]\d)$")
_UNITS = re.compile(r"^(?:(\d{1,2}(?:[.,]\d+)?)\s*h)?\s*(?:(\d{1,3})\s*m(?:in)?)?$")
_DECIMAL = re.compile(r"^\d{1,2}(?:[.,]\d{1,6})?$|^[.,]\d{1,6}$")


class HoursError(ValueError):
    """The text is not an hour amount Track accepts; the message gives the reason."""


def _decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", "."))


def parse_hours(value: object) -> Decimal:
    """Return the hours as a Decimal, or raise HoursError with a message for the user."""
    if isinstance(value, bool) or value is None:
        raise HoursError("must be a number of hours such as 8, 7.5, 7:30 or 8h")
    if isinstance(value, int | Decimal):
        hours = Decimal(value)
    elif isinstance(value, float):
        hours = Decimal(str(value))
    elif isinstance(value, str):
        hours = _parse_text(value.strip().lower())
    else:
        raise HoursError("must be a number of hours such as 8, 7.5, 7:30 or 8h")
    return check_hours(hours)


def _parse_text(text: str) -> Decimal:
    if not text or len(text) > 20:
        raise HoursError("must be a number of hours such as 8, 7.5, 7:30 or 8h")
    if match := _CLOCK.match(text):
        return Decimal(match[1]) + Decimal(match[2]) / 60
    if _DECIMAL.match(text):
        return _decimal(text)
    match = _UNITS.match(text)
    if match and (match[1] or match[2]):
        hours = _decimal(match[1]) if match[1] else Decimal(0)
        if match[2]:
            hours += Decimal(match[2]) / 60
        return hours
    raise HoursError(f"{text!r} is not a number of hours; write it as 8, 7.5, 7:30 or 8h")


def check_hours(hours: Decimal) -> Decimal:
    try:
        if not hours.is_finite():
            raise HoursError("must be a finite number")
        if hours <= 0:
            raise HoursError("must be more than 0")
        if hours > MAX_DAY:
            raise HoursError("must be at most 24")
        if hours % QUARTER != 0:
            raise HoursError("must be in steps of a quarter hour (0.25, 15 minutes)")
    except InvalidOperation:
        raise HoursError("must be a number of hours such as 8, 7.5, 7:30 or 8h") from None
    return hours.quantize(Decimal("0.01"))
