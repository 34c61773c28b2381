"""Every route checks who is asking: 401 anonymous, 403 wrong role, 404 for what is hidden."""

import pytest

from tests.api.conftest import log_body

ROUTES = [
    ("GET", "/api/v1/me"),
    ("GET", "/api/v1/projects"),
    ("POST", "/api/v1/projects"),
    ("GET", "/api/v1/projects/1"),
    ("PATCH", "/api/v1/projects/1"),
    ("DELETE", "/api/v1/projects/1"),
    ("POST", "/api/v1/projects/1/phases"),
    ("PATCH", "/api/v1/projects/1/phases/1"),
    ("DELETE", "/api/v1/projects/1/phases/1"),
    ("GET", "/api/v1/projects/1/members"),
    ("POST", "/api/v1/projects/1/members"),
    ("DELETE", "/api/v1/projects/1/members/1"),
    ("GET", "/api/v1/projects/1/progress"),
    ("GET", "/api/v1/portfolio"),
    ("GET", "/api/v1/worklogs"),
    ("POST", "/api/v1/worklogs"),
    ("GET", "/api/v1/worklogs/export.csv"),
    ("GET", "/api/v1/worklogs/1"),
    ("PATCH", "/api/v1/worklogs/1"),
    ("DELETE", "/api/v1/worklogs/1"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("PATCH", "/api/v1/users/1"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
    ("DELETE", "/api/v1/tokens/1"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_gets_401(office, method, path):
    client = office["track"].client
    client.cookies.clear()
    response = client.request(method, path, json={} if method in {"POST", "PATCH"} else None)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_invalid_token_gets_401(office):
    client = office["track"].client
    response = client.get("/api/v1/projects", headers={"Authorization": "Bearer trk_forged"})
    assert response.status_code == 401


ENGINEER_FORBIDDEN = [
    ("POST", "/api/v1/projects", {"name": "Nope"}),
    ("PATCH", "/api/v1/projects/{project}", {"name": "Renamed"}),
    ("DELETE", "/api/v1/projects/{project}", None),
    ("POST", "/api/v1/projects/{project}/phases", {"name": "Extra"}),
    ("PATCH", "/api/v1/projects/{project}/phases/{phase}", {"name": "Renamed"}),
    ("DELETE", "/api/v1/projects/{project}/phases/{phase}", None),
    ("POST", "/api/v1/projects/{project}/members", {"username": "jonas"}),
    ("DELETE", "/api/v1/projects/{project}/members/2", None),
    ("GET", "/api/v1/portfolio", None),
    ("GET", "/api/v1/users", None),
    ("POST", "/api/v1/users", {"username": "x", "role": "admin", "password": "0123456789"}),
    ("POST", "/api/v1/tokens", {"name": "mine"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ENGINEER_FORBIDDEN)
def test_engineer_gets_403(office, method, path, body):
    path = path.format(project=office["project"]["id"], phase=office["phase"]["id"])
    response = office["emma"].client.request(
        method, path, json=body, headers={"Authorization": f"Bearer {office['emma'].token}"}
    )
    assert response.status_code == 403
    assert "role" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/v1/users", {"username": "eve", "role": "admin", "password": "0123456789"}),
        ("POST", "/api/v1/tokens", {"name": "mine"}),
        ("DELETE", "/api/v1/projects/{project}", None),
        ("PATCH", "/api/v1/users/1", {"role": "admin"}),
    ],
)
def test_manager_gets_403_on_admin_routes(office, method, path, body):
    path = path.format(project=office["project"]["id"])
    manager = office["manager"]
    response = manager.client.request(
        method, path, json=body, headers={"Authorization": f"Bearer {manager.token}"}
    )
    assert response.status_code == 403


def test_non_member_sees_no_project(office):
    manager = office["manager"]
    hidden = manager.post("/api/v1/projects", json={"name": "Hidden Hall"}).json()
    outsider = office["track"].user("olga", "engineer")
    listed = outsider.get("/api/v1/projects").json()["items"]
    assert listed == []
    for path in (
        f"/api/v1/projects/{hidden['id']}",
        f"/api/v1/projects/{hidden['id']}/progress",
        f"/api/v1/projects/{hidden['id']}/members",
    ):
        response = outsider.get(path)
        assert response.status_code == 404
        assert "Hidden Hall" not in response.text
    missing = outsider.get("/api/v1/projects/999999")
    assert missing.status_code == 404
    assert (
        missing.json()["detail"].replace("999999", str(hidden["id"])) == response.json()["detail"]
    )


def test_engineer_never_reads_others_logs(office):
    emma, jonas = office["emma"], office["jonas"]
    emma.post("/api/v1/worklogs", json=log_body(office, description="Emma's private note"))
    jonas_id = jonas.get("/api/v1/me").json()["id"]
    emma_id = emma.get("/api/v1/me").json()["id"]

    own = jonas.get("/api/v1/worklogs").json()["items"]
    assert own == []
    assert jonas.get(f"/api/v1/worklogs?user_id={emma_id}").status_code == 403
    assert jonas.get(f"/api/v1/worklogs?project_id={office['project']['id']}").json()["items"] == []
    export = jonas.get("/api/v1/worklogs/export.csv")
    assert "Emma's private note" not in export.text
    assert jonas.get(f"/api/v1/worklogs/export.csv?user_id={emma_id}").status_code == 403
    progress = jonas.get(f"/api/v1/projects/{office['project']['id']}/progress").json()
    assert [person["user_id"] for person in progress["people"]] in ([], [jonas_id])


def test_manager_sees_all_logs(office):
    office["emma"].post("/api/v1/worklogs", json=log_body(office))
    office["jonas"].post("/api/v1/worklogs", json=log_body(office))
    items = office["manager"].get("/api/v1/worklogs").json()["items"]
    assert {item["user"]["username"] for item in items} == {"emma", "jonas"}


def test_removed_member_loses_access(office):
    manager = office["manager"]
    project_id = office["project"]["id"]
    emma_id = office["emma"].get("/api/v1/me").json()["id"]
    assert manager.delete(f"/api/v1/projects/{project_id}/members/{emma_id}").status_code == 204
    assert office["emma"].get(f"/api/v1/projects/{project_id}").status_code == 404
