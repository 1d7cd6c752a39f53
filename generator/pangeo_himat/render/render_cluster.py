"""Render the eksctl ClusterConfig: a pure function from settings and fit to a dict."""

from __future__ import annotations

import json
import math
from typing import Any

from pangeo_himat.fit.fit import FitReport
from pangeo_himat.render import names
from pangeo_himat.render.cluster_autoscaler import AUTOSCALER_TAG_PREFIX, autoscaler_association
from pangeo_himat.render.data_access import pod_identity_associations
from pangeo_himat.render.idle_sleep_iam import idle_sleep_pod_identity_associations
from pangeo_himat.settings.model import Settings
from pangeo_himat.settings.versions import effective_support, today

AMI_FAMILY = "AmazonLinux2023"
STABLE_VOLUME_GIB = 50
# Room on a spot node's root volume for the OS and the (large) Pangeo image, before spill.
SPOT_BASE_VOLUME_GIB = 40
# A worker may spill to disk up to twice its memory before its emptyDir is full.
SPILL_PER_MEMORY = 2
# AWS's default for onDemandPercentageAboveBaseCapacity is 100, i.e. all on-demand.
# Source: https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstancesDistribution.html
SPOT_ALLOCATION_STRATEGY = "price-capacity-optimized"


def cost_tags(settings: Settings) -> dict[str, str]:
    """The user's cost-allocation tags plus the cluster name, on every resource."""
    return {**settings.cluster.tags, "himat/cluster": settings.cluster.name}


def spill_size_gib(fit: FitReport) -> int:
    """The emptyDir sizeLimit of one worker's spill directory."""
    return max(1, math.ceil(fit.worker_memory_mib * SPILL_PER_MEMORY / 1024))


def spot_volume_gib(fit: FitReport) -> int:
    """Root volume of a spot node: the image plus the spill of every worker on it."""
    return SPOT_BASE_VOLUME_GIB + fit.workers_per_node * spill_size_gib(fit)


def autoscaler_tags(cluster_name: str) -> dict[str, str]:
    """Tags that let cluster-autoscaler find the spot group and scale it up from zero.

    A group at zero has no node to read labels and taints from, so the autoscaler reads them
    from `node-template` tags. Source: kubernetes/autoscaler, cluster-autoscaler/cloudprovider/
    aws/README.md, "Auto-Discovery Setup" and "Scaling a node group to 0".
    """
    label_key, label_value = names.WORKER_LABEL
    taint = names.WORKER_TAINT
    return {
        f"{AUTOSCALER_TAG_PREFIX}/enabled": "true",
        f"{AUTOSCALER_TAG_PREFIX}/{cluster_name}": "owned",
        f"{AUTOSCALER_TAG_PREFIX}/node-template/label/{label_key}": label_value,
        f"{AUTOSCALER_TAG_PREFIX}/node-template/taint/{taint['key']}": (
            f"{taint['value']}:{taint['effect']}"
        ),
    }


def addons() -> list[dict[str, Any]]:
    """Every EKS add-on the cluster runs: networking with NetworkPolicy enforcement, DNS, EBS
    volumes, Pod Identity. eksctl's default add-ons are disabled, so this list is complete."""
    return [
        # Without enableNetworkPolicy the VPC CNI ignores every NetworkPolicy.
        # Source: https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html
        {"name": "vpc-cni", "configurationValues": json.dumps({"enableNetworkPolicy": "true"})},
        {"name": "coredns"},
        {"name": "kube-proxy"},
        # The EBS driver needs an IAM role; without it every PVC stays Pending.
        {"name": "aws-ebs-csi-driver", "wellKnownPolicies": {"ebsCSIController": True}},
        {"name": "eks-pod-identity-agent"},
    ]


# What eksctl cannot change on a running nodegroup: a change of any of these replaces the group.
# (`eksctl scale nodegroup` changes sizes only; instance types, spot prices, volumes, labels,
# taints and the AMI live in the launch template and the CloudFormation stack eksctl created.)
REPLACEMENT_FIELDS = (
    "instanceType",
    "instancesDistribution",
    "amiFamily",
    "availabilityZones",
    "volumeSize",
    "volumeType",
    "labels",
    "taints",
)


def replacement_fields(group: dict[str, Any]) -> dict[str, Any]:
    """The fields of a rendered group its name's hash covers (sizes and tags left out)."""
    fields = {key: group[key] for key in REPLACEMENT_FIELDS if key in group}
    distribution = fields.get("instancesDistribution")
    if distribution is not None:
        fields["instancesDistribution"] = {
            key: distribution[key] for key in ("instanceTypes", "maxPrice") if key in distribution
        }
    return fields


def group_name(role: str, group: dict[str, Any], kubernetes_version: str) -> str:
    """The role and the hash of the group's replacement fields. The unmanaged spot group's
    nodes also keep their Kubernetes version for life (its AMI), so its hash covers the version;
    the managed stable group upgrades in place (`eksctl upgrade nodegroup`), so its does not."""
    fields = replacement_fields(group)
    if role == names.SPOT_NODEGROUP:
        fields["kubernetesVersion"] = kubernetes_version
    return names.nodegroup_name(role, fields)


def named(role: str, kubernetes_version: str, group: dict[str, Any]) -> dict[str, Any]:
    """The group with its name first."""
    return {"name": group_name(role, group, kubernetes_version), **group}


def stable_nodegroup(settings: Settings) -> dict[str, Any]:
    """One on-demand node in the first zone, next to the Jupyter volume."""
    zones = settings.cluster.zones
    return named(
        names.STABLE_NODEGROUP,
        settings.cluster.kubernetes_version,
        {
            "instanceType": settings.stable.instance_type,
            "amiFamily": AMI_FAMILY,
            "availabilityZones": [zones[0]],
            "minSize": 0,
            "maxSize": 1,
            "desiredCapacity": 0 if settings.hibernate else 1,
            "volumeSize": STABLE_VOLUME_GIB,
            "volumeType": "gp3",
            "volumeEncrypted": True,
            "labels": dict([names.CORE_LABEL, names.SCHEDULER_LABEL]),
            "tags": cost_tags(settings),
            "disableIMDSv1": True,
            "disablePodIMDS": True,
        },
    )


def spot_nodegroup(settings: Settings, fit: FitReport) -> dict[str, Any]:
    """Unmanaged, because only unmanaged nodegroups take a spot maxPrice."""
    spot = settings.spot
    zones = settings.cluster.zones
    distribution: dict[str, Any] = {"instanceTypes": list(spot.instance_types)}
    if spot.max_price is not None:
        distribution["maxPrice"] = spot.max_price
    distribution.update(
        {
            "onDemandBaseCapacity": 0,
            "onDemandPercentageAboveBaseCapacity": 0,
            "spotAllocationStrategy": SPOT_ALLOCATION_STRATEGY,
            "capacityRebalance": True,
        }
    )
    return named(
        names.SPOT_NODEGROUP,
        settings.cluster.kubernetes_version,
        {
            "amiFamily": AMI_FAMILY,
            "availabilityZones": list(zones) if spot.spread_zones else [zones[0]],
            "minSize": 0,
            "maxSize": spot.max_nodes,
            "desiredCapacity": 0 if settings.hibernate else spot.nodes,
            "instancesDistribution": distribution,
            "volumeSize": spot_volume_gib(fit),
            "volumeType": "gp3",
            "volumeEncrypted": True,
            "labels": dict([names.WORKER_LABEL]),
            "taints": [dict(names.WORKER_TAINT)],
            # The node-template tags ride on the nodegroup's tags, which eksctl puts on the ASG
            # (v1alpha5 types.go, NodeGroupBase.Tags). No propagateASGTags: with it eksctl adds
            # one more tag per taint of the same key with the bare value ("worker", pkg/cfn/
            # builder/nodegroup.go GenerateClusterAutoscalerTags), which the autoscaler reads as
            # no taint (it wants "<value>:<effect>"), so a group at zero would look untainted.
            "tags": {**cost_tags(settings), **autoscaler_tags(settings.cluster.name)},
            "disableIMDSv1": True,
            "disablePodIMDS": True,
        },
    )


def render_cluster_config(settings: Settings, fit: FitReport) -> dict[str, Any]:
    """The eksctl ClusterConfig (eksctl.io/v1alpha5) for these settings."""
    cluster = settings.cluster
    tags = cost_tags(settings)
    iam: dict[str, Any] = {"withOIDC": True}
    stable, spot = stable_nodegroup(settings), spot_nodegroup(settings, fit)
    iam["podIdentityAssociations"] = [
        *pod_identity_associations(settings, tags),
        autoscaler_association(settings, tags),
        *idle_sleep_pod_identity_associations(settings, tags, stable["name"], spot["name"]),
    ]
    return {
        "apiVersion": "eksctl.io/v1alpha5",
        "kind": "ClusterConfig",
        "metadata": {
            "name": cluster.name,
            "region": cluster.region,
            "version": cluster.kubernetes_version,
            "tags": tags,
        },
        "availabilityZones": list(cluster.zones),
        # Nodes sit in public subnets with no inbound rule from outside the cluster, so no
        # NAT gateway is needed: it would bill ~USD 0.045/h even when hibernated, plus a
        # per-GB charge on every byte read from S3.
        # Source: https://aws.amazon.com/vpc/pricing/ (NAT gateway hourly and per-GB charge)
        "vpc": {"nat": {"gateway": "Disable"}},
        "iam": iam,
        # eksctl's own default is EXTENDED, which bills USD 0.60 instead of 0.10 per hour once
        # standard support ends. Source: eksctl pkg/apis/eksctl.io/v1alpha5/types.go
        # (DefaultSupportType = SupportTypeExtended).
        # A version already past standard support can only be EXTENDED (see versions.py).
        "upgradePolicy": {
            "supportType": effective_support(
                cluster.kubernetes_version, cluster.support, today()
            ).upper()
        },
        # Without this, eksctl adds every default add-on not listed, metrics-server included
        # (a pod on the stable node the fit does not count). Source: eksctl
        # pkg/actions/addon/tasks.go (CreateAddonTasks) and v1alpha5/known_addons.go.
        "addonsConfig": {"disableDefaultAddons": True},
        "addons": addons(),
        "managedNodeGroups": [stable],
        "nodeGroups": [spot],
    }
