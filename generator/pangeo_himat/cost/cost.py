"""What the cluster costs per hour and per month: running, and in both states of hibernation.

Spot nodes are priced at their cap (max_price, or the on-demand price when it is null): the
real spot price is lower and changes hourly, so the figure is an upper bound.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Any

from pangeo_himat.fit.fit import FitReport
from pangeo_himat.render.render_cluster import STABLE_VOLUME_GIB, spot_volume_gib
from pangeo_himat.settings.catalog import known_instance_type, load_catalog
from pangeo_himat.settings.model import Settings
from pangeo_himat.settings.quantities import memory_mib
from pangeo_himat.settings.versions import control_plane_usd_per_hour, load_calendar, today

HOURS_PER_MONTH = 730
PRICE_DATE = "2025-11"
# Public IPv4 addresses: USD 0.005 per address-hour, in use or idle, since 2024-02-01.
# Source: https://aws.amazon.com/vpc/pricing/ ("Public IPv4 Address")
PUBLIC_IPV4_USD_PER_HOUR = 0.005
# gp3 storage, USD per GiB-month. Source: https://aws.amazon.com/ebs/pricing/
GP3_USD_PER_GIB_MONTH = {"us-east-1": 0.08, "us-west-2": 0.08, "eu-west-1": 0.088}
# EBS snapshots, standard tier: USD 0.05 per GB-month of stored (changed) blocks, in these
# regions alike. Source: https://aws.amazon.com/ebs/pricing/ ("Snapshots", Standard).
SNAPSHOT_USD_PER_GB_MONTH = 0.05
# Snapshots are incremental: the first holds the data, each later one the blocks changed since
# (AWS re:Post "How am I billed for Amazon EBS snapshots?"). Assumed: a full volume, and 2 % of
# it changed per day; an estimate, not a measure.
SNAPSHOT_DAILY_CHANGE = 0.02
# Classic Load Balancer (what a Service of type LoadBalancer gets without the AWS Load
# Balancer Controller), USD per hour. Source: https://aws.amazon.com/elasticloadbalancing/pricing/
CLASSIC_LB_USD_PER_HOUR = {"us-east-1": 0.025, "us-west-2": 0.025, "eu-west-1": 0.028}
# A Classic Load Balancer holds one public IPv4 address per zone it serves.
LB_PUBLIC_IPV4 = 2
FALLBACK_REGION = "us-east-1"
# The items that outlive the cluster (`destroy` keeps the volume unless --delete-data; the
# snapshots stay until deleted): plan_cost.py finds them in a report by these names.
JUPYTER_VOLUME_ITEM = "Jupyter volume"
SNAPSHOTS_ITEM = "EBS snapshots"


@dataclass(frozen=True)
class CostLine:
    """One billed item in USD per hour: running, spot hibernated, everything hibernated."""

    item: str
    running: float
    hibernated: float
    hibernated_all: float


@dataclass(frozen=True)
class CostReport:
    region: str
    lines: list[CostLine]
    notes: list[str] = field(default_factory=list)

    def total(self, state: str) -> float:
        return float(sum(getattr(line, state) for line in self.lines))

    def as_dict(self) -> dict[str, Any]:
        states = ("running", "hibernated", "hibernated_all")
        return {
            "region": self.region,
            "price_date": PRICE_DATE,
            "usd_per_hour": {state: round(self.total(state), 4) for state in states},
            "usd_per_month": {
                state: round(self.total(state) * HOURS_PER_MONTH, 2) for state in states
            },
            "lines": [line.__dict__ for line in self.lines],
            "notes": self.notes,
        }


def _regional(table: dict[str, float], region: str, notes: list[str], what: str) -> float:
    if region in table:
        return float(table[region])
    notes.append(f"no {what} price for {region}; {FALLBACK_REGION}'s is used")
    return table[FALLBACK_REGION]


def _no_price(name: str, region: str) -> str:
    """A type the catalog has no price for in the region: how to give one."""
    return (
        f"no on-demand price for {name} in {region} in the catalog; counted as 0: give it as "
        f"instance_prices: {{{name}: <USD per hour>}} in the settings "
        "(https://aws.amazon.com/ec2/pricing/on-demand/)"
    )


def version_notes(settings: Settings, day: datetime.date) -> list[str]:
    """When the version's standard support ends within a month or has ended, and what then."""
    cluster = settings.cluster
    calendar = load_calendar()
    info = calendar.versions.get(cluster.kubernetes_version)
    if info is None:
        return []
    end = info.end_of_standard_support
    extra = calendar.extra_usd_per_month()
    if end < day:
        return [
            f"Kubernetes {info.version} is in extended support since {end}: the control plane "
            f"costs USD {calendar.extended_usd_per_hour:.2f}/h (about +{extra:.0f} USD/month) "
            f"until {info.end_of_extended_support}, when EKS upgrades it"
        ]
    if (end - day).days <= 31:
        then = (
            f"the control plane then costs USD {calendar.extended_usd_per_hour:.2f}/h "
            f"(about +{extra:.0f} USD/month)"
            if cluster.support == "extended"
            else "EKS then upgrades the cluster (cluster.support: standard)"
        )
        return [f"standard support of Kubernetes {info.version} ends on {end}; {then}"]
    return []


def snapshot_gib(volume_gib: float, keep: int) -> float:
    """Stored snapshot data: the volume once, plus each kept day's changed blocks."""
    return volume_gib * (1 + keep * SNAPSHOT_DAILY_CHANGE)


def _snapshot_lines(settings: Settings, volume_gib: float, notes: list[str]) -> list[CostLine]:
    """Daily backups bill in every state, and after destroy, until the snapshots are deleted."""
    backup = settings.jupyter.backup
    if backup.schedule != "daily":
        return []
    stored = snapshot_gib(volume_gib, backup.keep)
    hourly = stored * SNAPSHOT_USD_PER_GB_MONTH / HOURS_PER_MONTH
    notes.append(
        f"snapshots: {backup.keep} daily kept; estimated as the full volume plus "
        f"{SNAPSHOT_DAILY_CHANGE:.0%} of it changed per day (they go on after destroy)"
    )
    return [CostLine(f"{SNAPSHOTS_ITEM} (about {stored:g} GB stored)", *[hourly] * 3)]


def estimate_cost(
    settings: Settings, fit: FitReport, day: datetime.date | None = None
) -> CostReport:
    """Hourly costs of every billed item, with the hibernation states side by side.

    `day` (default: today) decides whether the Kubernetes version is in extended support.
    """
    day = day or today()
    region = settings.cluster.region
    notes: list[str] = []
    gp3_hour = _regional(GP3_USD_PER_GIB_MONTH, region, notes, "gp3") / HOURS_PER_MONTH
    stable_name = settings.stable.instance_type
    stable_price = known_instance_type(settings, stable_name).on_demand_usd_per_hour.get(region)
    if stable_price is None:
        notes.append(_no_price(stable_name, region))
        stable_price = 0.0
    spot = settings.spot
    od_prices = [
        known_instance_type(settings, name).on_demand_usd_per_hour.get(region)
        for name in spot.instance_types
    ]
    known = [price for price in od_prices if price is not None]
    spot_cap = spot.max_price if spot.max_price is not None else max(known, default=0.0)
    if spot.max_price is None and not known:
        notes.append(_no_price(spot.instance_types[0], region))
    nodes = 0 if settings.hibernate else spot.nodes
    control_plane = control_plane_usd_per_hour(settings.cluster.kubernetes_version, day)
    notes.extend(version_notes(settings, day))
    jupyter_gib = memory_mib(settings.jupyter.storage) / 1024
    lines = [
        CostLine(
            f"EKS control plane ({settings.cluster.kubernetes_version}, "
            f"{'extended' if control_plane > load_calendar().standard_usd_per_hour else 'standard'}"
            " support)",
            *[control_plane] * 3,
        ),
        CostLine(f"{JUPYTER_VOLUME_ITEM} ({jupyter_gib:g} GiB gp3)", *[jupyter_gib * gp3_hour] * 3),
        CostLine(f"stable node ({stable_name}, on-demand)", stable_price, stable_price, 0.0),
        CostLine(
            f"stable root volume ({STABLE_VOLUME_GIB} GiB gp3)",
            STABLE_VOLUME_GIB * gp3_hour,
            STABLE_VOLUME_GIB * gp3_hour,
            0.0,
        ),
        CostLine(f"spot nodes ({nodes} x at most {spot_cap:g})", nodes * spot_cap, 0.0, 0.0),
        CostLine(
            f"spot root volumes ({nodes} x {spot_volume_gib(fit)} GiB gp3)",
            nodes * spot_volume_gib(fit) * gp3_hour,
            0.0,
            0.0,
        ),
        CostLine(
            f"public IPv4 addresses ({nodes + 1} nodes)",
            (nodes + 1) * PUBLIC_IPV4_USD_PER_HOUR,
            PUBLIC_IPV4_USD_PER_HOUR,
            0.0,
        ),
    ]
    if settings.jupyter.expose == "loadbalancer":
        lb = _regional(CLASSIC_LB_USD_PER_HOUR, region, notes, "load balancer")
        lb += LB_PUBLIC_IPV4 * PUBLIC_IPV4_USD_PER_HOUR
        lines.append(CostLine("load balancer (Classic, with its IPv4 addresses)", lb, lb, lb))
    lines.extend(_snapshot_lines(settings, jupyter_gib, notes))
    if settings.hibernate:
        notes.append("hibernate: true renders both nodegroups at 0 nodes")
    buckets = settings.data.buckets
    if settings.data.scratch is not None:
        notes.append(
            f"S3 scratch: Jupyter and workers read and write under SCRATCH_BUCKET in "
            f"{settings.data.scratch} (storage and requests bill to that bucket's owner)"
        )
    notes.append(
        "S3: no AWS role for data.buckets (it is empty)"
        if not buckets
        else "S3: Jupyter and workers may list and read "
        + ", ".join(b.name for b in buckets)
        + "; write and delete objects in "
        + (", ".join(b.name for b in buckets if b.access == "readwrite") or "none")
        + " (requests to S3 bill per request; himat render --explain prints the policy)"
    )
    notes.append(
        "spot nodes are priced at their cap; the market price is usually well below it. "
        "Data transfer between zones and to the internet is not included."
    )
    return CostReport(region, lines, notes)


def format_cost(report: CostReport) -> str:
    """The cost table as the CLI prints it."""
    width = max(len(line.item) for line in report.lines)
    rows = [
        f"{'USD per hour':<{width}}  {'running':>9}  {'hibernate':>9}  {'--all':>9}",
    ]
    for line in report.lines:
        rows.append(
            f"{line.item:<{width}}  {line.running:9.4f}  {line.hibernated:9.4f}  "
            f"{line.hibernated_all:9.4f}"
        )
    states = ("running", "hibernated", "hibernated_all")
    rows.append(
        f"{'total per hour':<{width}}  "
        + "  ".join(f"{report.total(state):9.4f}" for state in states)
    )
    rows.append(
        f"{'total per month (730 h)':<{width}}  "
        + "  ".join(f"{report.total(state) * HOURS_PER_MONTH:9.2f}" for state in states)
    )
    catalog = load_catalog()
    rows.append(
        f"instance prices: {catalog.price_source}, {catalog.price_date}; "
        f"other prices as of {PRICE_DATE}"
    )
    rows.extend(f"note: {note}" for note in report.notes)
    return "\n".join(rows)
