"""`himat fit` against the real kube-scheduler: the nodes EKS would start, the chart's pods.

The node stand-in registers the ClusterConfig's nodes with fit's own allocatable figures and
runs the system pods fit subtracts; the real scheduler then places the chart's pods. Whatever
it binds is what a real cluster of that shape would hold, within fit's model of the nodes.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from e2e.chart import (
    install,
    nodegroup_of,
    placement,
    pods_by_component,
    render,
    unschedulable_message,
)
from e2e.conftest import NodePool
from e2e.kube_api import KubeApi, wait_for

SHAPES: dict[str, dict[str, Any]] = {
    "defaults": {},
    "count-auto-per-node-4": {
        "workers.cpu": "auto",
        "workers.memory": "auto",
        "workers.per_node": 4,
    },
    "large-type": {"spot.instance_types": ["m5.4xlarge"], "spot.nodes": 2},
    "several-processes": {
        "spot.instance_types": ["c5.2xlarge", "c6i.2xlarge"],
        "workers.processes": 2,
        "workers.threads": 2,
        "workers.memory": "3000Mi",
        "workers.cpu": "1",
    },
}


def scheduled_workers(kube: KubeApi, namespace: str, expected: int) -> list[dict[str, Any]]:
    """The worker pods once `expected` exist and none waits for the scheduler's first try."""

    def settled() -> list[dict[str, Any]] | None:
        workers = pods_by_component(kube, namespace).get("worker", [])
        if len(workers) != expected:
            return None
        for pod in workers:
            if not pod["spec"].get("nodeName") and not unschedulable_message(pod):
                return None
        return workers

    return wait_for(settled, timeout_s=90, what=f"{expected} worker pods placed or refused")


@pytest.mark.parametrize("shape", SHAPES)
def test_the_scheduler_binds_exactly_the_workers_fit_computes_on_spot_nodes(
    shape: str,
    tmp_path: Path,
    kube: KubeApi,
    kube_env: dict[str, str],
    namespace: str,
    node_pool: NodePool,
) -> None:
    rendering = render(tmp_path, SHAPES[shape])
    fit = rendering.rendered.fit
    eksctl = rendering.rendered.cluster_config
    (spot_group,) = eksctl["nodeGroups"]
    (stable_group,) = eksctl["managedNodeGroups"]
    node_pool.start(eksctl, rendering.settings)
    # One worker more than fit says the spot nodes hold.
    result = install(
        kube_env,
        namespace,
        rendering.values_file,
        "--set",
        f"worker.replicas={fit.worker_count + 1}",
    )
    assert result.returncode == 0, result.stderr

    workers = scheduled_workers(kube, namespace, fit.worker_count + 1)
    assert placement(kube, workers) == {spot_group["name"]: fit.worker_count, "": 1}
    (pending,) = [pod for pod in workers if not pod["spec"].get("nodeName")]
    assert "Insufficient" in unschedulable_message(pending)
    per_node = Counter(pod["spec"]["nodeName"] for pod in workers if pod["spec"].get("nodeName"))
    assert set(per_node.values()) == {fit.workers_per_node}

    for component in ("jupyter", "scheduler"):
        (pod,) = wait_for(
            lambda c=component: [
                p
                for p in pods_by_component(kube, namespace).get(c, [])
                if p["spec"].get("nodeName")
            ],
            timeout_s=60,
            what=f"the {component} pod bound",
        )
        assert nodegroup_of(kube, pod["spec"]["nodeName"]) == stable_group["name"]
