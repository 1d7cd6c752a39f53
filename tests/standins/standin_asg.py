"""The tags eksctl puts on an unmanaged nodegroup's Auto Scaling group: part of the eksctl stand-in.

NOT eksctl: what `eksctl create nodegroup` (and `create cluster`) makes of a `nodeGroups` entry,
read from eksctl's source (commit 99984adb):

- the ASG resource's own tags (pkg/cfn/builder/nodegroup.go, addResourcesForNodeGroup): `Name`
  (<cluster>-<nodegroup>-Node, generateNodeName), `kubernetes.io/cluster/<cluster>: owned`,
  the autoscaler's two when iam.withAddonPolicies.autoScaler is on, and with
  `propagateASGTags: true` one tag per label and per taint (GenerateClusterAutoscalerTags:
  `k8s.io/cluster-autoscaler/node-template/label/<key>: <value>` and
  `.../node-template/taint/<key>: <value>`: the taint's value alone, without its effect);
- the stack's tags, which CloudFormation also puts on the ASG (types.go: a nodegroup's `tags`
  are "Applied to the Autoscaling Group and to the EC2 instances (unmanaged)"): eksctl's shared
  three (pkg/cfn/manager/api.go NewStackCollection: alpha.eksctl.io/cluster-name,
  eksctl.cluster.k8s.io/v1alpha1/cluster-name, alpha.eksctl.io/eksctl-version), the cluster's
  metadata.tags, and the nodegroup's `tags` with the cluster's tags merged in
  (builder/nodegroup.go) and three more (manager/nodegroup.go createNodeGroupTask:
  alpha.eksctl.io/nodegroup-name, eksctl.io/v1alpha2/nodegroup-name,
  alpha.eksctl.io/nodegroup-type).

Where a resource tag and a stack tag share a key, the ASG keeps one value: the resource's (the
template's own Tags property is what the ASG is created with; this stand-in's assumption, the
one under which eksctl's propagated taint tag hides ours). CloudFormation's aws:cloudformation:*
tags are left out: they do not count against the 50-tag limit.
"""

from __future__ import annotations

from typing import Any

EKSCTL_VERSION = "0.215.0"
LABEL_PREFIX = "k8s.io/cluster-autoscaler/node-template/label/"
TAINT_PREFIX = "k8s.io/cluster-autoscaler/node-template/taint/"
# The tags eksctl itself adds to an unmanaged group's ASG, whatever the ClusterConfig says.
EKSCTL_OWN_TAGS = (
    "Name",
    "kubernetes.io/cluster/{cluster}",
    "alpha.eksctl.io/cluster-name",
    "eksctl.cluster.k8s.io/v1alpha1/cluster-name",
    "alpha.eksctl.io/eksctl-version",
    "alpha.eksctl.io/nodegroup-name",
    "eksctl.io/v1alpha2/nodegroup-name",
    "alpha.eksctl.io/nodegroup-type",
)


def unmanaged_asg_tags(config: dict[str, Any], group: dict[str, Any]) -> dict[str, str]:
    """Key -> value of every tag the ASG of `group` (a nodeGroups entry) carries."""
    cluster = config["metadata"]["name"]
    cluster_tags = dict(config["metadata"].get("tags") or {})
    stack = {
        "alpha.eksctl.io/cluster-name": cluster,
        "eksctl.cluster.k8s.io/v1alpha1/cluster-name": cluster,
        "alpha.eksctl.io/eksctl-version": EKSCTL_VERSION,
        **cluster_tags,
    }
    node_group_tags = {**cluster_tags, **(group.get("tags") or {})}
    node_group_tags.update(
        {
            "alpha.eksctl.io/nodegroup-name": group["name"],
            "eksctl.io/v1alpha2/nodegroup-name": group["name"],
            "alpha.eksctl.io/nodegroup-type": "unmanaged",
        }
    )
    stack.update(node_group_tags)
    resource = {
        "Name": f"{cluster}-{group['name']}-Node",
        f"kubernetes.io/cluster/{cluster}": "owned",
    }
    addon_policies = (group.get("iam") or {}).get("withAddonPolicies") or {}
    if addon_policies.get("autoScaler"):
        resource["k8s.io/cluster-autoscaler/enabled"] = "true"
        resource[f"k8s.io/cluster-autoscaler/{cluster}"] = "owned"
    if group.get("propagateASGTags"):
        for key, value in (group.get("labels") or {}).items():
            resource[LABEL_PREFIX + key] = value
        for taint in group.get("taints") or []:
            resource[TAINT_PREFIX + taint["key"]] = taint.get("value", "")
    return {**stack, **resource}
