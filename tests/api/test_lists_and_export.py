import csv
import datetime as dt
import io
from decimal import Decimal

from tests.api.conftest import TODAY, log_body


def walk(api, path: str, limit: int) -> list[dict]:
    items, cursor = [], None
    for _ in range(100):
        query = f"limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        separator = "&" if "?" in path else "?"
        page = api.get(f"{path}{separator}{query}").json()
        assert len(page["items"]) <= limit
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("pagination did not end")


def test_projects_paginate_without_repeats(office):
    manager = office["manager"]
    for index in range(23):
        # Equal-looking names sort by id, so ties cannot reorder between pages.
        manager.post("/api/v1/projects", json={"name": f"Block {index % 5} #{index}"})
    items = walk(manager, "/api/v1/projects", 4)
    ids = [item["id"] for item in items]
    assert len(ids) == 24
    assert len(set(ids)) == 24
    names = [item["name"] for item in items]
    assert names == sorted(names)


def test_worklogs_paginate_while_inserting(office):
    emma = office["emma"]
    for days in range(12):
        day = (TODAY - dt.timedelta(days=days)).isoformat()
        emma.post("/api/v1/worklogs", json=log_body(office, hours=1, work_date=day))
    first = emma.get("/api/v1/worklogs?limit=5").json()
    # A log added after the first page does not push an item onto the next page twice.
    emma.post("/api/v1/worklogs", json=log_body(office, hours=1))
    rest = walk(emma, f"/api/v1/worklogs?cursor={first['next_cursor']}", 5)
    ids = [item["id"] for item in first["items"] + rest]
    assert len(ids) == len(set(ids)) == 12


def test_worklog_filters(office):
    emma, manager = office["emma"], office["manager"]
    for days in range(5):
        day = (TODAY - dt.timedelta(days=days)).isoformat()
        emma.post("/api/v1/worklogs", json=log_body(office, hours=2, work_date=day))
    office["jonas"].post("/api/v1/worklogs", json=log_body(office, hours=3))
    since = (TODAY - dt.timedelta(days=1)).isoformat()
    emma_id = emma.get("/api/v1/me").json()["id"]
    items = manager.get(f"/api/v1/worklogs?user_id={emma_id}&from={since}").json()["items"]
    assert len(items) == 2
    project_items = manager.get(f"/api/v1/worklogs?project_id={office['project']['id']}").json()
    assert len(project_items["items"]) == 6


def test_limit_default_and_bounds(office):
    page = office["manager"].get("/api/v1/projects").json()
    assert page["limit"] == 50
    assert office["manager"].get("/api/v1/projects?limit=500").status_code == 200
    assert office["manager"].get("/api/v1/projects?limit=501").status_code == 422


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_export_totals_equal_rows(office):
    emma = office["emma"]
    for days, hours in enumerate(["0.25", "7:45", "1.5", "8", "2.75"]):
        day = (TODAY - dt.timedelta(days=days)).isoformat()
        emma.post("/api/v1/worklogs", json=log_body(office, hours=hours, work_date=day))
    response = office["manager"].get("/api/v1/worklogs/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = read_csv(response.text)
    header, body, total = rows[0], rows[1:-1], rows[-1]
    assert header == ["date", "user", "project", "phase", "hours", "description"]
    assert len(body) == 5
    assert total[0] == "total"
    assert Decimal(total[4]) == sum(Decimal(row[4]) for row in body) == Decimal("20.25")
    assert [row[0] for row in body] == sorted(row[0] for row in body)


def test_export_neutralises_formulas(office):
    office["emma"].post("/api/v1/worklogs", json=log_body(office, description='=HYPERLINK("x")'))
    rows = read_csv(office["manager"].get("/api/v1/worklogs/export.csv").text)
    assert rows[1][5].startswith("'=")


def test_export_filters_like_list(office):
    emma = office["emma"]
    for days in range(3):
        day = (TODAY - dt.timedelta(days=days)).isoformat()
        emma.post("/api/v1/worklogs", json=log_body(office, hours=1, work_date=day))
    rows = read_csv(office["manager"].get(f"/api/v1/worklogs/export.csv?from={TODAY}").text)
    assert len(rows) == 3


def test_progress_and_portfolio(office):
    emma, manager = office["emma"], office["manager"]
    emma.post("/api/v1/worklogs", json=log_body(office, hours=5))
    office["jonas"].post("/api/v1/worklogs", json=log_body(office, hours=3))
    progress = manager.get(f"/api/v1/projects/{office['project']['id']}/progress").json()
    assert progress["logged_hours"] == 8.0
    assert progress["planned_hours"] == 100.0
    assert progress["percent"] == 8.0
    assert progress["phases"][0]["logged_hours"] == 8.0
    assert progress["phases"][0]["percent"] == 80.0
    assert {p["username"]: p["hours"] for p in progress["people"]} == {"emma": 5.0, "jonas": 3.0}
    assert progress["last_activity"] == TODAY.isoformat()

    portfolio = manager.get("/api/v1/portfolio").json()["items"]
    villa = next(item for item in portfolio if item["name"] == "Villa Design")
    assert villa["logged_hours"] == 8.0
    assert villa["people"] == 2


def test_project_without_phases_says_so(office):
    manager = office["manager"]
    bare = manager.post("/api/v1/projects", json={"name": "Villa Extension"}).json()
    assert bare["phases"] == []
    assert manager.get(f"/api/v1/projects/{bare['id']}").json()["phases"] == []
    progress = manager.get(f"/api/v1/projects/{bare['id']}/progress").json()
    assert progress["phases"] == []
    assert progress["percent"] is None


def test_missing_project_is_404_problem(office):
    response = office["manager"].get("/api/v1/projects/424242")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_phase_with_logs_cannot_be_deleted(office):
    office["emma"].post("/api/v1/worklogs", json=log_body(office))
    path = f"/api/v1/projects/{office['project']['id']}/phases/{office['phase']['id']}"
    response = office["manager"].delete(path)
    assert response.status_code == 409
    assert "work logs" in response.json()["detail"]
