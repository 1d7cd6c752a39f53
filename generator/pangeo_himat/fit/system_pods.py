"""Requests of the cluster's own pods, which the fit model subtracts before placing ours.

Placement: `every_node` DaemonSets run on the stable and the spot nodes; `stable` pods can only
land on the stable node (the spot nodes are tainted for Dask workers); `spot` pods run on spot
nodes only. A component that requests nothing is listed with 0 so the table stays complete.
The list is every pod EKS runs: the ClusterConfig disables eksctl's default add-ons (so no
metrics-server) and names each add-on it wants (render.render_cluster.addons).
"""

from __future__ import annotations

from dataclasses import dataclass

from pangeo_himat.fit import controller_pod

# The requests of the pods himat installs itself, set by the values `himat render` writes
# (render/termination_handler.py and render/cluster_autoscaler.py read them from here).
TERMINATION_HANDLER_REQUESTS_CPU_MILLICORES = 50
TERMINATION_HANDLER_REQUESTS_MEMORY_MIB = 64
# The cluster-autoscaler chart's own example (values.yaml `resources`, commented out there).
AUTOSCALER_REQUESTS_CPU_MILLICORES = 100
AUTOSCALER_REQUESTS_MEMORY_MIB = 300


@dataclass(frozen=True)
class SystemPod:
    """One system workload: where it runs, how many replicas, and what each requests."""

    name: str
    placement: str
    replicas: int
    cpu_millicores: int
    memory_mib: int
    source: str


SYSTEM_PODS: tuple[SystemPod, ...] = (
    # The aws-node container requests 25m; with enableNetworkPolicy the aws-eks-nodeagent
    # container runs beside it, counted at 25m as well (over- rather than under-counting keeps
    # a worker from staying Pending).
    SystemPod(
        "aws-node (vpc-cni + network policy agent)",
        "every_node",
        1,
        50,
        0,
        "aws/amazon-vpc-cni-k8s config/master/aws-k8s-cni.yaml and charts/aws-vpc-cni/"
        "values.yaml (resources.requests.cpu of aws-node and of the node agent)",
    ),
    SystemPod(
        "kube-proxy",
        "every_node",
        1,
        100,
        0,
        "EKS kube-proxy add-on DaemonSet (resources.requests.cpu: 100m)",
    ),
    # ebs-plugin 10m / 40Mi (node.resources); node-driver-registrar and liveness-probe
    # 10m / 32Mi each (the defaults the template writes when sidecars.*.resources is empty).
    SystemPod(
        "ebs-csi-node",
        "every_node",
        1,
        30,
        104,
        "kubernetes-sigs/aws-ebs-csi-driver charts/aws-ebs-csi-driver/values.yaml "
        "(node.resources) and templates/_node.tpl (sidecar defaults), commit 429e202",
    ),
    SystemPod(
        "eks-pod-identity-agent",
        "every_node",
        1,
        0,
        0,
        "aws/eks-charts stable/eks-pod-identity-agent/values.yaml (resources: {})",
    ),
    SystemPod(
        "coredns",
        "stable",
        2,
        100,
        70,
        "EKS CoreDNS add-on Deployment (requests cpu 100m, memory 70Mi; 2 replicas)",
    ),
    # ebs-plugin, csi-provisioner, csi-attacher, csi-snapshotter and csi-resizer take
    # controller.resources (10m / 40Mi) when their own resources are empty; liveness-probe
    # 10m / 32Mi. The snapshotter runs only with the snapshot CRDs; it is counted anyway.
    SystemPod(
        "ebs-csi-controller",
        "stable",
        2,
        60,
        232,
        "kubernetes-sigs/aws-ebs-csi-driver charts/aws-ebs-csi-driver/values.yaml "
        "(controller.resources, controller.replicaCount: 2) and templates/controller.yaml, "
        "commit 429e202",
    ),
    # The chart's worker controller, beside the scheduler (templates/controller/).
    SystemPod(
        "worker controller",
        "stable",
        1,
        controller_pod.REQUESTS_CPU_MILLICORES,
        controller_pod.REQUESTS_MEMORY_MIB,
        "pangeo_himat.fit.controller_pod (the values himat render writes)",
    ),
    # We install the termination handler ourselves and set its requests (himat install).
    SystemPod(
        "aws-node-termination-handler",
        "spot",
        1,
        TERMINATION_HANDLER_REQUESTS_CPU_MILLICORES,
        TERMINATION_HANDLER_REQUESTS_MEMORY_MIB,
        "pangeo_himat.render.termination_handler (the values himat render writes)",
    ),
    # We install the cluster-autoscaler too, on the stable node (himat install).
    SystemPod(
        "cluster-autoscaler",
        "stable",
        1,
        AUTOSCALER_REQUESTS_CPU_MILLICORES,
        AUTOSCALER_REQUESTS_MEMORY_MIB,
        "pangeo_himat.render.cluster_autoscaler (the values himat render writes)",
    ),
)


def pods_on(placement: str) -> list[SystemPod]:
    """The system pods that land on a node of this role (`stable` or `spot`)."""
    return [pod for pod in SYSTEM_PODS if pod.placement in ("every_node", placement)]


def requests_on(placement: str) -> tuple[int, int, int]:
    """Total (CPU millicores, memory MiB, pod count) the system pods take on one node."""
    pods = pods_on(placement)
    return (
        sum(pod.cpu_millicores * pod.replicas for pod in pods),
        sum(pod.memory_mib * pod.replicas for pod in pods),
        sum(pod.replicas for pod in pods),
    )
