import datetime as dt

import pytest

TODAY = dt.date.today()


@pytest.fixture
def office(track):
    """A manager, two engineers and a project with one phase that both engineers are on."""
    manager = track.user("mara", "manager")
    emma = track.user("emma", "engineer")
    jonas = track.user("jonas", "engineer")
    project = manager.post(
        "/api/v1/projects", json={"name": "Villa Design", "planned_hours": 100}
    ).json()
    phase = manager.post(
        f"/api/v1/projects/{project['id']}/phases",
        json={"name": "Structural Design", "planned_hours": 10},
    ).json()
    for name in ("emma", "jonas"):
        response = manager.post(
            f"/api/v1/projects/{project['id']}/members", json={"username": name}
        )
        assert response.status_code == 201
    return {
        "track": track,
        "manager": manager,
        "emma": emma,
        "jonas": jonas,
        "project": project,
        "phase": phase,
    }


def log_body(office, **changes) -> dict:
    body = {
        "project_id": office["project"]["id"],
        "phase_id": office["phase"]["id"],
        "hours": 8,
        "work_date": TODAY.isoformat(),
        "description": "Beam calculations",
    }
    body.update(changes)
    return body


@pytest.fixture(scope="module")
def shared_app_client(tmp_path_factory):
    from tests.fixtures import Track, base_env, migrate_database

    url = f"sqlite:///{tmp_path_factory.mktemp('openapi') / 'track.db'}"
    migrate_database(url)
    instance = Track(url, base_env(url))
    yield instance.client
    instance.close()
