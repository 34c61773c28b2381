"""An engineer logs hours in a real browser, and the portfolio of a manager counts them."""

import re

import pytest

from tests.browser.conftest import ApiClient, format_hours, main_link, sign_in
from tests.fixtures import ServerProcess, base_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def server(demo_url):
    process = ServerProcess(base_env(demo_url)).start()
    yield process
    process.stop()


@pytest.fixture
def manager_api(demo_url, server):
    client = ApiClient(demo_url, server.url, "mara")
    yield client
    client.close()


def test_engineer_logs_hours_and_manager_sees_them(browser, server, manager_api):
    from playwright.sync_api import expect

    villa = manager_api.project_named("Villa Design")
    logged_before = manager_api.get(f"/projects/{villa['id']}")["logged_hours"]

    # The engineer finds the project through the search and opens it.
    emma = sign_in(browser, server.url, "emma")
    main_link(emma, "Projects").click()
    emma.get_by_label("Search projects").fill("Villa")
    emma.get_by_role("link", name="Villa Design").click()
    expect(emma.get_by_role("heading", name="Villa Design", level=1)).to_be_visible()

    form = emma.get_by_role("form", name="Add work log")
    expect(form.get_by_label("Project")).to_have_value(str(villa["id"]))
    form.get_by_label("Phase").select_option(label="Structural Design")
    expect(form.locator(".budget")).to_contain_text("Remaining in Structural Design")

    # Invalid hours: the API's message appears beside the field, nothing is saved.
    form.get_by_label("Hours").fill("25")
    form.get_by_role("button", name="Add work log").click()
    hours_error = form.locator(".field-error").filter(has_text="24")
    expect(hours_error).to_be_visible()
    expect(form.get_by_label("Hours")).to_have_attribute("aria-invalid", "true")

    form.get_by_label("Hours").fill("8")
    form.get_by_label("Description").fill("Checked the slab reinforcement of the ground floor")
    form.get_by_role("button", name="Add work log").click()
    expect(form.get_by_role("status").filter(has_text="Saved: 8 h")).to_be_visible()
    structural_row = emma.locator("tr", has=emma.get_by_role("rowheader", name="Structural Design"))
    expect(structural_row).to_be_visible()

    # My week lists the log on today's card, in the daily and weekly totals.
    main_link(emma, "My week").click()
    today = emma.locator("section.day.today")
    entry = today.locator("tr", has_text="Checked the slab reinforcement of the ground floor")
    expect(entry).to_contain_text("Villa Design")
    expect(entry).to_contain_text("Structural Design")
    expect(entry).to_contain_text("8 h")
    expect(today.locator(".day-total")).to_have_text(re.compile(r"^\d+(\.\d+)? h$"))
    expect(emma.locator(".week-total")).to_contain_text("Week total:")

    villa_logged = manager_api.get(f"/projects/{villa['id']}")["logged_hours"]
    assert villa_logged == logged_before + 8

    # The manager's portfolio counts the new hours.
    mara = sign_in(browser, server.url, "mara")
    main_link(mara, "Portfolio").click()
    row = mara.locator(f"tr[data-project='{villa['id']}']")
    expect(row.locator("[data-logged]")).to_have_text(f"{format_hours(villa_logged)} h")
    expect(row.get_by_role("progressbar")).to_be_visible()

    # A project without phases shows "No phases yet" and an Add phase form to the manager.
    main_link(mara, "Projects").click()
    mara.get_by_label("Search projects").fill("Villa Extension")
    mara.get_by_role("link", name="Villa Extension").click()
    expect(mara.get_by_text("No phases yet.")).to_be_visible()
    add_phase = mara.get_by_role("form", name="Add phase")
    expect(add_phase.get_by_role("button", name="Add phase")).to_be_visible()

    # The manager adds a small phase; logging more than it plans shows a warning only.
    add_phase.get_by_label("Phase name").fill("Site Survey")
    add_phase.get_by_label("Planned hours").fill("4")
    add_phase.get_by_role("button", name="Add phase").click()
    expect(mara.get_by_role("rowheader", name="Site Survey")).to_be_visible()
    expect(mara.get_by_text("No phases yet.")).to_be_hidden()

    log_form = mara.get_by_role("form", name="Add work log")
    log_form.get_by_label("Phase").select_option(label="Site Survey")
    log_form.get_by_label("Hours").fill("7:30")
    warning = log_form.locator(".message-warning")
    expect(warning).to_contain_text("would overbook Site Survey by 3.5 h")
    log_form.get_by_role("button", name="Add work log").click()
    expect(log_form.get_by_role("status").filter(has_text="Saved: 7.5 h")).to_be_visible()
    survey_row = mara.locator("tr", has=mara.get_by_role("rowheader", name="Site Survey"))
    expect(survey_row).to_contain_text("7.5 h")
