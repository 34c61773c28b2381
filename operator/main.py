"""The ``track-operator`` console script: ``kopf run`` with arguments from the environment."""

from __future__ import annotations

import os
import sys

import kopf.cli
from track_operator.config import ConfigError, Settings


def build_arguments(settings: Settings) -> list[str]:
    """Return the `kopf run` arguments for the given settings."""
    arguments = [
        "run",
        "-m",
        "track_operator",
        "--liveness",
        f"http://0.0.0.0:{settings.health_port}/healthz",
    ]
    if os.environ.get("TRACK_OPERATOR_STANDALONE", "").strip() in {"1", "true", "yes"}:
        arguments.append("--standalone")
    else:
        arguments += ["--peering", settings.peering, "--priority", str(settings.priority)]
    if settings.cluster_wide:
        arguments.append("--all-namespaces")
    else:
        for namespace in settings.namespaces:
            arguments += ["--namespace", namespace]
    return arguments


def main(argv: list[str] | None = None) -> None:
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        print(f"track-operator: {error}", file=sys.stderr)
        sys.exit(2)
    arguments = build_arguments(settings) + list(argv if argv is not None else sys.argv[1:])
    kopf.cli.main(args=arguments, prog_name="track-operator")


if __name__ == "__main__":
    main()
