"""Error signatures: one per bug, stable across unrelated edits, distinct between bugs."""

import linecache
import re
import textwrap

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.signatures import PACKAGE_ROOT, signature_of

SIGNATURE = re.compile(r"^[0-9a-f]{12}$")

HOURS_MODULE = """
def parse_hours(value):
    hours = float(value)
    return 8 / hours


def check_range(low, high):
    if low < 0:
        raise ValueError(f"low must not be negative, got {low}")
    if high < 0:
        raise ValueError(f"low must not be negative, got {low}")
    if low > high:
        raise ValueError(f"{low} is above {high}")
    return high - low


def decode(text):
    import json

    return json.loads(text)
"""


def load_module(source: str, *, name: str = "signature_probe.py", shift: int = 0) -> dict:
    """Compile ``source`` as if it were a file inside the app package.

    The source is registered with linecache, which is where tracebacks read
    line text from, so nothing is written under app/. ``shift`` prepends
    comment lines to move every line down, as an unrelated edit would.
    """
    text = "# an unrelated edit\n" * shift + textwrap.dedent(source)
    filename = str(PACKAGE_ROOT / name)
    linecache.cache[filename] = (len(text), None, text.splitlines(keepends=True), filename)
    namespace: dict = {"__name__": "app.signature_probe"}
    exec(compile(text, filename, "exec"), namespace)
    return namespace


def raised_by(function, *args) -> BaseException:
    with pytest.raises(Exception) as caught:
        function(*args)
    return caught.value


@pytest.fixture(scope="module")
def probe():
    return load_module(HOURS_MODULE)


def test_same_fault_many_inputs(probe):
    signatures = {
        signature_of(raised_by(probe["parse_hours"], value), "POST /x").signature
        for value in ["0", "0.0", "-0", "0e5", 0, 0.0, "  0  "]
    }
    assert len(signatures) == 1


def test_different_lines_differ(probe):
    zero = signature_of(raised_by(probe["parse_hours"], "0"), "POST /x")
    text = signature_of(raised_by(probe["parse_hours"], "eight"), "POST /x")
    assert zero.signature != text.signature
    assert zero.exception == "ZeroDivisionError"
    assert text.exception == "ValueError"
    assert zero.location == "app/signature_probe.py:parse_hours:4"
    assert text.location == "app/signature_probe.py:parse_hours:3"


def test_identical_lines_differ(probe):
    low = signature_of(raised_by(probe["check_range"], -1, 5), "GET /r")
    high = signature_of(raised_by(probe["check_range"], 1, -5), "GET /r")
    order = signature_of(raised_by(probe["check_range"], 9, 5), "GET /r")
    assert low.exception == high.exception == order.exception == "ValueError"
    assert len({low.signature, high.signature, order.signature}) == 3


@pytest.mark.parametrize(
    ("function", "args"),
    [("parse_hours", ("0",)), ("check_range", (-1, 5)), ("check_range", (1, -5))],
)
def test_shifted_lines_keep_signature(function, args):
    # Loading under one file name twice: only the line numbers differ.
    before = load_module(HOURS_MODULE, name="signature_moved.py")
    before_sig = signature_of(raised_by(before[function], *args), "GET /r")
    after = load_module(HOURS_MODULE, name="signature_moved.py", shift=12)
    after_sig = signature_of(raised_by(after[function], *args), "GET /r")

    before_line = int(before_sig.location.rsplit(":", 1)[1])
    after_line = int(after_sig.location.rsplit(":", 1)[1])
    assert after_line == before_line + 12
    assert after_sig.signature == before_sig.signature


def test_library_frame_not_used(probe):
    error = raised_by(probe["decode"], "{not json")
    sig = signature_of(error, "POST /x")
    assert sig.exception == "JSONDecodeError"
    assert sig.location.startswith("app/signature_probe.py:decode:")


def test_route_changes_signature(probe):
    error = raised_by(probe["parse_hours"], "0")
    assert signature_of(error, "GET /a").signature != signature_of(error, "GET /b").signature


def test_no_traceback_still_signed():
    sig = signature_of(RuntimeError("never raised"), "startup")
    assert SIGNATURE.match(sig.signature)
    assert sig.location == "<unknown>"


# One input per fault parse_hours can have; every other input must give the
# signature of the input with the same fault.
CANONICAL_INPUTS = {ValueError: "eight", ZeroDivisionError: "0", OverflowError: 10**400}


@settings(max_examples=200, deadline=None)
@given(value=st.one_of(st.text(max_size=40), st.integers(), st.floats()))
def test_signature_ignores_input(probe, value):
    try:
        probe["parse_hours"](value)
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        sig = signature_of(error, "POST /api/v1/worklogs")
        canonical = raised_by(probe["parse_hours"], CANONICAL_INPUTS[type(error)])
        assert sig.signature == signature_of(canonical, "POST /api/v1/worklogs").signature
        assert SIGNATURE.match(sig.signature)


@settings(max_examples=200, deadline=None)
@given(message=st.text(max_size=200), other=st.text(max_size=200))
def test_signature_ignores_message(message, other):
    def fail(text):
        raise RuntimeError(text)

    first = signature_of(raised_by(fail, message), "GET /x")
    second = signature_of(raised_by(fail, other), "GET /x")
    assert first.signature == second.signature
    assert SIGNATURE.match(first.signature)


@settings(max_examples=200, deadline=None)
@given(first=st.text(max_size=60), second=st.text(max_size=60))
def test_routes_give_distinct_signatures(probe, first, second):
    error = raised_by(probe["parse_hours"], "0")
    same = signature_of(error, first).signature == signature_of(error, second).signature
    assert same == (first == second)


def _raise(error_type: type[Exception], message: str) -> None:
    raise error_type(message)


@settings(max_examples=100, deadline=None)
@given(
    name=st.from_regex(r"[A-Z][A-Za-z]{0,20}Error", fullmatch=True),
    message=st.text(max_size=100),
)
def test_exception_type_changes_signature(name, message):
    error_type = type(name, (Exception,), {})
    plain = signature_of(raised_by(_raise, Exception, message), "GET /")
    custom = signature_of(raised_by(_raise, error_type, message), "GET /")
    assert custom.exception == name
    assert custom.signature != plain.signature
