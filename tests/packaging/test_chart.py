"""The Helm chart: lint, render every ci/ value set, validate the objects, check the defaults."""

import json
import re

import kubernetes_validate
import pytest
import yaml

from tests.packaging.conftest import (
    CHART,
    CI_VALUES,
    GRAFANA,
    find,
    only,
    render,
    run_helm,
)

pytestmark = pytest.mark.helm

CI_IDS = [path.stem for path in CI_VALUES]
# Oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and a current one.
KUBERNETES_VERSIONS = ["1.29.0", "1.35.0"]
# Kinds from CRDs, which kubernetes-validate has no schema for; other tests check them.
CUSTOM_KINDS = {"ServiceMonitor", "PrometheusRule", "FailurePattern"}
WORKLOAD_KINDS = {"Deployment", "StatefulSet"}
PROBE_PATHS = {
    "startupProbe": "/healthz/startup",
    "livenessProbe": "/healthz/live",
    "readinessProbe": "/healthz/ready",
}


def pod_specs(objects: list[dict]) -> list[tuple[str, dict]]:
    specs = [
        (f"{obj['kind']}/{obj['metadata']['name']}", obj["spec"]["template"]["spec"])
        for obj in objects
        if obj["kind"] in WORKLOAD_KINDS
    ]
    specs += [(f"Pod/{obj['metadata']['name']}", obj["spec"]) for obj in find(objects, "Pod")]
    return specs


def all_containers(objects: list[dict]) -> list[tuple[str, dict]]:
    containers = []
    for owner, spec in pod_specs(objects):
        for container in spec.get("initContainers", []) + spec["containers"]:
            containers.append((f"{owner}/{container['name']}", container))
    return containers


def server_container(objects: list[dict]) -> dict:
    deployment = only(objects, "Deployment", "track")
    return deployment["spec"]["template"]["spec"]["containers"][0]


def env_of(container: dict) -> dict[str, dict]:
    return {item["name"]: item for item in container["env"]}


# Lint and render every scenario.


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_lint_ci_values(helm, values):
    result = run_helm(helm, "lint", str(CHART), "--strict", "-f", str(values))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_rendered_objects_validate(helm, values, version):
    objects = render(helm, values)
    assert objects, "helm template rendered nothing"
    errors = []
    for obj in objects:
        if obj["kind"] in CUSTOM_KINDS:
            continue
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            errors.append(f"{obj['kind']}/{obj['metadata']['name']}: {error.message}")
    assert errors == []


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_object_names_fit_dns_labels(helm, values):
    for obj in render(helm, values):
        name = obj["metadata"]["name"]
        assert len(name) <= 63, name


# Defaults: replicas, rollout, probes, shutdown and security.


def test_default_replicas_at_least_two(helm):
    deployment = only(render(helm), "Deployment", "track")
    assert deployment["spec"]["replicas"] >= 2


def test_default_rollout_keeps_capacity(helm):
    strategy = only(render(helm), "Deployment", "track")["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0


def test_probes_use_health_endpoints(helm):
    container = server_container(render(helm))
    for probe, path in PROBE_PATHS.items():
        assert container[probe]["httpGet"]["path"] == path, probe
        assert container[probe]["httpGet"]["port"] == "http", probe
        assert container[probe]["timeoutSeconds"] >= 3, probe


def test_termination_message_falls_back_to_logs(helm):
    container = server_container(render(helm))
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"
    assert (
        env_of(container)["TRACK_TERMINATION_LOG"]["value"] == container["terminationMessagePath"]
    )


def test_grace_period_exceeds_drain(helm):
    deployment = only(render(helm), "Deployment", "track")
    pod = deployment["spec"]["template"]["spec"]
    container = pod["containers"][0]
    env = env_of(container)
    pre_stop = int(container["lifecycle"]["preStop"]["exec"]["command"][1])
    drain = int(env["TRACK_DRAIN_SECONDS"]["value"])
    grace = int(env["TRACK_GRACE_SECONDS"]["value"])
    assert pre_stop > 0
    assert pod["terminationGracePeriodSeconds"] > pre_stop + drain + grace


def test_short_grace_period_fails(helm):
    result = run_helm(
        helm, "template", "track", str(CHART), "--set", "terminationGracePeriodSeconds=20"
    )
    assert result.returncode != 0
    assert "terminationGracePeriodSeconds (20) must exceed" in result.stderr


def test_server_spreads_across_nodes(helm):
    pod = only(render(helm), "Deployment", "track")["spec"]["template"]["spec"]
    constraint = pod["topologySpreadConstraints"][0]
    assert constraint["topologyKey"] == "kubernetes.io/hostname"
    assert constraint["labelSelector"]["matchLabels"]["app.kubernetes.io/component"] == "server"


def test_pod_disruption_budget_selects_server(helm):
    objects = render(helm)
    budget = only(objects, "PodDisruptionBudget")
    deployment = only(objects, "Deployment", "track")
    assert budget["spec"]["minAvailable"] == 1
    assert budget["spec"]["selector"] == deployment["spec"]["selector"]


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_pods_run_restricted(helm, values):
    for owner, spec in pod_specs(render(helm, values)):
        pod_context = spec["securityContext"]
        assert pod_context["runAsNonRoot"] is True, owner
        assert pod_context["seccompProfile"]["type"] == "RuntimeDefault", owner


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_containers_run_restricted(helm, values):
    for owner, container in all_containers(render(helm, values)):
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True, owner
        assert context["allowPrivilegeEscalation"] is False, owner
        assert context["capabilities"]["drop"] == ["ALL"], owner
        assert "memory" in container["resources"]["limits"], owner


@pytest.mark.parametrize("values", CI_VALUES, ids=CI_IDS)
def test_images_pinned(helm, values):
    for owner, container in all_containers(render(helm, values)):
        image = container["image"]
        pinned = re.fullmatch(r"[^:@]+(:[\w][\w.-]*|@sha256:[0-9a-f]{64})", image)
        assert pinned, f"{owner}: image {image!r} has no tag or digest"
        assert not image.endswith(":latest"), owner


def test_migrations_run_in_init_container(helm):
    pod = only(render(helm), "Deployment", "track")["spec"]["template"]["spec"]
    assert [c["name"] for c in pod["initContainers"]] == ["migrate"]
    assert pod["initContainers"][0]["command"] == ["track", "migrate"]
    assert not any(
        "helm.sh/hook" in obj["metadata"].get("annotations", {})
        for obj in render(helm)
        if obj["kind"] != "Pod"
    )


# Databases and secrets.


def test_default_bundles_postgresql_and_redis(helm):
    objects = render(helm)
    env = env_of(server_container(objects))
    assert only(objects, "StatefulSet", "track-postgresql")
    assert only(objects, "StatefulSet", "track-redis")
    assert "@track-postgresql:5432/track" in env["TRACK_DATABASE_URL"]["value"]
    assert env["TRACK_RATE_LIMIT_STORAGE"]["value"] == "redis://track-redis:6379/0"
    secret = only(objects, "Secret", "track")
    assert set(secret["data"]) == {"secret-key", "postgresql-password"}


def test_bundled_databases_use_volume_claims(helm):
    objects = render(helm)
    for name in ("track-postgresql", "track-redis"):
        claims = only(objects, "StatefulSet", name)["spec"]["volumeClaimTemplates"]
        assert claims[0]["spec"]["resources"]["requests"]["storage"], name


def test_generated_secret_kept_on_uninstall(helm):
    secret = only(render(helm), "Secret", "track")
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert len(secret["data"]["secret-key"]) >= 44  # 32+ characters, base64-encoded


def test_external_databases_replace_bundled(helm):
    objects = render(helm, CHART / "ci" / "external-values.yaml")
    env = env_of(server_container(objects))
    assert find(objects, "StatefulSet") == []
    assert env["TRACK_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "track-database",
        "key": "database-url",
    }
    assert env["TRACK_SECRET_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "track-secret-key"
    assert env["TRACK_RATE_LIMIT_STORAGE"]["valueFrom"]["secretKeyRef"] == {
        "name": "track",
        "key": "redis-url",
    }
    assert set(only(objects, "Secret", "track")["data"]) == {"redis-url"}


def test_external_values_enable_autoscaling(helm):
    objects = render(helm, CHART / "ci" / "external-values.yaml")
    deployment = only(objects, "Deployment", "track")
    autoscaler = only(objects, "HorizontalPodAutoscaler")
    assert "replicas" not in deployment["spec"]
    assert autoscaler["spec"]["minReplicas"] == 3
    assert len(find(objects, "NetworkPolicy")) == 1


@pytest.mark.parametrize(
    "sets",
    [
        pytest.param(["redis.enabled=false"], id="replicas"),
        pytest.param(
            ["redis.enabled=false", "replicaCount=1", "autoscaling.enabled=true"],
            id="autoscaling",
        ),
    ],
)
def test_replicas_without_shared_storage_fail(helm, sets):
    args = ["template", "track", str(CHART)]
    for item in sets:
        args += ["--set", item]
    result = run_helm(helm, *args)
    assert result.returncode != 0
    assert "needs shared rate-limit storage" in result.stderr
    assert "externalRedis.url" in result.stderr


def test_single_replica_without_redis_uses_memory(helm):
    objects = render(helm, None, "redis.enabled=false", "replicaCount=1")
    env = env_of(server_container(objects))
    assert env["TRACK_RATE_LIMIT_STORAGE"]["value"] == "memory://"
    assert find(objects, "StatefulSet", "track-redis") == []


def test_missing_database_fails(helm):
    result = run_helm(helm, "template", "track", str(CHART), "--set", "postgresql.enabled=false")
    assert result.returncode != 0
    assert "no database configured" in result.stderr


def test_network_policies_guard_bundled_databases(helm):
    objects = render(helm, None, "networkPolicy.enabled=true")
    policies = {obj["metadata"]["name"]: obj for obj in find(objects, "NetworkPolicy")}
    assert set(policies) == {"track", "track-postgresql", "track-redis"}
    peer = policies["track-postgresql"]["spec"]["ingress"][0]["from"][0]
    assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "server"


# Ingress.


def test_ingress_with_tls(helm):
    objects = render(helm, CHART / "ci" / "ingress-tls-values.yaml")
    ingress = only(objects, "Ingress")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    assert ingress["spec"]["tls"] == [{"secretName": "track-tls", "hosts": ["track.example.com"]}]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "track", "port": {"name": "http"}}
    env = env_of(server_container(objects))
    assert env["TRACK_TRUSTED_PROXIES"]["value"] == "10.0.0.0/8"


# Operator.


def test_operator_namespaced_by_default(helm):
    objects = render(helm)
    operator = only(objects, "Deployment", "track-operator")
    env = env_of(operator["spec"]["template"]["spec"]["containers"][0])
    assert env["TRACK_OPERATOR_NAMESPACES"]["value"] == "track"
    assert "TRACK_OPERATOR_CLUSTER_WIDE" not in env
    role = only(objects, "Role", "track-operator")
    assert any("pods" in rule["resources"] for rule in role["rules"])
    assert find(objects, "ClusterRole") == []
    assert find(objects, "ClusterRoleBinding") == []


def test_operator_watch_namespaces_get_roles(helm):
    objects = render(helm, CHART / "ci" / "operator-namespaces-values.yaml")
    roles = find(objects, "Role", "track-operator")
    bindings = find(objects, "RoleBinding", "track-operator")
    assert sorted(role["metadata"]["namespace"] for role in roles) == ["team-a", "team-b"]
    assert sorted(b["metadata"]["namespace"] for b in bindings) == ["team-a", "team-b"]
    for binding in bindings:
        assert binding["subjects"][0]["namespace"] == "track"


def test_operator_cluster_wide(helm):
    objects = render(helm, CHART / "ci" / "operator-cluster-values.yaml")
    operator = only(objects, "Deployment", "track-operator")
    env = env_of(operator["spec"]["template"]["spec"]["containers"][0])
    assert env["TRACK_OPERATOR_CLUSTER_WIDE"]["value"] == "1"
    assert find(objects, "Role") == []
    cluster_role = only(objects, "ClusterRole", "track-operator")
    assert any("pods" in rule["resources"] for rule in cluster_role["rules"])
    binding = only(objects, "ClusterRoleBinding", "track-operator")
    assert binding["subjects"][0]["name"] == "track-operator"


def test_operator_metrics_service(helm):
    objects = render(helm)
    service = only(objects, "Service", "track-operator-metrics")
    operator = only(objects, "Deployment", "track-operator")
    ports = operator["spec"]["template"]["spec"]["containers"][0]["ports"]
    assert service["spec"]["ports"][0]["targetPort"] == "metrics"
    assert {"name": "metrics", "containerPort": 9090, "protocol": "TCP"} in ports


def test_crd_shipped_in_crds_directory(helm):
    objects = render(helm)
    crd = only(objects, "CustomResourceDefinition")
    assert crd["metadata"]["name"] == "failurepatterns.track.dev"


# Monitoring.


def test_monitoring_off_by_default(helm):
    objects = render(helm)
    assert find(objects, "ServiceMonitor") == []
    assert find(objects, "PrometheusRule") == []
    assert find(objects, "ConfigMap") == []


def test_service_monitors_match_services(helm):
    objects = render(helm, CHART / "ci" / "monitoring-values.yaml")
    services = find(objects, "Service")
    monitors = find(objects, "ServiceMonitor")
    assert len(monitors) == 2
    for monitor in monitors:
        selector = monitor["spec"]["selector"]["matchLabels"]
        matched = [s for s in services if selector.items() <= s["metadata"]["labels"].items()]
        assert len(matched) == 1, monitor["metadata"]["name"]
        port_names = {port["name"] for port in matched[0]["spec"]["ports"]}
        assert monitor["spec"]["endpoints"][0]["port"] in port_names
        assert monitor["spec"]["jobLabel"] in matched[0]["metadata"]["labels"]
        assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"


def test_service_monitor_job_names(helm):
    objects = render(helm, CHART / "ci" / "monitoring-values.yaml")
    jobs = {
        only(objects, "Service", name)["metadata"]["labels"]["track.dev/job"]
        for name in ("track", "track-operator-metrics")
    }
    assert jobs == {"track", "track-operator"}


def test_prometheus_rule_holds_alert_rules(helm):
    objects = render(helm, CHART / "ci" / "monitoring-values.yaml")
    rule = only(objects, "PrometheusRule")
    source = yaml.safe_load((GRAFANA / "alerts" / "track-alerts.yaml").read_text())
    assert rule["spec"] == source


def test_prometheus_rule_without_operator(helm):
    values = CHART / "ci" / "monitoring-values.yaml"
    objects = render(helm, values, "operator.enabled=false")
    rules = only(objects, "PrometheusRule")["spec"]["groups"][0]["rules"]
    alerts = [r["alert"] for r in rules]
    assert "TrackOperatorDown" not in alerts
    assert "TrackHighErrorRatio" in alerts


def test_dashboard_config_maps(helm):
    objects = render(helm, CHART / "ci" / "monitoring-values.yaml")
    maps = find(objects, "ConfigMap")
    expected = {path.name: path for path in (GRAFANA / "dashboards").glob("*.json")}
    found = {}
    for config_map in maps:
        assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
        assert config_map["metadata"]["annotations"]["grafana_folder"] == "Track"
        found.update(config_map["data"])
    assert set(found) == set(expected)
    for name, text in found.items():
        assert json.loads(text) == json.loads(expected[name].read_text()), name
