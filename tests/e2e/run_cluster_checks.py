"""The operator's checks against a real cluster, using a crashing Track pod.

Not collected by pytest (the file name does not start with ``test_``): run it
by hand or from a cluster CI job, with KUBECONFIG pointing at a cluster where
the Track chart is installed with the operator and TRACK_FAULT_INJECTION=1:

    KUBECONFIG=~/.kube/config TRACK_E2E_NAMESPACE=track \\
    TRACK_E2E_ADMIN_TOKEN=... python tests/e2e/run_cluster_checks.py

It port-forwards to one Track pod through kubectl, asks the fault-drill
endpoint for a crash three times, and checks the FailurePattern (3
occurrences, Recurring), the RecurringFailure Event, and that the pod carries
no operator finalizer or annotation. Exits 0 on success, 1 on a failed check,
and 2 when KUBECONFIG is unset.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request

NAMESPACE = os.environ.get("TRACK_E2E_NAMESPACE", "track")
SELECTOR = os.environ.get("TRACK_E2E_SELECTOR", "app.kubernetes.io/name=track")
TOKEN = os.environ.get("TRACK_E2E_ADMIN_TOKEN", "")
LOCAL_PORT = int(os.environ.get("TRACK_E2E_LOCAL_PORT", "18000"))


def kubectl(*args: str) -> dict:
    output = subprocess.run(
        ["kubectl", "-n", NAMESPACE, *args, "-o", "json"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    return json.loads(output)


def wait(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(1)
    raise SystemExit(f"FAILED: timed out after {timeout} s waiting for {what}")


def crash_once(pod: str) -> None:
    forward = subprocess.Popen(
        ["kubectl", "-n", NAMESPACE, "port-forward", f"pod/{pod}", f"{LOCAL_PORT}:8000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        time.sleep(2)  # port-forward has no readiness signal; a request retries below
        request = urllib.request.Request(
            f"http://127.0.0.1:{LOCAL_PORT}/api/v1/admin/faults",
            data=json.dumps({"kind": "crash"}).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"},
        )
        for _ in range(5):
            try:
                urllib.request.urlopen(request, timeout=5)
            except OSError:
                break  # the process died mid-request: that is the crash
            time.sleep(1)
    finally:
        forward.terminate()
        forward.wait(timeout=10)


def restart_count(pod: str) -> int:
    statuses = kubectl("get", "pod", pod)["status"].get("containerStatuses") or []
    return sum(s.get("restartCount", 0) for s in statuses)


def main() -> int:
    if not os.environ.get("KUBECONFIG"):
        print("KUBECONFIG is not set; nothing to check", file=sys.stderr)
        return 2
    pods = kubectl("get", "pods", "-l", SELECTOR)["items"]
    if not pods:
        print(f"FAILED: no pod with {SELECTOR} in namespace {NAMESPACE}", file=sys.stderr)
        return 1
    pod = pods[0]["metadata"]["name"]
    for _ in range(3):
        before = restart_count(pod)
        crash_once(pod)
        wait(lambda b=before: restart_count(pod) > b, 120, "the container restart")
        wait(
            lambda: kubectl("get", "pod", pod)["status"]["containerStatuses"][0].get("ready"),
            180,
            "the pod to be Ready again",
        )

    def recurring():
        for item in kubectl("get", "failurepatterns")["items"]:
            status = item.get("status") or {}
            if status.get("kind") == "CrashReport" and status.get("occurrences", 0) >= 3:
                return item
        return None

    pattern = wait(recurring, 60, "a FailurePattern with 3 occurrences")
    checks = {
        "state is Recurring": pattern["status"]["state"] == "Recurring",
        "location names the fault drill": "admin" in pattern["status"].get("location", ""),
        "RecurringFailure Event exists": any(
            e["reason"] == "RecurringFailure" for e in kubectl("get", "events")["items"]
        ),
        "pod has no finalizers": not kubectl("get", "pod", pod)["metadata"].get("finalizers"),
    }
    for name, ok in checks.items():
        print(("ok      " if ok else "FAILED  ") + name)
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
