"""Every render variant installs with helm 3 and helm 4 into a real API server, and every object
(the pods the controllers create from the templates included) is admitted under `restricted`
PodSecurity, which the test namespaces enforce."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import VARIANTS
from e2e.chart import POD_SECURITY_WARNING, install, render
from e2e.kube_api import KubeApi, wait_for


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


@pytest.mark.parametrize("version", ["helm3", "helm4"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_variant_installs_and_its_pods_are_admitted_under_restricted_pod_security(
    variant: str,
    version: str,
    tmp_path: Path,
    kube: KubeApi,
    kube_env: dict[str, str],
    namespace: str,
) -> None:
    rendering = render(tmp_path, VARIANTS[variant])
    result = install(kube_env, namespace, rendering.values_file, version=version)
    assert result.returncode == 0, result.stderr
    assert POD_SECURITY_WARNING not in result.stderr
    deployments = kube.items(f"/apis/apps/v1/namespaces/{namespace}/deployments")
    assert deployments
    wait_for(
        lambda: (
            len(kube.items(f"/apis/apps/v1/namespaces/{namespace}/replicasets")) >= len(deployments)
        ),
        timeout_s=60,
        what="a ReplicaSet for every Deployment",
    )
    wait_for(
        lambda: not workloads_short_of_pods(kube, namespace) or refused_pod_events(kube, namespace),
        timeout_s=60,
        what="every ReplicaSet's pods",
    )
    assert refused_pod_events(kube, namespace) == []
    assert workloads_short_of_pods(kube, namespace) == {}
