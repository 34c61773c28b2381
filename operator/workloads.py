"""Resolve the workload that owns a pod: Deployment, StatefulSet, DaemonSet, Job or the pod."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from track_operator.kubeapi import ApiError, ForbiddenError, KubeClient, NotFoundError

logger = logging.getLogger(__name__)

_DIRECT_KINDS = {"StatefulSet", "DaemonSet", "Job", "Deployment", "ReplicaSet"}


@dataclass(frozen=True)
class Workload:
    """The object whose pods share failure patterns; FailurePatterns are owned by it."""

    namespace: str
    kind: str
    name: str
    api_version: str
    uid: str | None

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.kind}/{self.name}"

    @property
    def label(self) -> str:
        """The value of the `workload` metric label, such as "Deployment/api"."""
        return f"{self.kind}/{self.name}"

    def owner_reference(self) -> dict[str, Any] | None:
        if not self.uid:
            return None
        return {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "name": self.name,
            "uid": self.uid,
            "controller": False,
            "blockOwnerDeletion": False,
        }


def _controller(meta: dict[str, Any]) -> dict[str, Any] | None:
    for ref in meta.get("ownerReferences") or []:
        if ref.get("controller"):
            return ref
    return None


class WorkloadResolver:
    """Map pods to workloads, reading each ReplicaSet once.

    A ReplicaSet's owner never changes, so the answer is cached by the
    ReplicaSet's uid. If RBAC forbids reading ReplicaSets, the ReplicaSet
    itself is used as the workload and the problem is logged once.
    """

    def __init__(self, client: KubeClient) -> None:
        self._client = client
        self._replicasets: dict[str, Workload] = {}
        self._forbidden_logged = False

    async def resolve(self, pod: dict[str, Any]) -> Workload:
        meta = pod.get("metadata") or {}
        namespace = meta.get("namespace") or ""
        owner = _controller(meta)
        if owner is None or owner.get("kind") not in _DIRECT_KINDS:
            return Workload(namespace, "Pod", meta.get("name", ""), "v1", meta.get("uid"))

        direct = Workload(
            namespace,
            owner["kind"],
            owner["name"],
            owner.get("apiVersion", "apps/v1"),
            owner.get("uid"),
        )
        if owner["kind"] != "ReplicaSet":
            return direct

        cache_key = owner.get("uid") or f"{namespace}/{owner['name']}"
        cached = self._replicasets.get(cache_key)
        if cached is not None:
            return cached

        path = f"/apis/apps/v1/namespaces/{namespace}/replicasets/{owner['name']}"
        try:
            replicaset = await self._client.get(path)
        except ForbiddenError as error:
            if not self._forbidden_logged:
                logger.error(
                    "Cannot read ReplicaSets (%s); patterns are grouped by ReplicaSet. "
                    "Grant get on replicasets.apps to the operator's role.",
                    error,
                )
                self._forbidden_logged = True
            return direct
        except NotFoundError:
            return direct
        except ApiError as error:
            logger.warning("Reading ReplicaSet %s/%s failed: %s", namespace, owner["name"], error)
            return direct

        parent = _controller(replicaset.get("metadata") or {})
        if parent is not None and parent.get("kind") == "Deployment":
            resolved = Workload(
                namespace,
                "Deployment",
                parent["name"],
                parent.get("apiVersion", "apps/v1"),
                parent.get("uid"),
            )
        else:
            resolved = direct
        self._replicasets[cache_key] = resolved
        return resolved


ANNOTATION_THRESHOLD = "track.dev/failure-threshold"
ANNOTATION_WINDOW = "track.dev/failure-window-seconds"
ANNOTATION_RESTARTS_PER_DAY = "track.dev/restarts-per-day"

_PLURALS = {
    "Deployment": "deployments",
    "StatefulSet": "statefulsets",
    "DaemonSet": "daemonsets",
    "ReplicaSet": "replicasets",
}


class AnnotationCache:
    """Read the tuning annotations of workloads, each at most once per `ttl` seconds."""

    def __init__(self, client: KubeClient, ttl: float = 60.0) -> None:
        self._client = client
        self._ttl = ttl
        self._cache: dict[str, tuple[float, dict[str, str]]] = {}
        self._forbidden_logged = False

    async def get(self, workload: Workload, pod: dict[str, Any], now: float) -> dict[str, str]:
        if workload.kind == "Pod":
            return dict((pod.get("metadata") or {}).get("annotations") or {})
        cached = self._cache.get(workload.key)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        if workload.kind == "Job":
            path = f"/apis/batch/v1/namespaces/{workload.namespace}/jobs/{workload.name}"
        else:
            plural = _PLURALS.get(workload.kind, workload.kind.lower() + "s")
            path = f"/apis/apps/v1/namespaces/{workload.namespace}/{plural}/{workload.name}"
        annotations: dict[str, str] = {}
        try:
            obj = await self._client.get(path)
            annotations = dict((obj.get("metadata") or {}).get("annotations") or {})
        except ForbiddenError as error:
            if not self._forbidden_logged:
                logger.error(
                    "Cannot read %s (%s); workload annotations are ignored. "
                    "Grant get on it to the operator's role.",
                    path,
                    error,
                )
                self._forbidden_logged = True
        except ApiError as error:
            logger.debug("Reading %s failed: %s", path, error)
        self._cache[workload.key] = (now, annotations)
        return annotations
