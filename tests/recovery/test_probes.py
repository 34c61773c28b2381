"""Probes and server settings, checked in process."""

from starlette.testclient import TestClient

from app.config import load_settings
from app.main import create_app
from app.server import _server
from tests.components import free_port
from tests.fixtures import base_env


def _client(env: dict[str, str]) -> TestClient:
    app = create_app(load_settings(env), migrate_on_start=False)
    return TestClient(app, base_url="http://testserver")


def test_ready_fails_on_old_schema(tmp_path):
    url = f"sqlite:///{tmp_path / 'track.db'}"
    with _client(base_env(url)) as client:
        ready = client.get("/healthz/ready")
        live = client.get("/healthz/live")
        startup = client.get("/healthz/startup")

    assert ready.status_code == 503
    assert ready.json()["failed"] == ["database"]
    assert "schema: at None" in ready.json()["checks"]["database"]
    assert "track migrate" in ready.json()["checks"]["database"]
    assert live.status_code == 200
    assert startup.status_code == 200


def test_live_ignores_unreachable_database():
    # Nothing listens on this port, so every database check fails at once.
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/track"
    with _client(base_env(url)) as client:
        ready = client.get("/healthz/ready")
        live = client.get("/healthz/live")
        metrics = client.get("/metrics").text

    assert ready.status_code == 503
    assert ready.json()["checks"]["database"].startswith("database: ")
    assert live.status_code == 200
    assert live.json()["status"] == "ok"
    assert "track_ready 0.0" in metrics


def test_ready_ok_when_migrated(sqlite_track):
    ready = sqlite_track.client.get("/healthz/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "failed": [], "checks": {"database": "ok"}}


def test_server_timeouts_from_settings(tmp_path):
    url = f"sqlite:///{tmp_path / 'track.db'}"
    defaults = _server(load_settings(base_env(url)), host="127.0.0.1", port=0)
    custom = _server(
        load_settings(
            base_env(
                url,
                TRACK_KEEPALIVE_SECONDS="650",
                TRACK_GRACE_SECONDS="45",
                TRACK_DRAIN_SECONDS="12",
            )
        ),
        host="127.0.0.1",
        port=0,
    )

    # The default keep-alive outlasts the 60 s idle timeout common to load balancers.
    assert defaults.config.timeout_keep_alive == 75
    assert defaults.config.timeout_graceful_shutdown == 20
    assert custom.config.timeout_keep_alive == 650
    assert custom.config.timeout_graceful_shutdown == 45
    assert custom.drain_seconds == 12
    assert defaults.config.proxy_headers is False
