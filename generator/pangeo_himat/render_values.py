"""Render the Helm values of charts/pangeo-himat: a pure function from settings and fit."""

from __future__ import annotations

from typing import Any

from pangeo_himat import names
from pangeo_himat.data_access import first_readwrite_bucket
from pangeo_himat.fit import FitReport
from pangeo_himat.quantities import cpu_millicores, format_cpu, format_mib, memory_mib
from pangeo_himat.render_cluster import spill_size_gib
from pangeo_himat.settings import Settings

# Memory kept outside Dask's --memory-limit for the `dask worker` parent process and its
# nannies: 10 % of the pod, at least 160 MiB. The nanny restarts a worker at 95 % of its
# limit (distributed.yaml, distributed.worker.memory.terminate), so the pod stays below its
# own limit and the kernel's OOM killer never fires first.
WORKER_MEMORY_RESERVE_FRACTION = 0.10
WORKER_MEMORY_RESERVE_MIN_MIB = 160
# Spot instances get a two-minute interruption notice; leave the kubelet 10 s of it.
# Source: https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html
WORKER_TERMINATION_GRACE_SECONDS = 110


def split_image(image: str) -> tuple[str, str]:
    """`registry:5000/org/name:tag` -> (`registry:5000/org/name`, `tag`)."""
    repository, tag = image.rsplit(":", 1)
    return repository, tag


def dask_memory_limit_mib(pod_memory_mib: int, processes: int) -> int:
    """Dask's --memory-limit per worker process, below the pod's limit."""
    reserve = max(
        int(pod_memory_mib * WORKER_MEMORY_RESERVE_FRACTION), WORKER_MEMORY_RESERVE_MIN_MIB
    )
    return max(1, (pod_memory_mib - reserve) // processes)


def _resources(cpu_m: int, memory: int) -> dict:
    """Requests equal to limits: the pod is Guaranteed and the fit model holds."""
    amounts = {"cpu": format_cpu(cpu_m), "memory": format_mib(memory)}
    return {"requests": dict(amounts), "limits": dict(amounts)}


def _toleration(taint: dict) -> dict:
    return {
        "key": taint["key"],
        "operator": "Equal",
        "value": taint["value"],
        "effect": taint["effect"],
    }


def _service(jupyter: dict[str, Any]) -> dict[str, Any]:
    """Jupyter's Service; a load balancer listens on 443 only, with the ACM certificate."""
    if jupyter["expose"] != "loadbalancer":
        return {"type": "ClusterIP", "loadBalancerSourceRanges": []}
    return {
        "type": "LoadBalancer",
        "loadBalancerSourceRanges": list(jupyter["allowed_cidrs"]),
        "tls": {"certificateArn": jupyter["tls_certificate_arn"]},
    }


def render_values(settings: Settings, fit: FitReport) -> dict:
    """Helm values for these settings; every selector matches a ClusterConfig label."""
    repository, tag = split_image(settings["image"])
    workers = settings["workers"]
    jupyter = settings["jupyter"]
    return {
        "image": {"repository": repository, "tag": tag, "pullPolicy": "IfNotPresent"},
        "serviceAccount": {"annotations": {}},
        "data": {"scratchBucket": first_readwrite_bucket(settings) or ""},
        "scheduler": {
            "resources": _resources(
                cpu_millicores(settings["scheduler"]["cpu"]),
                memory_mib(settings["scheduler"]["memory"]),
            ),
            "nodeSelector": dict([names.SCHEDULER_LABEL]),
            "tolerations": [],
        },
        "worker": {
            "replicas": 0 if settings["hibernate"] else fit.worker_count,
            "processes": workers["processes"],
            "threads": workers["threads"],
            "memoryLimit": (
                f"{dask_memory_limit_mib(fit.worker_memory_mib, workers['processes'])}MiB"
            ),
            "resources": _resources(fit.worker_cpu_millicores, fit.worker_memory_mib),
            "nodeSelector": dict([names.WORKER_LABEL]),
            "tolerations": [_toleration(names.WORKER_TAINT)],
            "spillSizeLimit": f"{spill_size_gib(fit)}Gi",
            "terminationGracePeriodSeconds": WORKER_TERMINATION_GRACE_SECONDS,
        },
        "jupyter": {
            "resources": _resources(cpu_millicores(jupyter["cpu"]), memory_mib(jupyter["memory"])),
            "nodeSelector": dict([names.CORE_LABEL]),
            "tolerations": [],
            "storage": {
                "size": jupyter["storage"],
                "zone": settings["cluster"]["zones"][0],
                "storageClass": {"create": True, "name": ""},
            },
            "service": _service(jupyter),
            "token": {"existingSecret": ""},
        },
        "networkPolicy": {"enabled": True},
    }
