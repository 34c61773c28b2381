"""Fixtures shared by the packaging tests: helm, the rendered chart and the project paths."""

import importlib.util
import subprocess
from functools import cache
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from tests.components import ROOT, require_binary

CHART = ROOT / "charts" / "track"
CI_VALUES = sorted((CHART / "ci").glob("*.yaml"))
GRAFANA = ROOT / "grafana"
HELM_HINT = "run scripts/install-test-tools.sh"
PROMETHEUS_HINT = "apt-get install prometheus, or run scripts/install-test-tools.sh"


def load_script(name: str) -> ModuleType:
    """Import scripts/<name>.py, which is not a package, as a module."""
    path = ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"scripts_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def helm() -> str:
    return require_binary("helm", HELM_HINT)


@pytest.fixture(scope="session")
def promtool() -> str:
    return require_binary("promtool", PROMETHEUS_HINT)


def run_helm(helm: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([helm, *args], capture_output=True, text=True, check=False)


@cache
def _render(helm: str, values: tuple[str, ...], sets: tuple[str, ...]) -> str:
    args = ["template", "track", str(CHART), "--namespace", "track", "--include-crds"]
    for path in values:
        args += ["-f", path]
    for item in sets:
        args += ["--set", item]
    result = run_helm(helm, *args)
    if result.returncode != 0:
        raise AssertionError(f"helm template {' '.join(args[1:])} failed:\n{result.stderr}")
    return result.stdout


def render(helm: str, values: Path | None = None, *sets: str) -> list[dict]:
    """Render the chart as release "track" in namespace "track" and parse every object."""
    output = _render(helm, (str(values),) if values else (), sets)
    return [obj for obj in yaml.safe_load_all(output) if obj]


def find(objects: list[dict], kind: str, name: str | None = None) -> list[dict]:
    return [
        obj
        for obj in objects
        if obj["kind"] == kind and (name is None or obj["metadata"]["name"] == name)
    ]


def only(objects: list[dict], kind: str, name: str | None = None) -> dict:
    matches = find(objects, kind, name)
    assert len(matches) == 1, f"expected one {kind} {name or ''}, found {len(matches)}"
    return matches[0]
