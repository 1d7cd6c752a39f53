"""The worker controller's AWS role for idle sleep: the spot and stable nodegroups to 0, no more.

Bound to the controller's ServiceAccount through EKS Pod Identity, as the S3 role is
(data_access.py). The actions are the calls of pangeo_himat.controller.aws.hibernate_nodegroups:
DescribeAutoScalingGroups finds the spot group by its eksctl tags; UpdateAutoScalingGroup and
SetDesiredCapacity take it to 0, allowed only on a group that carries this cluster's and the
spot nodegroup's tags; UpdateNodegroupConfig takes the managed stable group to 0, allowed on its
ARN only. Resource types, ARN formats and condition keys: Service Authorization Reference,
"Actions, resources, and condition keys for Amazon EC2 Auto Scaling" (autoScalingGroup,
aws:ResourceTag/${TagKey}) and "... for Amazon Elastic Kubernetes Service" (nodegroup:
arn:${Partition}:eks:${Region}:${Account}:nodegroup/${ClusterName}/${NodegroupName}/${UUID}).
"""

from __future__ import annotations

from typing import Any

from pangeo_himat.render import names
from pangeo_himat.render.data_access import partition
from pangeo_himat.settings.model import Settings

# The tags eksctl puts on the Auto Scaling group of an unmanaged nodegroup
# (eksctl pkg/apis/eksctl.io/v1alpha5/types.go: ClusterNameTag, NodeGroupNameTag); the same
# names as pangeo_himat.controller.aws, which reads them.
CLUSTER_NAME_TAG = "alpha.eksctl.io/cluster-name"
NODEGROUP_NAME_TAG = "alpha.eksctl.io/nodegroup-name"


def idle_sleep_role_name(settings: Settings) -> str:
    """IAM role names are global to the account, so the region is part of the name."""
    cluster = settings.cluster
    return f"{cluster.name}-{cluster.region}-idle-sleep"[:64]


def idle_sleep_policy(settings: Settings, stable_group: str, spot_group: str) -> dict[str, Any]:
    """Describe on * (Describe calls take no resource); writes on the two nodegroups only,
    named as rendered (a replaced group gets a new name, and the policy follows it)."""
    cluster = settings.cluster
    arn_partition = partition(cluster.region)
    stable_arn = (
        f"arn:{arn_partition}:eks:{cluster.region}:*:nodegroup/{cluster.name}/{stable_group}/*"
    )
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "FindTheSpotGroup",
                "Effect": "Allow",
                "Action": ["autoscaling:DescribeAutoScalingGroups"],
                "Resource": "*",
            },
            {
                "Sid": "SpotGroupToZero",
                "Effect": "Allow",
                "Action": [
                    "autoscaling:UpdateAutoScalingGroup",
                    "autoscaling:SetDesiredCapacity",
                ],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        f"aws:ResourceTag/{CLUSTER_NAME_TAG}": cluster.name,
                        f"aws:ResourceTag/{NODEGROUP_NAME_TAG}": spot_group,
                    }
                },
            },
            {
                "Sid": "StableGroupToZero",
                "Effect": "Allow",
                "Action": ["eks:UpdateNodegroupConfig"],
                "Resource": stable_arn,
            },
        ],
    }


def idle_sleep_pod_identity_associations(
    settings: Settings, tags: dict[str, str], stable_group: str, spot_group: str
) -> list[dict[str, Any]]:
    """The controller's association; none unless idle.hibernate_after is set."""
    if settings.idle.hibernate_after is None:
        return []
    name = settings.cluster.name
    return [
        {
            "namespace": names.namespace(name),
            "serviceAccountName": names.controller_service_account(name),
            "createServiceAccount": False,
            "roleName": idle_sleep_role_name(settings),
            "permissionPolicy": idle_sleep_policy(settings, stable_group, spot_group),
            "tags": dict(tags),
        }
    ]
