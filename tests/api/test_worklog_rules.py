import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.api.conftest import TODAY, log_body


def field_messages(response) -> dict:
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    for key in ("type", "title", "status", "detail"):
        assert key in body
    return {error["field"]: error["message"] for error in body["errors"]}


@pytest.mark.parametrize(
    ("text", "hours"),
    [("8", 8.0), ("7.5", 7.5), ("7,5", 7.5), ("7:30", 7.5), ("8h", 8.0), ("0:15", 0.25), (6, 6.0)],
)
def test_hours_formats_accepted(office, text, hours):
    response = office["emma"].post("/api/v1/worklogs", json=log_body(office, hours=text))
    assert response.status_code == 201, response.text
    assert response.json()["hours"] == hours


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (0, "more than 0"),
        (-1, "more than 0"),
        (24.25, "at most 24"),
        (25, "at most 24"),
        (7.3, "quarter hour"),
        ("7:10", "quarter hour"),
        ("abc", "not a number of hours"),
        ("", "number of hours"),
        (True, "number of hours"),
        (None, "number of hours"),
        ([8], "number of hours"),
        ("1e400", "not a number of hours"),
    ],
)
def test_hours_rejected_with_message(office, value, fragment):
    response = office["emma"].post("/api/v1/worklogs", json=log_body(office, hours=value))
    assert response.status_code == 422
    assert fragment in field_messages(response)["hours"]


def test_day_total_names_other_entries(office):
    emma = office["emma"]
    first = emma.post("/api/v1/worklogs", json=log_body(office, hours=16)).json()
    response = emma.post("/api/v1/worklogs", json=log_body(office, hours="8.25"))
    assert response.status_code == 422
    message = field_messages(response)["hours"]
    assert "24" in message
    assert f"work log {first['id']}" in message
    assert "Villa Design" in message


def test_day_total_exactly_24_allowed(office):
    emma = office["emma"]
    assert emma.post("/api/v1/worklogs", json=log_body(office, hours=16)).status_code == 201
    assert emma.post("/api/v1/worklogs", json=log_body(office, hours=8)).status_code == 201


def test_day_total_is_per_user(office):
    assert (
        office["emma"].post("/api/v1/worklogs", json=log_body(office, hours=20)).status_code == 201
    )
    assert (
        office["jonas"].post("/api/v1/worklogs", json=log_body(office, hours=20)).status_code == 201
    )


def test_update_checks_day_total(office):
    emma = office["emma"]
    emma.post("/api/v1/worklogs", json=log_body(office, hours=12))
    second = emma.post("/api/v1/worklogs", json=log_body(office, hours=10)).json()
    response = emma.patch(f"/api/v1/worklogs/{second['id']}", json={"hours": 13})
    assert response.status_code == 422
    assert "hours" in field_messages(response)
    assert emma.patch(f"/api/v1/worklogs/{second['id']}", json={"hours": 12}).status_code == 200


def test_phase_of_other_project_rejected(office):
    manager = office["manager"]
    other = manager.post("/api/v1/projects", json={"name": "Other"}).json()
    foreign = manager.post(f"/api/v1/projects/{other['id']}/phases", json={"name": "Survey"}).json()
    response = office["emma"].post(
        "/api/v1/worklogs", json=log_body(office, phase_id=foreign["id"])
    )
    assert response.status_code == 422
    message = field_messages(response)["phase_id"]
    assert "does not belong" in message
    assert "Villa Design" in message


def test_phase_required_when_project_has_phases(office):
    response = office["emma"].post("/api/v1/worklogs", json=log_body(office, phase_id=None))
    assert response.status_code == 422
    assert "Structural Design" in field_messages(response)["phase_id"]


def test_project_without_phases_takes_logs(office):
    manager = office["manager"]
    bare = manager.post("/api/v1/projects", json={"name": "Villa Extension"}).json()
    manager.post(f"/api/v1/projects/{bare['id']}/members", json={"username": "emma"})
    body = log_body(office, project_id=bare["id"], phase_id=None)
    response = office["emma"].post("/api/v1/worklogs", json=body)
    assert response.status_code == 201
    assert response.json()["phase_id"] is None


def test_date_after_tomorrow_rejected(office):
    day_after = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    response = office["emma"].post("/api/v1/worklogs", json=log_body(office, work_date=day_after))
    assert response.status_code == 422
    assert "tomorrow" in field_messages(response)["work_date"]


def test_tomorrow_uses_users_time_zone(track):
    # Pacific/Kiritimati is UTC+14: its tomorrow can be two days after UTC's today.
    manager = track.user("mara", "manager")
    far_east = track.user("kiri", "engineer", timezone="Pacific/Kiritimati")
    far_west = track.user("pago", "engineer", timezone="Pacific/Pago_Pago")
    project = manager.post("/api/v1/projects", json={"name": "Atoll"}).json()
    for name in ("kiri", "pago"):
        manager.post(f"/api/v1/projects/{project['id']}/members", json={"username": name})

    def tomorrow(zone):
        return (dt.datetime.now(ZoneInfo(zone)).date() + dt.timedelta(days=1)).isoformat()

    body = {"project_id": project["id"], "hours": 1}
    east = far_east.post(
        "/api/v1/worklogs", json={**body, "work_date": tomorrow("Pacific/Kiritimati")}
    )
    assert east.status_code == 201
    west = far_west.post(
        "/api/v1/worklogs", json={**body, "work_date": tomorrow("Pacific/Kiritimati")}
    )
    if tomorrow("Pacific/Kiritimati") > tomorrow("Pacific/Pago_Pago"):
        assert west.status_code == 422
        assert "Pacific/Pago_Pago" in field_messages(west)["work_date"]


@pytest.mark.parametrize("value", ["2026-02-30", "04.12.2026", "2026-1-1", 20261204, "", None])
def test_invalid_dates_rejected(office, value):
    response = office["emma"].post("/api/v1/worklogs", json=log_body(office, work_date=value))
    assert response.status_code == 422
    assert "work_date" in field_messages(response)


def test_description_limit(office):
    emma = office["emma"]
    assert (
        emma.post("/api/v1/worklogs", json=log_body(office, description="x" * 1024)).status_code
        == 201
    )
    response = emma.post("/api/v1/worklogs", json=log_body(office, description="x" * 1025, hours=1))
    assert response.status_code == 422
    assert "1024" in field_messages(response)["description"]


def test_non_member_cannot_log(office):
    manager = office["manager"]
    secret = manager.post("/api/v1/projects", json={"name": "Secret Tower"}).json()
    response = office["emma"].post(
        "/api/v1/worklogs", json=log_body(office, project_id=secret["id"], phase_id=None)
    )
    assert response.status_code == 422
    message = field_messages(response)["project_id"]
    assert "member" in message
    assert "Secret Tower" not in message


def test_archived_project_takes_no_logs(office):
    manager = office["manager"]
    project_id = office["project"]["id"]
    assert (
        manager.patch(f"/api/v1/projects/{project_id}", json={"status": "archived"}).status_code
        == 200
    )
    response = office["emma"].post("/api/v1/worklogs", json=log_body(office))
    assert response.status_code == 422
    assert "archived" in field_messages(response)["project_id"]


def test_engineer_changes_only_own_logs(office):
    log = office["emma"].post("/api/v1/worklogs", json=log_body(office)).json()
    jonas = office["jonas"]
    assert jonas.patch(f"/api/v1/worklogs/{log['id']}", json={"hours": 2}).status_code == 403
    assert jonas.delete(f"/api/v1/worklogs/{log['id']}").status_code == 403
    assert jonas.get(f"/api/v1/worklogs/{log['id']}").status_code == 404
    assert (
        office["emma"].patch(f"/api/v1/worklogs/{log['id']}", json={"hours": 2}).status_code == 200
    )


def test_manager_edit_records_who_changed(office):
    log = office["emma"].post("/api/v1/worklogs", json=log_body(office)).json()
    changed = office["manager"].patch(f"/api/v1/worklogs/{log['id']}", json={"hours": 7}).json()
    assert changed["created_by"] == log["created_by"]
    assert changed["updated_by"] != log["created_by"]
    assert changed["hours"] == 7.0


def test_several_errors_reported_together(office):
    body = log_body(office, hours=30, work_date="2999-01-01", description="x" * 2000, extra=1)
    response = office["emma"].post("/api/v1/worklogs", json=body)
    assert response.status_code == 422
    fields = field_messages(response)
    assert {"hours", "description", "extra"} <= set(fields)


def test_overbooking_is_a_warning(office):
    emma = office["emma"]
    first = emma.post("/api/v1/worklogs", json=log_body(office, hours=8)).json()
    assert first["warnings"] == []
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    second = emma.post("/api/v1/worklogs", json=log_body(office, hours=4, work_date=yesterday))
    assert second.status_code == 201
    assert "over its plan" in second.json()["warnings"][0]
    phase = office["manager"].get(f"/api/v1/projects/{office['project']['id']}").json()["phases"][0]
    assert phase["remaining_hours"] == -2.0


def test_hours_stored_exactly(office):
    emma = office["emma"]
    for _ in range(10):
        emma.post("/api/v1/worklogs", json=log_body(office, hours="0.25"))
    progress = office["manager"].get(f"/api/v1/projects/{office['project']['id']}/progress").json()
    assert progress["logged_hours"] == 2.5
    assert progress["phases"][0]["logged_hours"] == 2.5
