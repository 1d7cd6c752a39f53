"""Idle hibernate of the nodegroups through botocore (in the image through s3fs -> aiobotocore).

botocore is imported in this module's functions only, so the rest of the controller, and its
tests, run without it; its errors (ClientError: throttled, denied; BotoCoreError: unreachable,
no credentials) leave as CloudCallFailed, which the loop logs and retries. Spot first, stable
last: the stable group holds the controller's own node; and no sleep at all when no spot group
matches (the spot nodes would keep billing while the cluster reports itself asleep).
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


class CloudCallFailed(Exception):
    """An AWS call of idle sleep failed, or found no spot group; nothing reports sleep."""


def _botocore_errors() -> tuple[type[BaseException], ...]:
    import botocore.exceptions  # type: ignore[import-untyped]  # in the image through s3fs

    return (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)


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


def found_spot_groups(groups: Nodegroups, endpoint_url: str | None = None) -> list[str]:
    """The spot group's Auto Scaling group(s); CloudCallFailed when none matches or AWS fails."""
    try:
        autoscaling = _client("autoscaling", groups.region, endpoint_url)
        found = spot_group_names(autoscaling, groups)
    except _botocore_errors() as error:
        raise CloudCallFailed(f"cannot list the Auto Scaling groups: {error}") from error
    if not found:
        raise CloudCallFailed(
            f"no Auto Scaling group is tagged {CLUSTER_NAME_TAG}={groups.cluster} and "
            f"{NODEGROUP_NAME_TAG}={groups.spot_nodegroup}: not going to sleep, the spot nodes "
            "would keep billing (was the spot group replaced? `make install` points the "
            "controller at the current one)"
        )
    return found


def hibernate_nodegroups(groups: Nodegroups, endpoint_url: str | None = None) -> list[str]:
    """Spot ASG(s) to 0 (min and desired), then the managed stable group to 0; the steps taken."""
    spot = found_spot_groups(groups, endpoint_url)
    try:
        return _scale_to_zero(groups, spot, endpoint_url)
    except _botocore_errors() as error:
        raise CloudCallFailed(f"cannot scale the nodegroups to 0: {error}") from error


def _scale_to_zero(groups: Nodegroups, spot: list[str], endpoint_url: str | None) -> list[str]:
    autoscaling = _client("autoscaling", groups.region, endpoint_url)
    steps: list[str] = []
    for name in spot:
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
    """Record why in the ConfigMap, workers to 0, then the spot and stable groups to 0; nothing
    at all (CloudCallFailed) when the spot group cannot be found."""
    found_spot_groups(groups, endpoint_url)
    api.put_configmap(configmap, sleep_record(reason, now_s))
    steps = [f"recorded in ConfigMap {configmap}"]
    steps += workers.scale(0, ())
    return steps + hibernate_nodegroups(groups, endpoint_url)
