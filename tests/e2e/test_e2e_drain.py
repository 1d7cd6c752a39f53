"""`kubectl drain` of a spot node goes through the eviction API, and the worker
PodDisruptionBudget of the chart stops it once its budget is spent."""

from __future__ import annotations

import subprocess
from pathlib import Path

from e2e.chart import install, pods_by_component, render
from e2e.conftest import KUBECTL, NodePool
from e2e.kube_api import KubeApi, wait_for
from pangeo_himat.render import names


def test_draining_a_full_spot_node_evicts_only_what_the_worker_budget_allows(
    tmp_path: Path,
    kube: KubeApi,
    kube_env: dict[str, str],
    namespace: str,
    node_pool: NodePool,
) -> None:
    rendering = render(tmp_path)
    standin = node_pool.start(rendering.rendered.cluster_config, rendering.settings)
    result = install(kube_env, namespace, rendering.values_file, "--wait", "--timeout", "3m")
    assert result.returncode == 0, result.stderr
    budget_path = (
        f"/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/"
        f"{names.worker_deployment(namespace)}"
    )
    allowed = wait_for(
        lambda: kube.get(budget_path).get("status", {}).get("disruptionsAllowed"),
        what="the disruption controller's budget",
    )
    (spot_group,) = rendering.rendered.cluster_config["nodeGroups"]
    spot_nodes = [n.name for n in standin.nodes if n.nodegroup == spot_group["name"]]
    before = {pod["metadata"]["name"] for pod in pods_by_component(kube, namespace)["worker"]}
    assert len(before) > allowed

    drains = []
    for node in spot_nodes:  # one after another, as a node upgrade or a rebalance would
        drains.append(
            subprocess.run(
                [str(KUBECTL), "drain", node, "--ignore-daemonsets", "--delete-emptydir-data"]
                + ["--timeout", "10s"],
                env=kube_env,
                capture_output=True,
                text=True,
                timeout=120,
            )
        )
    # The evicted workers' replacements find no room (every spot node is cordoned), so once the
    # budget is spent the eviction API refuses the rest and the last drain gives up.
    assert drains[-1].returncode != 0
    assert "disruption budget" in drains[-1].stderr
    evicted = before - {
        pod["metadata"]["name"]
        for pod in pods_by_component(kube, namespace)["worker"]
        if pod["spec"].get("nodeName")
    }
    assert len(evicted) == allowed
    assert all(kube.get(f"/api/v1/nodes/{node}")["spec"]["unschedulable"] for node in spot_nodes)
