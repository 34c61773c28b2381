"""Request bodies of the API and how they are read.

Bodies are JSON objects; numbers are read as decimals so no amount passes
through a float. Unknown fields, wrong types, out-of-range numbers, control
characters and unpaired surrogates are rejected with a 422 that names the
field.
"""

import datetime as dt
import json
import re
import unicodedata
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from starlette.requests import Request

from app.hours import HoursError, parse_hours
from app.models import PROJECT_STATUSES, ROLES
from app.problems import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

MAX_BODY_BYTES = 64 * 1024
MAX_ID = 2**31 - 1
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u2028\u2029\ufeff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _clean_text(value: str, *, multiline: bool) -> str:
    if _SURROGATE.search(value):
        raise ValueError("contains an unpaired surrogate, which is not valid text")
    value = unicodedata.normalize("NFC", value)
    if _CONTROL.search(value) or (not multiline and any(c in value for c in "\t\n\r")):
        raise ValueError("contains control characters")
    return value.strip()


def _line(value: str) -> str:
    return _clean_text(value, multiline=False)


def _multiline(value: str) -> str:
    return _clean_text(value, multiline=True).replace("\r\n", "\n")


def _optional_line(value: str | None) -> str | None:
    return _line(value) or None if value is not None else None


def _non_empty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


def _hours(value: Any) -> Decimal:
    try:
        return parse_hours(value)
    except HoursError as error:
        raise ValueError(str(error)) from None


def _optional_hours(value: Any) -> Decimal | None:
    """Read a grid cell: empty means the cell is cleared."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return _hours(value)


def _planned_hours(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal | str):
        raise ValueError("must be a number of hours")
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise ValueError("must be a number of hours") from None
    if not amount.is_finite() or amount < 0 or amount > Decimal("10000000"):
        raise ValueError("must be between 0 and 10000000")
    return amount.quantize(Decimal("0.01"))


def _iso_date(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("must be a date written as YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("is not a valid calendar date") from None


def _timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a known IANA time zone such as Europe/Berlin") from None
    return value


def _at_most(length: int):
    """Check a length after normalisation, which can make text longer than it arrived."""

    def check(value: str | None) -> str | None:
        if value is not None and len(value) > length:
            raise ValueError(f"must be at most {length} characters")
        return value

    return AfterValidator(check)


def _replace_control(value: str) -> str:
    """Keep browser-reported text storable: control characters and surrogates become U+FFFD."""
    return _SURROGATE.sub("\ufffd", _CONTROL.sub("\ufffd", value.replace("\x00", "\ufffd")))


Name = Annotated[
    str, Field(max_length=800), AfterValidator(_line), AfterValidator(_non_empty), _at_most(200)
]
Username = Annotated[
    str,
    Field(min_length=1, max_length=64),
    AfterValidator(_line),
    Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]*$"),
]
Code = Annotated[str | None, Field(max_length=128), AfterValidator(_optional_line), _at_most(32)]
Client = Annotated[str | None, Field(max_length=800), AfterValidator(_optional_line), _at_most(200)]
Description = Annotated[str, Field(max_length=4096), AfterValidator(_multiline), _at_most(1024)]
LongText = Annotated[str, Field(max_length=20_000), AfterValidator(_multiline), _at_most(20_000)]
Comment = Annotated[str, Field(max_length=8000), AfterValidator(_multiline), _at_most(2000)]
ReportText = Annotated[str, Field(max_length=8000), AfterValidator(_replace_control)]
Id = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
Hours = Annotated[Decimal, BeforeValidator(_hours)]
PlannedHours = Annotated[Decimal | None, BeforeValidator(_planned_hours)]
WorkDate = Annotated[dt.date, BeforeValidator(_iso_date)]
TimeZone = Annotated[str, Field(max_length=64), AfterValidator(_timezone)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=20_000)


class Login(Body):
    username: Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_line)]
    password: Annotated[str, Field(min_length=1, max_length=1024)]


class ProjectCreate(Body):
    name: Name
    code: Code = None
    client: Client = None
    status: Literal[PROJECT_STATUSES] = "active"  # type: ignore[valid-type]
    description: LongText = ""
    planned_hours: PlannedHours = None


class ProjectUpdate(Body):
    name: Name | None = None
    code: Code = None
    client: Client = None
    status: Literal[PROJECT_STATUSES] | None = None  # type: ignore[valid-type]
    description: LongText | None = None
    planned_hours: PlannedHours = None


class PhaseCreate(Body):
    name: Name
    planned_hours: PlannedHours = None
    position: Annotated[int, Field(strict=True, ge=0, le=10_000)] | None = None


class PhaseUpdate(Body):
    name: Name | None = None
    planned_hours: PlannedHours = None
    position: Annotated[int, Field(strict=True, ge=0, le=10_000)] | None = None


class MemberAdd(Body):
    username: Username


class WorkLogCreate(Body):
    project_id: Id
    phase_id: Id | None = None
    hours: Hours
    work_date: WorkDate
    description: Description = ""


class WorkLogUpdate(Body):
    phase_id: Id | None = None
    hours: Hours | None = None
    work_date: WorkDate | None = None
    description: Description | None = None


class UserCreate(Body):
    username: Username
    display_name: Name | None = None
    role: Literal[ROLES]  # type: ignore[valid-type]
    password: Annotated[str, Field(min_length=10, max_length=1024)]
    timezone: TimeZone = "UTC"


class UserUpdate(Body):
    display_name: Name | None = None
    role: Literal[ROLES] | None = None  # type: ignore[valid-type]
    password: Annotated[str, Field(min_length=10, max_length=1024)] | None = None
    timezone: TimeZone | None = None
    active: Annotated[bool, Field(strict=True)] | None = None
    current_password: Annotated[str, Field(max_length=1024)] | None = None


class TokenCreate(Body):
    username: Username | None = None
    name: Annotated[Name, _at_most(100)] = "api"


class FaultDrill(Body):
    kind: Literal["raise", "crash", "block", "sleep"]
    seconds: Annotated[float, Field(gt=0, le=600)] = 10


def _field_path(location: tuple) -> str:
    return ".".join(str(part) for part in location) or "body"


def _message(error: dict) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "missing":
        return "is required"
    message = error["msg"]
    return message.removeprefix("Value error, ")


def validation_errors(error: ValidationError) -> list[dict]:
    return [
        {"field": _field_path(item["loc"]), "message": _message(item)}
        for item in error.errors(include_url=False, include_input=False)
    ]


def validate(model: type[Body], data: Any):
    if not isinstance(data, dict):
        raise ValidationFailed(
            [{"field": "body", "message": "must be a JSON object"}],
            detail="The request body must be a JSON object.",
        )
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ValidationFailed(validation_errors(error)) from None


async def read_json(request: Request) -> Any:
    """Read the body as JSON, rejecting other media types, oversized and malformed bodies."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json" and not media_type.endswith("+json"):
        raise UnsupportedMediaType("Send the body as JSON with Content-Type: application/json.")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES} bytes.")
    if not raw.strip():
        raise BadRequest("The request body is empty; send a JSON object.")
    try:
        return json.loads(raw, parse_float=Decimal, parse_constant=_reject_constant)
    except (ValueError, RecursionError) as error:
        raise BadRequest(f"The request body is not valid JSON: {error}") from None


def _reject_constant(name: str):
    raise ValueError(f"{name} is not a JSON number")


async def read_body(request: Request, model: type[Body]):
    return validate(model, await read_json(request))


class WeekDecision(Body):
    user_id: Id
    comment: Comment = ""


class LockUpdate(Body):
    lock_date: WorkDate | None
    grace_days: Annotated[int, Field(strict=True, ge=0, le=60)] = 0


class GridCell(Body):
    project_id: Id
    phase_id: Id | None = None
    work_date: WorkDate
    hours: Annotated[Decimal | None, BeforeValidator(_optional_hours)]


class ClientError(Body):
    message: Annotated[ReportText, Field(max_length=2000)]
    source: Annotated[ReportText, Field(max_length=500)] = ""
    stack: ReportText = ""
    at: Annotated[ReportText, Field(max_length=40)] = ""
    incident_id: Annotated[ReportText | None, Field(max_length=64)] = None
    status: Annotated[int, Field(strict=True, ge=0, le=999)] | None = None


class ProblemReportCreate(Body):
    incident_id: Annotated[str | None, Field(max_length=64, pattern=r"^[A-Za-z0-9-]*$")] = None
    page: Annotated[str, Field(max_length=500), AfterValidator(_line)] = ""
    comment: Annotated[str, Field(max_length=8000), AfterValidator(_multiline), _at_most(4000)] = ""
    client_errors: Annotated[list[ClientError], Field(max_length=20)] = []


class ClientErrorBatch(Body):
    errors: Annotated[list[ClientError], Field(min_length=1, max_length=20)]
