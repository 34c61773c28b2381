"""Fixtures for the browser tests: demo databases, a headless Chromium, signed-in pages."""

import os
import sqlite3
import subprocess
import sys

import httpx
import pytest

from app.demo import DEMO_PASSWORD
from tests.components import ROOT, require_chromium
from tests.fixtures import FAST_HASH_KIB

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    """A SQLite file with the demo data, loaded once per test session by `track demo`."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    env = {
        **os.environ,
        "TRACK_DATABASE_URL": f"sqlite:///{path}",
        "TRACK_PASSWORD_HASH_MEMORY_KIB": FAST_HASH_KIB,
    }
    subprocess.run(
        [sys.executable, "-m", "app.cli", "demo", "--quiet"],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=180,
    )
    return path


@pytest.fixture
def demo_url(demo_template, tmp_path):
    """A private copy of the demo database for one test."""
    target = tmp_path / "track.db"
    with sqlite3.connect(demo_template) as source, sqlite3.connect(target) as copy:
        source.backup(copy)
    source.close()
    copy.close()
    return f"sqlite:///{target}"


@pytest.fixture(scope="module")
def browser():
    executable = require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def sign_in(browser, base_url: str, username: str):
    """Open a new browser context, sign in through the login page and return the page."""
    from playwright.sync_api import expect

    context = browser.new_context(base_url=base_url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="My week", level=1)).to_be_visible(timeout=15_000)
    return page


def main_link(page, name: str):
    """A link of the main navigation bar."""
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)


def spa_navigate(page, path: str) -> None:
    """Change the page's address the way the UI's own links do, without a reload."""
    page.evaluate(
        "path => { history.pushState(null, '', path);"
        " window.dispatchEvent(new PopStateEvent('popstate')); }",
        path,
    )


def format_hours(value) -> str:
    """Format hours like the UI: thousands separators, at most two decimals."""
    return f"{float(value):,.2f}".rstrip("0").rstrip(".")


def create_token(database_url: str, username: str) -> str:
    """Create an API token with `track token create`.

    Playwright's sync API keeps an event loop running in this thread, so the
    asyncio-based helper of tests.fixtures cannot run here.
    """
    result = subprocess.run(
        [sys.executable, "-m", "app.cli", "token", "create", username],
        env={**os.environ, "TRACK_DATABASE_URL": database_url},
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout.strip()


class ApiClient:
    """The API as one demo user, through an API token, for checks beside the browser."""

    def __init__(self, database_url: str, base_url: str, username: str):
        token = create_token(database_url, username)
        self.client = httpx.Client(
            base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    def get(self, path: str, **params):
        response = self.client.get(f"/api/v1{path}", params=params)
        response.raise_for_status()
        return response.json()

    def project_named(self, name: str) -> dict:
        items = self.get("/projects", q=name, limit=50)["items"]
        return next(item for item in items if item["name"] == name)

    def close(self) -> None:
        self.client.close()
