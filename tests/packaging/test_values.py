"""values.yaml and values.schema.json: wrong types and unknown keys fail, every value has a comment."""

import json

import jsonschema
import pytest
import yaml

from tests.packaging.conftest import CHART, run_helm

SCHEMA = json.loads((CHART / "values.schema.json").read_text())
VALUES_TEXT = (CHART / "values.yaml").read_text()


def test_defaults_match_schema():
    jsonschema.validate(yaml.safe_load(VALUES_TEXT), SCHEMA)


@pytest.mark.parametrize(
    "override",
    [
        pytest.param({"replicaCount": "2"}, id="string-replicas"),
        pytest.param({"replicaCount": 0}, id="zero-replicas"),
        pytest.param({"unknownKey": 1}, id="unknown-top-level"),
        pytest.param({"ingress": {"enabled": True, "tlsSecret": "x"}}, id="unknown-nested"),
        pytest.param({"image": {"tag": "latest"}}, id="latest-tag"),
        pytest.param({"image": {"digest": "abc"}}, id="bad-digest"),
        pytest.param({"secretKey": {"value": "too-short"}}, id="short-secret-key"),
        pytest.param({"config": {"logLevel": "LOUD"}}, id="bad-log-level"),
        pytest.param({"operator": {"clusterWide": "yes"}}, id="string-boolean"),
        pytest.param({"postgresql": {"password": "p@ss/word"}}, id="password-not-url-safe"),
        pytest.param({"monitoring": {"serviceMonitor": {"interval": 30}}}, id="number-interval"),
    ],
)
def test_schema_rejects(override):
    values = yaml.safe_load(VALUES_TEXT)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(values, SCHEMA)


@pytest.mark.helm
def test_helm_applies_schema(helm):
    result = run_helm(helm, "template", "track", str(CHART), "--set", "unknownKey=1")
    assert result.returncode != 0
    assert "unknownKey" in result.stderr


def schema_leaf_paths(schema: dict, prefix: tuple = ()) -> list[tuple]:
    """Return the paths of values the chart defines: nested keys down to free-form objects."""
    paths = []
    for key, child in schema.get("properties", {}).items():
        path = (*prefix, key)
        paths.append(path)
        if child.get("additionalProperties") is False:
            paths += schema_leaf_paths(child, path)
    return paths


def commented_paths(text: str) -> set[tuple]:
    """Return the key paths in values.yaml whose line follows a comment line."""
    found = set()
    stack: list[tuple[int, str]] = []
    previous = ""
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            previous = ""
            continue
        if stripped.startswith("#") or stripped.startswith("-") or ":" not in stripped:
            previous = stripped
            continue
        indent = len(line) - len(line.lstrip())
        key = stripped.split(":", 1)[0]
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, key))
        if previous.startswith("#"):
            found.add(tuple(k for _, k in stack))
        previous = stripped
    return found


def test_every_value_commented():
    commented = commented_paths(VALUES_TEXT)
    # A value needs a comment unless it only groups other values.
    needing = [
        path for path in schema_leaf_paths(SCHEMA) if path[0] != "global" and not _is_group(path)
    ]
    uncommented = [".".join(path) for path in needing if path not in commented]
    assert uncommented == []


def _is_group(path: tuple) -> bool:
    node = SCHEMA
    for key in path:
        node = node["properties"][key]
    return node.get("additionalProperties") is False


def test_every_value_in_schema():
    def keys(values: dict, prefix: tuple = ()) -> list[tuple]:
        result = []
        for key, value in values.items():
            result.append((*prefix, key))
            if isinstance(value, dict):
                result += keys(value, (*prefix, key))
        return result

    known = set(schema_leaf_paths(SCHEMA))
    defaults = yaml.safe_load(VALUES_TEXT)
    free_form = {p for p in known if not _is_group(p)}
    for path in keys(defaults):
        inside_free_form = any(path[: len(f)] == f and len(path) > len(f) for f in free_form)
        assert inside_free_form or path in known, ".".join(path)
