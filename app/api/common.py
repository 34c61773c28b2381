"""Helpers shared by the API handlers: the signed-in user, JSON output, pages."""

import base64
import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import tuple_
from starlette.requests import Request
from starlette.responses import Response

from app.models import User
from app.problems import BadRequest, Unauthorized, field_error

DEFAULT_LIMIT = 50
MAX_ID = 2**31 - 1
MAX_LIMIT = 500


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Amounts are quarter hours, which a binary float represents exactly.
        return float(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(data: Any) -> str:
    return json.dumps(data, default=_default, ensure_ascii=False, separators=(",", ":"))


def json_response(data: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(dumps(data), status_code=status, headers=headers, media_type="application/json")


def current_user(request: Request) -> User:
    user = request.scope.get("user")
    if user is None:
        raise Unauthorized(
            "Sign in first: send a session cookie or an Authorization: Bearer token.",
            headers={"WWW-Authenticate": 'Bearer realm="track"'},
        )
    return user


def path_id(request: Request, name: str) -> int:
    """Return a numeric path parameter; the route's int convertor has matched digits only."""
    value = request.path_params[name]
    if value < 1 or value > 2**31 - 1:
        raise field_error(name, "is out of range")
    return value


def page_limit(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_LIMIT:
        raise field_error("limit", f"must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def encode_cursor(values: list) -> str:
    raw = json.dumps(values, default=_default, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(request: Request, size: int) -> list | None:
    """Return the sort key stored in the ``cursor`` query parameter, or None for page one."""
    raw = request.query_params.get("cursor")
    if not raw:
        return None
    try:
        if len(raw) > 512:
            raise ValueError
        values = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if not isinstance(values, list) or len(values) != size:
            raise ValueError
        if not all(_cursor_value_ok(value) for value in values):
            raise ValueError
    except ValueError:
        raise BadRequest(INVALID_CURSOR) from None
    return values


def _cursor_value_ok(value) -> bool:
    """Accept only what Track puts in cursors: ids in range, and plain text (names, dates)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return 0 <= value <= MAX_ID
    if isinstance(value, str):
        surrogate = any("\ud800" <= char <= "\udfff" for char in value)
        return len(value) <= 300 and value.isprintable() and not surrogate
    return False


def query_text(request: Request, name: str, *, max_length: int = 100) -> str:
    """Return a free-text query parameter, rejecting control characters."""
    raw = request.query_params.get(name, "")
    if len(raw) > max_length or not raw.isprintable():
        raise field_error(name, f"must be printable text of at most {max_length} characters")
    return raw.strip()


def page(items: list[dict], limit: int, next_key: list | None) -> dict:
    return {
        "items": items,
        "limit": limit,
        "next_cursor": encode_cursor(next_key) if next_key is not None else None,
    }


INVALID_CURSOR = "The cursor is invalid; pass back the next_cursor of the previous page unchanged."


class Keyset:
    """One page of a list in a stable order, continued by a cursor with the last row's key.

    Unlike an offset, the key of the last row seen keeps rows inserted while a
    client pages from pushing an item onto two pages.
    """

    def __init__(self, request: Request, *columns, descending: bool = False):
        self.limit = page_limit(request)
        self.columns = columns
        self.descending = descending
        self.after = self._read_cursor(request)

    def _read_cursor(self, request: Request) -> list | None:
        values = decode_cursor(request, len(self.columns))
        if values is None:
            return None
        typed = []
        for column, value in zip(self.columns, values, strict=True):
            kind = column.type.python_type
            if kind is dt.date and isinstance(value, str) and len(value) == 10:
                try:
                    value = dt.date.fromisoformat(value)
                except ValueError:
                    raise BadRequest(INVALID_CURSOR) from None
            if not isinstance(value, kind):
                raise BadRequest(INVALID_CURSOR)
            typed.append(value)
        return typed

    def apply(self, query):
        """Order and limit ``query``, and start it after the cursor's row."""
        order = [column.desc() if self.descending else column for column in self.columns]
        query = query.order_by(*order).limit(self.limit + 1)
        if self.after is not None:
            key, marker = tuple_(*self.columns), tuple_(*self.after)
            query = query.where(key < marker if self.descending else key > marker)
        return query

    def page(self, rows: list, to_json, key_of) -> dict:
        """Build the response body from the rows ``apply`` fetched, one more than a page."""
        more = len(rows) > self.limit
        rows = rows[: self.limit]
        return page([to_json(row) for row in rows], self.limit, key_of(rows[-1]) if more else None)


def query_date(request: Request, name: str) -> dt.date | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        if len(raw) != 10:
            raise ValueError
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise field_error(name, "must be a date written as YYYY-MM-DD") from None


def query_id(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 2**31 - 1:
        raise field_error(name, "must be a positive whole number")
    return int(raw)
