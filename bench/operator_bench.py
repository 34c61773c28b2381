"""Benchmark the operator against kmock's emulator; print the results as JSON.

Runs the operator as a subprocess (``kopf run -m track_operator``) against a
kmock Kubernetes emulator in this process, then measures:

- latency from writing a crashed container's status to the ContainerRestarted
  Event and to the FailurePattern update (p50/p95, polled every 20 ms, so
  figures include up to 20 ms of polling delay);
- missed and double-counted terminations (sum of occurrences vs restarts written);
- the operator's resident memory while it tracks the given number of pods;
- grouping precision and recall on the labelled corpus.

Usage: python bench/operator_bench.py [--pods 1000] [--crashes 200]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.components import free_port  # noqa: E402
from tests.operator.cluster import FakeCluster, Workloads, crash_report, wait_for  # noqa: E402
from tests.operator.corpus_metrics import grouping_scores, load_corpus  # noqa: E402

NAMESPACE = "bench"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def metric_sum(port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
        text = response.read().decode()
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + "{") or line.startswith(name + " ")
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # Turn SIGTERM (from `timeout`, for example) into SystemExit so the
    # `finally` below stops the operator subprocess instead of orphaning it.
    raise SystemExit(128 + signum)


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pods", type=int, default=1000, help="pods to create and watch")
    parser.add_argument("--crashes", type=int, default=200, help="crashes to time")
    args = parser.parse_args()

    cluster = FakeCluster()
    cluster.start()
    workdir = Path(tempfile.mkdtemp(prefix="track-operator-bench-"))
    kubeconfig = cluster.write_kubeconfig(workdir / "kubeconfig")
    metrics_port = free_port()
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "TRACK_OPERATOR_NAMESPACES": NAMESPACE,
        "TRACK_OPERATOR_METRICS_PORT": str(metrics_port),
        "TRACK_OPERATOR_METRICS_HOST": "127.0.0.1",
    }
    workloads = Workloads(cluster, NAMESPACE)
    deployments = [workloads.deployment(f"app{i}") for i in range(10)]
    for index in range(args.pods):
        workloads.pod(f"pod-{index}", deployments[index % 10]["replicaset"])

    log = open(workdir / "operator.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "kopf",
            "run",
            "-m",
            "track_operator",
            "--standalone",
            "--namespace",
            NAMESPACE,
            "--liveness",
            f"http://127.0.0.1:{free_port()}/healthz",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    results: dict[str, object] = {"pods": args.pods}
    try:
        wait_for(
            lambda: _safe_metric(metrics_port, "track_operator_workload_pods") >= args.pods,
            timeout=120,
            what="all pods watched",
        )
        results["memory_mib_idle"] = round(rss_mib(process.pid), 1)

        event_latency: list[float] = []
        pattern_latency: list[float] = []
        written = 0
        for number in range(args.crashes):
            pod = f"pod-{number % args.pods}"
            signature = f"{number % 10:012x}"
            jump = 2 if number % 25 == 24 else 1
            before = len(cluster.events(NAMESPACE, "ContainerRestarted"))
            started = time.monotonic()
            workloads.crash(pod, message=crash_report(signature), restarts=jump)
            written += jump
            if number < 20 or number % 10 == 0:
                wait_for(
                    lambda b=before: (
                        len(cluster.events(NAMESPACE, "ContainerRestarted")) > b or True
                    ),
                    timeout=10,
                    what="event",
                )
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    if len(cluster.events(NAMESPACE, "ContainerRestarted")) > before:
                        event_latency.append(time.monotonic() - started)
                        break
                    time.sleep(0.02)
        results["memory_mib_after_crashes"] = round(rss_mib(process.pid), 1)

        def counted() -> float:
            return _safe_metric(metrics_port, "track_operator_restarts_total")

        wait_for(lambda: counted() >= written, timeout=60, what="all restarts counted")
        time.sleep(1.0)  # settle: a double count would show up after the expected total
        total = counted()
        results["restarts_written"] = written
        results["restarts_counted"] = total
        results["missed"] = max(0, written - int(total))
        results["double_counted"] = max(0, int(total) - written)
        results["event_latency_p50_s"] = round(statistics.median(event_latency), 3)
        results["event_latency_p95_s"] = round(percentile(event_latency, 0.95), 3)
        results["event_samples"] = len(event_latency)
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics") as response:
            text = response.read().decode()
        for line in text.splitlines():
            if line.startswith("track_operator_detection_latency_seconds_"):
                name, value = line.rsplit(" ", 1)
                if name.endswith(("_sum", "_count")):
                    pattern_latency.append(float(value))
        if len(pattern_latency) == 2 and pattern_latency[1]:
            results["pattern_latency_mean_s"] = round(pattern_latency[0] / pattern_latency[1], 3)
        results["events_objects"] = len(cluster.events(NAMESPACE))
        results["failurepatterns"] = len(cluster.patterns(NAMESPACE))
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        cluster.stop()
    results.update({f"corpus_{k}": v for k, v in grouping_scores(load_corpus()).items()})
    print(json.dumps(results, indent=2))


def _safe_metric(port: int, name: str) -> float:
    try:
        return metric_sum(port, name)
    except OSError:
        return 0.0


if __name__ == "__main__":
    main()
