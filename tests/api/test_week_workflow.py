import datetime as dt

import pytest

from tests.api.conftest import log_body

TODAY = dt.date.today()
THIS_MONDAY = TODAY - dt.timedelta(days=TODAY.weekday())
LAST_MONDAY = THIS_MONDAY - dt.timedelta(days=7)
LAST_SUNDAY = THIS_MONDAY - dt.timedelta(days=1)


@pytest.fixture
def week(office):
    office["admin"] = office["track"].user("root", "admin")
    office["emma_id"] = office["emma"].get("/api/v1/me").json()["id"]
    return office


def cell(week, day, hours, **changes):
    body = {
        "project_id": week["project"]["id"],
        "phase_id": week["phase"]["id"],
        "work_date": day.isoformat(),
        "hours": hours,
    }
    body.update(changes)
    return week["emma"].client.put(
        "/api/v1/weeks/cells",
        json=body,
        headers={"Authorization": f"Bearer {week['emma'].token}"},
    )


def test_grid_cells_enter_edit_clear(week):
    monday = LAST_MONDAY
    assert cell(week, monday, "7:30").status_code == 201
    assert cell(week, monday + dt.timedelta(days=1), "8h").status_code == 201
    assert cell(week, monday, "6").status_code == 200
    grid = week["emma"].get(f"/api/v1/weeks/{monday}").json()
    assert grid["total"] == 14.0
    assert grid["day_totals"][monday.isoformat()] == 6.0
    row = grid["rows"][0]
    assert row["total"] == 14.0
    assert row["cells"][monday.isoformat()]["hours"] == 6.0

    assert cell(week, monday, "").status_code == 200
    grid = week["emma"].get(f"/api/v1/weeks/{monday}").json()
    assert grid["total"] == 8.0
    assert monday.isoformat() not in grid["rows"][0]["cells"]


def test_grid_day_rule_across_rows(week):
    manager = week["manager"]
    project_id = week["project"]["id"]
    other = manager.post(f"/api/v1/projects/{project_id}/phases", json={"name": "Detailing"}).json()
    assert cell(week, LAST_MONDAY, 20).status_code == 201
    response = cell(week, LAST_MONDAY, 5, phase_id=other["id"])
    assert response.status_code == 422
    assert "24" in response.json()["errors"][0]["message"]
    assert cell(week, LAST_MONDAY, 4, phase_id=other["id"]).status_code == 201


def test_grid_rejects_bad_cells(week):
    assert cell(week, LAST_MONDAY, "7:10").status_code == 422
    assert cell(week, LAST_MONDAY, "abc").status_code == 422
    assert week["emma"].get("/api/v1/weeks/2026-12-02").status_code == 422
    assert week["emma"].get("/api/v1/weeks/not-a-date").status_code == 422


@pytest.mark.parametrize(
    "monday", [dt.date(2026, 3, 23), dt.date(2026, 10, 19)], ids=["march-dst", "october-dst"]
)
def test_dst_weeks_total_right(track, monday):
    manager = track.user("mara", "manager")
    berlin = track.user("berta", "engineer", timezone="Europe/Berlin")
    project = manager.post("/api/v1/projects", json={"name": "Berlin Office"}).json()
    manager.post(f"/api/v1/projects/{project['id']}/members", json={"username": "berta"})
    for offset in range(7):
        day = monday + dt.timedelta(days=offset)
        response = berlin.client.put(
            "/api/v1/weeks/cells",
            json={"project_id": project["id"], "work_date": day.isoformat(), "hours": 8},
            headers={"Authorization": f"Bearer {berlin.token}"},
        )
        assert response.status_code == 201
    grid = berlin.get(f"/api/v1/weeks/{monday}").json()
    assert len(grid["days"]) == 7
    assert grid["total"] == 56.0
    assert set(grid["day_totals"].values()) == {8.0}


def test_submit_return_resubmit_approve(week):
    emma, manager = week["emma"], week["manager"]
    emma.post("/api/v1/worklogs", json=log_body(week, work_date=LAST_MONDAY.isoformat()))
    submitted = emma.post(f"/api/v1/weeks/{LAST_MONDAY}/submit")
    assert submitted.status_code == 201
    assert submitted.json()["status"] == "submitted"
    assert emma.post(f"/api/v1/weeks/{LAST_MONDAY}/submit").status_code == 409

    waiting = manager.get("/api/v1/approvals").json()["items"]
    assert [(item["user"]["username"], item["hours"]) for item in waiting] == [("emma", 8.0)]

    no_comment = manager.post(
        f"/api/v1/weeks/{LAST_MONDAY}/return", json={"user_id": week["emma_id"]}
    )
    assert no_comment.status_code == 422
    returned = manager.post(
        f"/api/v1/weeks/{LAST_MONDAY}/return",
        json={"user_id": week["emma_id"], "comment": "Split Monday by phase"},
    )
    assert returned.json()["status"] == "returned"
    assert (
        emma.get(f"/api/v1/weeks/{LAST_MONDAY}").json()["submission"]["comment"]
        == "Split Monday by phase"
    )

    assert emma.post(f"/api/v1/weeks/{LAST_MONDAY}/submit").status_code == 200
    approved = manager.post(
        f"/api/v1/weeks/{LAST_MONDAY}/approve", json={"user_id": week["emma_id"]}
    )
    assert approved.json()["status"] == "approved"
    assert manager.get("/api/v1/approvals").json()["items"] == []
    assert (
        emma.post(
            f"/api/v1/weeks/{LAST_MONDAY}/approve", json={"user_id": week["emma_id"]}
        ).status_code
        == 403
    )


def test_approved_week_frozen_except_for_admin(week):
    emma, manager, admin = week["emma"], week["manager"], week["admin"]
    log = emma.post(
        "/api/v1/worklogs", json=log_body(week, work_date=LAST_MONDAY.isoformat())
    ).json()
    emma.post(f"/api/v1/weeks/{LAST_MONDAY}/submit")

    pending = emma.patch(f"/api/v1/worklogs/{log['id']}", json={"hours": 7})
    assert pending.status_code == 409
    assert pending.json()["rule"] == "week-submitted"

    manager.post(f"/api/v1/weeks/{LAST_MONDAY}/approve", json={"user_id": week["emma_id"]})
    for api in (emma, manager):
        refused = api.patch(f"/api/v1/worklogs/{log['id']}", json={"hours": 7})
        assert refused.status_code == 409
        assert refused.json()["rule"] == "week-approved"
        assert LAST_MONDAY.isoformat() in refused.json()["detail"]
    new = emma.post(
        "/api/v1/worklogs", json=log_body(week, hours=1, work_date=LAST_MONDAY.isoformat())
    )
    assert new.status_code == 409
    assert emma.delete(f"/api/v1/worklogs/{log['id']}").status_code == 409
    assert admin.patch(f"/api/v1/worklogs/{log['id']}", json={"hours": 7}).status_code == 200


def test_lock_date_with_grace_boundaries(week):
    emma, manager, admin = week["emma"], week["manager"], week["admin"]
    log = emma.post(
        "/api/v1/worklogs", json=log_body(week, work_date=LAST_SUNDAY.isoformat())
    ).json()
    days_since_week_end = (TODAY - LAST_SUNDAY).days

    # On the last day of the grace period the week is still editable.
    lock = admin.client.put(
        "/api/v1/lock",
        json={"lock_date": LAST_SUNDAY.isoformat(), "grace_days": days_since_week_end},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    assert lock.status_code == 200
    assert emma.patch(f"/api/v1/worklogs/{log['id']}", json={"hours": 7}).status_code == 200

    # One day less of grace and the week is locked for everyone but admins.
    admin.client.put(
        "/api/v1/lock",
        json={"lock_date": LAST_SUNDAY.isoformat(), "grace_days": days_since_week_end - 1},
        headers={"Authorization": f"Bearer {admin.token}"},
    )
    for api in (emma, manager):
        refused = api.patch(f"/api/v1/worklogs/{log['id']}", json={"hours": 6})
        assert refused.status_code == 409
        body = refused.json()
        assert body["rule"] == "period-locked"
        assert LAST_SUNDAY.isoformat() in body["detail"]
        assert "grace period" in body["detail"]
    assert (
        emma.post(
            "/api/v1/worklogs", json=log_body(week, hours=1, work_date=LAST_SUNDAY.isoformat())
        ).status_code
        == 409
    )
    assert emma.delete(f"/api/v1/worklogs/{log['id']}").status_code == 409
    assert admin.patch(f"/api/v1/worklogs/{log['id']}", json={"hours": 6}).status_code == 200
    # Days after the lock date stay open.
    assert emma.post("/api/v1/worklogs", json=log_body(week, hours=1)).status_code == 201


def test_only_admins_set_lock(week):
    response = week["manager"].client.put(
        "/api/v1/lock",
        json={"lock_date": "2026-01-01", "grace_days": 0},
        headers={"Authorization": f"Bearer {week['manager'].token}"},
    )
    assert response.status_code == 403


def test_missing_submissions_listed(week):
    track = week["track"]
    emma_monday = LAST_MONDAY.isoformat()
    week["emma"].post(f"/api/v1/weeks/{emma_monday}/submit")
    missing = week["manager"].get(f"/api/v1/approvals/missing?week_start={emma_monday}").json()
    assert [user["username"] for user in missing["items"]] == ["jonas"]
    assert track


def test_audit_records_each_kind(week):
    emma, manager, admin = week["emma"], week["manager"], week["admin"]
    project_id = week["project"]["id"]
    log = emma.post("/api/v1/worklogs", json=log_body(week, hours=2)).json()
    emma.patch(f"/api/v1/worklogs/{log['id']}", json={"hours": 3})
    manager.patch(f"/api/v1/projects/{project_id}", json={"client": "Acme"})
    manager.patch(
        f"/api/v1/projects/{project_id}/phases/{week['phase']['id']}", json={"name": "Statics"}
    )
    admin.post(
        "/api/v1/users", json={"username": "lea", "role": "engineer", "password": "long-enough-1"}
    )
    manager.post(f"/api/v1/projects/{project_id}/members", json={"username": "lea"})
    token = admin.post("/api/v1/tokens", json={"name": "ci"}).json()
    admin.delete(f"/api/v1/tokens/{token['id']}")
    emma.post(f"/api/v1/weeks/{LAST_MONDAY}/submit")
    manager.post(f"/api/v1/weeks/{LAST_MONDAY}/approve", json={"user_id": week["emma_id"]})
    emma.delete(f"/api/v1/worklogs/{log['id']}")

    events = admin.get("/api/v1/audit?limit=500").json()["items"]
    kinds = {(event["entity"], event["action"]) for event in events}
    for kind in [
        ("work_log", "create"),
        ("work_log", "update"),
        ("work_log", "delete"),
        ("project", "create"),
        ("project", "update"),
        ("phase", "create"),
        ("phase", "update"),
        ("membership", "create"),
        ("user", "create"),
        ("token", "create"),
        ("token", "update"),
        ("approval", "submit"),
        ("approval", "approve"),
    ]:
        assert kind in kinds
    update = next(e for e in events if e["entity"] == "work_log" and e["action"] == "update")
    assert update["before"] == {"hours": "2.00", "updated_at": update["before"]["updated_at"]}
    assert update["after"]["hours"] == "3.00"
    assert update["actor"] == "emma"
    assert update["request_id"]
    assert all("password_hash" not in (e["after"] or {}) for e in events)
    assert all("token_hash" not in (e["after"] or {}) for e in events)

    history = manager.get(f"/api/v1/worklogs/{log['id']}/history").json()["items"]
    assert [e["action"] for e in history] == ["create", "update", "delete"]


def test_audit_does_not_leak(week):
    emma, jonas = week["emma"], week["jonas"]
    log = emma.post("/api/v1/worklogs", json=log_body(week, description="Emma's note")).json()
    assert jonas.get(f"/api/v1/worklogs/{log['id']}/history").status_code == 404
    assert jonas.get("/api/v1/audit").status_code == 403
    assert week["manager"].get("/api/v1/audit").status_code == 403
    own = emma.get(f"/api/v1/worklogs/{log['id']}/history")
    assert own.status_code == 200
    assert jonas.get("/api/v1/audit/export.csv").status_code == 403


def test_audit_export_csv(week):
    week["emma"].post("/api/v1/worklogs", json=log_body(week))
    export = week["admin"].get("/api/v1/audit/export.csv")
    assert export.status_code == 200
    lines = export.text.strip().splitlines()
    assert lines[0].startswith("id,at,actor,action")
    assert any("work_log" in line for line in lines[1:])


def test_problem_reports_grouped_and_limited(week):
    emma, admin = week["emma"], week["admin"]
    error = {"message": "TypeError: cannot read properties of undefined (reading 'id') at 42"}
    for index in range(3):
        other = {"message": error["message"].replace("42", str(100 + index))}
        response = emma.post(
            "/api/v1/problem-reports",
            json={
                "incident_id": f"abc{index}",
                "page": "/week",
                "comment": "Save failed",
                "client_errors": [other],
            },
        )
        assert response.status_code == 201
    emma.post("/api/v1/problem-reports", json={"client_errors": [{"message": "Different failure"}]})
    groups = admin.get("/api/v1/problem-reports").json()["items"]
    counts = sorted(group["count"] for group in groups)
    assert counts == [1, 3]
    biggest = next(group for group in groups if group["count"] == 3)
    assert {report["incident_id"] for report in biggest["reports"]} == {"abc0", "abc1", "abc2"}
    # The default limit is 5 reports in 10 minutes: a fifth passes, a sixth does not.
    assert emma.post("/api/v1/problem-reports", json={"comment": "again"}).status_code == 201
    flood = emma.post("/api/v1/problem-reports", json={"comment": "and again"})
    assert flood.status_code == 429
    assert int(flood.headers["retry-after"]) >= 1
    assert emma.get("/api/v1/problem-reports").status_code == 403


def test_client_errors_counted_by_signature(week):
    emma = week["emma"]
    first = emma.post("/api/v1/client-errors", json={"errors": [{"message": "Failed at row 12"}]})
    second = emma.post("/api/v1/client-errors", json={"errors": [{"message": "Failed at row 99"}]})
    assert first.status_code == second.status_code == 202
    assert first.json()["signatures"] == second.json()["signatures"]
    metrics = week["track"].client.get("/metrics").text
    assert f'track_client_errors_total{{signature="{first.json()["signatures"][0]}"}}' in metrics
