"""What a typical week costs: always on, with idle sleep, and adaptive with idle sleep.

`himat cost` prices a regular week from three figures (active days, active hours a day, the
share of active time spent computing); `make bench` (scripts/bench_week.py) replays a recorded
week through the controller's decisions with the same hourly prices. Spot nodes follow the
workers (the cluster-autoscaler), so an hour without workers bills the stable node only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pangeo_himat.cost.cost import CostReport
from pangeo_himat.fit.fit import FitReport
from pangeo_himat.settings.model import Settings

HOURS_PER_WEEK = 168
# The defaults the docs' Costs page states: a working week of 5 days of 9 hours,
# a quarter of them computing.
ACTIVE_DAYS = 5
ACTIVE_HOURS_PER_DAY = 9.0
BUSY_SHARE = 0.25
# idle.hibernate_after when the settings leave it null (the docs' example value).
EXAMPLE_HIBERNATE_AFTER_H = 8.0


@dataclass(frozen=True)
class Prices:
    """USD per hour: what bills asleep, the stable node's share, one spot node's share."""

    always: float
    stable: float
    spot_node: float


def hourly_prices(settings: Settings, report: CostReport) -> Prices:
    """The cost report split into what bills asleep, the stable node and one spot node."""
    running, asleep, asleep_all = (
        report.total(state) for state in ("running", "hibernated", "hibernated_all")
    )
    nodes = max(1, settings.spot.nodes)
    return Prices(
        always=asleep_all, stable=asleep - asleep_all, spot_node=(running - asleep) / nodes
    )


@dataclass(frozen=True)
class Week:
    active_days: int = ACTIVE_DAYS
    active_hours_per_day: float = ACTIVE_HOURS_PER_DAY
    busy_share: float = BUSY_SHARE

    def gaps_h(self) -> list[float]:
        """The idle stretches after each active day; the last one runs into the weekend."""
        if self.active_days == 0:
            return [float(HOURS_PER_WEEK)]
        gap = 24.0 - self.active_hours_per_day
        return [gap] * (self.active_days - 1) + [gap + 24.0 * (7 - self.active_days)]


def typical_week(
    settings: Settings, fit: FitReport, prices: Prices, week: Week
) -> dict[str, float]:
    """USD per week of the three layouts, for the settings' nodes and idle timers."""
    nodes = int(settings.spot.nodes)
    running = prices.always + prices.stable + nodes * prices.spot_node
    stable_only = prices.always + prices.stable
    workers_after_s = settings.idle.workers_after_s
    workers_after_h = None if workers_after_s is None else workers_after_s / 3600
    hibernate_after_s = settings.idle.hibernate_after_s
    sleep_after_h = (
        EXAMPLE_HIBERNATE_AFTER_H if hibernate_after_s is None else hibernate_after_s / 3600
    )
    active_h = week.active_days * week.active_hours_per_day

    def idle_usd(gap_h: float, awake_usd: float, workers_h: float) -> float:
        """One idle stretch: workers for workers_h, the stable node until sleep, then asleep."""
        workers_h = min(workers_h, gap_h)
        awake_h = max(workers_h, min(sleep_after_h, gap_h))
        return (
            workers_h * running
            + (awake_h - workers_h) * awake_usd
            + (gap_h - awake_h) * prices.always
        )

    static_h = HOURS_PER_WEEK if workers_after_h is None else workers_after_h
    sleepy = active_h * running + sum(idle_usd(g, stable_only, static_h) for g in week.gaps_h())
    adaptive = settings.workers.adaptive
    minimum = 0 if adaptive is None else int(adaptive.min)
    min_nodes = math.ceil(minimum / fit.workers_per_node) if fit.workers_per_node else 0
    floor = stable_only + min_nodes * prices.spot_node
    busy_h = active_h * week.busy_share
    elastic = busy_h * running + (active_h - busy_h) * floor
    elastic += sum(idle_usd(g, floor, 0.0) for g in week.gaps_h())
    return {
        "static": round(HOURS_PER_WEEK * running, 2),
        "idle_sleep": round(sleepy, 2),
        "adaptive": round(elastic, 2),
    }


def week_line(costs: dict[str, float], week: Week) -> str:
    return (
        f"typical week ({week.active_days} days x {week.active_hours_per_day:g} h active, "
        f"{week.busy_share:.0%} of it computing), USD: static {costs['static']:.2f}, "
        f"idle sleep {costs['idle_sleep']:.2f}, adaptive + idle sleep {costs['adaptive']:.2f}"
    )
