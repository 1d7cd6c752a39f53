"""Pictures of what himat computes: the fit of the nodes, a week's bill, a day of elastic workers.

Each picture has a pure function that turns the product's own numbers into plain data (what a
test checks) and a drawing function that writes a PNG with matplotlib. `himat fit --plot` and
the docs (docs/conf.py) call them. matplotlib comes with the `local` extra; it is imported here
at the top, so a caller that may run without it imports this module inside a guard.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: never a window, never a display

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from pangeo_himat.fit.fit import FitReport, NodeFit  # noqa: E402

# One colour per kind of pod, the same in every picture (matplotlib's tab10 palette).
COLOURS = {
    "system pods": "#7f7f7f",
    "Jupyter": "#ff7f0e",
    "scheduler": "#1f77b4",
    "worker": "#2ca02c",
    "free": "#ffffff",
}
PART_COLOURS = {
    "control plane": "#9467bd",
    "stable node": "#1f77b4",
    "spot nodes": "#2ca02c",
    "volumes": "#8c564b",
    "load balancers": "#d62728",
}
DPI = 110


@dataclass(frozen=True)
class Segment:
    """One pod's (or the system pods') request on one node."""

    label: str
    kind: str
    cpu_millicores: int
    memory_mib: int


@dataclass(frozen=True)
class NodeBar:
    """One node: what its kubelet offers and what is stacked on it, bottom first."""

    name: str
    allocatable_cpu_millicores: int
    allocatable_memory_mib: int
    segments: tuple[Segment, ...]


def _system(node: NodeFit) -> Segment:
    return Segment(
        f"system pods ({node.system_pods})",
        "system pods",
        node.system_cpu_millicores,
        node.system_memory_mib,
    )


def fit_bars(report: FitReport) -> list[NodeBar]:
    """The stable node and each running spot node, with every pod the fit placed on it.

    Spot nodes are drawn as the smallest type of the list (the one the fit sizes for); the
    workers are dealt out per_node to a node, as the scheduler spreads them at most.
    """
    stable = report.stable
    bars = [
        NodeBar(
            f"stable\n{stable.shape.instance_type}",
            stable.shape.allocatable_cpu_millicores,
            stable.shape.allocatable_memory_mib,
            (
                _system(stable),
                Segment("Jupyter", "Jupyter", stable.other_cpu_millicores, stable.other_memory_mib),
                Segment(
                    "scheduler", "scheduler", stable.dask_cpu_millicores, stable.dask_memory_mib
                ),
            ),
        )
    ]
    spot = min(report.spot, key=lambda n: (n.shape.allocatable_memory_mib, n.shape.vcpu))
    left = report.worker_count
    for index in range(report.spot_nodes):
        here = min(left, report.workers_per_node)
        left -= here
        workers = tuple(
            Segment(
                f"worker {index * report.workers_per_node + w + 1}",
                "worker",
                report.worker_cpu_millicores,
                report.worker_memory_mib,
            )
            for w in range(here)
        )
        bars.append(
            NodeBar(
                f"spot {index + 1}\n{spot.shape.instance_type}",
                spot.shape.allocatable_cpu_millicores,
                spot.shape.allocatable_memory_mib,
                (_system(spot), *workers),
            )
        )
    return bars


def draw_fit(bars: Sequence[NodeBar]) -> Figure:
    """Two bars per node, CPU and memory, each as a share of the node's allocatable."""
    figure, axes = plt.subplots(figsize=(max(6.0, 1.6 * len(bars) + 2), 4.2), dpi=DPI)
    width = 0.38
    seen: set[str] = set()
    for x, bar in enumerate(bars):
        for offset, resource, total in (
            (-width / 2 - 0.01, "cpu", bar.allocatable_cpu_millicores),
            (width / 2 + 0.01, "memory", bar.allocatable_memory_mib),
        ):
            bottom = 0.0
            for segment in bar.segments:
                amount = segment.cpu_millicores if resource == "cpu" else segment.memory_mib
                share = amount / total
                label = segment.kind if segment.kind not in seen else None
                seen.add(segment.kind)
                axes.bar(
                    x + offset,
                    share,
                    width,
                    bottom=bottom,
                    color=COLOURS[segment.kind],
                    edgecolor="white",
                    linewidth=0.6,
                    label=label,
                )
                bottom += share
            axes.bar(x + offset, 1.0, width, fill=False, edgecolor="#333333", linewidth=0.8)
            axes.text(x + offset, -0.06, resource.replace("memory", "mem"), ha="center", fontsize=8)
    axes.set_xticks(range(len(bars)), [bar.name for bar in bars], fontsize=9)
    axes.tick_params(axis="x", length=0, pad=18)
    axes.set_ylim(0, 1.05)
    axes.set_ylabel("share of the node's allocatable")
    axes.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    axes.set_title("What runs where: requests stacked on each node's allocatable CPU and memory")
    axes.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=4, frameon=False)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def plot_fit(report: FitReport, path: Path) -> Path:
    """`himat fit --plot PATH`: the fit as a PNG."""
    return _save(draw_fit(fit_bars(report)), path)


def draw_week_cost(usd_by_layout: Mapping[str, Mapping[str, float]]) -> Figure:
    """One horizontal bar per layout, split by what the money pays for."""
    names = list(usd_by_layout)
    figure, axes = plt.subplots(figsize=(7.5, 0.75 * len(names) + 1.6), dpi=DPI)
    parts = [p for p in PART_COLOURS if any(p in usd for usd in usd_by_layout.values())]
    for y, name in enumerate(names):
        left = 0.0
        for part in parts:
            usd = usd_by_layout[name].get(part, 0.0)
            axes.barh(
                y,
                usd,
                left=left,
                color=PART_COLOURS[part],
                edgecolor="white",
                label=part if y == 0 else None,
            )
            left += usd
        axes.text(left + 1, y, f"USD {left:.2f}", va="center", fontsize=10)
    labels = [textwrap.fill(name, 26) for name in names]
    axes.set_yticks(range(len(names)), labels, fontsize=10)
    axes.invert_yaxis()
    axes.set_xlabel("USD per week (spot nodes at their price cap: an upper bound)")
    axes.set_xlim(0, max(sum(u.values()) for u in usd_by_layout.values()) * 1.18)
    axes.set_title("A replayed research week: what each layout costs, and for what", fontsize=11)
    axes.legend(loc="lower right", frameon=False, fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    return figure


def plot_week_cost(usd_by_layout: Mapping[str, Mapping[str, float]], path: Path) -> Path:
    return _save(draw_week_cost(usd_by_layout), path)


@dataclass(frozen=True)
class DayPoint:
    """One minute of a replayed day: work asked for (in workers), workers, spot nodes."""

    hour: float
    work: int
    workers: int
    spot_nodes: int
    asleep: bool


def draw_elastic_day(points: Sequence[DayPoint], title: str) -> Figure:
    """Work and workers above, spot nodes below, on one clock; asleep stretches shaded."""
    figure, (top, bottom) = plt.subplots(
        2, 1, figsize=(9, 4.8), dpi=DPI, sharex=True, height_ratios=(2, 1)
    )
    hours = [p.hour for p in points]
    top.fill_between(
        hours, [p.work for p in points], step="post", color="#ff7f0e", alpha=0.35,
        label="work asked for (Dask's adaptive target while tasks run)",
    )  # fmt: skip
    top.step(hours, [p.workers for p in points], where="post", color=COLOURS["worker"],
             label="Dask workers")  # fmt: skip
    top.set_ylabel("workers")
    top.legend(loc="upper right", frameon=False, fontsize=8)
    bottom.step(hours, [p.spot_nodes for p in points], where="post", color="#1f77b4",
                label="spot nodes")  # fmt: skip
    bottom.set_ylabel("spot nodes")
    bottom.set_xlabel("hour of the day")
    for axes in (top, bottom):
        for start, end in _asleep_spans(points):
            axes.axvspan(start, end, color="#dddddd", zorder=0, lw=0)
        axes.spines[["top", "right"]].set_visible(False)
    if any(p.asleep for p in points):
        bottom.text(hours[0] + 0.1, 0.2, "shaded: cluster asleep", fontsize=8, color="#555555")
    bottom.set_xticks(range(int(hours[0]), int(hours[-1]) + 2, 2))
    top.set_title(title, fontsize=11)
    figure.tight_layout()
    return figure


def _asleep_spans(points: Sequence[DayPoint]) -> list[tuple[float, float]]:
    spans: list[tuple[float, float]] = []
    start: float | None = None
    for point in points:
        if point.asleep and start is None:
            start = point.hour
        elif not point.asleep and start is not None:
            spans.append((start, point.hour))
            start = None
    if start is not None:
        spans.append((start, points[-1].hour))
    return spans


def plot_elastic_day(points: Sequence[DayPoint], title: str, path: Path) -> Path:
    return _save(draw_elastic_day(points, title), path)


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(figure)
    return path
