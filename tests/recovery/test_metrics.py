"""Prometheus metrics: totals merged across workers, bounded labels, a valid exposition."""

import random
import string
import subprocess

import httpx
import pytest
from prometheus_client import REGISTRY

from app.middleware import public_template
from tests.components import require_binary
from tests.fixtures import base_env
from tests.recovery.services import LoggedServer, metric_samples, metric_total


def _route_labels() -> set[str]:
    return {
        sample.labels["route"]
        for family in REGISTRY.collect()
        if family.name.startswith("track_")
        for sample in family.samples
        if "route" in sample.labels
    }


@pytest.fixture
def four_workers(tmp_path):
    url = f"sqlite:///{tmp_path / 'track.db'}"
    metrics_dir = tmp_path / "metrics"
    env = base_env(url, PROMETHEUS_MULTIPROC_DIR=str(metrics_dir))
    server = LoggedServer(env, tmp_path / "server.log", workers=4).start()
    server.metrics_dir = metrics_dir
    yield server
    server.stop()


@pytest.mark.slow
def test_totals_agree_across_workers(four_workers):
    server = four_workers
    for _ in range(100):
        # A new connection each time, so the kernel spreads them over the workers.
        assert httpx.get(server.url + "/healthz/live", timeout=10).status_code == 200

    totals = [
        metric_total(server.url, "track_http_requests_total", route="/healthz/live", status="200")
        for _ in range(20)
    ]
    workers_with_samples = {path.stem.split("_")[-1] for path in server.metrics_dir.glob("*.db")}

    assert totals == [100.0] * 20
    # More than one worker counted requests, so the merge was exercised.
    assert len(workers_with_samples) >= 2
    build = metric_samples(server.url, "track_build_info")
    assert [sample.value for sample in build] == [1.0] * len(build)
    assert len({sample.labels["version"] for sample in build}) == 1


def _random_path(rng: random.Random) -> str:
    word = "".join(rng.choices(string.ascii_letters + string.digits + "-_.~%", k=12))
    return rng.choice(
        [
            f"/{word}",
            f"/api/v1/{word}",
            f"/api/v1/projects/{word}",
            f"/api/v1/projects/{rng.randint(1, 10**9)}/{word}",
            f"/healthz/{word}",
            f"/static/{word}.js",
            f"/{word}/{word}",
        ]
    )


def test_unknown_paths_add_no_labels(sqlite_track):
    client = sqlite_track.client
    client.get("/healthz/live")
    before = _route_labels()
    rng = random.Random(20)
    statuses = {client.get(_random_path(rng)).status_code for _ in range(500)}
    after = _route_labels()

    templates = {public_template(route.path) for route in sqlite_track.app.routes}
    assert statuses <= {401, 404}
    assert after - before <= {"<unmatched>", "/static"}
    assert after <= templates | {"<unmatched>"}


def test_route_label_is_template(sqlite_track):
    sqlite_track.client.get("/api/v1/projects/12345")
    labels = _route_labels()
    assert "/api/v1/projects/{project_id}" in labels
    assert not any(":int}" in label for label in labels)
    assert "/api/v1/projects/12345" not in labels


def _promtool_check(exposition: httpx.Response) -> subprocess.CompletedProcess:
    promtool = require_binary("promtool", "apt-get install prometheus")
    return subprocess.run(
        [promtool, "check", "metrics"],
        input=exposition.text,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.promtool
@pytest.mark.slow
def test_promtool_accepts_workers_exposition(four_workers):
    with httpx.Client(base_url=four_workers.url, timeout=10) as client:
        client.get("/api/v1/projects")
        client.get("/no-such-page")
        client.get("/healthz/ready")
        exposition = client.get("/metrics")
    result = _promtool_check(exposition)

    assert exposition.headers["content-type"].startswith("text/plain")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""
    assert result.stderr.strip() == ""


@pytest.mark.promtool
def test_promtool_accepts_single_process(sqlite_track):
    client = sqlite_track.client
    client.get("/api/v1/projects")
    client.get("/healthz/ready")
    result = _promtool_check(client.get("/metrics"))

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == ""
    assert result.stderr.strip() == ""
