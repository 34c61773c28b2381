"""kopf handlers: the operator's entry points into the tracker.

The operator only reads pods: it registers a single event handler for them,
which never patches, so kopf adds no finalizers or annotations to pods.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

import kopf
import prometheus_client
import yaml
from track_operator.config import Settings
from track_operator.engine import Tracker
from track_operator.kubeapi import ApiError, ForbiddenError, KubeClient

logger = logging.getLogger(__name__)


def _login(settings: kopf.OperatorSettings) -> kopf.ConnectionInfo | None:
    """Log in with the pod's service account, else with a kubeconfig.

    A kubeconfig whose user runs an exec plugin or an auth provider needs the
    official client, which is imported only then (it costs memory).
    """
    info = kopf.login_with_service_account(settings=settings)
    if info is not None:
        return info
    path = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or os.path.expanduser(
        "~/.kube/config"
    )
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            config = yaml.safe_load(handle) or {}
        if any(
            "exec" in (user.get("user") or {}) or "auth-provider" in (user.get("user") or {})
            for user in config.get("users") or []
        ):
            return kopf.login_via_client(settings=settings, logger=logger)
    return kopf.login_with_kubeconfig(settings=settings)


@kopf.on.login()
def login(settings: kopf.OperatorSettings, **_: Any) -> kopf.ConnectionInfo | None:
    return _login(settings)


@kopf.on.startup()
async def start(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    config = Settings.from_env()
    memo.config = config

    # A watch that stays silent longer than the server timeout is considered
    # dead: kopf reconnects, and relists if the resource version expired (410).
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 10
    settings.peering.priority = config.priority
    # No listing or watching of namespaces and CRDs: those are cluster-scope
    # calls, and the namespaces to watch are given by name.
    settings.scanning.disabled = True
    settings.posting.enabled = False  # the tracker writes its own, throttled Events

    client = KubeClient(lambda: _login(settings))
    memo.client = client
    instance = os.environ.get("POD_NAME") or os.environ.get("HOSTNAME") or "track-operator"
    tracker = Tracker(config, client, instance)
    memo.tracker = tracker
    try:
        await tracker.load()
    except ForbiddenError as error:
        raise kopf.PermanentError(
            f"RBAC denies reading FailurePatterns ({error}); apply "
            "operator/manifests/rbac-namespaced.yaml or rbac-cluster.yaml"
        ) from error
    except ApiError as error:
        raise kopf.TemporaryError(f"Loading FailurePatterns failed: {error}", delay=5) from error

    memo.metrics_server = None
    if config.metrics_port:
        server, _thread = prometheus_client.start_http_server(
            config.metrics_port, addr=config.metrics_host
        )
        memo.metrics_server = server
    memo.background = asyncio.create_task(tracker.run_background(), name="track-flush")
    scope = "all namespaces" if config.cluster_wide else ", ".join(config.namespaces)
    logger.info(
        "Watching pods with %s in %s; threshold %d in %.0f s; priority %d",
        config.selector,
        scope,
        config.threshold,
        config.window_seconds,
        config.priority,
    )


@kopf.on.cleanup()
async def stop(memo: kopf.Memo, **_: Any) -> None:
    task = getattr(memo, "background", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    tracker: Tracker | None = getattr(memo, "tracker", None)
    if tracker is not None:
        try:
            await tracker.flush(force=True)
        except ApiError as error:
            logger.warning("Final flush of FailurePatterns failed: %s", error)
    client: KubeClient | None = getattr(memo, "client", None)
    if client is not None:
        await client.close()
    server = getattr(memo, "metrics_server", None)
    if server is not None:
        server.shutdown()
        server.server_close()


@kopf.on.probe(id="patterns")
def probe_patterns(memo: kopf.Memo, **_: Any) -> int:
    tracker: Tracker | None = getattr(memo, "tracker", None)
    return len(tracker.patterns) if tracker is not None else 0


@kopf.on.event("v1", "pods")
async def pod_event(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    tracker: Tracker | None = getattr(memo, "tracker", None)
    if tracker is None:
        return
    if event["type"] is None:
        # type None marks a listing: on start, after 410 Gone, or when this
        # replica resumes after a peer with a higher priority was active.
        await tracker.reload_if_stale()
    await tracker.handle_pod(event["object"], event["type"])
