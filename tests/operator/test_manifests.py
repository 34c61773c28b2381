"""The CRD and RBAC manifests against Kubernetes schemas; samples against the CRD schema."""

from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml
from track_operator.patterns import Pattern
from track_operator.signatures import Signature
from track_operator.workloads import Workload

MANIFESTS = Path(__file__).resolve().parents[2] / "operator" / "manifests"
KUBERNETES_VERSION = "1.30"


def documents(name):
    return [doc for doc in yaml.safe_load_all((MANIFESTS / name).read_text()) if doc]


@pytest.mark.parametrize("name", ["crd.yaml", "rbac-namespaced.yaml", "rbac-cluster.yaml"])
def test_manifest_valid(name):
    for doc in documents(name):
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_namespaced_rbac_has_no_cluster_objects():
    kinds = {doc["kind"] for doc in documents("rbac-namespaced.yaml")}
    assert "ClusterRole" not in kinds
    assert "ClusterRoleBinding" not in kinds


def test_rbac_never_writes_pods():
    for name in ("rbac-namespaced.yaml", "rbac-cluster.yaml"):
        for doc in documents(name):
            for rule in doc.get("rules", []):
                if "pods" in rule["resources"]:
                    assert set(rule["verbs"]) <= {"get", "list", "watch"}


def sample_pattern():
    workload = Workload("track", "Deployment", "api", "apps/v1", "uid-1")
    signature = Signature(
        signature="3f9a1c2b7d4e",
        kind="CrashReport",
        reason="Error",
        exit_code=1,
        location="app/x.py:f:1",
        route="GET /x",
        exception_type="TypeError",
        example="boom",
    )
    pattern = Pattern(
        namespace="track",
        name="deployment-api-3f9a1c2b7d4e",
        workload=workload,
        signature=signature,
    )
    from track_operator.patterns import CountRecord

    for number in range(1, 4):
        pattern.add(
            finished_at=1_700_000_000.0 + number,
            record=CountRecord(
                "api-1", "pod-uid", "api", number, f"c{number}|t", 1_700_000_000.0 + number
            ),
            threshold=3,
            window=86400,
        )
    return pattern


def test_sample_pattern_matches_crd_schema():
    crd = documents("crd.yaml")[0]
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    pattern = sample_pattern()
    obj = {
        "apiVersion": "track.dev/v1",
        "kind": "FailurePattern",
        "metadata": pattern.metadata(),
        "spec": pattern.spec(),
        "status": pattern.status(),
    }
    jsonschema.validate(obj, schema, format_checker=jsonschema.FormatChecker())
    assert obj["status"]["state"] == "Recurring"


def test_invalid_state_rejected_by_schema():
    crd = documents("crd.yaml")[0]
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    status = sample_pattern().status()
    status["state"] = "Exploded"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"status": status}, schema)


def test_stored_pattern_round_trips():
    pattern = sample_pattern()
    obj = {"metadata": pattern.metadata(), "spec": pattern.spec(), "status": pattern.status()}
    restored = Pattern.from_object(obj)
    assert restored is not None
    assert restored.occurrences == 3
    assert restored.records[("pod-uid", "api")].restart_count == 3
    assert restored.status() == pattern.status()
