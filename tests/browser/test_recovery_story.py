"""The recovery story in a real browser against real server processes.

An engineer logs hours while a manager floods the server, and only the
manager is rate limited. Then the server process is killed and a work log is
entered during the outage. When the server is back on the same port, the page
recovers by itself and the log is saved exactly once.
"""

import time
import uuid

import pytest

from tests.browser.conftest import ApiClient, main_link, sign_in, spa_navigate
from tests.fixtures import ServerProcess, base_env

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RATE_LIMITS = "20/10 seconds;1000/5 minutes"
FLOOD_PAGES = 20
FLOOD_SECONDS = 10


@pytest.fixture
def env(demo_url):
    return base_env(demo_url, TRACK_RATE_LIMITS=RATE_LIMITS)


@pytest.fixture
def servers(env):
    """The server processes of the test, the restarted one appended later."""
    processes = [ServerProcess(env).start()]
    yield processes
    for process in processes:
        if process.process.poll() is None:
            process.stop()


@pytest.fixture
def manager_api(demo_url, servers):
    client = ApiClient(demo_url, servers[0].url, "mara")
    yield client
    client.close()


def api_responses(page) -> list:
    """Record (method, url, status) of every API response the page receives."""
    seen = []
    page.on(
        "response",
        lambda response: (
            seen.append((response.request.method, response.url, response.status))
            if "/api/" in response.url
            else None
        ),
    )
    return seen


def log_hours(page, phase: str, hours: str, description: str) -> None:
    form = page.get_by_role("form", name="Add work log")
    form.get_by_label("Phase").select_option(label=phase)
    form.get_by_label("Hours").fill(hours)
    form.get_by_label("Description").fill(description)
    form.get_by_role("button", name="Add work log").click()


def test_recovery_story(browser, env, servers, manager_api):
    from playwright.sync_api import expect

    server = servers[0]
    villa = manager_api.project_named("Villa Design")
    extension = manager_api.project_named("Villa Extension")
    flood_ids = [item["id"] for item in manager_api.get("/projects", limit=FLOOD_PAGES)["items"]]
    assert len(flood_ids) == FLOOD_PAGES

    # The engineer logs 8 hours on the project page.
    emma = sign_in(browser, server.url, "emma")
    emma_responses = api_responses(emma)
    spa_navigate(emma, f"/projects/{villa['id']}")
    expect(emma.get_by_role("heading", name="Villa Design", level=1)).to_be_visible()
    log_hours(emma, "Structural Design", "8", "Slab reinforcement before the outage drill")
    form_status = emma.get_by_role("form", name="Add work log").get_by_role("status")
    expect(form_status.filter(has_text="Saved: 8 h")).to_be_visible()

    # The manager opens 20 project pages within 10 s and is rate limited.
    mara = sign_in(browser, server.url, "mara")
    started = time.monotonic()
    for project_id in flood_ids:
        spa_navigate(mara, f"/projects/{project_id}")
    assert time.monotonic() - started < FLOOD_SECONDS
    limited = mara.locator("[data-banner=limited]")
    expect(limited).to_be_visible(timeout=5_000)
    expect(limited).to_contain_text("Too many requests")
    expect(limited.get_by_role("button", name="Try again")).to_be_disabled()

    # In the same seconds the engineer's requests all succeed.
    main_link(emma, "My week").click()
    expect(emma.locator(".week-total")).to_contain_text("Week total:")
    emma.get_by_role("link", name="← Previous week").click()
    expect(emma.locator("section.day").first).to_be_visible()
    expect(limited).to_be_visible()
    assert emma_responses
    assert [r for r in emma_responses if r[2] >= 400] == []
    expect(emma.locator("[data-banner]")).to_have_count(0)

    # After the countdown Try again works and the last page opens.
    retry = limited.get_by_role("button", name="Try again")
    expect(retry).to_be_enabled(timeout=15_000)
    retry.click()
    last_project = manager_api.get(f"/projects/{flood_ids[-1]}")
    expect(mara.get_by_role("heading", name=last_project["name"], level=1)).to_be_visible(
        timeout=15_000
    )
    expect(mara.locator("[data-banner=limited]")).to_have_count(0, timeout=15_000)

    # The engineer goes back to the project; then the server process dies.
    spa_navigate(emma, f"/projects/{villa['id']}")
    expect(emma.get_by_role("heading", name="Villa Design", level=1)).to_be_visible()
    phase_select = emma.get_by_role("form", name="Add work log").get_by_label("Phase")
    expect(phase_select.locator("option", has_text="Structural Design")).to_have_count(1)
    emma.evaluate("window.sameDocument = true")
    server.kill()

    # A work log entered during the outage waits in the outbox.
    description = f"Entered during the outage {uuid.uuid4().hex[:8]}"
    log_hours(emma, "Structural Design", "7:30", description)
    lost = emma.locator("[data-banner=lost]")
    expect(lost).to_be_visible(timeout=10_000)
    expect(lost).to_contain_text("Connection lost - server temporarily unavailable")
    for name in ("Try again", "Refresh page", "Dismiss"):
        expect(lost.get_by_role("button", name=name)).to_be_visible()
    expect(form_status).to_contain_text("stored in this browser")
    expect(emma.get_by_role("region", name="Waiting to be sent")).to_contain_text(description)
    stored = emma.evaluate("JSON.parse(localStorage.getItem('track.outbox.v1'))")
    assert [entry["body"]["description"] for entry in stored] == [description]

    # Try again while the server is still down keeps the banner.
    lost.get_by_role("button", name="Try again").click()
    expect(lost).to_contain_text("still unavailable", timeout=10_000)

    # The server restarts on the same port; the page recovers without a reload.
    servers.append(ServerProcess(env, port=server.port).start())
    expect(emma.locator("[data-banner=restored]")).to_contain_text(
        "Connection restored", timeout=5_000
    )
    expect(form_status.filter(has_text="Saved: 7.5 h")).to_be_visible(timeout=10_000)
    expect(emma.get_by_role("region", name="Waiting to be sent")).to_be_hidden()
    assert emma.evaluate("window.sameDocument") is True
    assert emma.evaluate("JSON.parse(localStorage.getItem('track.outbox.v1'))") == []
    expect(emma.locator("[data-banner=restored]")).to_have_count(0, timeout=10_000)

    # The server stored the outage log exactly once.
    logs = manager_api.get("/worklogs", project_id=villa["id"], limit=500)["items"]
    matching = [log for log in logs if log["description"] == description]
    assert len(matching) == 1
    assert matching[0]["hours"] == 7.5
    assert matching[0]["user"]["username"] == "emma"

    # A project without phases still renders after the recovery.
    spa_navigate(emma, f"/projects/{extension['id']}")
    expect(emma.get_by_text("No phases yet.")).to_be_visible()
