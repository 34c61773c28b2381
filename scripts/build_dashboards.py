"""Build the Grafana dashboards under grafana/dashboards/ from the queries defined here.

The queries are kept apart from the layout: each dashboard is a list of panels, and each panel
names its PromQL targets. Run this script after changing a query; the packaging tests fail
when the committed JSON differs from what it builds.

Usage: python scripts/build_dashboards.py [--check]
"""

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DASHBOARD_DIR = ROOT / "grafana" / "dashboards"

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
IN_NAMESPACE = 'namespace=~"$namespace"'
RATE = "$__rate_interval"
PATTERNS = f"track_operator_pattern_occurrences_total{{{IN_NAMESPACE}}}"


@dataclass
class Target:
    expr: str
    legend: str = ""
    # Table panels query the current value once; graphs query a range.
    instant: bool = False


@dataclass
class Panel:
    title: str
    kind: str  # Grafana panel type: timeseries, stat or table
    targets: list[Target]
    description: str = ""
    unit: str = "short"
    width: int = 12
    height: int = 8
    # Threshold steps as (value, colour); the first value is None (the base colour).
    thresholds: list[tuple[float | None, str]] = field(default_factory=list)
    # Extra Grafana options merged into the panel (table transformations, overrides).
    extra: dict = field(default_factory=dict)


def quantiles(metric: str, by: str, where: str = IN_NAMESPACE) -> list[Target]:
    """Return p50, p95 and p99 targets of a histogram, one series per value of `by`."""
    targets = []
    for q in (0.5, 0.95, 0.99):
        expr = (
            f"histogram_quantile({q}, sum by ({by}, le) "
            f"(rate({metric}_bucket{{{where}}}[{RATE}])))"
        )
        targets.append(Target(expr, f"p{round(q * 100)} {{{{{by}}}}}"))
    return targets


SERVICE_OVERVIEW = [
    Panel(
        "Requests per second",
        "stat",
        [Target(f"sum(rate(track_http_requests_total{{{IN_NAMESPACE}}}[{RATE}]))")],
        unit="reqps",
        width=4,
        height=4,
    ),
    Panel(
        "Error ratio (5xx)",
        "stat",
        [
            Target(
                f'sum(rate(track_http_requests_total{{{IN_NAMESPACE},status=~"5.."}}[{RATE}]))'
                f" / sum(rate(track_http_requests_total{{{IN_NAMESPACE}}}[{RATE}]))"
            )
        ],
        unit="percentunit",
        width=4,
        height=4,
        thresholds=[(None, "green"), (0.01, "orange"), (0.05, "red")],
    ),
    Panel(
        "Availability, 30 days",
        "stat",
        [
            Target(
                f'1 - sum(increase(track_http_requests_total{{{IN_NAMESPACE},status=~"5.."}}[30d]))'
                f" / sum(increase(track_http_requests_total{{{IN_NAMESPACE}}}[30d]))"
            )
        ],
        description="Share of requests without a 5xx status; red below 99.5%.",
        unit="percentunit",
        width=4,
        height=4,
        thresholds=[(None, "red"), (0.995, "green")],
    ),
    Panel(
        "Error budget left, 30 days",
        "stat",
        [
            Target(
                f'1 - (sum(increase(track_http_requests_total{{{IN_NAMESPACE},status=~"5.."}}[30d]))'
                f" / sum(increase(track_http_requests_total{{{IN_NAMESPACE}}}[30d]))) / (1 - $slo)"
            )
        ],
        description="1 means no failed request yet; 0 means the SLO is used up.",
        unit="percentunit",
        width=4,
        height=4,
        thresholds=[(None, "red"), (0.25, "orange"), (0.5, "green")],
    ),
    Panel(
        "Pods ready",
        "stat",
        [Target(f"sum(max by (namespace, instance) (track_ready{{{IN_NAMESPACE}}}))")],
        description="Pods whose readiness check passes, as the pods report it.",
        width=4,
        height=4,
        thresholds=[(None, "red"), (2, "green")],
    ),
    Panel(
        "Requests in flight",
        "stat",
        [Target(f"sum(track_http_requests_in_flight{{{IN_NAMESPACE}}})")],
        width=4,
        height=4,
    ),
    Panel(
        "Traffic by route",
        "timeseries",
        [
            Target(
                f"sum by (route) (rate(track_http_requests_total{{{IN_NAMESPACE}}}[{RATE}]))",
                "{{route}}",
            )
        ],
        unit="reqps",
    ),
    Panel(
        "Error ratio by route",
        "timeseries",
        [
            Target(
                f'sum by (route) (rate(track_http_requests_total{{{IN_NAMESPACE},status=~"5.."}}[{RATE}]))'
                f" / sum by (route) (rate(track_http_requests_total{{{IN_NAMESPACE}}}[{RATE}]))",
                "{{route}}",
            )
        ],
        unit="percentunit",
    ),
    Panel(
        "Latency p50 / p95 / p99 by route",
        "timeseries",
        quantiles("track_http_request_duration_seconds", "route"),
        unit="s",
        width=24,
        height=9,
    ),
    Panel(
        "Requests in flight by pod",
        "timeseries",
        [Target(f"sum by (instance) (track_http_requests_in_flight{{{IN_NAMESPACE}}})", "{{instance}}")],
        width=8,
    ),
    Panel(
        "Pods ready over time",
        "timeseries",
        [
            Target(f"sum(max by (namespace, instance) (track_ready{{{IN_NAMESPACE}}}))", "ready (service)"),
            Target(
                f"sum by (workload) (track_operator_workload_pods_ready{{{IN_NAMESPACE}}})",
                "ready {{workload}} (operator)",
            ),
            Target(
                f"sum by (workload) (track_operator_workload_pods{{{IN_NAMESPACE}}})",
                "pods {{workload}} (operator)",
            ),
        ],
        width=8,
    ),
    Panel(
        "Database query latency p95 by operation",
        "timeseries",
        [
            Target(
                "histogram_quantile(0.95, sum by (operation, le) "
                f"(rate(track_db_query_duration_seconds_bucket{{{IN_NAMESPACE}}}[{RATE}])))",
                "{{operation}}",
            )
        ],
        unit="s",
        width=8,
    ),
    Panel(
        "Work logs created per second",
        "timeseries",
        [Target(f"sum(rate(track_worklogs_created_total{{{IN_NAMESPACE}}}[{RATE}]))", "created")],
        unit="ops",
    ),
    Panel(
        "Versions running",
        "timeseries",
        [Target(f"count by (version) (track_build_info{{{IN_NAMESPACE}}})", "{{version}}")],
    ),
]

RECOVERY = [
    Panel(
        "Restarts, 24 hours",
        "stat",
        [Target(f"sum(increase(track_operator_restarts_total{{{IN_NAMESPACE}}}[24h]))")],
        width=6,
        height=4,
        thresholds=[(None, "green"), (1, "orange"), (10, "red")],
    ),
    Panel(
        "Recurring failure patterns",
        "stat",
        [Target(f"sum(track_operator_recurring_patterns{{{IN_NAMESPACE}}})")],
        width=6,
        height=4,
        thresholds=[(None, "green"), (1, "red")],
    ),
    Panel(
        "Detection latency p95",
        "stat",
        [
            Target(
                "histogram_quantile(0.95, sum by (le) "
                f"(rate(track_operator_detection_latency_seconds_bucket[{RATE}])))"
            )
        ],
        description="Time from a container's finish to the operator recording it.",
        unit="s",
        width=6,
        height=4,
    ),
    Panel(
        "Crash to ready p95",
        "stat",
        [
            Target(
                "histogram_quantile(0.95, sum by (le) "
                f"(rate(track_operator_recovery_seconds_bucket{{{IN_NAMESPACE}}}[{RATE}])))"
            )
        ],
        description="Time from a container's finish until its pod is Ready again.",
        unit="s",
        width=6,
        height=4,
    ),
    Panel(
        "Restarts by workload and reason",
        "timeseries",
        [
            Target(
                "sum by (namespace, workload, reason) "
                f"(increase(track_operator_restarts_total{{{IN_NAMESPACE}}}[{RATE}]))",
                "{{namespace}}/{{workload}} {{reason}}",
            )
        ],
        width=24,
    ),
    Panel(
        "Failure patterns",
        "table",
        [
            Target(
                "sum by (namespace, workload, signature, location) "
                f"(track_operator_pattern_occurrences_total{{{IN_NAMESPACE}}})",
                instant=True,
            ),
            # The last 1-minute step in 7 days in which the counter grew or first appeared,
            # in milliseconds for Grafana's date unit.
            Target(
                "1000 * max by (namespace, workload, signature, location) (last_over_time("
                f"timestamp((changes({PATTERNS}[5m]) > 0) or ({PATTERNS} unless {PATTERNS} offset 5m))"
                "[7d:1m]))",
                instant=True,
            ),
        ],
        description=(
            "Occurrences per crash signature. The location column is filled when the operator "
            "labels the series with it; kubectl get failurepatterns -o wide always shows it."
        ),
        width=24,
        height=9,
        extra={
            "transformations": [
                {"id": "merge", "options": {}},
                {
                    "id": "organize",
                    "options": {
                        "excludeByName": {"Time": True},
                        "renameByName": {
                            "Value #A": "Occurrences",
                            "Value #B": "Last seen",
                            "namespace": "Namespace",
                            "workload": "Workload",
                            "signature": "Signature",
                            "location": "Location",
                        },
                    },
                },
                {"id": "sortBy", "options": {"sort": [{"field": "Last seen", "desc": True}]}},
            ],
            "fieldConfig": {
                "defaults": {"unit": "short"},
                "overrides": [
                    {
                        "matcher": {"id": "byName", "options": "Last seen"},
                        "properties": [{"id": "unit", "value": "dateTimeAsIso"}],
                    }
                ],
            },
        },
    ),
    Panel(
        "Detection latency",
        "timeseries",
        [
            Target(
                f"histogram_quantile({q}, sum by (le) "
                f"(rate(track_operator_detection_latency_seconds_bucket[{RATE}])))",
                f"p{round(q * 100)}",
            )
            for q in (0.5, 0.95)
        ],
        unit="s",
        width=8,
    ),
    Panel(
        "Crash to ready by workload",
        "timeseries",
        [
            Target(
                f"histogram_quantile({q}, sum by (workload, le) "
                f"(rate(track_operator_recovery_seconds_bucket{{{IN_NAMESPACE}}}[{RATE}])))",
                f"p{round(q * 100)} {{{{workload}}}}",
            )
            for q in (0.5, 0.95)
        ],
        unit="s",
        width=8,
    ),
    Panel(
        "Workload pods ready",
        "timeseries",
        [
            Target(
                f"sum by (namespace, workload) (track_operator_workload_pods_ready{{{IN_NAMESPACE}}})",
                "ready {{namespace}}/{{workload}}",
            ),
            Target(
                f"sum by (namespace, workload) (track_operator_workload_pods{{{IN_NAMESPACE}}})",
                "pods {{namespace}}/{{workload}}",
            ),
        ],
        width=8,
    ),
    Panel(
        "Unhandled errors by signature",
        "timeseries",
        [
            Target(
                f"sum by (signature) (increase(track_unhandled_errors_total{{{IN_NAMESPACE}}}[{RATE}]))",
                "{{signature}}",
            )
        ],
    ),
    Panel(
        "Browser errors by signature",
        "timeseries",
        [
            Target(
                f"sum by (signature) (increase(track_client_errors_total{{{IN_NAMESPACE}}}[{RATE}]))",
                "{{signature}}",
            )
        ],
    ),
    Panel(
        "Operator health",
        "timeseries",
        [
            Target('up{job="track-operator"}', "up {{instance}}"),
            Target(
                f"sum by (operation) (increase(track_operator_api_errors_total[{RATE}]))",
                "API errors {{operation}}",
            ),
            Target(
                f"sum(increase(track_operator_watch_reconnects_total[{RATE}]))",
                "watch reconnects",
            ),
            Target(
                f"sum by (reason) (increase(track_operator_events_total[{RATE}]))",
                "events {{reason}}",
            ),
        ],
        width=24,
    ),
]

RATE_LIMITS = [
    Panel(
        "Rate-limited requests per second",
        "stat",
        [Target(f"sum(rate(track_rate_limited_total{{{IN_NAMESPACE}}}[{RATE}]))")],
        unit="reqps",
        width=6,
        height=4,
    ),
    Panel(
        "Rate-limited ratio",
        "stat",
        [
            Target(
                f"sum(rate(track_rate_limited_total{{{IN_NAMESPACE}}}[{RATE}]))"
                f" / sum(rate(track_http_requests_total{{{IN_NAMESPACE}}}[{RATE}]))"
            )
        ],
        unit="percentunit",
        width=6,
        height=4,
        thresholds=[(None, "green"), (0.05, "orange"), (0.1, "red")],
    ),
    Panel(
        "Limited users, last 5 minutes",
        "stat",
        [Target(f"max(track_rate_limited_users{{{IN_NAMESPACE}}})")],
        description="Distinct users limited in the last 5 minutes, the largest count of any pod.",
        width=6,
        height=4,
    ),
    Panel(
        "Storage errors, 1 hour",
        "stat",
        [Target(f"sum(increase(track_rate_limit_storage_errors_total{{{IN_NAMESPACE}}}[1h]))")],
        description="Failed calls to the rate-limit storage (Redis).",
        width=6,
        height=4,
        thresholds=[(None, "green"), (1, "red")],
    ),
    Panel(
        "429 responses by route",
        "timeseries",
        [
            Target(
                f"sum by (route) (rate(track_rate_limited_total{{{IN_NAMESPACE}}}[{RATE}]))",
                "{{route}}",
            )
        ],
        unit="reqps",
    ),
    Panel(
        "Rate-limited ratio by route",
        "timeseries",
        [
            Target(
                f"sum by (route) (rate(track_rate_limited_total{{{IN_NAMESPACE}}}[{RATE}]))"
                f" / sum by (route) (rate(track_http_requests_total{{{IN_NAMESPACE}}}[{RATE}]))",
                "{{route}}",
            )
        ],
        unit="percentunit",
    ),
    Panel(
        "Limited users by pod",
        "timeseries",
        [Target(f"max by (instance) (track_rate_limited_users{{{IN_NAMESPACE}}})", "{{instance}}")],
    ),
    Panel(
        "Storage errors by pod",
        "timeseries",
        [
            Target(
                "sum by (instance) "
                f"(increase(track_rate_limit_storage_errors_total{{{IN_NAMESPACE}}}[{RATE}]))",
                "{{instance}}",
            )
        ],
    ),
]

DASHBOARDS = {
    "track-service-overview": ("Track / Service overview", SERVICE_OVERVIEW),
    "track-recovery": ("Track / Recovery", RECOVERY),
    "track-rate-limits": ("Track / Rate limits", RATE_LIMITS),
}


def build_thresholds(steps: list[tuple[float | None, str]]) -> dict:
    return {
        "mode": "absolute",
        "steps": [{"color": colour, "value": value} for value, colour in steps],
    }


def build_panel(panel: Panel, panel_id: int, x: int, y: int) -> dict:
    targets = []
    for index, target in enumerate(panel.targets):
        targets.append(
            {
                "datasource": DATASOURCE,
                "expr": target.expr,
                "legendFormat": target.legend or "__auto",
                "instant": target.instant,
                "range": not target.instant,
                "format": "table" if target.instant else "time_series",
                "refId": chr(ord("A") + index),
            }
        )

    defaults: dict = {"unit": panel.unit}
    if panel.thresholds:
        defaults["thresholds"] = build_thresholds(panel.thresholds)
        defaults["color"] = {"mode": "thresholds"}
    result = {
        "id": panel_id,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": panel.width, "h": panel.height},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {},
        "targets": targets,
    }
    if panel.kind == "stat":
        result["options"] = {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "value"}
    elif panel.kind == "timeseries":
        result["options"] = {"legend": {"displayMode": "table", "placement": "bottom"}}
    result.update(panel.extra)
    return result


def build_layout(panels: list[Panel]) -> list[dict]:
    """Place panels left to right in rows 24 units wide, as Grafana's grid expects."""
    built = []
    x = y = row_height = 0
    for panel_id, panel in enumerate(panels, start=1):
        if x + panel.width > 24:
            x, y, row_height = 0, y + row_height, 0
        built.append(build_panel(panel, panel_id, x, y))
        x += panel.width
        row_height = max(row_height, panel.height)
    return built


def build_variables() -> list[dict]:
    return [
        {
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
            "refresh": 1,
        },
        {
            "name": "namespace",
            "label": "Namespace",
            "type": "query",
            "datasource": DATASOURCE,
            "query": {"query": "label_values(track_build_info, namespace)", "refId": "namespace"},
            "definition": "label_values(track_build_info, namespace)",
            "includeAll": True,
            "multi": True,
            # Matches series without a namespace label too (a stand-alone Prometheus).
            "allValue": ".*",
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
            "refresh": 2,
            "sort": 1,
            "hide": 0,
        },
        {
            "name": "slo",
            "label": "Availability SLO",
            "type": "custom",
            "query": "0.995,0.999,0.99",
            "current": {"selected": True, "text": "0.995", "value": "0.995"},
            "options": [],
            "hide": 0,
        },
    ]


def build_dashboard(uid: str, title: str, panels: list[Panel]) -> dict:
    return {
        "uid": uid,
        "title": title,
        "tags": ["track"],
        "timezone": "browser",
        "editable": True,
        "graphTooltip": 1,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": build_variables()},
        "annotations": {"list": []},
        "links": [
            {
                "type": "dashboards",
                "tags": ["track"],
                "asDropdown": True,
                "title": "Track dashboards",
            }
        ],
        "panels": build_layout(panels),
    }


def render_all() -> dict[Path, str]:
    """Return the text of every dashboard file, keyed by its path."""
    files = {}
    for uid, (title, panels) in DASHBOARDS.items():
        text = json.dumps(build_dashboard(uid, title, panels), indent=2) + "\n"
        files[DASHBOARD_DIR / f"{uid}.json"] = text
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 when a committed file differs"
    )
    args = parser.parse_args()

    stale = []
    for path, text in render_all().items():
        if path.exists() and path.read_text() == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    for path in stale:
        verb = "differs" if args.check else "written"
        print(f"{path.relative_to(ROOT)}: {verb}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
