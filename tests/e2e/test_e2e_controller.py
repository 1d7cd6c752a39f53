"""The worker controller's Kubernetes backend (pangeo_himat.controller.kube) against the real API
server, as the chart's controller ServiceAccount with a token from the TokenRequest API: the
real RBAC authorizer checks every call against the chart's Role, and the real ReplicaSet
controller chooses which worker pods go on a scale-down."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from e2e.chart import deployment, install, render
from e2e.conftest import Cluster, NodePool
from e2e.kube_api import ApiError, KubeApi, wait_for
from pangeo_himat.controller.decide import WorkerInfo
from pangeo_himat.controller.kube import KubeAPI, KubernetesBackend, sleep_record
from pangeo_himat.render import names

WORKERS = 6
TOKEN_SECONDS = 600


class RetireAll:
    """Stand-in for the Dask scheduler's retire_workers: every asked worker left, data moved.
    (The scheduler is not the subject here; the Kubernetes calls after it are.)"""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def retire(self, addresses: list[str]) -> list[str]:
        self.asked += addresses
        return addresses


def controller_args(kube: KubeApi, namespace: str) -> dict[str, str]:
    """The controller's --flags as the chart's Deployment passes them."""
    spec = deployment(kube, namespace, names.controller_deployment(namespace))["spec"]
    (container,) = spec["template"]["spec"]["containers"]
    flags = [arg for arg in container["args"] if arg.startswith("--") and "=" in arg]
    return dict(arg[2:].split("=", 1) for arg in flags)


def service_account_token(kube: KubeApi, namespace: str, account: str) -> str:
    request = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {"expirationSeconds": TOKEN_SECONDS},
    }
    path = f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token"
    return str(kube.create(path, request)["status"]["token"])


def running_workers(kube: KubeApi, namespace: str, selector: str) -> dict[str, dict[str, Any]]:
    return {
        pod["metadata"]["name"]: pod
        for pod in kube.items(f"/api/v1/namespaces/{namespace}/pods", labelSelector=selector)
        if pod["status"].get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp")
    }


def denied(call: Any) -> bool:
    try:
        call()
    except ApiError as error:
        return error.code == 403
    return False


@pytest.fixture
def installed(
    tmp_path: Path, kube: KubeApi, kube_env: dict[str, str], namespace: str, node_pool: NodePool
) -> dict[str, str]:
    rendering = render(tmp_path)
    node_pool.start(rendering.rendered.cluster_config, rendering.settings)
    result = install(
        kube_env,
        namespace,
        rendering.values_file,
        "--set",
        f"worker.replicas={WORKERS}",
        "--wait",
        "--timeout",
        "3m",
    )
    assert result.returncode == 0, result.stderr
    return controller_args(kube, namespace)


def test_the_controller_scales_and_retires_the_chosen_pods_with_only_its_roles_permissions(
    installed: dict[str, str], kube: KubeApi, cluster: Cluster, namespace: str
) -> None:
    token = service_account_token(kube, namespace, names.controller_service_account(namespace))
    api = KubeAPI(server=kube.server, namespace=namespace, token=token, ca_file=str(kube.ca_file))
    scheduler = RetireAll()
    selector = installed["pod-selector"]
    backend = KubernetesBackend(api, scheduler, installed["deployment"], selector)

    assert backend.replicas() == WORKERS
    backend.scale(WORKERS + 2, ())
    pods = wait_for(
        lambda: (p := running_workers(kube, namespace, selector)) and len(p) == WORKERS + 2 and p,
        what="two more workers running",
    )

    # Retire three pods from the middle of the list (neither the newest nor the oldest): the
    # ReplicaSet controller must delete exactly those, by their lower deletion cost.
    chosen = sorted(pods)[2:5]
    retire = tuple(
        WorkerInfo(address=f"tcp://{pods[name]['status']['podIP']}:40000", replica=name)
        for name in chosen
    )
    steps = backend.scale(WORKERS - 1, retire)
    assert steps[-1] == f"replicas {WORKERS - 1}"
    left = wait_for(
        lambda: (p := running_workers(kube, namespace, selector)) and len(p) == WORKERS - 1 and p,
        what="three workers gone",
    )
    assert set(left) == set(pods) - set(chosen)
    assert deployment(kube, namespace, installed["deployment"])["spec"]["replicas"] == WORKERS - 1

    sleep_configmap = names.sleep_configmap(namespace)
    api.put_configmap(sleep_configmap, sleep_record("idle 8h", 0.0))  # creates it
    api.put_configmap(sleep_configmap, sleep_record("idle 9h", 3600.0))  # patches it
    written = kube.get(f"/api/v1/namespaces/{namespace}/configmaps/{sleep_configmap}")
    assert written["data"] == sleep_record("idle 9h", 3600.0)

    # What the Role must never allow, asked of the real authorizer with the same token.
    as_controller = kube.with_token(token)
    jupyter = names.jupyter_deployment(namespace)
    forbidden = {
        "read Secrets": lambda: as_controller.get(f"/api/v1/namespaces/{namespace}/secrets"),
        "read the token Secret": lambda: as_controller.get(
            f"/api/v1/namespaces/{namespace}/secrets/{names.token_secret(namespace)}"
        ),
        "list pods in another namespace": lambda: as_controller.get(
            "/api/v1/namespaces/kube-system/pods"
        ),
        "delete the Jupyter claim": lambda: as_controller.delete(
            f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{names.jupyter_pvc(namespace)}"
        ),
        "scale the Jupyter Deployment": lambda: as_controller.patch(
            f"/apis/apps/v1/namespaces/{namespace}/deployments/{jupyter}/scale",
            {"spec": {"replicas": 0}},
        ),
        "delete worker pods": lambda: as_controller.delete(
            f"/api/v1/namespaces/{namespace}/pods/{sorted(left)[0]}"
        ),
        "change the Role": lambda: as_controller.patch(
            f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles/"
            f"{names.controller_deployment(namespace)}",
            {"rules": []},
        ),
    }
    allowed = [what for what, call in forbidden.items() if not denied(call)]
    assert allowed == []
    assert kube.exists(
        f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{names.jupyter_pvc(namespace)}"
    )
