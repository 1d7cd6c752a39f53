"""Will the pods fit? The kubelet arithmetic of an EKS AL2023 node, then our pods on top.

Formulas, as nodeadm (amazon-eks-ami, AL2023) sets up the kubelet:
- max pods = ENIs x (IPv4 addresses per ENI - 1) + 2
  (amazon-eks-ami templates/shared/runtime/eni-max-pods.txt and its max-pods-calculator.sh);
- kube-reserved memory = 11 MiB x max pods + 255 MiB
  (nodeadm internal/kubelet/config.go, getMemoryMebibytesToReserve);
- kube-reserved CPU: 6 % of the first core, 1 % of the second, 0.5 % of cores 3-4 and 0.25 % of
  the rest, each range rounded down in millicores (nodeadm getCPUMillicoresToReserve);
- eviction threshold memory.available < 100Mi (nodeadm's kubelet config default);
- the memory the OS sees is below the nominal size; without a measured figure we use
  Karpenter's VM overhead estimate of 7.5 % (Karpenter `vmMemoryOverheadPercent` default 0.075).
The requests of the cluster's own pods come from `system_pods`, each with its source.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from pangeo_himat.fit.system_pods import requests_on
from pangeo_himat.settings.catalog import InstanceType, known_instance_type
from pangeo_himat.settings.errors import InputError, Problem
from pangeo_himat.settings.model import Settings
from pangeo_himat.settings.quantities import (
    cpu_millicores,
    format_mib,
    format_millicores,
    memory_mib,
)
from pangeo_himat.settings.yaml_lines import KeyPath

# The settings the fit reads: it runs only when none of them was refused.
FIT_INPUTS: tuple[KeyPath, ...] = (
    ("stable",),
    ("spot", "instance_types"),
    ("spot", "nodes"),
    ("spot", "max_nodes"),
    ("workers",),
    ("scheduler",),
    ("jupyter", "cpu"),
    ("jupyter", "memory"),
    ("custom_instance_types",),
)
VM_MEMORY_OVERHEAD_FRACTION = 0.075
EVICTION_HARD_MEMORY_MIB = 100
KUBE_RESERVED_MEMORY_PER_POD_MIB = 11
KUBE_RESERVED_MEMORY_BASE_MIB = 255
# (cores in this range, reserved share in hundredths of a percent)
KUBE_RESERVED_CPU_LADDER = ((1, 600), (1, 100), (2, 50), (math.inf, 25))


def max_pods(instance: InstanceType) -> int:
    """Pods the VPC CNI can address on one node (one IP per pod, minus each ENI's own)."""
    return instance.max_enis * (instance.ipv4_per_eni - 1) + 2


def kube_reserved_cpu_millicores(vcpu: int) -> int:
    """The CPU nodeadm holds back for the kubelet and container runtime."""
    reserved, remaining = 0, float(vcpu)
    for cores, hundredths_of_percent in KUBE_RESERVED_CPU_LADDER:
        in_range = min(remaining, cores)
        reserved += int(in_range * 1000 * hundredths_of_percent) // 10000
        remaining -= in_range
        if remaining <= 0:
            break
    return reserved


def kube_reserved_memory_mib(pods: int) -> int:
    """The memory nodeadm holds back: grows with the pods a node may run."""
    return KUBE_RESERVED_MEMORY_PER_POD_MIB * pods + KUBE_RESERVED_MEMORY_BASE_MIB


@dataclass(frozen=True)
class NodeShape:
    """What the kubelet of one node offers to pods."""

    instance_type: str
    vcpu: int
    memory_mib: int
    max_pods: int
    vm_overhead_mib: int
    kube_reserved_cpu_millicores: int
    kube_reserved_memory_mib: int
    eviction_memory_mib: int
    allocatable_cpu_millicores: int
    allocatable_memory_mib: int


def node_shape(instance: InstanceType) -> NodeShape:
    """Allocatable CPU and memory of an EKS AL2023 node of this type."""
    pods = max_pods(instance)
    overhead = math.ceil(instance.memory_mib * VM_MEMORY_OVERHEAD_FRACTION)
    reserved_cpu = kube_reserved_cpu_millicores(instance.vcpu)
    reserved_memory = kube_reserved_memory_mib(pods)
    return NodeShape(
        instance_type=instance.name,
        vcpu=instance.vcpu,
        memory_mib=instance.memory_mib,
        max_pods=pods,
        vm_overhead_mib=overhead,
        kube_reserved_cpu_millicores=reserved_cpu,
        kube_reserved_memory_mib=reserved_memory,
        eviction_memory_mib=EVICTION_HARD_MEMORY_MIB,
        allocatable_cpu_millicores=instance.vcpu * 1000 - reserved_cpu,
        allocatable_memory_mib=instance.memory_mib
        - overhead
        - reserved_memory
        - EVICTION_HARD_MEMORY_MIB,
    )


@dataclass(frozen=True)
class NodeFit:
    """One node type in one role: its allocatable resources and what is asked of them."""

    role: str
    shape: NodeShape
    system_cpu_millicores: int
    system_memory_mib: int
    system_pods: int
    dask_cpu_millicores: int
    dask_memory_mib: int
    other_cpu_millicores: int
    other_memory_mib: int
    workers_per_node: int

    @property
    def requested_cpu_millicores(self) -> int:
        return self.system_cpu_millicores + self.dask_cpu_millicores + self.other_cpu_millicores

    @property
    def requested_memory_mib(self) -> int:
        return self.system_memory_mib + self.dask_memory_mib + self.other_memory_mib

    @property
    def fits(self) -> bool:
        return (
            self.requested_cpu_millicores <= self.shape.allocatable_cpu_millicores
            and self.requested_memory_mib <= self.shape.allocatable_memory_mib
        )

    @property
    def dask_cpu_share(self) -> float:
        """Share of the node's allocatable CPU that Dask pods request."""
        return self.dask_cpu_millicores / self.shape.allocatable_cpu_millicores

    @property
    def dask_memory_share(self) -> float:
        """Share of the node's allocatable memory that Dask pods request."""
        return self.dask_memory_mib / self.shape.allocatable_memory_mib

    @property
    def dask_cpu_share_after_system(self) -> float:
        """Share of what the DaemonSets leave over: the part Dask could ever get."""
        free = self.shape.allocatable_cpu_millicores - self.system_cpu_millicores
        return self.dask_cpu_millicores / free if free > 0 else 0.0

    @property
    def dask_memory_share_after_system(self) -> float:
        free = self.shape.allocatable_memory_mib - self.system_memory_mib
        return self.dask_memory_mib / free if free > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for name in (
            "requested_cpu_millicores",
            "requested_memory_mib",
            "fits",
            "dask_cpu_share",
            "dask_memory_share",
            "dask_cpu_share_after_system",
            "dask_memory_share_after_system",
        ):
            value = getattr(self, name)
            data[name] = round(value, 4) if isinstance(value, float) else value
        return data


@dataclass(frozen=True)
class FitReport:
    """The fit of the whole cluster, and the worker shape and count it resolves to."""

    stable: NodeFit
    spot: list[NodeFit]
    worker_cpu_millicores: int
    worker_memory_mib: int
    workers_per_node: int
    worker_count: int
    spot_nodes: int
    problems: list[Problem] = field(default_factory=list)
    # Most workers spot.max_nodes nodes hold: the bound of adaptive mode's max auto.
    max_worker_count: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "stable": self.stable.as_dict(),
            "spot": [node.as_dict() for node in self.spot],
            "workers": {
                "cpu": format_millicores(self.worker_cpu_millicores),
                "memory": format_mib(self.worker_memory_mib),
                "per_node": self.workers_per_node,
                "count": self.worker_count,
                "spot_nodes": self.spot_nodes,
            },
            "problems": [str(problem) for problem in self.problems],
        }


def _free_after_system(shape: NodeShape, placement: str) -> tuple[int, int, int]:
    cpu, memory, pods = requests_on(placement)
    return (
        shape.allocatable_cpu_millicores - cpu,
        shape.allocatable_memory_mib - memory,
        shape.max_pods - pods,
    )


def resolve_worker_shape(settings: Settings, shapes: list[NodeShape]) -> tuple[int, int]:
    """Worker CPU and memory; `auto` splits the smallest spot node into `per_node` equal parts."""
    workers = settings.workers
    free = [_free_after_system(shape, "spot") for shape in shapes]
    per_node = workers.per_node or 1
    cpu = (
        min(f[0] for f in free) // per_node
        if workers.cpu == "auto"
        else cpu_millicores(workers.cpu)
    )
    memory = (
        min(f[1] for f in free) // per_node
        if workers.memory == "auto"
        else memory_mib(workers.memory)
    )
    return cpu, memory


def workers_per_node(shape: NodeShape, cpu: int, memory: int) -> int:
    """How many worker pods of this shape one spot node holds after its DaemonSets."""
    free_cpu, free_memory, free_pods = _free_after_system(shape, "spot")
    if cpu <= 0 or memory <= 0 or free_cpu <= 0 or free_memory <= 0:
        return 0
    return max(0, min(free_cpu // cpu, free_memory // memory, free_pods))


def _spot_fit(shape: NodeShape, cpu: int, memory: int, per_node: int) -> NodeFit:
    system_cpu, system_memory, system_pods = requests_on("spot")
    return NodeFit(
        role="spot",
        shape=shape,
        system_cpu_millicores=system_cpu,
        system_memory_mib=system_memory,
        system_pods=system_pods,
        dask_cpu_millicores=cpu * per_node,
        dask_memory_mib=memory * per_node,
        other_cpu_millicores=0,
        other_memory_mib=0,
        workers_per_node=per_node,
    )


def _stable_fit(settings: Settings, shape: NodeShape) -> NodeFit:
    system_cpu, system_memory, system_pods = requests_on("stable")
    return NodeFit(
        role="stable",
        shape=shape,
        system_cpu_millicores=system_cpu,
        system_memory_mib=system_memory,
        system_pods=system_pods,
        dask_cpu_millicores=cpu_millicores(settings.scheduler.cpu),
        dask_memory_mib=memory_mib(settings.scheduler.memory),
        other_cpu_millicores=cpu_millicores(settings.jupyter.cpu),
        other_memory_mib=memory_mib(settings.jupyter.memory),
        workers_per_node=0,
    )


def _stable_problem(settings: Settings, node: NodeFit) -> Problem:
    free_cpu = node.shape.allocatable_cpu_millicores - node.system_cpu_millicores
    free_memory = node.shape.allocatable_memory_mib - node.system_memory_mib
    return settings.problem(
        ("stable", "instance_type"),
        f"{node.shape.instance_type} leaves {format_millicores(free_cpu)} CPU and {free_memory}Mi "
        f"after system pods, but Jupyter + scheduler request "
        f"{format_millicores(node.requested_cpu_millicores - node.system_cpu_millicores)} CPU and "
        f"{node.requested_memory_mib - node.system_memory_mib}Mi; choose a larger stable "
        "instance type or lower jupyter/scheduler cpu and memory",
    )


def compute_fit(settings: Settings) -> FitReport:
    """The fit report; `problems` lists what does not fit (empty when everything does)."""
    stable_type = known_instance_type(settings, settings.stable.instance_type)
    spot_types = [known_instance_type(settings, name) for name in settings.spot.instance_types]
    stable = _stable_fit(settings, node_shape(stable_type))
    spot_shapes = [node_shape(spot_type) for spot_type in spot_types]
    cpu, memory = resolve_worker_shape(settings, spot_shapes)
    per_node = min(workers_per_node(shape, cpu, memory) for shape in spot_shapes)
    if settings.workers.per_node is not None:
        per_node = min(per_node, settings.workers.per_node)
    nodes = settings.spot.nodes
    requested = settings.workers.count
    count = per_node * nodes if requested == "auto" else requested

    problems = []
    if not stable.fits:
        problems.append(_stable_problem(settings, stable))
    smallest = min(spot_shapes, key=lambda s: (s.allocatable_memory_mib, s.max_pods))
    if per_node == 0:
        free_cpu, free_memory, _ = _free_after_system(smallest, "spot")
        problems.append(
            settings.problem(
                ("workers", "memory" if memory > free_memory else "cpu"),
                f"one worker ({format_millicores(cpu)} CPU, {memory}Mi) does not fit on a "
                f"{smallest.instance_type} spot node, which has "
                f"{format_millicores(max(free_cpu, 0))} "
                f"CPU and {max(free_memory, 0)}Mi free after system pods; lower workers.cpu/"
                "memory or choose larger spot types",
            )
        )
    elif requested != "auto" and requested > per_node * nodes:
        needed_nodes = math.ceil(requested / per_node)
        raise_max = (
            f" (and spot.max_nodes to at least {needed_nodes})"
            if needed_nodes > settings.spot.max_nodes
            else ""
        )
        problems.append(
            settings.problem(
                ("workers", "count"),
                f"{requested} workers do not fit: {nodes} spot nodes x {per_node} workers "
                f"({format_millicores(cpu)} CPU, {memory}Mi each) = {per_node * nodes}; set "
                f"workers.count to {per_node * nodes} or auto, or spot.nodes to {needed_nodes}"
                + raise_max,
            )
        )
    max_nodes = settings.spot.max_nodes
    adaptive = settings.workers.adaptive
    adaptive_max = None if adaptive is None else adaptive.max
    if per_node and isinstance(adaptive_max, int) and adaptive_max > per_node * max_nodes:
        problems.append(
            settings.problem(
                ("workers", "adaptive", "max"),
                f"{adaptive_max} workers do not fit: {max_nodes} spot nodes at most "
                f"(spot.max_nodes) x {per_node} workers = {per_node * max_nodes}; set "
                f"workers.adaptive.max to {per_node * max_nodes} or auto, or spot.max_nodes "
                f"to {math.ceil(adaptive_max / per_node)}",
            )
        )
    spot = [_spot_fit(shape, cpu, memory, per_node) for shape in spot_shapes]
    return FitReport(
        stable, spot, cpu, memory, per_node, count, nodes, problems, per_node * max_nodes
    )


def checked_fit(settings: Settings) -> FitReport:
    """The fit report, or InputError when something does not fit."""
    report = compute_fit(settings)
    if report.problems:
        raise InputError(report.problems)
    return report
