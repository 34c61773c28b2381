"""The Dockerfiles, checked without a container engine: stages, user, copied paths, commands."""

import json
import os
import re
import shlex
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.components import ROOT, missing

DOCKERFILES = {
    "service": (ROOT / "Dockerfile", "track"),
    "operator": (ROOT / "operator" / "Dockerfile", "track-operator"),
}
IDS = list(DOCKERFILES)


def instructions(path: Path) -> list[tuple[str, str]]:
    """Return (INSTRUCTION, arguments) pairs, with continuation lines joined."""
    joined = re.sub(r"\\\n", " ", path.read_text())
    result = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, arguments = line.partition(" ")
        result.append((keyword.upper(), arguments.strip()))
    return result


def stages(path: Path) -> list[list[tuple[str, str]]]:
    """Split the instructions into build stages, each starting with its FROM."""
    result: list[list[tuple[str, str]]] = []
    for keyword, arguments in instructions(path):
        if keyword == "FROM":
            result.append([])
        if result:
            result[-1].append((keyword, arguments))
    return result


def console_scripts() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return project["project"]["scripts"]


@pytest.mark.parametrize("name", IDS)
def test_dockerfile_multi_stage(name):
    path, _ = DOCKERFILES[name]
    built = stages(path)
    assert len(built) >= 2
    final = built[-1]
    assert any(k == "COPY" and a.startswith("--from=") for k, a in final)
    # No pip, compiler or package manager runs in the final stage.
    for keyword, arguments in final:
        if keyword == "RUN":
            assert "pip" not in arguments, arguments
            assert "apt-get" not in arguments, arguments


@pytest.mark.parametrize("name", IDS)
def test_base_image_pinned(name):
    path, _ = DOCKERFILES[name]
    args = {
        a.split("=", 1)[0]: a.split("=", 1)[1]
        for k, a in instructions(path)
        if k == "ARG" and "=" in a
    }
    for keyword, arguments in instructions(path):
        if keyword != "FROM":
            continue
        image = arguments.split()[0]
        image = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], image)
        assert re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*", image), image


@pytest.mark.parametrize("name", IDS)
def test_final_user_non_root(name):
    path, _ = DOCKERFILES[name]
    users = [a for k, a in stages(path)[-1] if k == "USER"]
    assert users, "the final stage sets no USER"
    user = users[-1].split(":")[0]
    assert user.isdigit(), "use a numeric USER so runAsNonRoot can verify it"
    assert int(user) != 0


@pytest.mark.parametrize("name", IDS)
def test_copy_sources_exist(name):
    path, _ = DOCKERFILES[name]
    ignored = (ROOT / ".dockerignore").read_text().split()
    for keyword, arguments in instructions(path):
        if keyword != "COPY" or arguments.startswith("--from="):
            continue
        *sources, _destination = shlex.split(arguments)
        for source in sources:
            assert (ROOT / source).exists(), f"COPY source {source} is missing"
            assert source.rstrip("/") not in ignored, f"{source} is in .dockerignore"


@pytest.mark.parametrize("name", IDS)
def test_command_is_console_script(name):
    path, script = DOCKERFILES[name]
    commands = [a for k, a in stages(path)[-1] if k == "CMD"]
    command = json.loads(commands[-1])
    assert command[0] == script
    assert script in console_scripts()


@pytest.mark.parametrize("name", IDS)
def test_console_script_starts(name):
    """The entry point imports and prints its help, as it would as the image's command."""
    _, script = DOCKERFILES[name]
    executable = ROOT / ".venv" / "bin" / script
    if not executable.exists():
        missing(f"{script} is not installed in .venv (pip install -e .)")
    # The operator reads its namespace before kopf parses --help; the chart sets it so.
    env = {**os.environ, "POD_NAMESPACE": "track", "TRACK_OPERATOR_STANDALONE": "1"}
    result = subprocess.run(
        [str(executable), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "usage" in result.stdout.lower()


def test_chart_run_as_user_matches_images():
    values = (ROOT / "charts" / "track" / "values.yaml").read_text()
    assert "runAsUser: 10001" in values
    for path, _ in DOCKERFILES.values():
        assert "USER 10001:10001" in path.read_text()
