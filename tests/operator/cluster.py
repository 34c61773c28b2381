"""A kmock Kubernetes emulator in a background thread, driven from synchronous tests.

The emulator stores objects as plain JSON and merges patches naively (a
list in a patch replaces the whole list), so the tests write every pod
status transition themselves, as the kubelet would.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import datetime
import json
import threading
import time
import urllib.error
import urllib.request
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kmock
import yaml

FP_PATH = "/apis/track.dev/v1/namespaces/{ns}/failurepatterns"


def now_rfc3339(offset: float = 0.0) -> str:
    moment = datetime.datetime.now(tz=datetime.UTC) + datetime.timedelta(seconds=offset)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def wait_for(check: Callable[[], Any], *, timeout: float = 30.0, what: str = "condition") -> Any:
    """Poll `check` until it returns a truthy value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last value {last!r}")


class FakeCluster:
    """kmock's KubernetesEmulator served over HTTP on 127.0.0.1."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._stack = contextlib.AsyncExitStack()
        self.emulator: kmock.KubernetesEmulator | None = None
        self.url = ""

    def start(self) -> None:
        self._thread.start()
        self._call(self._start())

    async def _start(self) -> None:
        emulator = await self._stack.enter_async_context(kmock.KubernetesEmulator())
        server = await self._stack.enter_async_context(kmock.Server(emulator))
        with warnings.catch_warnings():
            # kmock 0.8 reads its bundled resource list with a deprecated importlib call.
            warnings.simplefilter("ignore", DeprecationWarning)
            emulator.resources.load_bundled()
        emulator.resources["track.dev/v1/failurepatterns"] = kmock.ResourceInfo(
            kind="FailurePattern",
            singular="failurepattern",
            namespaced=True,
            shortnames=["fp"],
            subresources=["status"],
            verbs=["get", "list", "watch", "create", "patch", "update", "delete"],
        )
        emulator.resources["kopf.dev/v1/kopfpeerings"] = kmock.ResourceInfo(
            kind="KopfPeering",
            singular="kopfpeering",
            namespaced=True,
            verbs=["get", "list", "watch", "create", "patch", "update", "delete"],
        )
        self.emulator = emulator
        self.url = str(server.url).rstrip("/")

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self._call(self._stack.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()

    def _call(self, coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def write_kubeconfig(self, path: Path) -> Path:
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "kmock", "cluster": {"server": self.url}}],
            "users": [{"name": "kmock", "user": {}}],
            "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": "kmock"}}],
            "current-context": "kmock",
        }
        path.write_text(yaml.safe_dump(config), encoding="utf-8")
        return path

    # -- HTTP -----------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/merge-patch+json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise

    def create(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("POST", path, body)

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("PATCH", path, body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def items(self, path: str) -> list[dict[str, Any]]:
        listing = self.get(path)
        return list(listing.get("items") or []) if listing else []

    # -- direct inspection ----------------------------------------------------------

    def versions(self, resource: str, namespace: str, name: str) -> int:
        """Return how many times an object was written (creation included)."""

        async def count() -> int:
            assert self.emulator is not None
            for (res, ns, obj_name), obj in self.emulator.objects.items():
                if res == kmock.resource(resource) and ns == namespace and obj_name == name:
                    return len([v for v in obj.history if v is not None])
            return 0

        return self._call(count())

    def patterns(self, namespace: str) -> list[dict[str, Any]]:
        return self.items(FP_PATH.format(ns=namespace))

    def events(self, namespace: str, reason: str | None = None) -> list[dict[str, Any]]:
        found = self.items(f"/api/v1/namespaces/{namespace}/events")
        return [e for e in found if reason is None or e.get("reason") == reason]

    def collect_garbage(self, namespace: str) -> None:
        """Delete objects whose owners are all gone, as Kubernetes' garbage collector does."""
        live_uids = set()
        paths = [
            f"/apis/apps/v1/namespaces/{namespace}/deployments",
            f"/apis/apps/v1/namespaces/{namespace}/replicasets",
            f"/apis/apps/v1/namespaces/{namespace}/statefulsets",
            f"/api/v1/namespaces/{namespace}/pods",
        ]
        for path in paths:
            live_uids |= {o["metadata"].get("uid") for o in self.items(path)}
        for path in [*paths, FP_PATH.format(ns=namespace)]:
            for obj in self.items(path):
                owners = obj["metadata"].get("ownerReferences") or []
                if owners and not any(ref["uid"] in live_uids for ref in owners):
                    self.delete(f"{path}/{obj['metadata']['name']}")


class Workloads:
    """Create Deployments, ReplicaSets and pods, and write container restarts like a kubelet."""

    def __init__(self, cluster: FakeCluster, namespace: str) -> None:
        self.cluster = cluster
        self.namespace = namespace
        self.pods: dict[str, dict[str, Any]] = {}

    def deployment(self, name: str) -> dict[str, Any]:
        uid = str(uuid.uuid4())
        deployment = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": self.namespace, "uid": uid},
        }
        self.cluster.create(f"/apis/apps/v1/namespaces/{self.namespace}/deployments", deployment)
        rs_uid = str(uuid.uuid4())
        replicaset = {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{name}-5d8f7c",
                "namespace": self.namespace,
                "uid": rs_uid,
                "ownerReferences": [
                    {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": name,
                        "uid": uid,
                        "controller": True,
                    }
                ],
            },
        }
        self.cluster.create(f"/apis/apps/v1/namespaces/{self.namespace}/replicasets", replicaset)
        return {"deployment": deployment, "replicaset": replicaset}

    def pod(
        self,
        name: str,
        owner: dict[str, Any] | None,
        *,
        containers: tuple[str, ...] = ("api",),
        labels: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "name": name,
            "namespace": self.namespace,
            "uid": str(uuid.uuid4()),
            "labels": labels if labels is not None else {"app.kubernetes.io/part-of": "track"},
        }
        if owner is not None:
            meta["ownerReferences"] = [
                {
                    "apiVersion": owner["apiVersion"],
                    "kind": owner["kind"],
                    "name": owner["metadata"]["name"],
                    "uid": owner["metadata"]["uid"],
                    "controller": True,
                }
            ]
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": meta,
            "spec": {"containers": [{"name": c} for c in containers]},
            "status": {
                "phase": "Running",
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [
                    {
                        "name": c,
                        "restartCount": 0,
                        "ready": True,
                        "containerID": f"containerd://{uuid.uuid4().hex}",
                        "state": {"running": {}},
                    }
                    for c in containers
                ],
            },
        }
        self.cluster.create(f"/api/v1/namespaces/{self.namespace}/pods", pod)
        self.pods[name] = pod
        return pod

    def crash(
        self,
        pod_name: str,
        *,
        container: str = "api",
        message: str | None = None,
        reason: str = "Error",
        exit_code: int = 1,
        restarts: int = 1,
        started_offset: float = -30.0,
    ) -> dict[str, Any]:
        """Record `restarts` restarts of a container; the last one has the given details."""
        pod = self.pods[pod_name]
        status = copy.deepcopy(pod["status"])
        for container_status in status["containerStatuses"]:
            if container_status["name"] != container:
                continue
            terminated: dict[str, Any] = {
                "containerID": container_status["containerID"],
                "exitCode": exit_code,
                "reason": reason,
                "startedAt": now_rfc3339(started_offset),
                "finishedAt": now_rfc3339(),
            }
            if message is not None:
                terminated["message"] = message
            container_status["lastState"] = {"terminated": terminated}
            container_status["restartCount"] += restarts
            container_status["containerID"] = f"containerd://{uuid.uuid4().hex}"
            container_status["state"] = {"running": {"startedAt": now_rfc3339()}}
        pod["status"] = status
        self.write_status(pod_name)
        return pod

    def write_status(self, pod_name: str) -> None:
        pod = self.pods[pod_name]
        path = f"/api/v1/namespaces/{self.namespace}/pods/{pod_name}/status"
        self.cluster.patch(path, {"status": pod["status"]})

    def touch(self, pod_name: str, value: str) -> None:
        """Change an annotation only: a watch event that repeats the same status."""
        path = f"/api/v1/namespaces/{self.namespace}/pods/{pod_name}"
        self.cluster.patch(path, {"metadata": {"annotations": {"test/touch": value}}})


def restarts_counted() -> float:
    """Return how many restarts the in-process operator has counted so far, over all labels."""
    from track_operator.metrics import RESTARTS

    return sum(
        sample.value
        for metric in RESTARTS.collect()
        for sample in metric.samples
        if sample.name.endswith("_total")
    )


def crash_and_wait(workloads: "Workloads", pod_name: str, **details: Any) -> None:
    """Crash a container and wait until the operator has counted it.

    The kubelet keeps only the last termination of a container, so crashes
    written faster than the watch delivers them merge into one, and the
    operator rightly counts the earlier ones under an unknown signature.
    Pacing the crashes the way real restarts are paced keeps each one whole.
    """
    before = restarts_counted()
    workloads.crash(pod_name, **details)
    expected = before + details.get("restarts", 1)
    wait_for(lambda: restarts_counted() >= expected, timeout=30, what="the restart counted")


def crash_report(
    signature: str,
    *,
    exception: str = "RuntimeError",
    location: str = "app/api/admin.py:inject_fault:57",
    route: str = "POST /api/v1/admin/faults",
    message: str = "fault drill: crash requested",
) -> str:
    return json.dumps(
        {
            "track_crash": 1,
            "signature": signature,
            "exception": exception,
            "location": location,
            "route": route,
            "message": message,
        }
    )


@contextlib.contextmanager
def running_cluster() -> Iterator[FakeCluster]:
    cluster = FakeCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
