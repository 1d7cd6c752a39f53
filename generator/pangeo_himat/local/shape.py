"""How many worker pods-worth run on this machine, their shape, and room for their spill."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from pangeo_himat.render.render_cluster import SPILL_PER_MEMORY
from pangeo_himat.render.render_values import dask_memory_limit_mib
from pangeo_himat.settings.errors import Problem
from pangeo_himat.settings.model import Settings
from pangeo_himat.settings.quantities import memory_mib

# Memory left to the OS, JupyterLab, its kernels and the scheduler before workers are counted.
LOCAL_RESERVE_MIB = 2048


@dataclass(frozen=True)
class LocalShape:
    """How many worker pods-worth run here, and the shape of each."""

    pods: int
    processes: int
    threads: int
    pod_memory_mib: int

    @property
    def worker_processes(self) -> int:
        return self.pods * self.processes

    @property
    def memory_limit_mib(self) -> int:
        """Per process, the same headroom below the pod as on the cluster."""
        return dask_memory_limit_mib(self.pod_memory_mib, self.processes)

    @property
    def spill_mib(self) -> int:
        """Disk every pod may spill to, by the cluster's rule (render_cluster.spill_size_gib)."""
        return self.pods * self.pod_memory_mib * SPILL_PER_MEMORY


def local_shape(settings: Settings, cpu_count: int, total_mib: int, pods: int | None) -> LocalShape:
    """As many worker pods as this machine has cores and memory for, or exactly `pods`."""
    workers = settings.workers
    processes, threads = workers.processes, workers.threads
    usable_mib = max(total_mib - LOCAL_RESERVE_MIB, 256)
    by_cpu = max(1, cpu_count // (processes * threads))
    if workers.memory == "auto":
        count = pods or by_cpu
        return LocalShape(count, processes, threads, usable_mib // count)
    pod_mib = memory_mib(workers.memory)
    count = pods or max(1, min(by_cpu, usable_mib // pod_mib))
    return LocalShape(count, processes, threads, pod_mib)


def plural(count: int, word: str) -> str:
    """'1 thread', '2 threads'."""
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def spill_problem(spill_dir: Path, free_mib: int, shape: LocalShape) -> Problem | None:
    """Refuse to start when the workers could fill the disk they spill to (they would pause)."""
    if free_mib >= shape.spill_mib:
        return None
    return Problem(
        str(spill_dir),
        None,
        "",
        f"{free_mib / 1024:.1f} GiB free, but {plural(shape.pods, 'worker pod')} may spill "
        f"{math.ceil(shape.spill_mib / 1024)} GiB ({SPILL_PER_MEMORY} x "
        f"{shape.pod_memory_mib} MiB each); choose a roomier --spill-dir or fewer --workers",
    )


def low_spill_warning(spill_dir: Path, free_mib: int, shape: LocalShape) -> str | None:
    """While running: warn when less than one pod's memory of disk is left to spill to."""
    if free_mib >= max(shape.pod_memory_mib, 1024):
        return None
    return (
        f"himat local: {spill_dir} has {free_mib} MiB free; a worker that cannot spill pauses "
        "until there is room. Free disk there, or restart with --spill-dir on a roomier disk."
    )
