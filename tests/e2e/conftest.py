"""Fixtures of the tests against a real Kubernetes API server (marker `e2e`).

- `cluster` (session): the control plane of ../shared/k8s started once on free loopback ports
  and stopped by PID at the end (also on failure or Ctrl-C: a finalizer and atexit), or the
  cluster HIMAT_E2E_KUBECONFIG names; without either these tests are deselected and the run
  ends with one line saying what to set (e2e/session.py).
- `namespace`: a fresh namespace per test, `restricted` PodSecurity enforced (and warned), its
  cluster-scoped leftovers (the kept StorageClass, retained volumes) removed after.
- `node_pool`: starts the node stand-in for a rendered eksctl.yaml; stops it after the
  namespace is gone.
Under pytest-xdist one worker runs all of these tests, in order (e2e/session.py), so only it
starts a control plane, and the stand-in's nodes are never seen by another test's pods.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT
from e2e.control_plane import ENV_KUBECONFIG, HOW_TO_ENABLE, control_plane_folder, start
from e2e.kube_api import KubeApi, wait_for
from e2e.node_standin import CHART_BRINGS, CreateVolume, NodeStandin, nodes_for
from pangeo_himat.settings.model import Settings

KUBECTL = Path(os.environ.get("HIMAT_KUBECTL", ROOT / ".tools" / "bin" / "kubectl"))
RESTRICTED = {
    f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "warn", "audit")
}


@dataclass
class Cluster:
    """The API server the tests talk to; `start_s` is None for a cluster they did not start."""

    api: KubeApi
    kubeconfig: Path
    start_s: float | None


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if os.environ.get(ENV_KUBECONFIG):
        path = Path(os.environ[ENV_KUBECONFIG])
        yield Cluster(KubeApi.from_kubeconfig(path), path, None)
        return
    folder = control_plane_folder(ROOT)
    if folder is None:
        pytest.skip(HOW_TO_ENABLE)
    plane = start(folder, tmp_path_factory.mktemp("control-plane"))
    try:
        api = KubeApi.from_kubeconfig(plane.kubeconfig)
        # The default ServiceAccount appears once the controller-manager runs; pods need it.
        wait_for(
            lambda: api.exists("/api/v1/namespaces/default/serviceaccounts/default"),
            timeout_s=60,
            what="the controller-manager's first ServiceAccount",
        )
        yield Cluster(api, plane.kubeconfig, plane.start_s)
    finally:
        plane.stop()


@pytest.fixture
def kube(cluster: Cluster) -> KubeApi:
    return cluster.api


@pytest.fixture
def kube_env(cluster: Cluster) -> dict[str, str]:
    """The environment for helm and kubectl: the cluster's kubeconfig, the tools' folder first."""
    return {
        **os.environ,
        "KUBECONFIG": str(cluster.kubeconfig),
        "PATH": f"{KUBECTL.parent}{os.pathsep}{os.environ['PATH']}",
        "HELM_CACHE_HOME": str(cluster.kubeconfig.parent / "helm-cache"),
        "HELM_CONFIG_HOME": str(cluster.kubeconfig.parent / "helm-config"),
        "HELM_DATA_HOME": str(cluster.kubeconfig.parent / "helm-data"),
    }


@dataclass
class NodePool:
    """Node stand-ins started by a test; all stopped at its end."""

    api: KubeApi
    running: list[NodeStandin] = field(default_factory=list)

    def start(
        self,
        eksctl: dict[str, Any],
        settings: Settings,
        spot_nodes: int | None = None,
        chart_brings: frozenset[str] = CHART_BRINGS,
        create_volume: CreateVolume | None = None,
    ) -> NodeStandin:
        """Register the ClusterConfig's nodes and the system pods; return once those run.
        create_volume: where the EBS driver's volumes are made (default: nowhere, made-up IDs)."""
        run = secrets.token_hex(3)
        (spot_group,) = eksctl["nodeGroups"]
        nodes = nodes_for(eksctl, settings, spot_nodes, run)
        standin = NodeStandin(self.api, nodes, spot_group["name"], chart_brings, create_volume)
        self.running.append(standin)
        standin.start()
        wait_for(
            lambda: system_pods_running(self.api),
            timeout_s=60,
            what="the stand-in's system pods to run",
        )
        return standin

    def stop(self) -> None:
        for standin in self.running:
            standin.stop()


def system_pods_running(api: KubeApi) -> bool:
    """Every stand-in system pod exists, is bound and runs; the DaemonSets cover every node."""
    sets = api.items(
        "/apis/apps/v1/namespaces/kube-system/daemonsets", labelSelector="himat.e2e/node-standin"
    )
    deployments = api.items(
        "/apis/apps/v1/namespaces/kube-system/deployments", labelSelector="himat.e2e/node-standin"
    )
    ready_sets = all(
        s.get("status", {}).get("desiredNumberScheduled", 0) > 0
        and s["status"].get("numberReady") == s["status"]["desiredNumberScheduled"]
        for s in sets
    )
    ready_deployments = all(
        d.get("status", {}).get("readyReplicas") == d["spec"]["replicas"] for d in deployments
    )
    return bool(sets) and ready_sets and ready_deployments


@pytest.fixture
def node_pool(kube: KubeApi) -> Iterator[NodePool]:
    pool = NodePool(kube)
    yield pool
    pool.stop()


def namespace_name(test_name: str) -> str:
    """A DNS label of at most 30 characters: `e2e-`, the test's name, a random tail."""
    stem = re.sub(r"[^a-z0-9]+", "-", test_name.lower().removeprefix("test_"))[:19].strip("-")
    return f"e2e-{stem}-{secrets.token_hex(3)}"


@pytest.fixture
def namespace(kube: KubeApi, node_pool: NodePool, request: pytest.FixtureRequest) -> Iterator[str]:
    name = create_namespace(kube, namespace_name(request.node.name))
    yield name
    delete_namespace(kube, name)


def create_namespace(kube: KubeApi, name: str) -> str:
    """A namespace enforcing `restricted`, once its default ServiceAccount exists."""
    kube.create(
        "/api/v1/namespaces",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": RESTRICTED}},
    )
    wait_for(
        lambda: kube.exists(f"/api/v1/namespaces/{name}/serviceaccounts/default"),
        timeout_s=30,
        what=f"namespace {name}'s default ServiceAccount",
    )
    return name


def delete_namespace(kube: KubeApi, name: str) -> None:
    """The namespace and what its release left outside it (kept StorageClass, retained PVs).

    Its workloads go first and its pods with grace 0, so no pod of this test is left to be
    scheduled onto the next test's nodes and the namespace controller has nothing to wait for.
    """
    for group, plural in (("apis/apps/v1", "deployments"), ("apis/apps/v1", "replicasets")):
        kube.delete(f"/{group}/namespaces/{name}/{plural}")
    kube.delete(f"/api/v1/namespaces/{name}/pods", {"gracePeriodSeconds": 0})
    wait_for(
        lambda: not kube.items(f"/api/v1/namespaces/{name}/pods"),
        timeout_s=60,
        what=f"the pods of namespace {name} to go",
    )
    kube.delete(f"/api/v1/namespaces/{name}")
    for volume in kube.items("/api/v1/persistentvolumes"):
        claim_namespace = (volume["spec"].get("claimRef") or {}).get("namespace")
        if claim_namespace == name or volume["metadata"]["name"].startswith(f"{name}-"):
            kube.delete(f"/api/v1/persistentvolumes/{volume['metadata']['name']}")
    for storage_class in kube.items("/apis/storage.k8s.io/v1/storageclasses"):
        if storage_class["metadata"]["name"].startswith(f"{name}-"):
            kube.delete(
                f"/apis/storage.k8s.io/v1/storageclasses/{storage_class['metadata']['name']}"
            )


def read_yaml(path: Path) -> dict[str, Any]:
    return dict(yaml.safe_load(path.read_text()))


def elapsed(began: float) -> float:
    return time.monotonic() - began
