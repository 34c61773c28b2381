"""Generated files: k8s/, the dashboards and the chart's copies must match their sources."""

import difflib

import pytest

from tests.components import ROOT
from tests.packaging.conftest import load_script


def diff_report(stale, expected) -> str:
    lines = []
    for path in stale:
        old = path.read_text().splitlines() if path.exists() else []
        new = expected.get(path, "").splitlines()
        lines += difflib.unified_diff(
            old, new, str(path.relative_to(ROOT)), "expected", lineterm=""
        )
    return "\n".join(lines[:200])


@pytest.mark.helm
def test_k8s_and_chart_copies_current(helm):
    render_packaging = load_script("render_packaging")
    expected = render_packaging.expected_files(helm)
    stale = render_packaging.stale_generated_files(expected)
    assert stale == [], "run: python scripts/render_packaging.py\n" + diff_report(stale, expected)


def test_dashboards_current():
    build_dashboards = load_script("build_dashboards")
    stale = {
        path: text
        for path, text in build_dashboards.render_all().items()
        if not path.exists() or path.read_text() != text
    }
    assert list(stale) == [], "run: python scripts/build_dashboards.py"


def test_kustomization_lists_every_manifest():
    import yaml

    kustomization = yaml.safe_load((ROOT / "k8s" / "kustomization.yaml").read_text())
    manifests = {p.name for p in (ROOT / "k8s").glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kustomization["resources"]) == manifests
    generator = kustomization["secretGenerator"][0]
    assert generator["envs"] == ["secrets.env"]
    assert generator["options"]["disableNameSuffixHash"] is True


def test_k8s_secret_keys_documented():
    render_packaging = load_script("render_packaging")
    example = (ROOT / "k8s" / "secrets.env.example").read_text()
    keys = {
        line.split("=", 1)[0] for line in example.splitlines() if line and not line.startswith("#")
    }
    assert keys == set(render_packaging.SECRET_KEYS)
    assert "secrets.env" in (ROOT / "k8s" / ".gitignore").read_text().split()
