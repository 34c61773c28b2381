"""The work week in a real browser: the week grid, submitting and approving, problem reports."""

import datetime as dt
import re

import pytest

from tests.browser.conftest import ApiClient, main_link, sign_in, spa_navigate
from tests.fixtures import ServerProcess, base_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def env(demo_url):
    return base_env(demo_url, TRACK_FAULT_INJECTION="1")


@pytest.fixture
def servers(env):
    """The server processes of a test; a test that restarts the server appends the new one."""
    processes = [ServerProcess(env).start()]
    yield processes
    for process in processes:
        if process.process.poll() is None:
            process.stop()


@pytest.fixture
def server(servers):
    return servers[0]


@pytest.fixture
def emma_api(demo_url, server):
    client = ApiClient(demo_url, server.url, "emma")
    yield client
    client.close()


@pytest.fixture
def admin_api(demo_url, server):
    client = ApiClient(demo_url, server.url, "admin")
    yield client
    client.close()


def last_monday() -> dt.date:
    """The Monday of the week before this one, in every demo user's calendar.

    The demo users live in Europe, so their local date is at most one day away
    from the test machine's. Going a week back keeps the whole week in the past.
    """
    today = dt.date.today()
    return today - dt.timedelta(days=today.weekday() + 7)


def open_last_week(page) -> None:
    from playwright.sync_api import expect

    main_link(page, "Week grid").click()
    expect(page.get_by_role("heading", name="Week grid", level=1)).to_be_visible()
    page.get_by_role("link", name="← Previous week").click()
    monday = last_monday()
    expect(page.locator(f"th[data-date='{monday.isoformat()}']")).to_be_visible()


def add_row(page, project: str, phase: str | None) -> None:
    from playwright.sync_api import expect

    form = page.get_by_role("form", name="Add row")
    project_select = form.get_by_label("Project")
    option = project_select.locator("option", has_text=f"{project} (")
    expect(option).to_have_count(1)
    project_select.select_option(value=option.get_attribute("value"))
    phase_select = form.get_by_label("Phase")
    if phase is None:
        expect(phase_select).to_contain_text("No phases")
    else:
        expect(phase_select.locator("option", has_text=phase)).to_be_attached()
        phase_select.select_option(label=phase)
    form.get_by_role("button", name="Add row").click()


def cell(page, row: str, day: dt.date):
    label = f"{row}, {day.strftime('%A')} {day.day} {day.strftime('%B')}"
    return page.get_by_label(label, exact=True)


def day_total(page, day: dt.date):
    return page.locator(f"[data-day-total='{day.isoformat()}']")


def test_grid_enters_edits_and_clears_a_week(browser, server, emma_api):
    from playwright.sync_api import expect

    monday = last_monday()
    saturday = monday + dt.timedelta(days=5)
    sunday = monday + dt.timedelta(days=6)
    before = emma_api.get(f"/weeks/{monday.isoformat()}")
    assert before["day_totals"][saturday.isoformat()] == 0
    assert before["day_totals"][sunday.isoformat()] == 0
    week_before = float(before["total"])

    emma = sign_in(browser, server.url, "emma")
    open_last_week(emma)
    add_row(emma, "Villa Design", "Concept")
    add_row(emma, "Villa Extension", None)
    concept = "Villa Design / Concept"
    extension = "Villa Extension"

    # Typed hours are saved as the API reads them and counted in every total.
    cell(emma, concept, saturday).fill("7:30")
    cell(emma, concept, saturday).press("Tab")
    expect(cell(emma, concept, sunday)).to_be_focused()
    expect(cell(emma, concept, saturday)).to_have_value("7.5")
    cell(emma, concept, sunday).fill("8h")
    cell(emma, concept, sunday).press("Enter")
    expect(cell(emma, concept, sunday)).to_have_value("8")
    expect(day_total(emma, saturday)).to_have_text("7.5")
    expect(day_total(emma, sunday)).to_have_text("8")
    expect(emma.locator("[data-week-total]")).to_have_text(f"{week_before + 15.5:g}")

    # The 24 h daily rule counts the other rows, and its message is shown at the cell.
    cell(emma, extension, saturday).fill("16")
    cell(emma, extension, saturday).press("Enter")
    expect(day_total(emma, saturday)).to_have_text("23.5")
    expect(emma.locator(".cell-pending")).to_have_count(0)
    cell(emma, extension, saturday).fill("17")
    cell(emma, extension, saturday).press("Enter")
    over = cell(emma, extension, saturday)
    expect(over).to_have_attribute("aria-invalid", "true")
    error = emma.locator("td", has=over).locator(".cell-error")
    expect(error).to_contain_text("over the 24 h a day allows")
    expect(day_total(emma, saturday)).to_have_text("23.5")

    # Editing a cell replaces its hours; clearing it deletes the work log.
    cell(emma, concept, saturday).fill("6")
    cell(emma, concept, saturday).press("Enter")
    expect(day_total(emma, saturday)).to_have_text("22")
    cell(emma, concept, sunday).fill("")
    cell(emma, concept, sunday).press("Enter")
    expect(day_total(emma, sunday)).to_have_text("0")
    expect(emma.locator(".cell-pending")).to_have_count(0)
    expect(emma.locator("[data-week-total]")).to_have_text(f"{week_before + 22:g}")

    # Arrow keys move between cells like a spreadsheet.
    cell(emma, concept, saturday).focus()
    cell(emma, concept, saturday).press("ArrowRight")
    expect(cell(emma, concept, sunday)).to_be_focused()
    cell(emma, concept, sunday).press("ArrowLeft")
    expect(cell(emma, concept, saturday)).to_be_focused()

    # The server stores exactly what the grid shows, also after a reload.
    after = emma_api.get(f"/weeks/{monday.isoformat()}")
    assert after["day_totals"][saturday.isoformat()] == 22
    assert after["day_totals"][sunday.isoformat()] == 0
    assert float(after["total"]) == week_before + 22
    assert emma.evaluate("JSON.parse(localStorage.getItem('track.cell-outbox.v1'))") == []
    emma.reload()
    expect(cell(emma, concept, saturday)).to_have_value("6")
    expect(cell(emma, extension, saturday)).to_have_value("16")
    expect(day_total(emma, saturday)).to_have_text("22")

    # My week shows the history of a work log the grid changed.
    main_link(emma, "My week").click()
    emma.get_by_role("link", name="← Previous week").click()
    saturday_card = emma.locator(f"section.day[data-date='{saturday.isoformat()}']")
    concept_log = saturday_card.locator("tr[data-worklog]", has_text="Concept")
    concept_log.get_by_role("button", name="History").click()
    history = saturday_card.locator(".history-list")
    expect(history).to_contain_text("emma created it: 7.5 h")
    expect(history).to_contain_text("emma changed it: hours 7.5 h → 6 h")


def test_grid_keeps_hours_typed_offline(browser, env, servers, emma_api):
    from playwright.sync_api import expect

    server = servers[0]
    monday = last_monday()
    saturday = monday + dt.timedelta(days=5)
    sunday = monday + dt.timedelta(days=6)
    emma = sign_in(browser, server.url, "emma")
    open_last_week(emma)
    add_row(emma, "Villa Extension", None)
    expect(cell(emma, "Villa Extension", saturday)).to_be_editable()
    server.kill()

    # Hours typed during the outage wait in localStorage, the newest value per cell.
    cell(emma, "Villa Extension", saturday).fill("5")
    cell(emma, "Villa Extension", saturday).press("Enter")
    cell(emma, "Villa Extension", sunday).fill("3")
    cell(emma, "Villa Extension", sunday).press("Enter")
    expect(emma.locator("[data-banner=lost]")).to_be_visible(timeout=10_000)
    cell(emma, "Villa Extension", sunday).fill("2.5")
    cell(emma, "Villa Extension", sunday).press("Enter")
    expect(emma.locator("td.cell-pending")).to_have_count(2)
    expect(emma.get_by_text("2 changes are waiting to be sent")).to_be_visible()
    stored = emma.evaluate("JSON.parse(localStorage.getItem('track.cell-outbox.v1'))")
    assert [entry["body"]["hours"] for entry in stored] == ["5", "2.5"]
    assert all(entry["key"] for entry in stored)
    expect(day_total(emma, sunday)).to_have_text("2.5")

    # When the server is back, each cell is saved once with its last value.
    servers.append(ServerProcess(env, port=server.port).start())
    expect(emma.locator("[data-banner=restored]")).to_be_visible(timeout=10_000)
    expect(emma.locator("td.cell-pending")).to_have_count(0, timeout=10_000)
    week = emma_api.get(f"/weeks/{monday.isoformat()}")
    row = next(row for row in week["rows"] if row["project_name"] == "Villa Extension")
    assert row["cells"][saturday.isoformat()]["hours"] == 5
    assert len(row["cells"][saturday.isoformat()]["log_ids"]) == 1
    assert row["cells"][sunday.isoformat()]["hours"] == 2.5
    assert len(row["cells"][sunday.isoformat()]["log_ids"]) == 1
    assert emma.evaluate("JSON.parse(localStorage.getItem('track.cell-outbox.v1'))") == []


def test_week_submitted_then_approved(browser, server, emma_api):
    from playwright.sync_api import expect

    monday = last_monday()
    saturday = monday + dt.timedelta(days=5)

    emma = sign_in(browser, server.url, "emma")
    open_last_week(emma)
    add_row(emma, "Villa Extension", None)
    cell(emma, "Villa Extension", saturday).fill("4")
    cell(emma, "Villa Extension", saturday).press("Enter")
    expect(day_total(emma, saturday)).to_have_text("4")

    emma.get_by_role("button", name="Submit week").click()
    expect(emma.locator("[data-status=submitted]")).to_contain_text(
        "waiting for a manager's approval"
    )
    expect(emma.get_by_role("button", name="Submit week")).to_be_disabled()
    expect(cell(emma, "Villa Extension", saturday)).to_have_attribute("readonly", "")

    mara = sign_in(browser, server.url, "mara")
    main_link(mara, "Approvals").click()
    expect(mara.get_by_role("heading", name="Approvals", level=1)).to_be_visible()
    row = mara.locator(f"tr[data-week='{monday.isoformat()}']", has_text="Emma Schulz")
    expect(row).to_be_visible()
    row.get_by_role("button", name="Approve the week of Emma Schulz").click()
    expect(mara.get_by_role("status").filter(has_text="Approved the week")).to_be_visible()
    expect(row).to_have_count(0)

    week = emma_api.get(f"/weeks/{monday.isoformat()}")
    assert week["submission"]["status"] == "approved"
    emma.reload()
    expect(emma.locator("[data-status=approved]")).to_contain_text("Approved on")


def test_problem_report_carries_incident_id(browser, server, admin_api):
    from playwright.sync_api import expect

    admin = sign_in(browser, server.url, "admin")
    incident = admin.evaluate(
        """async () => {
            const { api } = await import('/static/js/request.js');
            try {
                await api.post('/admin/faults', { kind: 'raise' });
                return null;
            } catch (error) {
                return error.problem.incident_id;
            }
        }"""
    )
    assert re.fullmatch(r"[0-9a-f]{16}", incident)

    banner = admin.locator("[data-banner=server-error]")
    expect(banner).to_contain_text("Something went wrong on the server")
    expect(banner.locator("code")).to_have_text(incident)
    banner.get_by_role("button", name="Report a problem").click()
    dialog = admin.get_by_role("dialog", name="Report a problem")
    expect(dialog.locator(f"[data-incident='{incident}']")).to_be_visible()
    dialog.get_by_label("What were you doing? (optional)").fill("Ran the fault drill")
    with admin.expect_response(
        lambda response: "/api/v1/client-errors" in response.url, timeout=15_000
    ) as sent:
        dialog.get_by_role("button", name="Send report").click()
        expect(dialog.get_by_role("status")).to_contain_text("sent")
    assert sent.value.status == 202

    groups = admin_api.get("/problem-reports")["items"]
    reports = [report for group in groups for report in group["reports"]]
    matching = [report for report in reports if report["incident_id"] == incident]
    assert len(matching) == 1
    report = matching[0]
    assert report["comment"] == "Ran the fault drill"
    assert report["page"] == "/week"
    assert [error["incident_id"] for error in report["client_errors"]] == [incident]
    assert report["client_errors"][0]["status"] == 500

    # The admin page lists the report in its signature group.
    dialog.get_by_role("button", name="Close").click()
    main_link(admin, "Admin").click()
    expect(admin.locator("[data-report]", has_text=incident)).to_be_attached()


@pytest.mark.parametrize(
    "monday",
    # The weeks that hold the last Sunday of March and of October 2026, when
    # Europe/Berlin, emma's time zone, changes between CET and CEST.
    [dt.date(2026, 3, 23), dt.date(2026, 10, 19)],
    ids=["march-dst", "october-dst"],
)
def test_grid_totals_dst_weeks(browser, server, emma_api, monday):
    from playwright.sync_api import expect

    days = [monday + dt.timedelta(days=offset) for offset in range(7)]
    before = emma_api.get(f"/weeks/{monday.isoformat()}")
    week_before = float(before["total"])

    emma = sign_in(browser, server.url, "emma")
    spa_navigate(emma, f"/grid?start={monday.isoformat()}")
    week_range = emma.get_by_role("navigation", name="Weeks")
    expect(week_range).to_contain_text(f"Mon {monday.day} {monday:%b %Y}")
    add_row(emma, "Villa Extension", None)
    expect(emma.locator(f"th[data-date='{monday.isoformat()}']")).to_be_visible()
    for day in days:
        cell(emma, "Villa Extension", day).fill("2")
        cell(emma, "Villa Extension", day).press("Enter")
        expected = float(before["day_totals"][day.isoformat()]) + 2
        expect(day_total(emma, day)).to_have_text(f"{expected:g}")
    expect(emma.locator(".cell-pending")).to_have_count(0)
    expect(emma.locator("[data-week-total]")).to_have_text(f"{week_before + 14:g}")

    after = emma_api.get(f"/weeks/{monday.isoformat()}")
    assert float(after["total"]) == week_before + 14
    assert len(after["days"]) == 7
    for day in days:
        gained = float(after["day_totals"][day.isoformat()]) - float(
            before["day_totals"][day.isoformat()]
        )
        assert gained == 2
