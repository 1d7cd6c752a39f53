"""Render the eksctl ClusterConfig: a pure function from settings and fit to a dict."""

from __future__ import annotations

import json
import math
from typing import Any

from pangeo_himat import names
from pangeo_himat.data_access import pod_identity_associations
from pangeo_himat.fit import FitReport
from pangeo_himat.idle_sleep_iam import idle_sleep_pod_identity_associations
from pangeo_himat.settings import Settings
from pangeo_himat.versions import effective_support, today

AMI_FAMILY = "AmazonLinux2023"
STABLE_VOLUME_GIB = 50
# Room on a spot node's root volume for the OS and the (large) Pangeo image, before spill.
SPOT_BASE_VOLUME_GIB = 40
# A worker may spill to disk up to twice its memory before its emptyDir is full.
SPILL_PER_MEMORY = 2
# AWS's default for onDemandPercentageAboveBaseCapacity is 100, i.e. all on-demand.
# Source: https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstancesDistribution.html
SPOT_ALLOCATION_STRATEGY = "price-capacity-optimized"
AUTOSCALER_TAG_PREFIX = "k8s.io/cluster-autoscaler"


def cost_tags(settings: Settings) -> dict[str, str]:
    """The user's cost-allocation tags plus the cluster name, on every resource."""
    return {**settings["cluster"]["tags"], "himat/cluster": settings["cluster"]["name"]}


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


def stable_nodegroup(settings: Settings) -> dict[str, Any]:
    """One on-demand node in the first zone, next to the Jupyter volume."""
    zones = settings["cluster"]["zones"]
    return {
        "name": names.STABLE_NODEGROUP,
        "instanceType": settings["stable"]["instance_type"],
        "amiFamily": AMI_FAMILY,
        "availabilityZones": [zones[0]],
        "minSize": 0,
        "maxSize": 1,
        "desiredCapacity": 0 if settings["hibernate"] else 1,
        "volumeSize": STABLE_VOLUME_GIB,
        "volumeType": "gp3",
        "volumeEncrypted": True,
        "labels": dict([names.CORE_LABEL, names.SCHEDULER_LABEL]),
        "tags": cost_tags(settings),
        "disableIMDSv1": True,
        "disablePodIMDS": True,
    }


def spot_nodegroup(settings: Settings, fit: FitReport) -> dict[str, Any]:
    """Unmanaged, because only unmanaged nodegroups take a spot maxPrice."""
    spot = settings["spot"]
    zones = settings["cluster"]["zones"]
    distribution: dict[str, Any] = {"instanceTypes": list(spot["instance_types"])}
    if spot["max_price"] is not None:
        distribution["maxPrice"] = spot["max_price"]
    distribution.update(
        {
            "onDemandBaseCapacity": 0,
            "onDemandPercentageAboveBaseCapacity": 0,
            "spotAllocationStrategy": SPOT_ALLOCATION_STRATEGY,
            "capacityRebalance": True,
        }
    )
    return {
        "name": names.SPOT_NODEGROUP,
        "amiFamily": AMI_FAMILY,
        "availabilityZones": list(zones) if spot["spread_zones"] else [zones[0]],
        "minSize": 0,
        "maxSize": spot["max_nodes"],
        "desiredCapacity": 0 if settings["hibernate"] else spot["nodes"],
        "instancesDistribution": distribution,
        "volumeSize": spot_volume_gib(fit),
        "volumeType": "gp3",
        "volumeEncrypted": True,
        "labels": dict([names.WORKER_LABEL]),
        "taints": [dict(names.WORKER_TAINT)],
        "tags": {**cost_tags(settings), **autoscaler_tags(settings["cluster"]["name"])},
        "propagateASGTags": True,
        "disableIMDSv1": True,
        "disablePodIMDS": True,
    }


def render_cluster_config(settings: Settings, fit: FitReport) -> dict[str, Any]:
    """The eksctl ClusterConfig (eksctl.io/v1alpha5) for these settings."""
    cluster = settings["cluster"]
    tags = cost_tags(settings)
    iam: dict[str, Any] = {"withOIDC": True}
    associations = pod_identity_associations(settings, tags)
    associations += idle_sleep_pod_identity_associations(settings, tags)
    if associations:
        iam["podIdentityAssociations"] = associations
    return {
        "apiVersion": "eksctl.io/v1alpha5",
        "kind": "ClusterConfig",
        "metadata": {
            "name": cluster["name"],
            "region": cluster["region"],
            "version": cluster["kubernetes_version"],
            "tags": tags,
        },
        "availabilityZones": list(cluster["zones"]),
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
                cluster["kubernetes_version"], cluster["support"], today()
            ).upper()
        },
        # Without this, eksctl adds every default add-on not listed, metrics-server included
        # (a pod on the stable node the fit does not count). Source: eksctl
        # pkg/actions/addon/tasks.go (CreateAddonTasks) and v1alpha5/known_addons.go.
        "addonsConfig": {"disableDefaultAddons": True},
        "addons": addons(),
        "managedNodeGroups": [stable_nodegroup(settings)],
        "nodeGroups": [spot_nodegroup(settings, fit)],
    }
