"""The FailurePattern CRD: sample objects against its schema, and the chart against the operator."""

import copy
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.components import ROOT, missing
from tests.packaging.conftest import CHART, find, render

CHART_CRD = CHART / "crds" / "failurepatterns.track.dev.yaml"
OPERATOR_MANIFESTS = ROOT / "operator" / "manifests"
SAMPLES = sorted((Path(__file__).parent / "samples").glob("failurepattern-*.yaml"))


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def strict_schema(schema: dict) -> dict:
    """Return a JSON Schema that rejects unknown fields, as kubectl's strict field validation does.

    An apiserver prunes unknown fields of a structural schema instead of rejecting them, unless
    the schema sets x-kubernetes-preserve-unknown-fields.
    """
    schema = copy.deepcopy(schema)
    # Every object carries these; CRD schemas may leave them out.
    for field in ("apiVersion", "kind"):
        schema["properties"].setdefault(field, {"type": "string"})
    schema["properties"].setdefault("metadata", {"type": "object"})

    def visit(node: dict) -> None:
        if not isinstance(node, dict):
            return
        if "properties" in node and not node.get("x-kubernetes-preserve-unknown-fields"):
            node.setdefault("additionalProperties", False)
        for child in node.get("properties", {}).values():
            visit(child)
        if isinstance(node.get("items"), dict):
            visit(node["items"])

    visit(schema)
    return schema


def crd_validator() -> jsonschema.Draft7Validator:
    version = load(CHART_CRD)["spec"]["versions"][0]
    schema = strict_schema(version["schema"]["openAPIV3Schema"])
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


def errors_of(obj: dict) -> list[str]:
    return [error.message for error in crd_validator().iter_errors(obj)]


def test_crd_names_match_contract():
    crd = load(CHART_CRD)
    spec = crd["spec"]
    assert crd["metadata"]["name"] == "failurepatterns.track.dev"
    assert spec["group"] == "track.dev"
    assert spec["scope"] == "Namespaced"
    assert spec["names"]["kind"] == "FailurePattern"
    assert spec["names"]["plural"] == "failurepatterns"
    assert "fp" in spec["names"]["shortNames"]
    versions = {v["name"]: v for v in spec["versions"]}
    assert versions["v1"]["served"] is True
    assert versions["v1"]["storage"] is True
    assert "status" in versions["v1"]["subresources"]


def test_crd_validates_as_kubernetes_object():
    kubernetes_validate.validate(load(CHART_CRD), "1.29.0", strict=True)


@pytest.mark.parametrize("path", SAMPLES, ids=[p.stem for p in SAMPLES])
def test_sample_pattern_valid(path):
    assert errors_of(load(path)) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("state", "Flapping", id="unknown-state"),
        pytest.param("occurrences", -1, id="negative-occurrences"),
        pytest.param("occurrences", "three", id="string-occurrences"),
        pytest.param("exitCode", "1", id="string-exit-code"),
        pytest.param("pods", "track-0", id="pods-not-list"),
        pytest.param("signature", "OOMKilled", id="signature-not-hex"),
        pytest.param("lastSeen", "yesterday", id="bad-timestamp"),
        pytest.param("unknownField", 1, id="unknown-field"),
    ],
)
def test_invalid_pattern_rejected(field, value):
    if field == "lastSeen" and "date-time" not in jsonschema.FormatChecker.checkers:
        missing("jsonschema cannot check date-time here (pip install rfc3339-validator)")
    pattern = load(SAMPLES[0])
    pattern["status"][field] = value
    assert errors_of(pattern) != []


def test_chart_crd_equals_operator_crd():
    operator_crd = OPERATOR_MANIFESTS / "crd.yaml"
    if not operator_crd.exists():
        missing(f"{operator_crd.relative_to(ROOT)} does not exist yet")
    assert load(CHART_CRD) == load(operator_crd)


def rule_triples(rules: list[dict]) -> set[tuple[str, str, str]]:
    """Flatten RBAC rules into (apiGroup, resource, verb) triples, so layouts can differ."""
    triples = set()
    for rule in rules:
        for group in rule.get("apiGroups", []):
            for resource in rule.get("resources", []):
                for verb in rule.get("verbs", []):
                    triples.add((group, resource, verb))
    return triples


def manifest_rules(path: Path) -> set[tuple[str, str, str]]:
    rules = []
    for obj in yaml.safe_load_all(path.read_text()):
        if obj and obj["kind"] in {"Role", "ClusterRole"}:
            rules += obj["rules"]
    return rule_triples(rules)


@pytest.mark.helm
@pytest.mark.parametrize(
    ("manifest", "values"),
    [
        pytest.param("rbac-namespaced.yaml", [], id="namespaced"),
        pytest.param("rbac-cluster.yaml", ["operator.clusterWide=true"], id="cluster"),
    ],
)
def test_chart_rbac_matches_operator(helm, manifest, values):
    path = OPERATOR_MANIFESTS / manifest
    if not path.exists():
        missing(f"{path.relative_to(ROOT)} does not exist yet")
    objects = render(helm, None, *values)
    chart_rules = []
    for kind in ("Role", "ClusterRole"):
        for obj in find(objects, kind, "track-operator"):
            chart_rules += obj["rules"]
    assert rule_triples(chart_rules) == manifest_rules(path)
