"""The cluster-autoscaler that makes the spot nodes follow the worker pods.

Its chart pin, its image per Kubernetes minor, its values and its IAM role are written here
once (its requests in fit/system_pods.py, which counts them on the stable node and sits below
the renderers): the rendered values set the requests, and the ClusterConfig
carries the Pod Identity association for its ServiceAccount.
"""

from __future__ import annotations

from typing import Any

from pangeo_himat.fit import system_pods
from pangeo_himat.render import names
from pangeo_himat.settings.model import Settings

# kubernetes/autoscaler cluster-autoscaler/charts/cluster-autoscaler/Chart.yaml
# (version 9.59.0, appVersion 1.35.0, at commit 55c37cd5, 2026-08-22). One chart serves every
# minor; only the image follows the cluster.
CHART_REPO = "https://kubernetes.github.io/autoscaler"
CHART = "cluster-autoscaler"
CHART_VERSION = "9.59.0"
IMAGE_REPOSITORY = "registry.k8s.io/autoscaling/cluster-autoscaler"
AUTOSCALER_TAG_PREFIX = "k8s.io/cluster-autoscaler"

# "versioning scheme was changed to match Kubernetes minor releases exactly"; use the release
# for the control plane's minor (kubernetes/autoscaler cluster-autoscaler/README.md, "Releases").
# The newest patch of each minor: the repository's tags cluster-autoscaler-1.<minor>.<patch>
# (at the commit above; 1.35.2 and 1.34.5 of 2026-07-22).
IMAGE_TAG_BY_MINOR = {
    "1.28": "v1.28.7",
    "1.29": "v1.29.5",
    "1.30": "v1.30.7",
    "1.31": "v1.31.5",
    "1.32": "v1.32.7",
    "1.33": "v1.33.6",
    "1.34": "v1.34.5",
    "1.35": "v1.35.2",
}

REQUESTS_CPU_MILLICORES = system_pods.AUTOSCALER_REQUESTS_CPU_MILLICORES
REQUESTS_MEMORY_MIB = system_pods.AUTOSCALER_REQUESTS_MEMORY_MIB
LIMITS_MEMORY_MIB = 600

# An empty spot node goes 5 minutes after it became unneeded, and 5 minutes after a scale-up at
# the earliest (defaults 10m and 10m; cluster-autoscaler/FAQ.md "What are the parameters to CA?").
SCALE_DOWN_UNNEEDED_TIME = "5m"
SCALE_DOWN_DELAY_AFTER_ADD = "5m"

# The minimal IAM of kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/README.md,
# "IAM Policy" (Full Cluster Autoscaler Features Policy): the describe calls on "*", the two
# writes restricted, as it recommends, by a tag condition (AWS Auto Scaling user guide,
# "Control access using IAM": aws:ResourceTag on the group). The spot group's ASG carries the
# tag: eksctl creates an unmanaged nodegroup's stack with the nodegroup's `tags` (eksctl
# pkg/cfn/manager/nodegroup.go, CreateStack(..., ng.Tags, ...), commit 99984adb), and
# CloudFormation puts stack tags on the Auto Scaling group it creates.
DESCRIBE_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
    "eks:DescribeNodegroup",
)
WRITE_ACTIONS = (
    "autoscaling:SetDesiredCapacity",
    "autoscaling:TerminateInstanceInAutoScalingGroup",
)


def discovery_tags(cluster_name: str) -> list[str]:
    """The tag keys a group needs to be discovered: only the spot group carries them."""
    return [f"{AUTOSCALER_TAG_PREFIX}/enabled", f"{AUTOSCALER_TAG_PREFIX}/{cluster_name}"]


def image_tag(kubernetes_version: str) -> str:
    """The autoscaler release built for the cluster's minor."""
    return IMAGE_TAG_BY_MINOR[kubernetes_version]


def autoscaler_values(settings: Settings) -> dict[str, Any]:
    """On the stable node (no toleration of the spot taint), discovering this cluster's spot group.

    Keys as the chart's values.yaml names them (same commit as CHART_VERSION).
    """
    cluster = settings.cluster
    label_key, label_value = names.CORE_LABEL
    return {
        "cloudProvider": "aws",
        "awsRegion": cluster.region,
        "fullnameOverride": names.AUTOSCALER_DEPLOYMENT,
        "autoDiscovery": {
            "clusterName": cluster.name,
            "tags": discovery_tags(cluster.name),
        },
        "image": {"repository": IMAGE_REPOSITORY, "tag": image_tag(cluster.kubernetes_version)},
        "extraArgs": {
            "scale-down-unneeded-time": SCALE_DOWN_UNNEEDED_TIME,
            "scale-down-delay-after-add": SCALE_DOWN_DELAY_AFTER_ADD,
            # The workers' emptyDirs are listed in their safe-to-evict-local-volumes annotation,
            # so other pods with local storage still keep their node.
            "skip-nodes-with-local-storage": True,
            "expander": "least-waste",
        },
        "rbac": {"serviceAccount": {"create": True, "name": names.AUTOSCALER_SERVICE_ACCOUNT}},
        "nodeSelector": {label_key: label_value},
        "tolerations": [],
        "resources": {
            "requests": {
                "cpu": f"{REQUESTS_CPU_MILLICORES}m",
                "memory": f"{REQUESTS_MEMORY_MIB}Mi",
            },
            "limits": {"memory": f"{LIMITS_MEMORY_MIB}Mi"},
        },
    }


def autoscaler_policy(cluster_name: str) -> dict[str, Any]:
    """Describe anything; change only the groups tagged as this cluster's."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DescribeGroupsAndInstances",
                "Effect": "Allow",
                "Action": list(DESCRIBE_ACTIONS),
                "Resource": ["*"],
            },
            {
                "Sid": "ScaleOnlyThisClustersGroups",
                "Effect": "Allow",
                "Action": list(WRITE_ACTIONS),
                "Resource": ["*"],
                "Condition": {
                    "StringEquals": {
                        f"aws:ResourceTag/{AUTOSCALER_TAG_PREFIX}/{cluster_name}": "owned"
                    }
                },
            },
        ],
    }


def autoscaler_role_name(settings: Settings) -> str:
    """IAM role names are global to the account, so the region is part of the name."""
    cluster = settings.cluster
    return f"{cluster.name}-{cluster.region}-autoscaler"[:64]


def autoscaler_association(settings: Settings, tags: dict[str, str]) -> dict[str, Any]:
    """The Pod Identity association of kube-system/cluster-autoscaler (the chart makes the SA)."""
    return {
        "namespace": names.AUTOSCALER_NAMESPACE,
        "serviceAccountName": names.AUTOSCALER_SERVICE_ACCOUNT,
        "createServiceAccount": False,
        "roleName": autoscaler_role_name(settings),
        "permissionPolicy": autoscaler_policy(settings.cluster.name),
        "tags": dict(tags),
    }
