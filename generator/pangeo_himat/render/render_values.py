"""Render the Helm values of charts/pangeo-himat: a pure function from settings and fit."""

from __future__ import annotations

from typing import Any

from pangeo_himat.fit.fit import FitReport
from pangeo_himat.render import names
from pangeo_himat.render.data_access import scratch_url
from pangeo_himat.render.render_cluster import spill_size_gib
from pangeo_himat.render.render_controller import adaptive_bounds, render_controller
from pangeo_himat.settings.model import JupyterSettings, Settings
from pangeo_himat.settings.quantities import cpu_millicores, format_cpu, format_mib, memory_mib

# Memory a worker pod keeps outside Dask's --memory-limit x processes: the nanny watches only
# the worker processes, and restarts one at 95 % of its limit (distributed.yaml,
# distributed.worker.memory.terminate), so what else runs in the container must fit beside.
# Measured by scripts/measure_worker_memory.py (RSS read with psutil; the hook's peak read with
# getrusage) on distributed 2026.8.0 and 2025.7.0 (the image's), Python 3.11: the `dask worker`
# parent that runs the nannies 63.2 MiB (2025.7.0: 48.6), +0.2 MiB per further nanny;
# multiprocessing's resource tracker 12.1 MiB; the stdlib preStop hook 19.3 MiB at its peak.
WORKER_MEMORY_RESERVE_PARENT_MIB = 64
WORKER_MEMORY_RESERVE_PER_NANNY_MIB = 1
WORKER_MEMORY_RESERVE_TRACKER_MIB = 13
# The hook's 19.3 MiB is mostly the interpreter and ssl (urllib.request imports it); 24 MiB
# leaves room for a larger answer from the scheduler and for the image's Python 3.12.
WORKER_MEMORY_RESERVE_HOOK_MIB = 24
# The parent imports distributed and every package's `dask_cli` entry point, and the image's
# environment is far larger than the measured one: its processes' share is doubled. The hook
# runs with `python -I -S` (no site-packages), so the environment does not change its figure.
WORKER_MEMORY_RESERVE_IMAGE_FACTOR = 2
# Spot instances get a two-minute interruption notice; leave the kubelet 10 s of it.
# Source: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html
WORKER_TERMINATION_GRACE_SECONDS = 110


def split_image(image: str) -> tuple[str, str, str]:
    """`registry:5000/org/name:tag@sha256:...` -> (repository, tag, digest); tag or digest ""."""
    reference, _, digest = image.partition("@")
    name, _, tag = reference.rpartition(":")
    if "/" in tag or not name:  # the colon was a registry port's, so there is no tag
        return reference, "", digest
    return name, tag, digest


def worker_memory_reserve_mib(processes: int) -> int:
    """Container memory left for the parent, its nannies, the tracker and the preStop hook."""
    parent_mib = (
        WORKER_MEMORY_RESERVE_PARENT_MIB
        + WORKER_MEMORY_RESERVE_PER_NANNY_MIB * (processes - 1)
        + WORKER_MEMORY_RESERVE_TRACKER_MIB
    )
    return WORKER_MEMORY_RESERVE_IMAGE_FACTOR * parent_mib + WORKER_MEMORY_RESERVE_HOOK_MIB


def dask_memory_limit_mib(pod_memory_mib: int, processes: int) -> int:
    """Dask's --memory-limit per worker process: the pod's limit minus the reserve, shared."""
    return max(1, (pod_memory_mib - worker_memory_reserve_mib(processes)) // processes)


def _resources(cpu_m: int, memory: int) -> dict[str, Any]:
    """Requests equal to limits: the pod is Guaranteed and the fit model holds."""
    amounts = {"cpu": format_cpu(cpu_m), "memory": format_mib(memory)}
    return {"requests": dict(amounts), "limits": dict(amounts)}


def _toleration(taint: dict[str, str]) -> dict[str, str]:
    return {
        "key": taint["key"],
        "operator": "Equal",
        "value": taint["value"],
        "effect": taint["effect"],
    }


def _service(jupyter: JupyterSettings) -> dict[str, Any]:
    """Jupyter's Service; a load balancer listens on 443 only, with the ACM certificate."""
    if jupyter.expose != "loadbalancer":
        return {"type": "ClusterIP", "loadBalancerSourceRanges": []}
    return {
        "type": "LoadBalancer",
        "loadBalancerSourceRanges": list(jupyter.allowed_cidrs),
        "tls": {"certificateArn": jupyter.tls_certificate_arn},
    }


def _worker_replicas(settings: Settings, fit: FitReport) -> int:
    """Hibernated: 0; adaptive: min, and the controller adds what the work asks for."""
    bounds = adaptive_bounds(settings, fit)
    if settings.hibernate:
        return 0
    return fit.worker_count if bounds is None else bounds[0]


def render_values(settings: Settings, fit: FitReport) -> dict[str, Any]:
    """Helm values for these settings; every selector matches a ClusterConfig label."""
    repository, tag, digest = split_image(settings.image)
    workers = settings.workers
    jupyter = settings.jupyter
    return {
        "image": {
            "repository": repository,
            "tag": tag,
            "digest": digest,
            "pullPolicy": "IfNotPresent",
        },
        "serviceAccount": {"annotations": {}},
        "data": {"scratchBucket": scratch_url(settings) or ""},
        "scheduler": {
            "resources": _resources(
                cpu_millicores(settings.scheduler.cpu),
                memory_mib(settings.scheduler.memory),
            ),
            "nodeSelector": dict([names.SCHEDULER_LABEL]),
            "tolerations": [],
        },
        "worker": {
            "replicas": _worker_replicas(settings, fit),
            "processes": workers.processes,
            "threads": workers.threads,
            "memoryLimit": (
                f"{dask_memory_limit_mib(fit.worker_memory_mib, workers.processes)}MiB"
            ),
            "resources": _resources(fit.worker_cpu_millicores, fit.worker_memory_mib),
            "nodeSelector": dict([names.WORKER_LABEL]),
            "tolerations": [_toleration(names.WORKER_TAINT)],
            "spillSizeLimit": f"{spill_size_gib(fit)}Gi",
            "terminationGracePeriodSeconds": WORKER_TERMINATION_GRACE_SECONDS,
        },
        "jupyter": {
            "resources": _resources(cpu_millicores(jupyter.cpu), memory_mib(jupyter.memory)),
            "nodeSelector": dict([names.CORE_LABEL]),
            "tolerations": [],
            "storage": {
                "size": jupyter.storage,
                "zone": settings.cluster.zones[0],
                "storageClass": {"create": True, "name": ""},
                "volumeId": jupyter.volume_id or "",
                "volumeTags": names.volume_tags(settings.cluster.name),
            },
            "service": _service(jupyter),
            "token": {"existingSecret": ""},
        },
        "controller": render_controller(settings, fit),
        "networkPolicy": {"enabled": True},
    }
