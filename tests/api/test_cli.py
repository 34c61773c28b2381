"""The track command, run as a real process."""

import json
import subprocess
import sys

import httpx

from tests.components import ROOT
from tests.fixtures import ServerProcess, base_env


def track(*args, env, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
    )


def test_user_and_token_commands(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    env = {**base_env(url), "PATH": "/usr/bin:/bin"}
    assert track("migrate", env=env).returncode == 0
    created = track(
        "user",
        "create",
        "Emma",
        "--role",
        "engineer",
        "--password-stdin",
        env=env,
        stdin="a-long-password\n",
    )
    assert created.returncode == 0, created.stderr
    assert "a-long-password" not in created.stdout + created.stderr

    duplicate = track(
        "user",
        "create",
        "emma",
        "--role",
        "engineer",
        "--password-stdin",
        env=env,
        stdin="a-long-password\n",
    )
    assert duplicate.returncode == 1
    assert "taken" in duplicate.stderr

    short = track(
        "user", "create", "lea", "--role", "engineer", "--password-stdin", env=env, stdin="short\n"
    )
    assert short.returncode != 0

    token = track("token", "create", "emma", env=env)
    assert token.returncode == 0
    secret = token.stdout.strip()
    assert secret.startswith("trk_")
    assert "\n" not in secret

    server = ServerProcess(base_env(url)).start()
    try:
        me = httpx.get(f"{server.url}/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
        assert me.json()["username"] == "emma"
    finally:
        assert server.stop() == 0


def test_demo_is_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    env = base_env(url)
    first = track("demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "emma" in first.stderr
    second = track("demo", "--quiet", env=env)
    assert second.returncode == 0

    server = ServerProcess(base_env(url)).start()
    try:
        token = track("token", "create", "mara", env=env).stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        projects = httpx.get(f"{server.url}/api/v1/projects?limit=500", headers=headers).json()
        names = [p["name"] for p in projects["items"]]
        assert len(names) == 60
        assert len(set(names)) == 60
        villa = next(p for p in projects["items"] if p["name"] == "Villa Design")
        detail = httpx.get(f"{server.url}/api/v1/projects/{villa['id']}", headers=headers).json()
        assert "Structural Design" in [phase["name"] for phase in detail["phases"]]
        extension = next(p for p in projects["items"] if p["name"] == "Villa Extension")
        bare = httpx.get(f"{server.url}/api/v1/projects/{extension['id']}", headers=headers).json()
        assert bare["phases"] == []
        logs = httpx.get(f"{server.url}/api/v1/worklogs?limit=500", headers=headers).json()
        assert len(logs["items"]) == 500
        users = httpx.get(f"{server.url}/api/v1/users?limit=500", headers=headers).json()
        assert len(users["items"]) >= 12
    finally:
        server.stop()


def test_serve_refuses_without_secret_key(tmp_path):
    report = tmp_path / "termination-log"
    env = {**base_env(f"sqlite:///{tmp_path / 'x.db'}"), "TRACK_TERMINATION_LOG": str(report)}
    del env["TRACK_SECRET_KEY"]
    result = track("serve", "--port", "1", env=env)
    assert result.returncode == 2
    assert "TRACK_SECRET_KEY" in result.stderr
    crash = json.loads(report.read_text())
    assert crash["exception"] == "ConfigurationError"


def test_serve_refuses_short_secret_key(tmp_path):
    env = {**base_env(f"sqlite:///{tmp_path / 'x.db'}"), "TRACK_SECRET_KEY": "short"}
    result = track("serve", "--port", "1", env=env)
    assert result.returncode == 2
    assert "at least 32" in result.stderr
