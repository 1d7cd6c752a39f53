"""The Kubernetes backend: the worker Deployment's scale, its pods, a ConfigMap. Stdlib HTTPS.

Inside a pod the API server is at KUBERNETES_SERVICE_HOST:KUBERNETES_SERVICE_PORT and the
service account's token, CA and namespace are mounted under
/var/run/secrets/kubernetes.io/serviceaccount (Kubernetes docs, "Accessing the Kubernetes API
from a Pod"). Scale-down is retire -> deletion cost -> replicas: the ReplicaSet controller
deletes the pods of lowest controller.kubernetes.io/pod-deletion-cost first, after unscheduled,
pending and not-ready ones (kubernetes pkg/controller/controller_utils.go,
ActivePodsWithRanks.Less), so the pods whose workers were just retired are the ones that go.
"""

from __future__ import annotations

import json
import os
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from .decide import WorkerInfo

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
DELETION_COST_ANNOTATION = "controller.kubernetes.io/pod-deletion-cost"
# Any value below the default 0 puts the pod first in line; int32 range.
RETIRED_DELETION_COST = "-1000"
MERGE_PATCH = "application/merge-patch+json"
TIMEOUT_S = 10.0


class Retirer(Protocol):
    """What the backends need from the scheduler: retire these workers, their data moved."""

    def retire(self, addresses: list[str]) -> list[str]: ...


class WorkerBackend(Protocol):
    """Where the workers run: Kubernetes pods or local processes."""

    def replicas(self) -> int: ...

    def scale(self, replicas: int, retire: tuple[WorkerInfo, ...]) -> list[str]:
        """Retire these workers (if any), then set the replicas; the steps taken, for the log."""
        ...


@dataclass(frozen=True)
class KubeAPI:
    """A few calls to the API server, authenticated with a bearer token."""

    server: str
    namespace: str
    token: str = ""
    ca_file: str | None = None

    @classmethod
    def in_cluster(cls) -> KubeAPI:
        host = os.environ["KUBERNETES_SERVICE_HOST"]
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        return cls(
            server=f"https://{host}:{port}",
            namespace=(SERVICE_ACCOUNT_DIR / "namespace").read_text().strip(),
            token=(SERVICE_ACCOUNT_DIR / "token").read_text().strip(),
            ca_file=str(SERVICE_ACCOUNT_DIR / "ca.crt"),
        )

    def call(
        self, method: str, path: str, body: object = None, content_type: str = "application/json"
    ) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.server + path, data=data, method=method)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", content_type)
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        context = ssl.create_default_context(cafile=self.ca_file) if self.ca_file else None
        with urllib.request.urlopen(request, timeout=TIMEOUT_S, context=context) as response:
            return json.loads(response.read() or b"null")

    def _ns(self, resource: str, group: str = "api/v1") -> str:
        return f"/{group}/namespaces/{self.namespace}/{resource}"

    def get_scale(self, deployment: str) -> int:
        scale = self.call("GET", self._ns(f"deployments/{deployment}/scale", "apis/apps/v1"))
        return int(scale.get("spec", {}).get("replicas", 0))

    def patch_scale(self, deployment: str, replicas: int) -> None:
        path = self._ns(f"deployments/{deployment}/scale", "apis/apps/v1")
        self.call("PATCH", path, {"spec": {"replicas": replicas}}, MERGE_PATCH)

    def list_pods(self, label_selector: str) -> list[dict[str, Any]]:
        query = urllib.parse.urlencode({"labelSelector": label_selector})
        return list(self.call("GET", self._ns("pods") + "?" + query).get("items", []))

    def annotate_pod(self, pod: str, key: str, value: str) -> None:
        body = {"metadata": {"annotations": {key: value}}}
        self.call("PATCH", self._ns(f"pods/{pod}"), body, MERGE_PATCH)

    def put_configmap(self, name: str, data: dict[str, str]) -> None:
        """Create the ConfigMap, or replace its data when it exists."""
        try:
            self.call("PATCH", self._ns(f"configmaps/{name}"), {"data": data}, MERGE_PATCH)
        except urllib.error.HTTPError as error:
            if error.code != 404:
                raise
            body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}
            self.call("POST", self._ns("configmaps"), {**body, "data": data})


def worker_host(address: str) -> str:
    """tcp://10.0.3.7:40123 -> 10.0.3.7"""
    return urllib.parse.urlsplit(address).hostname or ""


class KubernetesBackend:
    """Scales the worker Deployment; a scale-down retires, marks the pods, then lowers replicas."""

    def __init__(
        self, api: KubeAPI, scheduler: Retirer, deployment: str, pod_selector: str
    ) -> None:
        self.api = api
        self.scheduler = scheduler
        self.deployment = deployment
        self.pod_selector = pod_selector

    def replicas(self) -> int:
        return self.api.get_scale(self.deployment)

    def scale(self, replicas: int, retire: tuple[WorkerInfo, ...]) -> list[str]:
        steps: list[str] = []
        if retire:
            retired = self.scheduler.retire(sorted(w.address for w in retire))
            steps.append(f"retired {len(retired)} worker(s)")
            # A worker the scheduler did not retire still holds data: its whole pod stays.
            kept = {worker_host(w.address) for w in retire if w.address not in retired}
            hosts = {worker_host(w.address) for w in retire} - kept
            replicas += len(kept)
            for pod in self.api.list_pods(self.pod_selector):
                if pod.get("status", {}).get("podIP") in hosts:
                    name = pod["metadata"]["name"]
                    self.api.annotate_pod(name, DELETION_COST_ANNOTATION, RETIRED_DELETION_COST)
                    steps.append(f"deletion cost {RETIRED_DELETION_COST} on {name}")
        self.api.patch_scale(self.deployment, replicas)
        steps.append(f"replicas {replicas}")
        return steps


def sleep_record(reason: str, now_s: float) -> dict[str, str]:
    """The ConfigMap data that says why and when the cluster went to sleep."""
    at = datetime.fromtimestamp(now_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"reason": reason, "slept_at": at, "by": "worker-controller"}
