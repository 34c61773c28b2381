"""Bad and hostile input gets a 4xx problem, never a 500 or a crash."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import log_body
from tests.fixtures import Track, base_env, migrate_database

RAW_BODIES = [
    b"",
    b"   ",
    b"{",
    b"[]",
    b"null",
    b'"text"',
    b"42",
    b'{"project_id": NaN}',
    b'{"project_id": Infinity}',
    b"{" * 5000 + b"}" * 5000,
    b'{"hours": 1' + b"0" * 5000 + b"}",
    b'{"hours": 1e999999}',
    b"\xff\xfe\x00garbage",
    b'{"description": "\\ud800"}',
    b'{"description": "nul \\u0000 byte"}',
]


def assert_problem(response, *statuses):
    assert response.status_code in statuses, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == response.status_code
    assert body["detail"]


@pytest.mark.parametrize("raw", RAW_BODIES, ids=range(len(RAW_BODIES)))
@pytest.mark.parametrize("path", ["/api/v1/worklogs", "/api/v1/projects", "/api/v1/session"])
def test_raw_bodies_rejected(shared_office, path, raw):
    api = shared_office["manager"]
    response = api.post(path, content=raw, headers={"Content-Type": "application/json"})
    assert_problem(response, 400, 401, 422)


def test_wrong_content_type_rejected(shared_office):
    response = shared_office["emma"].post(
        "/api/v1/worklogs",
        content=b"hours=8",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_problem(response, 415)


def test_oversized_body_rejected(shared_office):
    body = json.dumps(log_body(shared_office, description="x" * 200_000)).encode()
    response = shared_office["emma"].post(
        "/api/v1/worklogs", content=body, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 413)


@pytest.mark.parametrize(
    "changes",
    [
        {"project_id": "1"},
        {"project_id": 1.5},
        {"project_id": 10**30},
        {"project_id": -1},
        {"project_id": None},
        {"phase_id": {"id": 1}},
        {"phase_id": 2**63},
        {"description": 12},
        {"description": ["a"]},
        {"description": "zero\u200bwidth \u202eright-to-left"},
        {"description": "line\u2028separator"},
        {"work_date": "2026-12-04T00:00:00"},
        {"unknown": "field"},
    ],
    ids=repr,
)
def test_wrong_types_rejected(shared_office, changes):
    response = shared_office["emma"].post(
        "/api/v1/worklogs", json=log_body(shared_office, **changes)
    )
    if "zero" in repr(changes):
        # Zero-width and direction characters are printable text; they are stored as given.
        assert response.status_code == 201
        return
    assert_problem(response, 422)


def test_missing_fields_named(shared_office):
    response = shared_office["emma"].post("/api/v1/worklogs", json={})
    assert_problem(response, 422)
    fields = {error["field"] for error in response.json()["errors"]}
    assert {"project_id", "hours", "work_date"} <= fields


@pytest.mark.parametrize(
    "query",
    [
        "limit=0",
        "limit=501",
        "limit=-5",
        "limit=abc",
        "limit=%C2%B2",
        "cursor=%%%",
        "cursor=W10",
        "cursor=eyJ4IjoxfQ",
        "from=yesterday",
        "from=2026-12-10&to=2026-12-01",
        "project_id=abc",
        "project_id=99999999999999999999",
        "user_id=-1",
    ],
)
def test_bad_list_parameters(shared_office, query):
    response = shared_office["manager"].get(f"/api/v1/worklogs?{query}")
    assert_problem(response, 400, 422)


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/projects/99999999999999999999999",
        "/api/v1/projects/0",
        "/api/v1/projects/abc",
        "/api/v1/projects/1%00",
        "/api/v1/worklogs/-1",
        "/api/v1/../../etc/passwd",
        "/static/../app/config.py",
    ],
)
def test_odd_paths_answer_4xx(shared_office, path):
    response = shared_office["manager"].get(path)
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize(
    "name",
    ["", "   ", "x" * 201, "tab\there", "new\nline", "nul\x00", "bell\x07"],
)
def test_project_names_checked(shared_office, name):
    response = shared_office["manager"].post("/api/v1/projects", json={"name": name})
    assert_problem(response, 422)


def test_unicode_names_round_trip(office):
    manager = office["manager"]
    name = "Ärztehaus Zürich – 東京 🏗️"
    created = manager.post("/api/v1/projects", json={"name": name})
    assert created.status_code == 201
    assert manager.get(f"/api/v1/projects/{created.json()['id']}").json()["name"] == name


def test_duplicate_project_name_is_409(office):
    response = office["manager"].post("/api/v1/projects", json={"name": "Villa Design"})
    assert_problem(response, 409)
    assert response.json()["errors"][0]["field"] == "name"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.fixed_dictionaries(
        {},
        optional={
            "project_id": json_values,
            "phase_id": json_values,
            "hours": json_values,
            "work_date": json_values,
            "description": json_values,
        },
    )
)
def test_random_worklog_bodies_never_500(sqlite_office, body):
    response = sqlite_office["emma"].post("/api/v1/worklogs", json=body)
    assert response.status_code < 500, response.text


@pytest.fixture(scope="module")
def shared_office(tmp_path_factory):
    """One SQLite app for the tests that only parse input; they change nothing it holds."""
    url = f"sqlite:///{tmp_path_factory.mktemp('shared') / 'track.db'}"
    migrate_database(url)
    track = Track(url, base_env(url))
    manager = track.user("mara", "manager")
    emma = track.user("emma", "engineer")
    project = manager.post("/api/v1/projects", json={"name": "Villa Design"}).json()
    phase = manager.post(f"/api/v1/projects/{project['id']}/phases", json={"name": "Design"}).json()
    manager.post(f"/api/v1/projects/{project['id']}/members", json={"username": "emma"})
    yield {"manager": manager, "emma": emma, "project": project, "phase": phase}
    track.close()


@pytest.fixture
def sqlite_office(sqlite_track):
    manager = sqlite_track.user("mara", "manager")
    emma = sqlite_track.user("emma", "engineer")
    project = manager.post("/api/v1/projects", json={"name": "Fuzz"}).json()
    manager.post(f"/api/v1/projects/{project['id']}/members", json={"username": "emma"})
    return {"manager": manager, "emma": emma}
