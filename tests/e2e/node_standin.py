"""Stand-in for the EKS nodes of a rendered eksctl.yaml: what kwok is to the Kubernetes project.

The control plane of ../shared/k8s has no kubelet and no cloud. This stand-in plays, against the
real API server:
- the kubelets of the nodes EKS would start for the ClusterConfig (the stable managed nodegroup's
  node and N nodes of the spot nodegroup), registering each Node with the labels and taints that
  eksctl, the AWS cloud provider and the EBS CSI driver put on it, capacity and allocatable from
  `pangeo_himat.fit.node_shape` (the package's own kubelet arithmetic), a Ready condition and a
  Lease renewed every few seconds;
- those kubelets' pod work: a pod bound to one of its nodes becomes Running and Ready the way a
  kubelet reports it, and a pod being deleted gracefully is finished with a grace-0 delete;
- the cluster's own pods that `fit` counts (pangeo_himat.fit.system_pods): DaemonSets and
  Deployments in kube-system with the same requests, so the scheduler sees what an EKS node
  carries;
- the EBS CSI driver's controller (with the external-provisioner): a PersistentVolume for each
  claim of an ebs.csi.aws.com StorageClass once the scheduler picked a node for it; given an EC2
  client (moto's server, tests/aws_endpoints.py), it first creates the EBS volume there as the
  driver's CreateVolume does, so that himat's `aws ec2` calls find it.
Nothing else of a node is played: no containers run, probes are not called.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from e2e.kube_api import ApiError, KubeApi
from pangeo_himat.fit.fit import NodeShape, node_shape
from pangeo_himat.fit.system_pods import SYSTEM_PODS, SystemPod
from pangeo_himat.settings.catalog import known_instance_type
from pangeo_himat.settings.model import Settings
from pangeo_himat.settings.quantities import memory_bytes

# --- labels, each with the source that puts it on an EKS node -------------------------------
# eksctl sets both on every nodegroup's labels, managed or not (eksctl-io/eksctl
# pkg/apis/eksctl.io/v1alpha5/defaults.go setDefaultNodeLabels; names in types.go).
EKSCTL_CLUSTER_LABEL = "alpha.eksctl.io/cluster-name"
EKSCTL_NODEGROUP_LABEL = "alpha.eksctl.io/nodegroup-name"
# EKS labels a managed nodegroup's nodes with their nodegroup (eksctl-io/eksctl
# pkg/apis/eksctl.io/v1alpha5/types.go EKSNodeGroupNameLabel, which eksctl selects them by).
EKS_NODEGROUP_LABEL = "eks.amazonaws.com/nodegroup"
# The AWS cloud provider's InstanceMetadata becomes these well-known labels and the providerID
# aws:///<zone>/<instance-id> (kubernetes/cloud-provider-aws pkg/providers/v1/instances_v2.go
# InstanceMetadata: Zone, Region, InstanceType; instances.go: the providerID forms).
ZONE_LABEL = "topology.kubernetes.io/zone"
REGION_LABEL = "topology.kubernetes.io/region"
INSTANCE_TYPE_LABEL = "node.kubernetes.io/instance-type"
# The EBS CSI node plugin reports its topology, which the kubelet copies onto the node
# (kubernetes-sigs/aws-ebs-csi-driver pkg/driver/node.go NodeGetInfo; keys in driver.go:
# ZoneTopologyKey = topology.ebs.csi.aws.com/zone, WellKnownZoneTopologyKey, OSTopologyKey).
EBS_ZONE_LABEL = "topology.ebs.csi.aws.com/zone"
EBS_DRIVER = "ebs.csi.aws.com"
# The kubelet's own labels (kubernetes pkg/kubelet/kubelet_node_status.go initialNode).
HOSTNAME_LABEL = "kubernetes.io/hostname"
OS_LABEL = "kubernetes.io/os"
ARCH_LABEL = "kubernetes.io/arch"
ARCHITECTURES = {"x86_64": "amd64", "arm64": "arm64"}
# The kubelet's default hard eviction for the node filesystem (kubernetes
# pkg/kubelet/apis/config/v1beta1/defaults_linux.go DefaultEvictionHard: nodefs.available 10%).
NODEFS_EVICTION_SHARE = 0.10
LEASE_DURATION_S = 40  # the kubelet's nodeLeaseDurationSeconds default
LEASE_RENEW_S = 10  # the kubelet renews at a quarter of the duration
# The loop's lists are served from the API server's watch cache (resourceVersion "0", as
# informers list), not read from etcd: a kubelet-like loop may see a state a moment old, and the
# next pass sees the rest. The loop lists every 0.3 s for as long as a test runs.
FROM_CACHE = "0"
# The annotation the scheduler puts on a WaitForFirstConsumer claim (the external-provisioner's
# cue, kubernetes-csi/external-provisioner and k8s.io/component-helpers volume binding).
SELECTED_NODE = "volume.kubernetes.io/selected-node"
STANDIN_IMAGE = "registry.k8s.io/pause:3.10"
# The chart under test brings this one itself (charts/pangeo-himat/templates/controller/).
CHART_BRINGS = frozenset({"worker controller"})
STANDIN_LABEL = "himat.e2e/node-standin"
# The tags the EBS CSI driver puts on every volume it creates besides the StorageClass's
# tagSpecification_N ones (kubernetes-sigs/aws-ebs-csi-driver pkg/cloud/cloud.go
# VolumeNameTagKey, AwsEbsDriverTagKey; set in pkg/driver/controller.go CreateVolume).
EBS_VOLUME_NAME_TAG = "CSIVolumeName"
EBS_DRIVER_TAG = "ebs.csi.aws.com/cluster"
# (StorageClass, zone, size in GiB, PV name) -> the new volume's ID: the driver's CreateVolume.
CreateVolume = Callable[[dict[str, Any], str, int, str], str]


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _micro_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class NodeSpec:
    """One node to register: its name, nodegroup, type, zone and what its kubelet offers."""

    name: str
    instance_id: str
    ip: str
    nodegroup: str
    managed: bool
    zone: str
    region: str
    cluster: str
    shape: NodeShape
    architecture: str
    volume_gib: int
    labels: dict[str, str]
    taints: list[dict[str, str]]

    def labels_all(self) -> dict[str, str]:
        labels = dict(self.labels)
        labels.update(
            {
                EKSCTL_CLUSTER_LABEL: self.cluster,
                EKSCTL_NODEGROUP_LABEL: self.nodegroup,
                ZONE_LABEL: self.zone,
                REGION_LABEL: self.region,
                INSTANCE_TYPE_LABEL: self.shape.instance_type,
                EBS_ZONE_LABEL: self.zone,
                HOSTNAME_LABEL: self.name,
                OS_LABEL: "linux",
                ARCH_LABEL: self.architecture,
                STANDIN_LABEL: "true",
            }
        )
        if self.managed:
            labels[EKS_NODEGROUP_LABEL] = self.nodegroup
        return labels


def node_object(spec: NodeSpec) -> dict[str, Any]:
    """The Node as the kubelet registers it and the cloud provider completes it."""
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": spec.name, "labels": spec.labels_all()},
        "spec": {
            "providerID": f"aws:///{spec.zone}/{spec.instance_id}",
            "taints": spec.taints,
        },
    }


def node_status(spec: NodeSpec) -> dict[str, Any]:
    """Capacity and allocatable from fit's node shape; the conditions of a healthy node."""
    shape = spec.shape
    disk_kib = spec.volume_gib * 1024 * 1024
    capacity = {
        "cpu": str(shape.vcpu),
        # What the OS sees: the nominal size less the VM overhead fit assumes.
        "memory": f"{shape.memory_mib - shape.vm_overhead_mib}Mi",
        "pods": str(shape.max_pods),
        "ephemeral-storage": f"{disk_kib}Ki",
    }
    allocatable = {
        "cpu": f"{shape.allocatable_cpu_millicores}m",
        "memory": f"{shape.allocatable_memory_mib}Mi",
        "pods": str(shape.max_pods),
        "ephemeral-storage": f"{int(disk_kib * (1 - NODEFS_EVICTION_SHARE))}Ki",
    }
    now = _now()

    def condition(kind: str, status: str, reason: str) -> dict[str, str]:
        return {
            "type": kind,
            "status": status,
            "reason": reason,
            "message": f"stand-in kubelet: {reason}",
            "lastHeartbeatTime": now,
            "lastTransitionTime": now,
        }

    return {
        "capacity": capacity,
        "allocatable": allocatable,
        "conditions": [
            condition("MemoryPressure", "False", "KubeletHasSufficientMemory"),
            condition("DiskPressure", "False", "KubeletHasNoDiskPressure"),
            condition("PIDPressure", "False", "KubeletHasSufficientPID"),
            condition("Ready", "True", "KubeletReady"),
        ],
        "addresses": [
            {"type": "InternalIP", "address": spec.ip},
            {"type": "Hostname", "address": spec.name},
            {"type": "InternalDNS", "address": spec.name},
        ],
        "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
        "nodeInfo": {
            "machineID": spec.instance_id,
            "systemUUID": spec.instance_id,
            "bootID": spec.instance_id,
            "kernelVersion": "6.1.0",
            "osImage": "Amazon Linux 2023 (stand-in)",
            "containerRuntimeVersion": "containerd://2.0.0",
            "kubeletVersion": "v1.36.2",
            "kubeProxyVersion": "",
            "operatingSystem": "linux",
            "architecture": spec.architecture,
        },
    }


def _digest(*parts: str, length: int = 17) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:length]


def nodes_for(
    eksctl: dict[str, Any], settings: Settings, spot_nodes: int | None, run: str
) -> list[NodeSpec]:
    """The nodes EKS starts for this ClusterConfig: the stable node and the spot nodes.

    Spot nodes take the type fit sized the workers for (the smallest allocatable in the list):
    the auto-scaling group may start any type in the list; the smallest is the worst case.
    """
    cluster = eksctl["metadata"]["name"]
    region = eksctl["metadata"]["region"]
    specs: list[NodeSpec] = []
    addresses = itertools.count(10)

    def add(group: dict[str, Any], instance_type: str, count: int, managed: bool) -> None:
        instance = known_instance_type(settings, instance_type)
        zones = group.get("availabilityZones") or eksctl["availabilityZones"]
        for index in range(count):
            ip_tail = next(addresses)
            ip = f"10.{int(_digest(run, '3'), 16) % 250}.{ip_tail // 250}.{ip_tail % 250 + 1}"
            specs.append(
                NodeSpec(
                    name=f"ip-{ip.replace('.', '-')}.{region}.compute.internal",
                    instance_id=f"i-{_digest(run, group['name'], str(index))}",
                    ip=ip,
                    nodegroup=group["name"],
                    managed=managed,
                    zone=zones[index % len(zones)],
                    region=region,
                    cluster=cluster,
                    shape=node_shape(instance),
                    architecture=ARCHITECTURES.get(instance.architecture, "amd64"),
                    volume_gib=int(group.get("volumeSize", 80)),
                    labels=dict(group.get("labels") or {}),
                    taints=[dict(t) for t in group.get("taints") or []],
                )
            )

    for group in eksctl.get("managedNodeGroups") or []:
        add(group, group["instanceType"], int(group.get("desiredCapacity", 1)), managed=True)
    for group in eksctl.get("nodeGroups") or []:
        types = group["instancesDistribution"]["instanceTypes"]
        shapes = [node_shape(known_instance_type(settings, name)) for name in types]
        smallest = min(shapes, key=lambda s: (s.allocatable_memory_mib, s.max_pods)).instance_type
        count = int(group.get("desiredCapacity", 0)) if spot_nodes is None else spot_nodes
        add(group, smallest, count, managed=False)
    return specs


# --- the cluster's own pods, as fit counts them ---------------------------------------------


def _workload_name(pod: SystemPod) -> str:
    return "standin-" + "".join(c if c.isalnum() else "-" for c in pod.name.lower()).strip("-")[
        :40
    ].rstrip("-")


def system_workload(pod: SystemPod, spot_nodegroup: str) -> dict[str, Any]:
    """A DaemonSet (every node, or every spot node) or a Deployment (on the stable node)."""
    name = _workload_name(pod)
    labels = {"app.kubernetes.io/name": name, STANDIN_LABEL: "true"}
    requests = {"cpu": f"{pod.cpu_millicores}m", "memory": f"{pod.memory_mib}Mi"}
    template: dict[str, Any] = {
        "metadata": {"labels": labels},
        "spec": {
            "containers": [
                {"name": "main", "image": STANDIN_IMAGE, "resources": {"requests": requests}}
            ],
            "priorityClassName": "system-node-critical",
            "terminationGracePeriodSeconds": 0,
        },
    }
    if pod.placement in ("every_node", "spot"):
        # DaemonSets of EKS add-ons tolerate every taint (aws-node: `operator: Exists`).
        template["spec"]["tolerations"] = [{"operator": "Exists"}]
        if pod.placement == "spot":
            template["spec"]["nodeSelector"] = {EKSCTL_NODEGROUP_LABEL: spot_nodegroup}
        kind, spec = "DaemonSet", {}
    else:
        kind, spec = "Deployment", {"replicas": pod.replicas}
    spec.update({"selector": {"matchLabels": labels}, "template": template})
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "kube-system", "labels": labels},
        "spec": spec,
    }


# --- the pods a kubelet runs -----------------------------------------------------------------


def running_status(pod: dict[str, Any], node: NodeSpec, pod_ip: str) -> dict[str, Any]:
    """A pod's status as a kubelet reports it once every container started and is ready."""
    now = _now()
    spec = pod["spec"]

    def container_status(container: dict[str, Any], running: bool) -> dict[str, Any]:
        state: dict[str, Any] = (
            {"running": {"startedAt": now}}
            if running
            else {
                "terminated": {
                    "exitCode": 0,
                    "reason": "Completed",
                    "startedAt": now,
                    "finishedAt": now,
                }
            }
        )
        return {
            "name": container["name"],
            "image": container["image"],
            "imageID": f"{container['image']}@sha256:{_digest(container['image'], length=64)}",
            "containerID": "containerd://"
            + _digest(pod["metadata"]["uid"], container["name"], length=64),
            "ready": running,
            "started": running,
            "restartCount": 0,
            "state": state,
        }

    conditions = [
        {"type": kind, "status": "True", "lastTransitionTime": now}
        for kind in (
            "PodReadyToStartContainers",
            "Initialized",
            "Ready",
            "ContainersReady",
            "PodScheduled",
        )
    ]
    status: dict[str, Any] = {
        "phase": "Running",
        "conditions": conditions,
        "hostIP": node.ip,
        "hostIPs": [{"ip": node.ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": now,
        "containerStatuses": [container_status(c, True) for c in spec["containers"]],
    }
    if spec.get("initContainers"):
        status["initContainerStatuses"] = [
            container_status(c, False) for c in spec["initContainers"]
        ]
    return status


@dataclass
class NodeStandin:
    """Registers the nodes, runs their pods and provisions EBS claims until `stop()`."""

    api: KubeApi
    nodes: list[NodeSpec]
    spot_nodegroup: str
    chart_brings: frozenset[str] = CHART_BRINGS
    create_volume: CreateVolume | None = None
    interval_s: float = 0.3
    provisioned: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _pod_ips: dict[str, str] = field(default_factory=dict)
    _lease_at: float = 0.0
    errors: list[str] = field(default_factory=list)

    def by_name(self) -> dict[str, NodeSpec]:
        return {node.name: node for node in self.nodes}

    def start(self) -> None:
        for node in self.nodes:
            self.add_node(node)
        self._renew_leases()
        for pod in SYSTEM_PODS:
            if pod.name not in self.chart_brings:
                self.api.create(*_workload_path(system_workload(pod, self.spot_nodegroup)))
        self._thread = threading.Thread(target=self._run, name="node-standin", daemon=True)
        self._thread.start()

    def add_node(self, node: NodeSpec) -> None:
        self.api.create("/api/v1/nodes", node_object(node))
        self.api.call(
            "PATCH",
            f"/api/v1/nodes/{node.name}/status",
            {"status": node_status(node)},
            "application/merge-patch+json",
        )

    def remove_node(self, name: str) -> None:
        self.nodes = [node for node in self.nodes if node.name != name]
        self.api.delete(f"/api/v1/nodes/{name}")
        self.api.delete(f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}")

    def stop(self) -> None:
        """Remove the system workloads (their pods finished by the loop), then the nodes."""
        for pod in SYSTEM_PODS:
            workload = system_workload(pod, self.spot_nodegroup)
            path, _ = _workload_path(workload)
            self.api.delete(f"{path}/{workload['metadata']['name']}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and self.api.items(
            "/api/v1/namespaces/kube-system/pods", labelSelector=STANDIN_LABEL
        ):
            time.sleep(0.2)
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for node in list(self.nodes):
            self.remove_node(node.name)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if time.monotonic() - self._lease_at > LEASE_RENEW_S:
                    self._renew_leases()
                self._run_pods()
                self._provision_claims()
            except Exception as error:  # keep playing the nodes; the tests read `errors`
                self.errors.append(repr(error))
            self._stop.wait(self.interval_s)

    def _renew_leases(self) -> None:
        self._lease_at = time.monotonic()
        for node in self.nodes:
            path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{node.name}"
            lease = {
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": node.name, "namespace": "kube-node-lease"},
                "spec": {
                    "holderIdentity": node.name,
                    "leaseDurationSeconds": LEASE_DURATION_S,
                    "renewTime": _micro_now(),
                },
            }
            try:
                self.api.patch(path, {"spec": lease["spec"]})
            except ApiError as error:
                if error.code != 404:
                    raise
                self.api.create(
                    "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", lease
                )

    def _run_pods(self) -> None:
        nodes = self.by_name()
        for pod in self.api.items("/api/v1/pods", resourceVersion=FROM_CACHE):
            node = nodes.get(pod["spec"].get("nodeName", ""))
            if node is None:
                continue
            meta = pod["metadata"]
            path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}"
            if meta.get("deletionTimestamp"):
                # The kubelet stopped the containers; it removes the pod with grace 0.
                self.api.delete(
                    path,
                    {"gracePeriodSeconds": 0, "preconditions": {"uid": meta["uid"]}},
                )
                continue
            if pod["status"].get("phase") == "Running":
                continue
            ip = self._pod_ips.setdefault(
                meta["uid"],
                f"{node.ip.rsplit('.', 2)[0]}.{200 + len(self._pod_ips) // 250}."
                f"{len(self._pod_ips) % 250 + 1}",
            )
            self.api.call(
                "PATCH",
                f"{path}/status",
                {"status": running_status(pod, node, ip)},
                "application/merge-patch+json",
            )

    def _provision_claims(self) -> None:
        nodes = self.by_name()
        waiting = [
            claim
            for claim in self.api.items(
                "/api/v1/persistentvolumeclaims", resourceVersion=FROM_CACHE
            )
            if not claim["spec"].get("volumeName")
            and (claim["metadata"].get("annotations") or {}).get(SELECTED_NODE) in nodes
        ]
        if not waiting:
            return
        classes = {
            sc["metadata"]["name"]: sc
            for sc in self.api.items("/apis/storage.k8s.io/v1/storageclasses")
        }
        for claim in waiting:
            meta, spec = claim["metadata"], claim["spec"]
            storage_class = classes.get(spec.get("storageClassName") or "")
            if (
                storage_class is None
                or storage_class["provisioner"] != EBS_DRIVER
                or meta["uid"] in self.provisioned
            ):
                continue
            zone = nodes[meta["annotations"][SELECTED_NODE]].zone
            name = f"pvc-{meta['uid']}"
            if self.create_volume is None:
                volume_id = "vol-" + _digest(meta["uid"])
            else:
                size = gibibytes(claim["spec"]["resources"]["requests"]["storage"])
                volume_id = self.create_volume(storage_class, zone, size, name)
            self.api.create(
                "/api/v1/persistentvolumes",
                provisioned_volume(claim, storage_class, zone, volume_id),
            )
            self.provisioned.append(meta["uid"])


def _workload_path(workload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    plural = {"DaemonSet": "daemonsets", "Deployment": "deployments"}[workload["kind"]]
    return f"/apis/apps/v1/namespaces/kube-system/{plural}", workload


def gibibytes(quantity: str) -> int:
    """A claim's storage request in whole GiB, rounded up (the driver's CreateVolume rounds the
    capacity range's bytes up to GiB: pkg/cloud/cloud.go CreateDisk, util.RoundUpGiB)."""
    return -(-memory_bytes(quantity) // 2**30)


def ec2_volumes(ec2: Any) -> CreateVolume:
    """The driver's CreateVolume against an EC2 API (a botocore client of moto's server): the
    class's type, encryption and tagSpecification_N tags ("key=value", pkg/driver/parameters.go),
    and the driver's own tags."""

    def create(storage_class: dict[str, Any], zone: str, size_gib: int, name: str) -> str:
        parameters = storage_class.get("parameters") or {}
        tags = dict(
            value.split("=", 1)
            for key, value in parameters.items()
            if key.startswith("tagSpecification_")
        )
        tags |= {EBS_VOLUME_NAME_TAG: name, EBS_DRIVER_TAG: "true"}
        created = ec2.create_volume(
            AvailabilityZone=zone,
            Size=size_gib,
            VolumeType=parameters.get("type", "gp3"),
            Encrypted=parameters.get("encrypted") == "true",
            TagSpecifications=[
                {
                    "ResourceType": "volume",
                    "Tags": [{"Key": k, "Value": v} for k, v in sorted(tags.items())],
                }
            ],
        )
        return str(created["VolumeId"])

    return create


def provisioned_volume(
    claim: dict[str, Any], storage_class: dict[str, Any], zone: str, volume_id: str
) -> dict[str, Any]:
    """The PV the external-provisioner writes from the driver's CreateVolume answer.

    The driver answers with AccessibleTopology {topology.kubernetes.io/zone: <the volume's zone>}
    (kubernetes-sigs/aws-ebs-csi-driver pkg/driver/controller.go newCreateVolumeResponse), which
    the provisioner turns into the PV's required node affinity; fsType ext4 is the driver's
    default (pkg/driver/controller.go, defaultFsType via the external-provisioner)."""
    meta = claim["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": f"pvc-{meta['uid']}",
            "annotations": {"pv.kubernetes.io/provisioned-by": EBS_DRIVER},
            "labels": {STANDIN_LABEL: "true"},
        },
        "spec": {
            "capacity": {"storage": claim["spec"]["resources"]["requests"]["storage"]},
            "accessModes": claim["spec"]["accessModes"],
            "persistentVolumeReclaimPolicy": storage_class.get("reclaimPolicy", "Delete"),
            "storageClassName": storage_class["metadata"]["name"],
            "volumeMode": claim["spec"].get("volumeMode", "Filesystem"),
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta["uid"],
                "resourceVersion": meta["resourceVersion"],
            },
            "csi": {"driver": EBS_DRIVER, "volumeHandle": volume_id, "fsType": "ext4"},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {
                            "matchExpressions": [
                                {"key": ZONE_LABEL, "operator": "In", "values": [zone]}
                            ]
                        }
                    ]
                }
            },
        },
    }
