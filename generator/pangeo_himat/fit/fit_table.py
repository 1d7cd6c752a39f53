"""The fit report as the table `himat fit` prints."""

from __future__ import annotations

from pangeo_himat.fit.fit import FitReport, NodeFit
from pangeo_himat.settings.quantities import format_mib, format_millicores

COLUMNS = (
    ("role", 6),
    ("type", 12),
    ("vCPU", 4),
    ("max pods", 8),
    ("allocatable", 16),
    ("system pods", 14),
    ("ours", 14),
    ("free", 14),
    ("workers", 7),
    ("Dask CPU", 8),
    ("Dask mem", 8),
)


def _pair(cpu_m: int, memory_mib: int) -> str:
    return f"{format_millicores(cpu_m)}/{memory_mib}Mi"


def _row(node: NodeFit) -> list[str]:
    shape = node.shape
    ours_cpu = node.dask_cpu_millicores + node.other_cpu_millicores
    ours_memory = node.dask_memory_mib + node.other_memory_mib
    return [
        node.role,
        shape.instance_type,
        str(shape.vcpu),
        str(shape.max_pods),
        _pair(shape.allocatable_cpu_millicores, shape.allocatable_memory_mib),
        _pair(node.system_cpu_millicores, node.system_memory_mib),
        _pair(ours_cpu, ours_memory),
        _pair(
            shape.allocatable_cpu_millicores - node.requested_cpu_millicores,
            shape.allocatable_memory_mib - node.requested_memory_mib,
        ),
        str(node.workers_per_node) if node.role == "spot" else "-",
        f"{node.dask_cpu_share:.1%}",
        f"{node.dask_memory_share:.1%}",
    ]


def format_fit(report: FitReport) -> str:
    """One row per node type; CPU/memory as allocatable, requested and free."""
    rows = [_row(report.stable)] + [_row(node) for node in report.spot]
    widths = [
        max(width, len(title), *(len(row[i]) for row in rows))
        for i, (title, width) in enumerate(COLUMNS)
    ]
    lines = ["  ".join(title.ljust(w) for (title, _), w in zip(COLUMNS, widths, strict=True))]
    lines += ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.append(
        f"workers: {report.worker_count} x ({format_millicores(report.worker_cpu_millicores)} CPU, "
        f"{format_mib(report.worker_memory_mib)}) = {report.workers_per_node} per node on "
        f"{report.spot_nodes} spot nodes"
    )
    lines.append(
        "Dask CPU/mem: share of each node's allocatable that the scheduler (stable) or the "
        "workers (spot) request"
    )
    return "\n".join(lines)
