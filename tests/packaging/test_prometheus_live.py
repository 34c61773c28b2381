"""A real Prometheus scrapes a running Track service and the operator's metrics.

Every dashboard query and alert expression must evaluate without error, the core service
panels must return data, and the alert rules must load and evaluate with health "ok".

The operator needs a Kubernetes API to run, so its metrics are served here from its own
metric objects (track_operator.metrics) by prometheus_client, with a few sample values.
"""

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from tests.components import ROOT, free_port, missing, require_binary
from tests.packaging.conftest import GRAFANA, PROMETHEUS_HINT
from tests.packaging.test_alerts import (
    alert_rules,
    base_metric,
    dashboard_targets,
    exported_metrics,
    metric_names,
)

pytestmark = [pytest.mark.promtool, pytest.mark.slow]

DEADLINE_SECONDS = 60
SCRAPE_INTERVAL = "1s"
# Grafana variables replaced by what "All" and the defaults expand to.
VARIABLES = {
    "$__rate_interval": "15s",
    "$namespace": ".*",
    "$slo": "0.995",
}
# Service panels that must show data after a few requests.
CORE_PANELS = {
    ("track-service-overview", "Requests per second"),
    ("track-service-overview", "Traffic by route"),
    ("track-service-overview", "Pods ready"),
    ("track-service-overview", "Latency p50 / p95 / p99 by route"),
    ("track-service-overview", "Versions running"),
    ("track-recovery", "Restarts by workload and reason"),
    ("track-recovery", "Failure patterns"),
    ("track-rate-limits", "Limited users, last 5 minutes"),
}

OPERATOR_EXPORTER = """
import sys, time
from prometheus_client import start_http_server
from track_operator import metrics

metrics.RESTARTS.labels("track", "track", "Error").inc(3)
metrics.PATTERN_OCCURRENCES.labels("track", "track", "3f9a1c2b7d4e").inc(3)
metrics.RECURRING_PATTERNS.labels("track").set(1)
metrics.DETECTION_LATENCY.observe(0.4)
metrics.RECOVERY.labels("track", "track").observe(12.0)
metrics.WORKLOAD_PODS.labels("track", "track").set(2)
metrics.WORKLOAD_PODS_READY.labels("track", "track").set(2)
metrics.API_ERRORS.labels("patch").inc(0)
metrics.EVENTS.labels("RecurringFailure").inc()
start_http_server(int(sys.argv[1]), addr="127.0.0.1")
while True:
    time.sleep(3600)
"""


def expand(expr: str) -> str:
    for name, value in VARIABLES.items():
        expr = expr.replace(name, value)
    return expr


def http_get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for(check, what: str, process: subprocess.Popen | None = None):
    """Poll `check` until it returns a true value, or fail after DEADLINE_SECONDS."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            output = process.log_path.read_text()[-3000:]
            pytest.fail(f"{what}: process exited with {process.returncode}\n{output}")
        try:
            result = check()
            if result:
                return result
        except (OSError, urllib.error.URLError, ValueError) as error:
            last_error = error
        time.sleep(0.2)
    pytest.fail(
        f"timed out after {DEADLINE_SECONDS}s waiting for {what} (last error: {last_error})"
    )


def start(command: list[str], env: dict, log: Path) -> subprocess.Popen:
    """Start a process with its output in `log`; the child keeps its own copy of the file."""
    with log.open("w") as handle:
        process = subprocess.Popen(command, env=env, stdout=handle, stderr=subprocess.STDOUT)
    process.log_path = log
    return process


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def track_bin() -> Path:
    try:
        import app.cli  # noqa: F401
    except ImportError as error:
        missing(f"the Track service is not importable ({error}); pip install -e .")
    path = Path(sys.executable).with_name("track")
    if not path.exists():
        missing("the track console script is not installed (pip install -e .)")
    return path


@pytest.fixture(scope="module")
def track_service(track_bin, tmp_path_factory):
    """Run "track serve" on a free port with a fresh SQLite database; yield its base URL."""
    work = tmp_path_factory.mktemp("track")
    port = free_port()
    env = {
        **os.environ,
        "TRACK_DATABASE_URL": f"sqlite:///{work / 'track.db'}",
        "TRACK_SECRET_KEY": "packaging-test-secret-key-0123456789abcdef",
        "TRACK_TERMINATION_LOG": str(work / "termination-log"),
        "TRACK_RATE_LIMITS": "1000/10 seconds",
    }
    migrate = subprocess.run(
        [str(track_bin), "migrate"], env=env, capture_output=True, text=True, timeout=120
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    command = [str(track_bin), "serve", "--host", "127.0.0.1", "--port", str(port)]
    process = start(command, env, work / "serve.log")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_get(f"{base}/healthz/ready")[0] == 200, "track ready", process)
        yield base
    finally:
        stop(process)


@pytest.fixture(scope="module")
def operator_metrics(tmp_path_factory):
    try:
        import track_operator.metrics  # noqa: F401
    except ImportError as error:
        missing(f"track_operator is not importable ({error}); pip install -e .")
    work = tmp_path_factory.mktemp("operator")
    port = free_port()
    process = start(
        [sys.executable, "-c", OPERATOR_EXPORTER, str(port)], dict(os.environ), work / "log"
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: http_get(f"{url}/metrics")[0] == 200, "operator metrics", process)
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)


@pytest.fixture(scope="module")
def prometheus(track_service, operator_metrics, tmp_path_factory):
    """Run Prometheus scraping both targets and loading the alert rules; yield its API URL."""
    binary = require_binary("prometheus", PROMETHEUS_HINT)
    work = tmp_path_factory.mktemp("prometheus")
    port = free_port()
    rules = work / "track-alerts.yaml"
    rules.write_text((GRAFANA / "alerts" / "track-alerts.yaml").read_text())
    config = {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": SCRAPE_INTERVAL},
        "rule_files": [str(rules)],
        "scrape_configs": [
            {
                "job_name": "track",
                "static_configs": [{"targets": [track_service.removeprefix("http://")]}],
            },
            {"job_name": "track-operator", "static_configs": [{"targets": [operator_metrics]}]},
        ],
    }
    (work / "prometheus.yml").write_text(yaml.safe_dump(config))
    command = [
        binary,
        f"--config.file={work / 'prometheus.yml'}",
        f"--storage.tsdb.path={work / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--web.enable-lifecycle",
    ]
    process = start(command, dict(os.environ), work / "prometheus.log")
    api = f"http://127.0.0.1:{port}/api/v1"
    try:
        ready = f"http://127.0.0.1:{port}/-/ready"
        wait_for(lambda: http_get(ready)[0] == 200, "prometheus", process)
        yield api
    finally:
        stop(process)


def query(api: str, expr: str) -> dict:
    url = f"{api}/query?" + urllib.parse.urlencode({"query": expr})
    status, body = http_get(url)
    data = json.loads(body)
    assert status == 200 and data["status"] == "success", f"{expr}: {data.get('error', body)}"
    return data["data"]


def generate_traffic(base: str) -> None:
    for path in ["/healthz/live", "/healthz/ready", "/api/v1/projects", "/no-such-page"]:
        for _ in range(5):
            http_get(base + path)


@pytest.fixture(scope="module")
def scraped(prometheus, track_service):
    """Send requests, then wait until Prometheus has several scrapes of both targets."""
    generate_traffic(track_service)

    def enough_scrapes():
        result = query(prometheus, "count_over_time(up[1m]) >= 5")["result"]
        jobs = {series["metric"]["job"] for series in result}
        return jobs == {"track", "track-operator"}

    wait_for(enough_scrapes, "five scrapes of both targets")
    generate_traffic(track_service)
    wait_for(
        lambda: query(prometheus, "sum(rate(track_http_requests_total[15s])) > 0")["result"],
        "request rate above zero",
    )
    return prometheus


def test_service_exports_listed_metrics(track_service):
    _, text = http_get(f"{track_service}/metrics")
    families = {line.split()[2] for line in text.splitlines() if line.startswith("# TYPE ")}
    service_metrics = {
        name for name in exported_metrics() if not name.startswith("track_operator_")
    }
    assert service_metrics - families == set()


def test_service_metrics_used_by_dashboards_exist(track_service):
    _, text = http_get(f"{track_service}/metrics")
    exported = exported_metrics()
    used = {
        base_metric(name, exported)
        for _, _, expr in dashboard_targets()
        for name in metric_names(expr)
        if not name.startswith("track_operator_") and name != "up"
    }
    for name in sorted(used):
        assert f"# TYPE {name} " in text, name


def test_operator_exports_listed_metrics(operator_metrics):
    _, text = http_get(f"http://{operator_metrics}/metrics")
    operator = {name for name in exported_metrics() if name.startswith("track_operator_")}
    for name in sorted(operator):
        assert f"# TYPE {name} " in text, name


def panels_without_data(api: str) -> set[tuple[str, str]]:
    """Evaluate every dashboard query; return the panels where a query returned nothing."""
    empty = set()
    for uid, title, expr in dashboard_targets():
        if not query(api, expand(expr))["result"]:
            empty.add((uid, title))
    return empty


def test_dashboard_queries_evaluate(scraped):
    panels_without_data(scraped)


def test_core_panels_return_data(scraped):
    # "Last seen" in the Failure patterns table samples on whole minutes, so a pattern
    # needs up to a minute before the first step that sees it.
    deadline = time.monotonic() + 120
    missing_core = sorted(CORE_PANELS & panels_without_data(scraped))
    while missing_core and time.monotonic() < deadline:
        time.sleep(2)
        missing_core = sorted(CORE_PANELS & panels_without_data(scraped))
    assert missing_core == [], f"core panels without data: {missing_core}"


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_alert_expression_evaluates(scraped, rule):
    query(scraped, rule["expr"])


def test_alert_rules_load_healthy(scraped):
    def evaluated_rules():
        status, body = http_get(f"{scraped}/rules")
        rules = [r for g in json.loads(body)["data"]["groups"] for r in g["rules"]]
        if rules and all(
            rule.get("lastEvaluation", "").startswith("0001") is False for rule in rules
        ):
            return rules
        return None

    rules = wait_for(evaluated_rules, "one evaluation of every rule")
    assert {rule["name"] for rule in rules} == {rule["alert"] for rule in alert_rules()}
    for rule in rules:
        assert rule["health"] == "ok", f"{rule['name']}: {rule.get('lastError')}"


def test_recurring_failure_alert_pending(scraped):
    """The sample operator metrics report a recurring pattern, so that alert becomes active."""

    def active():
        status, body = http_get(f"{scraped}/alerts")
        alerts = json.loads(body)["data"]["alerts"]
        return [a for a in alerts if a["labels"]["alertname"] == "TrackRecurringFailure"]

    alerts = wait_for(active, "TrackRecurringFailure to become active")
    assert alerts[0]["labels"]["namespace"] == "track"
