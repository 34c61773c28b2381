"""Alert rules and dashboards: promtool checks and unit tests, metric names, dashboard structure."""

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.packaging.conftest import GRAFANA

RULES = GRAFANA / "alerts" / "track-alerts.yaml"
RULE_TESTS = GRAFANA / "alerts" / "track-alerts.test.yaml"
DASHBOARDS = sorted((GRAFANA / "dashboards").glob("*.json"))
# Series Prometheus itself adds to every scrape.
PROMETHEUS_SERIES = {"up"}
HISTOGRAM_SUFFIXES = ("_bucket", "_sum", "_count")


def exported_metrics() -> dict[str, str]:
    """Return {metric name: type} from grafana/metrics.txt, the list of exported metrics."""
    metrics = {}
    for line in (GRAFANA / "metrics.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, kind = line.split()
            metrics[name] = kind
    return metrics


def alert_rules() -> list[dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def dashboard_targets() -> list[tuple[str, str, str]]:
    """Return (dashboard uid, panel title, expression) for every panel query."""
    targets = []
    for path in DASHBOARDS:
        dashboard = json.loads(path.read_text())
        for panel in dashboard["panels"]:
            for target in panel.get("targets", []):
                targets.append((dashboard["uid"], panel["title"], target["expr"]))
    return targets


def metric_names(expr: str) -> set[str]:
    """Return the metric names an expression selects (Track metrics and Prometheus's own)."""
    names = set(re.findall(r"\btrack_[a-z0-9_]+\b", expr))
    names |= {name for name in PROMETHEUS_SERIES if re.search(rf"\b{name}\{{", expr)}
    return names


def base_metric(name: str, exported: dict[str, str]) -> str:
    for suffix in HISTOGRAM_SUFFIXES:
        base = name.removesuffix(suffix)
        if base != name and exported.get(base) == "histogram":
            return base
    return name


# promtool.


@pytest.mark.promtool
def test_promtool_check_rules(promtool):
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.promtool
def test_promtool_unit_tests(promtool):
    result = subprocess.run(
        [promtool, "test", "rules", RULE_TESTS.name],
        capture_output=True,
        text=True,
        check=False,
        cwd=RULE_TESTS.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_unit_tested_both_ways():
    tests = yaml.safe_load(RULE_TESTS.read_text())["tests"]
    firing: set[str] = set()
    quiet: set[str] = set()
    for case in tests:
        for check in case.get("alert_rule_test", []):
            (firing if check["exp_alerts"] else quiet).add(check["alertname"])
    alerts = {rule["alert"] for rule in alert_rules()}
    assert alerts - firing == set(), "alerts without a case where they fire"
    assert alerts - quiet == set(), "alerts without a case where they stay quiet"


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_alert_has_runbook_and_severity(rule):
    assert rule["annotations"]["runbook"].strip()
    assert rule["annotations"]["summary"].strip()
    assert rule["labels"]["severity"] in {"warning", "critical"}


def test_required_alerts_present():
    alerts = {rule["alert"] for rule in alert_rules()}
    assert alerts == {
        "TrackFrequentRestarts",
        "TrackRecurringFailure",
        "TrackHighErrorRatio",
        "TrackHighRateLimitRatio",
        "TrackReadinessFlapping",
        "TrackOperatorDown",
    }


# Metric names.


def test_rules_use_exported_metrics():
    exported = exported_metrics()
    for rule in alert_rules():
        for name in metric_names(rule["expr"]):
            base = base_metric(name, exported)
            assert base in exported or base in PROMETHEUS_SERIES, f"{rule['alert']}: {name}"


def test_dashboards_use_exported_metrics():
    exported = exported_metrics()
    for uid, title, expr in dashboard_targets():
        for name in metric_names(expr):
            base = base_metric(name, exported)
            assert base in exported or base in PROMETHEUS_SERIES, f"{uid} / {title}: {name}"


def test_histogram_queries_use_buckets():
    exported = exported_metrics()
    for uid, title, expr in dashboard_targets():
        for name in metric_names(expr):
            if exported.get(name) == "histogram":
                pytest.fail(f"{uid} / {title}: {name} needs a _bucket, _sum or _count suffix")


# Dashboard structure.


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_dashboard_uid_stable(path: Path):
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"] == path.stem
    assert len(dashboard["uid"]) <= 40


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_dashboard_uses_datasource_variable(path: Path):
    dashboard = json.loads(path.read_text())
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.stem)
def test_dashboard_panels_do_not_overlap(path: Path):
    dashboard = json.loads(path.read_text())
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, panel["title"]
        for x in range(grid["x"], grid["x"] + grid["w"]):
            for y in range(grid["y"], grid["y"] + grid["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells[(x, y)]}"
                cells[(x, y)] = panel["title"]


def test_dashboard_provider_points_at_dashboards():
    provider = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "track.yaml").read_text())
    datasource = yaml.safe_load(
        (GRAFANA / "provisioning" / "datasources" / "prometheus.yaml").read_text()
    )
    assert provider["providers"][0]["type"] == "file"
    assert datasource["datasources"][0]["type"] == "prometheus"


def test_required_panels_present():
    titles = {(uid, title) for uid, title, _ in dashboard_targets()}
    for uid, title in [
        ("track-service-overview", "Traffic by route"),
        ("track-service-overview", "Latency p50 / p95 / p99 by route"),
        ("track-service-overview", "Availability, 30 days"),
        ("track-service-overview", "Pods ready"),
        ("track-recovery", "Restarts by workload and reason"),
        ("track-recovery", "Failure patterns"),
        ("track-recovery", "Detection latency"),
        ("track-recovery", "Crash to ready by workload"),
        ("track-recovery", "Unhandled errors by signature"),
        ("track-rate-limits", "429 responses by route"),
        ("track-rate-limits", "Limited users, last 5 minutes"),
        ("track-rate-limits", "Storage errors by pod"),
    ]:
        assert (uid, title) in titles
