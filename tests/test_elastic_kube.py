"""The Kubernetes backend against a stand-in API server (an in-memory fake on 127.0.0.1).

The stand-in keeps one Deployment's scale subresource, its pods and ConfigMaps. It answers the
paths and JSON shapes of the real API server (apps/v1 Scale, v1 PodList, v1 ConfigMap; merge
patches) and, like the ReplicaSet controller on a scale-down, deletes pending pods first, then
those of lowest controller.kubernetes.io/pod-deletion-cost (kubernetes
pkg/controller/controller_utils.go, ActivePodsWithRanks.Less), the newest among equals.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from pangeo_himat.controller.decide import Config, SchedulerSample, WorkerInfo
from pangeo_himat.controller.kube import DELETION_COST_ANNOTATION, KubeAPI, KubernetesBackend
from pangeo_himat.controller.loop import Controller

NAMESPACE, DEPLOYMENT, SELECTOR = "himat", "himat-worker", "app.kubernetes.io/component=worker"


@dataclass
class FakeCluster:
    """What the stand-in API server holds, and every call it served, in order."""

    replicas: int = 0
    pods: dict[str, dict[str, Any]] = field(default_factory=dict)
    configmaps: dict[str, dict[str, str]] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    created: int = 0

    def add_pod(self, phase: str = "Running") -> None:
        self.created += 1
        name = f"{DEPLOYMENT}-{self.created:03d}"
        self.pods[name] = {
            "metadata": {"name": name, "labels": {"app.kubernetes.io/component": "worker"}},
            "status": {"phase": phase, "podIP": f"10.0.0.{self.created}"},
            "created": self.created,
        }

    def reconcile(self) -> None:
        while len(self.pods) < self.replicas:
            self.add_pod()
        while len(self.pods) > self.replicas:
            victim = min(self.pods.values(), key=self.rank)
            name = victim["metadata"]["name"]
            del self.pods[name]
            self.events.append(f"deleted {name}")

    @staticmethod
    def rank(pod: dict[str, Any]) -> tuple[int, int, int]:
        pending = 0 if pod["status"]["phase"] == "Pending" else 1
        cost = int(pod["metadata"].get("annotations", {}).get(DELETION_COST_ANNOTATION, "0"))
        return (pending, cost, -pod["created"])


def make_handler(cluster: FakeCluster) -> type[BaseHTTPRequestHandler]:
    scale_path = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/{DEPLOYMENT}/scale"
    pods_path = f"/api/v1/namespaces/{NAMESPACE}/pods"
    configmaps_path = f"/api/v1/namespaces/{NAMESPACE}/configmaps"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def reply(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def body(self) -> Any:
            return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

        def not_found(self, what: str) -> None:
            self.reply(404, {"kind": "Status", "status": "Failure", "reason": "NotFound",
                             "message": f"{what} not found", "code": 404})  # fmt: skip

        def scale(self) -> dict[str, Any]:
            return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                    "metadata": {"name": DEPLOYMENT, "namespace": NAMESPACE},
                    "spec": {"replicas": cluster.replicas},
                    "status": {"replicas": len(cluster.pods), "selector": SELECTOR}}  # fmt: skip

        def do_GET(self) -> None:  # noqa: N802 (the http.server name)
            url = urlsplit(self.path)
            if url.path == scale_path:
                return self.reply(200, self.scale())
            if url.path == pods_path:
                selector = parse_qs(url.query)["labelSelector"][0]
                key, value = selector.split("=")
                items = [
                    {k: v for k, v in pod.items() if k != "created"}
                    for pod in cluster.pods.values()
                    if pod["metadata"]["labels"].get(key) == value
                ]
                return self.reply(200, {"kind": "PodList", "apiVersion": "v1", "items": items})
            return self.not_found(url.path)

        def do_PATCH(self) -> None:  # noqa: N802
            assert self.headers["Content-Type"] == "application/merge-patch+json"
            patch = self.body()
            if self.path == scale_path:
                cluster.replicas = patch["spec"]["replicas"]
                cluster.events.append(f"scale {cluster.replicas}")
                cluster.reconcile()
                return self.reply(200, self.scale())
            if self.path.startswith(pods_path + "/"):
                name = self.path.rsplit("/", 1)[1]
                if name not in cluster.pods:
                    return self.not_found(f'pods "{name}"')
                annotations = cluster.pods[name]["metadata"].setdefault("annotations", {})
                annotations.update(patch["metadata"]["annotations"])
                cluster.events.append(f"annotate {name} {annotations}")
                return self.reply(200, cluster.pods[name])
            if self.path.startswith(configmaps_path + "/"):
                name = self.path.rsplit("/", 1)[1]
                if name not in cluster.configmaps:
                    return self.not_found(f'configmaps "{name}"')
                cluster.configmaps[name].update(patch["data"])
                return self.reply(200, {"data": cluster.configmaps[name]})
            return self.not_found(self.path)

        def do_POST(self) -> None:  # noqa: N802
            if self.path == configmaps_path:
                created = self.body()
                cluster.configmaps[created["metadata"]["name"]] = dict(created["data"])
                cluster.events.append(f"created configmap {created['metadata']['name']}")
                return self.reply(201, created)
            return self.not_found(self.path)

    return Handler


@pytest.fixture
def fake() -> Iterator[tuple[FakeCluster, KubeAPI]]:
    cluster = FakeCluster()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(cluster))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield cluster, KubeAPI(f"http://127.0.0.1:{server.server_port}", NAMESPACE)
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class RecordingScheduler:
    """Stands in for the scheduler's retire_workers route; logs into the cluster's events."""

    cluster: FakeCluster
    refuses: tuple[str, ...] = ()

    def retire(self, addresses: list[str]) -> list[str]:
        self.cluster.events.append(f"retire {addresses}")
        return [a for a in addresses if a not in self.refuses]


def worker_of(pod_number: int, managed_bytes: int) -> WorkerInfo:
    return WorkerInfo(f"tcp://10.0.0.{pod_number}:40000", f"w{pod_number}", managed_bytes)


def test_scale_down_retires_then_marks_the_pods_then_lowers_the_replicas(
    fake: tuple[FakeCluster, KubeAPI],
) -> None:
    cluster, api = fake
    cluster.replicas = 4
    cluster.reconcile()
    backend = KubernetesBackend(api, RecordingScheduler(cluster), DEPLOYMENT, SELECTOR)
    assert backend.replicas() == 4
    backend.scale(3, (worker_of(2, 0),))
    assert [e.split(" ")[0] for e in cluster.events] == ["retire", "annotate", "scale", "deleted"]
    assert cluster.events[0] == "retire ['tcp://10.0.0.2:40000']"
    assert "-1000" in cluster.events[1]
    # The newest pod would go without the annotation; the retired one goes instead.
    assert cluster.events[-1] == f"deleted {DEPLOYMENT}-002"
    assert sorted(cluster.pods) == [f"{DEPLOYMENT}-{n:03d}" for n in (1, 3, 4)]


def test_a_worker_the_scheduler_did_not_retire_keeps_its_pod(
    fake: tuple[FakeCluster, KubeAPI],
) -> None:
    cluster, api = fake
    cluster.replicas = 4
    cluster.reconcile()
    scheduler = RecordingScheduler(cluster, refuses=("tcp://10.0.0.1:40000",))
    backend = KubernetesBackend(api, scheduler, DEPLOYMENT, SELECTOR)
    backend.scale(2, (worker_of(1, 0), worker_of(2, 0)))
    assert cluster.replicas == 3
    assert sorted(cluster.pods) == [f"{DEPLOYMENT}-{n:03d}" for n in (1, 3, 4)]


def test_a_pod_with_one_worker_not_retired_is_neither_marked_nor_removed(
    fake: tuple[FakeCluster, KubeAPI],
) -> None:
    cluster, api = fake
    cluster.replicas = 3
    cluster.reconcile()
    second = WorkerInfo("tcp://10.0.0.2:40001", "w2b", 0)
    scheduler = RecordingScheduler(cluster, refuses=(second.address,))
    backend = KubernetesBackend(api, scheduler, DEPLOYMENT, SELECTOR)
    backend.scale(2, (worker_of(2, 0), second))
    assert cluster.replicas == 3
    assert not any(e.startswith("annotate") for e in cluster.events)


def test_without_a_deletion_cost_the_replicaset_would_delete_a_worker_with_data(
    fake: tuple[FakeCluster, KubeAPI],
) -> None:
    cluster, api = fake
    cluster.replicas = 3
    cluster.reconcile()
    api.patch_scale(DEPLOYMENT, 2)
    assert cluster.events[-1] == f"deleted {DEPLOYMENT}-003"


class ScriptedScheduler:
    """Scheduler samples: work ended, a client still connected, pod 3's worker holds data."""

    def __init__(self, cluster: FakeCluster) -> None:
        self.cluster = cluster

    def sample(self) -> SchedulerSample:
        workers = tuple(
            worker_of(int(pod["status"]["podIP"].rsplit(".", 1)[1]), 100 if n == 2 else 5)
            for n, pod in enumerate(self.cluster.pods.values())
        )
        return SchedulerSample(1, 0.0, 1, 0, workers)

    def retire(self, addresses: list[str]) -> list[str]:
        self.cluster.events.append(f"retire {addresses}")
        return addresses


def test_the_controller_removes_the_pods_of_the_workers_holding_least_data(
    fake: tuple[FakeCluster, KubeAPI],
) -> None:
    cluster, api = fake
    cluster.replicas = 4
    cluster.reconcile()
    scheduler = ScriptedScheduler(cluster)
    backend = KubernetesBackend(api, scheduler, DEPLOYMENT, SELECTOR)
    config = Config(mode="adaptive", minimum=0, maximum=8, workers_after_s=None, cooldown_s=0)
    now = iter(range(1_000, 2_000, 5))
    log: list[dict[str, object]] = []
    controller = Controller(config, scheduler, backend, clock=lambda: float(next(now)),
                            log=log.append)  # fmt: skip
    for _ in range(3):
        controller.step()
    assert cluster.replicas == 3  # 25 % of 4
    assert f"{DEPLOYMENT}-003" in cluster.pods  # the one holding 100 bytes stays
    assert log[-1]["reason"] == "scale down 4 -> 3 (wanted 1)"
    assert log[-1]["steps"] == [
        "retired 1 worker(s)",
        f"deletion cost -1000 on {DEPLOYMENT}-001",
        "replicas 3",
    ]
