"""What a verb does to the bill: USD per hour before and after it, and what keeps billing.

Pure: settings, the fit and two states of the cluster -> the lines the verbs print. Every
figure comes from `cost.estimate_cost`, the function behind `himat cost`, so a plan and the
cost table can never disagree.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from pangeo_himat.cost.cost import (
    HOURS_PER_MONTH,
    JUPYTER_VOLUME_ITEM,
    SNAPSHOT_USD_PER_GB_MONTH,
    SNAPSHOTS_ITEM,
    estimate_cost,
    snapshot_gib,
)
from pangeo_himat.fit.fit import FitReport
from pangeo_himat.settings.model import Settings
from pangeo_himat.settings.quantities import memory_mib
from pangeo_himat.settings.versions import load_calendar

# The states a plan moves the cluster between.
ABSENT = "absent"
RUNNING = "running"
HIBERNATED = "hibernated"
HIBERNATED_ALL = "hibernated_all"
DESTROYED = "destroyed"


@dataclass(frozen=True)
class ClusterState:
    """A state of the cluster, as far as its bill goes.

    spot_nodes: None = as the settings say; kubernetes_version: None = the settings' one;
    keeps_data: after destroy, whether the notebooks' volume is still there.
    """

    kind: str
    spot_nodes: int | None = None
    kubernetes_version: str | None = None
    keeps_data: bool = True

    def describe(self, settings: Settings) -> str:
        if self.kind == RUNNING:
            nodes = settings.spot.nodes if self.spot_nodes is None else self.spot_nodes
            version = self.kubernetes_version or settings.cluster.kubernetes_version
            return f"running, {nodes} spot nodes, Kubernetes {version}"
        return {
            ABSENT: "no cluster",
            HIBERNATED: "hibernated (spot nodes at 0)",
            HIBERNATED_ALL: "hibernated --all (both nodegroups at 0)",
            DESTROYED: "destroyed" + ("" if self.keeps_data else ", its volume deleted"),
        }[self.kind]


@dataclass(frozen=True)
class Billed:
    item: str
    usd_per_hour: float


def _priced(settings: Settings, state: ClusterState) -> Settings:
    """The settings as the state runs them (node count, a live version the calendar knows)."""
    if state.spot_nodes is not None:
        settings = settings.replaced(("spot", "nodes"), state.spot_nodes)
    version = state.kubernetes_version
    if version is not None and version in load_calendar().versions:
        settings = settings.replaced(("cluster", "kubernetes_version"), version)
    return settings


def billed(
    settings: Settings, fit: FitReport, state: ClusterState, day: datetime.date | None = None
) -> list[Billed]:
    """Each item that bills in `state`, USD per hour."""
    if state.kind == ABSENT:
        return []
    report = estimate_cost(_priced(settings, state), fit, day)
    if state.kind == DESTROYED:
        kept = [JUPYTER_VOLUME_ITEM, SNAPSHOTS_ITEM] if state.keeps_data else [SNAPSHOTS_ITEM]
        lines = [
            Billed(line.item, line.running)
            for line in report.lines
            if line.item.startswith(tuple(kept))
        ]
        if not state.keeps_data and not any(line.item.startswith(SNAPSHOTS_ITEM) for line in lines):
            # --delete-data takes a final snapshot first, kept until someone deletes it.
            stored = snapshot_gib(memory_mib(settings.jupyter.storage) / 1024, 0)
            hourly = stored * SNAPSHOT_USD_PER_GB_MONTH / HOURS_PER_MONTH
            lines.append(Billed(f"final {SNAPSHOTS_ITEM} (about {stored:g} GB)", hourly))
        return lines
    column = state.kind
    return [
        Billed(line.item, getattr(line, column))
        for line in report.lines
        if getattr(line, column) > 0
    ]


def _hourly(lines: list[Billed]) -> float:
    return sum(line.usd_per_hour for line in lines)


def _usd(hourly: float) -> str:
    return f"USD {hourly:.4f}/h (USD {hourly * HOURS_PER_MONTH:.2f}/month)"


def plan_cost_lines(
    verb: str,
    settings: Settings,
    fit: FitReport,
    before: ClusterState,
    after: ClusterState,
    day: datetime.date | None = None,
) -> list[str]:
    """cost before, cost after, and what still bills afterwards (as `himat cost` prices it)."""
    then = billed(settings, fit, before, day)
    now = billed(settings, fit, after, day)
    still = ", ".join(line.item for line in now) or "nothing"
    return [
        f"cost before {verb}: {_usd(_hourly(then))}, {before.describe(settings)}",
        f"cost after {verb}: {_usd(_hourly(now))}, {after.describe(settings)}",
        f"still billing after {verb}: {still}",
    ]
