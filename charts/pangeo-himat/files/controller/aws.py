"""Idle hibernate of the nodegroups through botocore (in the image through s3fs -> aiobotocore).

botocore is imported in this module's functions only, so the rest of the controller, and its
tests, run without it. Spot first, stable last: the stable group holds the controller's own node.
The spot group is an eksctl unmanaged nodegroup, an Auto Scaling group found by the tags eksctl
puts on it (ClusterNameTag alpha.eksctl.io/cluster-name, NodeGroupNameTag
alpha.eksctl.io/nodegroup-name: eksctl pkg/apis/eksctl.io/v1alpha5/types.go); the stable group
is managed, sized through EKS UpdateNodegroupConfig.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .kube import KubeAPI, WorkerBackend, sleep_record

CLUSTER_NAME_TAG = "alpha.eksctl.io/cluster-name"
NODEGROUP_NAME_TAG = "alpha.eksctl.io/nodegroup-name"


@dataclass(frozen=True)
class Nodegroups:
    """Which groups idle sleep scales to 0."""

    region: str
    cluster: str
    spot_nodegroup: str = "spot"
    stable_nodegroup: str = "stable"


def _client(service: str, region: str, endpoint_url: str | None) -> Any:
    import botocore.session  # type: ignore[import-untyped]  # in the image through s3fs

    session = botocore.session.get_session()
    return session.create_client(service, region_name=region, endpoint_url=endpoint_url)


def spot_group_names(autoscaling: Any, groups: Nodegroups) -> list[str]:
    filters = [
        {"Name": f"tag:{CLUSTER_NAME_TAG}", "Values": [groups.cluster]},
        {"Name": f"tag:{NODEGROUP_NAME_TAG}", "Values": [groups.spot_nodegroup]},
    ]
    names: list[str] = []
    for page in autoscaling.get_paginator("describe_auto_scaling_groups").paginate(Filters=filters):
        names.extend(group["AutoScalingGroupName"] for group in page["AutoScalingGroups"])
    return sorted(names)


def hibernate_nodegroups(groups: Nodegroups, endpoint_url: str | None = None) -> list[str]:
    """Spot ASG(s) to 0 (min and desired), then the managed stable group to 0; the steps taken."""
    autoscaling = _client("autoscaling", groups.region, endpoint_url)
    steps: list[str] = []
    for name in spot_group_names(autoscaling, groups):
        # Min first: SetDesiredCapacity below the group's minimum is refused.
        autoscaling.update_auto_scaling_group(AutoScalingGroupName=name, MinSize=0)
        autoscaling.set_desired_capacity(
            AutoScalingGroupName=name, DesiredCapacity=0, HonorCooldown=False
        )
        steps.append(f"spot group {name} to 0")
    eks = _client("eks", groups.region, endpoint_url)
    eks.update_nodegroup_config(
        clusterName=groups.cluster,
        nodegroupName=groups.stable_nodegroup,
        scalingConfig={"minSize": 0, "desiredSize": 0},
    )
    steps.append(f"stable nodegroup {groups.stable_nodegroup} to 0")
    return steps


def hibernate_cluster(
    api: KubeAPI,
    workers: WorkerBackend,
    groups: Nodegroups,
    configmap: str,
    reason: str,
    now_s: float,
    endpoint_url: str | None = None,
) -> list[str]:
    """Record why in the ConfigMap, workers to 0, then the spot and stable groups to 0."""
    api.put_configmap(configmap, sleep_record(reason, now_s))
    steps = [f"recorded in ConfigMap {configmap}"]
    steps += workers.scale(0, ())
    return steps + hibernate_nodegroups(groups, endpoint_url)
