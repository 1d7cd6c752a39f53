"""Every render variant installs with helm 3 and helm 4 into a real API server, and every object
(the pods the controllers create from the templates included) is admitted under `restricted`
PodSecurity, which the test namespaces enforce. The variants of one helm version install side
by side, each in its own namespace, a few at a time."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from conftest import VARIANTS
from e2e.chart import POD_SECURITY_WARNING, install, render
from e2e.conftest import Cluster, create_namespace, delete_namespace, namespace_name
from e2e.kube_api import KubeApi, wait_for

AT_ONCE = 4


def workloads_short_of_pods(kube: KubeApi, namespace: str) -> dict[str, Any]:
    """ReplicaSets that have not created every pod, or whose controller reports a failure."""
    short = {}
    for replica_set in kube.items(f"/apis/apps/v1/namespaces/{namespace}/replicasets"):
        status = replica_set.get("status", {})
        failures = [c for c in status.get("conditions", []) if c["type"] == "ReplicaFailure"]
        if failures or status.get("replicas", 0) != replica_set["spec"]["replicas"]:
            short[replica_set["metadata"]["name"]] = failures or status
    return short


def refused_pod_events(kube: KubeApi, namespace: str) -> list[str]:
    return [
        event["message"]
        for event in kube.items(f"/api/v1/namespaces/{namespace}/events")
        if event["reason"] == "FailedCreate"
    ]


def install_variant(
    cluster: Cluster, env: dict[str, str], folder: Path, variant: str, version: str
) -> list[str]:
    """Install one variant into a fresh namespace; what went wrong (nothing: [])."""
    kube = KubeApi.from_kubeconfig(cluster.kubeconfig)  # a client per thread
    namespace = create_namespace(kube, namespace_name(f"{variant}-{version}"))
    try:
        folder.mkdir()
        rendering = render(folder, VARIANTS[variant])
        result = install(env, namespace, rendering.values_file, version=version)
        if result.returncode != 0:
            return [f"helm install: {result.stderr}"]
        problems = [line for line in result.stderr.splitlines() if POD_SECURITY_WARNING in line]
        deployments = kube.items(f"/apis/apps/v1/namespaces/{namespace}/deployments")
        wait_for(
            lambda: (
                len(kube.items(f"/apis/apps/v1/namespaces/{namespace}/replicasets"))
                >= len(deployments)
            ),
            timeout_s=60,
            what="a ReplicaSet for every Deployment",
        )
        wait_for(
            lambda: (
                not workloads_short_of_pods(kube, namespace) or refused_pod_events(kube, namespace)
            ),
            timeout_s=60,
            what="every ReplicaSet's pods",
        )
        problems += refused_pod_events(kube, namespace)
        problems += [
            f"{name}: {why}" for name, why in workloads_short_of_pods(kube, namespace).items()
        ]
        return problems if deployments else ["no Deployment installed"]
    finally:
        delete_namespace(kube, namespace)


@pytest.mark.parametrize("version", ["helm3", "helm4"])
def test_every_variant_installs_and_its_pods_are_admitted_under_restricted_pod_security(
    version: str, tmp_path: Path, cluster: Cluster, kube_env: dict[str, str]
) -> None:
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        futures = {
            variant: pool.submit(
                install_variant, cluster, kube_env, tmp_path / variant, variant, version
            )
            for variant in VARIANTS
        }
        problems = {variant: future.result() for variant, future in futures.items()}
    assert {variant: found for variant, found in problems.items() if found} == {}
