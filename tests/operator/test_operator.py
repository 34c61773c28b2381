"""The operator end to end against kmock's Kubernetes emulator, run with KopfRunner."""

from tests.operator.cluster import crash_and_wait, crash_report, now_rfc3339, wait_for
from tests.operator.conftest import NAMESPACE

SIG_A = "3f9a1c2b7d4e"
SIG_B = "a1b2c3d4e5f6"
TRACEBACK = """Traceback (most recent call last):
  File "/app/app/projects.py", line {line}, in get_project
    return rows[key]
KeyError: 'project_{key}'"""


def status_of(cluster, signature):
    for pattern in cluster.patterns(NAMESPACE):
        if pattern.get("status", {}).get("signature") == signature:
            return pattern["status"]
    return None


def occurrences(cluster, signature):
    status = status_of(cluster, signature)
    return status["occurrences"] if status else 0


def restart_count(workloads, pod, container="api"):
    for status in workloads.pods[pod]["status"]["containerStatuses"]:
        if status["name"] == container:
            return status["restartCount"]
    raise KeyError(container)


def test_three_crashes_make_recurring(cluster, workloads, run_operator):
    owners = workloads.deployment("api")
    workloads.pod("api-1", owners["replicaset"])
    with run_operator():
        for _ in range(3):
            crash_and_wait(workloads, "api-1", message=crash_report(SIG_A))
        wait_for(lambda: occurrences(cluster, SIG_A) == 3, what="3 occurrences")
        status = wait_for(lambda: status_of(cluster, SIG_A), what="status")
        assert status["state"] == "Recurring"
        assert status["workload"] == {"kind": "Deployment", "name": "api"}
        assert status["location"] == "app/api/admin.py:inject_fault:57"
        assert status["pods"] == ["api-1"]
        recurring = wait_for(
            lambda: cluster.events(NAMESPACE, "RecurringFailure"), what="RecurringFailure Event"
        )
    kinds = sorted(
        e["involvedObject"]["kind"] for e in cluster.events(NAMESPACE, "RecurringFailure")
    )
    assert kinds == ["Deployment", "FailurePattern"]
    assert "happened 3 times" in recurring[0]["message"]
    assert len(cluster.patterns(NAMESPACE)) == 1


def test_two_reports_two_patterns(cluster, workloads, run_operator):
    owners = workloads.deployment("api")
    workloads.pod("api-1", owners["replicaset"])
    with run_operator():
        workloads.crash("api-1", message=crash_report(SIG_A))
        wait_for(lambda: occurrences(cluster, SIG_A) == 1, what="pattern A")
        workloads.crash("api-1", message=crash_report(SIG_B, exception="TypeError"))
        wait_for(lambda: occurrences(cluster, SIG_B) == 1, what="pattern B")
    assert len(cluster.patterns(NAMESPACE)) == 2


def test_same_fault_other_ids_one_pattern(cluster, workloads, run_operator):
    owners = workloads.deployment("api")
    workloads.pod("api-1", owners["replicaset"])
    workloads.pod("api-2", owners["replicaset"])
    with run_operator():
        workloads.crash("api-1", message=TRACEBACK.format(line=145, key=17))
        wait_for(lambda: len(cluster.patterns(NAMESPACE)) == 1, what="first pattern")
        workloads.crash("api-2", message=TRACEBACK.format(line=146, key=90210))
        wait_for(
            lambda: (
                cluster.events(NAMESPACE, "ContainerRestarted")
                and len(cluster.events(NAMESPACE, "ContainerRestarted")) == 2
            ),
            what="two restart Events",
        )
    patterns = cluster.patterns(NAMESPACE)
    assert len(patterns) == 1
    assert patterns[0]["status"]["occurrences"] == 2
    assert sorted(patterns[0]["status"]["pods"]) == ["api-1", "api-2"]
    assert patterns[0]["status"]["kind"] == "LogTail"


def test_oom_liveness_and_plain_exit(cluster, workloads, run_operator):
    owners = workloads.deployment("api")
    workloads.pod("api-1", owners["replicaset"])
    with run_operator():
        workloads.crash("api-1", reason="OOMKilled", exit_code=137)
        wait_for(lambda: len(cluster.patterns(NAMESPACE)) == 1, what="OOM pattern")
        cluster.create(
            f"/api/v1/namespaces/{NAMESPACE}/events",
            {
                "metadata": {"name": "api-1.kill", "namespace": NAMESPACE},
                "involvedObject": {
                    "kind": "Pod",
                    "name": "api-1",
                    "namespace": NAMESPACE,
                    "fieldPath": "spec.containers{api}",
                },
                "reason": "Killing",
                "type": "Normal",
                "lastTimestamp": now_rfc3339(),
                "message": "Container api failed liveness probe, will be restarted",
            },
        )
        workloads.crash("api-1", reason="Error", exit_code=137)
        wait_for(lambda: len(cluster.patterns(NAMESPACE)) == 2, what="liveness pattern")
        cluster.delete(f"/api/v1/namespaces/{NAMESPACE}/events/api-1.kill")
        workloads.crash("api-1", reason="Error", exit_code=3)
        wait_for(lambda: len(cluster.patterns(NAMESPACE)) == 3, what="exit-code pattern")
        workloads.crash("api-1", reason="Error", exit_code=1, message="ERROR boom 42")
        wait_for(lambda: len(cluster.patterns(NAMESPACE)) == 4, what="log-tail pattern")
    kinds = sorted(p["status"]["kind"] for p in cluster.patterns(NAMESPACE))
    assert kinds == ["ExitCode", "LivenessProbeFailed", "LogTail", "OOMKilled"]


def test_restart_and_duplicates_count_exactly(cluster, workloads, run_operator):
    owners = workloads.deployment("api")
    workloads.pod("api-1", owners["replicaset"])
    with run_operator():
        workloads.crash("api-1", message=crash_report(SIG_A))
        wait_for(lambda: occurrences(cluster, SIG_A) == 1, what="first count")
        workloads.crash("api-1", message=crash_report(SIG_A))
        for value in ("a", "b", "c"):
            workloads.touch("api-1", value)
        workloads.write_status("api-1")
    assert occurrences(cluster, SIG_A) == 2
    restart_events = cluster.events(NAMESPACE, "ContainerRestarted")

    # While the operator is down: two restarts, only the last one's details survive.
    workloads.crash("api-1", message=crash_report(SIG_A), restarts=2)
    with run_operator():
        wait_for(lambda: occurrences(cluster, SIG_A) == 3, what="count after restart")
        unknown = wait_for(
            lambda: [p for p in cluster.patterns(NAMESPACE) if p["status"]["kind"] == "Unknown"],
            what="unknown",
        )
        assert unknown[0]["status"]["occurrences"] == 1
        workloads.touch("api-1", "d")
        workloads.write_status("api-1")
    assert occurrences(cluster, SIG_A) == 3
    assert restart_count(workloads, "api-1") == 4
    # The restart Event of signature A is reused, not duplicated, after the restart.
    same_series = [
        e for e in cluster.events(NAMESPACE, "ContainerRestarted") if SIG_A in e["message"]
    ]
    assert len(same_series) == len([e for e in restart_events if SIG_A in e["message"]])


def test_storm_bounded_events(cluster, workloads, run_operator):
    owners = workloads.deployment("api")
    workloads.pod("api-1", owners["replicaset"])
    with run_operator(TRACK_OPERATOR_RESTARTS_PER_DAY="10"):
        for number in range(1, 41):
            crash_and_wait(workloads, "api-1", message=crash_report(SIG_A))
            wait_for(
                lambda n=number: (
                    occurrences(cluster, SIG_A) >= 1 and status_of(cluster, SIG_A) is not None
                ),
                what="pattern",
            )
        wait_for(lambda: cluster.events(NAMESPACE, "FrequentRestarts"), what="FrequentRestarts")
        pattern_name = cluster.patterns(NAMESPACE)[0]["metadata"]["name"]
        writes = cluster.versions("track.dev/v1/failurepatterns", NAMESPACE, pattern_name)
        # Creation, first status, the Recurring transition: nothing per occurrence.
        assert writes <= 4
    events = cluster.events(NAMESPACE)
    series = {(e["involvedObject"]["kind"], e["reason"]) for e in events}
    assert len(events) == len(series)
    for event in events:
        versions = cluster.versions("v1/events", NAMESPACE, event["metadata"]["name"])
        assert versions <= 2, event["reason"]
    assert occurrences(cluster, SIG_A) == 40


def test_operator_never_writes_pods(cluster, workloads, run_operator):
    owners = workloads.deployment("api")
    workloads.pod("api-1", owners["replicaset"])
    with run_operator():
        for _ in range(3):
            crash_and_wait(workloads, "api-1", message=crash_report(SIG_A))
        wait_for(lambda: occurrences(cluster, SIG_A) == 3, what="3 occurrences")
    # One creation and three status writes, all by the test itself.
    assert cluster.versions("v1/pods", NAMESPACE, "api-1") == 4
    pod = cluster.get(f"/api/v1/namespaces/{NAMESPACE}/pods/api-1")
    assert "finalizers" not in pod["metadata"]
    assert "annotations" not in pod["metadata"]


def test_unlabelled_pods_ignored(cluster, workloads, run_operator):
    workloads.pod("other", None, labels={"app": "other"})
    with run_operator():
        workloads.crash("other", message=crash_report(SIG_A))
        workloads.pod("bare", None)
        workloads.crash("bare", message=crash_report(SIG_B))
        wait_for(lambda: occurrences(cluster, SIG_B) == 1, what="bare pod pattern")
    assert occurrences(cluster, SIG_A) == 0
    assert status_of(cluster, SIG_B)["workload"] == {"kind": "Pod", "name": "bare"}


def test_patterns_collected_with_workload(cluster, workloads, run_operator):
    owners = workloads.deployment("api")
    workloads.pod("api-1", owners["replicaset"])
    with run_operator():
        workloads.crash("api-1", message=crash_report(SIG_A))
        wait_for(lambda: occurrences(cluster, SIG_A) == 1, what="pattern")
        owner_refs = cluster.patterns(NAMESPACE)[0]["metadata"]["ownerReferences"]
        assert owner_refs[0]["uid"] == owners["deployment"]["metadata"]["uid"]
        assert owner_refs[0]["kind"] == "Deployment"
        cluster.delete(f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/api")
        cluster.collect_garbage(NAMESPACE)
        cluster.collect_garbage(NAMESPACE)
        wait_for(
            lambda: not cluster.items(f"/api/v1/namespaces/{NAMESPACE}/pods"), what="pod deleted"
        )
        assert cluster.patterns(NAMESPACE) == []
    assert cluster.patterns(NAMESPACE) == []


def test_quiet_pattern_resolved(cluster, workloads, run_operator):
    owners = workloads.deployment("api")
    workloads.pod("api-1", owners["replicaset"])
    with run_operator(TRACK_OPERATOR_QUIET_SECONDS="1"):
        workloads.crash("api-1", message=crash_report(SIG_A))
        wait_for(
            lambda: (status_of(cluster, SIG_A) or {}).get("state") == "Resolved",
            timeout=20,
            what="Resolved state",
        )
