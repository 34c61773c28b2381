"""Fixtures: a kmock cluster per test and the operator running against it with KopfRunner."""

from __future__ import annotations

import contextlib
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kopf.testing import KopfRunner

from tests.components import free_port
from tests.operator.cluster import FakeCluster, Workloads, running_cluster, wait_for

NAMESPACE = "track"


@pytest.fixture()
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeCluster]:
    with running_cluster() as fake:
        monkeypatch.setenv("KUBECONFIG", str(fake.write_kubeconfig(tmp_path / "kubeconfig")))
        yield fake


@pytest.fixture()
def workloads(cluster: FakeCluster) -> Workloads:
    return Workloads(cluster, NAMESPACE)


@pytest.fixture()
def operator_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    env = {
        "TRACK_OPERATOR_NAMESPACES": NAMESPACE,
        "TRACK_OPERATOR_METRICS_HOST": "127.0.0.1",
        "TRACK_OPERATOR_METRICS_PORT": str(free_port()),
        "TRACK_OPERATOR_RESOLVE_CHECK_SECONDS": "0.2",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.fixture()
def run_operator(
    cluster: FakeCluster, operator_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., contextlib.AbstractContextManager]:
    """Return a context manager that runs the operator until the block ends."""

    @contextlib.contextmanager
    def run(extra_args: tuple[str, ...] = ("--standalone",), **env: str) -> Iterator[KopfRunner]:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        health_port = free_port()
        args = [
            "run",
            "-m",
            "track_operator",
            "--namespace",
            NAMESPACE,
            "--liveness",
            f"http://127.0.0.1:{health_port}/healthz",
            *extra_args,
        ]
        with KopfRunner(args, timeout=30) as runner:
            wait_for(lambda: _healthy(health_port), timeout=20, what="operator liveness")
            yield runner
        assert runner.exception is None, runner.output

    return run
