"""Property and example tests of the pure signature function."""

import json
import string

from hypothesis import given
from hypothesis import strategies as st
from track_operator.signatures import (
    KIND_CRASH_REPORT,
    KIND_LIVENESS,
    KIND_LOG_TAIL,
    KIND_OOM,
    SIGNATURE_PATTERN,
    Termination,
    compute_signature,
    normalize,
    redact,
    strip_line_number,
)

TRACEBACK = """Traceback (most recent call last):
  File "/app/app/projects.py", line {line}, in get_project
    return rows[key]
KeyError: '{key}'"""

texts = st.text(alphabet=string.printable, max_size=300)


@given(texts)
def test_signature_is_deterministic_hex(message):
    termination = Termination(container="api", reason="Error", exit_code=1, message=message)
    first = compute_signature(termination)
    second = compute_signature(termination)
    assert first == second
    assert SIGNATURE_PATTERN.match(first.signature)


@given(st.integers(min_value=1, max_value=10**6), st.integers(min_value=1, max_value=10**6))
def test_line_numbers_never_change_signature(line_a, line_b):
    a = Termination(
        container="api", reason="Error", exit_code=1, message=TRACEBACK.format(line=line_a, key="x")
    )
    b = Termination(
        container="api", reason="Error", exit_code=1, message=TRACEBACK.format(line=line_b, key="y")
    )
    assert compute_signature(a).signature == compute_signature(b).signature


@given(
    st.integers(min_value=0, max_value=10**12),
    st.uuids(),
    st.binary(min_size=4, max_size=16),
    st.datetimes(),
    st.ip_addresses(v=4),
)
def test_variable_parts_are_removed(number, uid, raw, moment, address):
    template = "ERROR request {n} id {u} hash {h} at {t} from {a} failed"
    one = template.format(n=number, u=uid, h="0x" + raw.hex(), t=moment.isoformat(), a=address)
    other = template.format(
        n=7,
        u="00000000-0000-0000-0000-000000000000",
        h="0xff",
        t="2020-01-01T00:00:00",
        a="10.0.0.1",
    )
    assert normalize(one) == normalize(other)


def test_different_faults_differ():
    a = Termination(
        container="api", reason="Error", exit_code=1, message=TRACEBACK.format(line=1, key="a")
    )
    b = Termination(
        container="api",
        reason="Error",
        exit_code=1,
        message=TRACEBACK.format(line=1, key="a").replace("get_project", "list"),
    )
    assert compute_signature(a).signature != compute_signature(b).signature


def test_crash_report_signature_used():
    report = json.dumps(
        {
            "track_crash": 1,
            "signature": "3f9a1c2b7d4e",
            "exception": "RuntimeError",
            "location": "app/x.py:f:57",
            "route": "POST /x",
            "message": "boom",
        }
    )
    result = compute_signature(
        Termination(
            container="api", reason="Error", exit_code=1, message="some log line\n" + report
        )
    )
    assert result.kind == KIND_CRASH_REPORT
    assert result.signature == "3f9a1c2b7d4e"
    assert result.location == "app/x.py:f:57"
    assert result.route == "POST /x"
    assert result.exception_type == "RuntimeError"


def test_invalid_report_signature_ignores_line():
    def report(line):
        return json.dumps(
            {
                "track_crash": 1,
                "signature": "nope",
                "exception": "E",
                "location": f"app/x.py:f:{line}",
            }
        )

    a = compute_signature(Termination(container="api", message=report(1)))
    b = compute_signature(Termination(container="api", message=report(99)))
    assert a.signature == b.signature
    assert SIGNATURE_PATTERN.match(a.signature)


def test_oom_is_own_kind():
    a = compute_signature(
        Termination(container="api", reason="OOMKilled", exit_code=137, message="Traceback...")
    )
    b = compute_signature(Termination(container="api", reason="OOMKilled", exit_code=0))
    assert a.kind == KIND_OOM
    assert a.signature == b.signature


def test_liveness_kill_is_own_kind():
    kill = compute_signature(
        Termination(container="api", reason="Error", exit_code=137, liveness_kill=True)
    )
    plain = compute_signature(Termination(container="api", reason="Error", exit_code=137))
    assert kill.kind == KIND_LIVENESS
    assert kill.signature != plain.signature


def test_log_tail_kind_and_location():
    result = compute_signature(
        Termination(
            container="api", reason="Error", exit_code=1, message=TRACEBACK.format(line=3, key="k")
        )
    )
    assert result.kind == KIND_LOG_TAIL
    assert result.exception_type == "KeyError"
    assert result.location == "/app/app/projects.py:get_project"


def test_redact_masks_credentials():
    text = redact("connect postgresql://track:hunter2@db/x failed; token=abc123 Bearer xyz")
    assert "hunter2" not in text
    assert "abc123" not in text
    assert "xyz" not in text


@given(texts)
def test_redact_bounds_length(text):
    assert len(redact(text * 5)) <= 512


def test_strip_line_number():
    assert strip_line_number("app/x.py:f:57") == "app/x.py:f"
    assert strip_line_number("app/x.py:f") == "app/x.py:f"
