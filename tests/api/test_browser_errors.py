from hypothesis import given
from hypothesis import strategies as st

from app.browser_errors import client_signature, normalise_message


def test_volatile_parts_removed():
    one = "Failed: https://track.local/api/v1/projects/12 (3f2a9c1e-1b2c-4d5e-8f90-0123456789ab)"
    two = "Failed: https://track.local/api/v1/projects/99 (00000000-1111-2222-3333-444444444444)"
    assert normalise_message(one) == normalise_message(two)
    assert client_signature(one) == client_signature(two)


def test_different_errors_differ():
    assert client_signature("TypeError: x is undefined") != client_signature(
        "RangeError: bad length"
    )


@given(st.text(max_size=200), st.integers(min_value=0, max_value=10**9))
def test_numbers_never_change_signature(text, number):
    base = f"{text} {number}"
    other = f"{text} {number + 1}"
    assert client_signature(base) == client_signature(other)


@given(st.text(max_size=3000))
def test_normaliser_is_total_and_bounded(text):
    result = normalise_message(text)
    assert isinstance(result, str)
    assert len(result) <= 1000 * 5
    assert normalise_message(result) == normalise_message(result)
