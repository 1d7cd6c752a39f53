"""`make bench`: what a research week costs, replayed through the worker controller's decisions.

The recorded trace (scripts/data/research-week.csv, from scripts/make_research_week.py) is fed,
one sample every 5 s of simulated time, to the same decide_workers / decide_hibernate the
controller runs. Spot nodes follow the workers as the cluster-autoscaler makes them (a node
more as soon as a worker has no room, an empty node gone after 5 minutes); a sleeping cluster
wakes at the user's next Jupyter activity (`himat resume`). The week is replayed twice and
the second is measured, so Monday starts from Sunday's state. Prices are pangeo_himat.cost.cost's
(estimate_cost over the settings and their fit), upper bounds for spot; each week's bill is
also split into what it paid for (control plane, stable node, spot nodes, volumes), which the
docs draw, with a replayed day, through pangeo_himat.plots.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from pangeo_himat.controller.decide import (
    Config,
    JupyterSample,
    SchedulerSample,
    State,
    WorkerInfo,
    decide_hibernate,
    decide_workers,
)
from pangeo_himat.cost.cost import (
    CLASSIC_LB_USD_PER_HOUR,
    PUBLIC_IPV4_USD_PER_HOUR,
    CostReport,
    estimate_cost,
)
from pangeo_himat.cost.week_cost import hourly_prices
from pangeo_himat.fit.fit import compute_fit
from pangeo_himat.fit.loader import load_settings

ROOT = Path(__file__).resolve().parent.parent
TRACE = ROOT / "scripts" / "data" / "research-week.csv"
TICK_S = 5.0
NODE_SCALE_DOWN_AFTER_S = 300.0  # cluster-autoscaler --scale-down-unneeded-time=5m
WORKERS_AFTER_S = 30 * 60.0  # idle.workers_after's default
HIBERNATE_AFTER_S = 8 * 3600.0  # the example value of idle.hibernate_after
# The Terraform version exposed Jupyter and the Dask dashboard through two public Classic Load
# Balancers (its jupyter_url and dask_url outputs).
TERRAFORM_LOAD_BALANCERS = 2
LB_PUBLIC_IPV4 = 2


@dataclass(frozen=True)
class Minute:
    clients: int
    processing: int
    adaptive_target: int
    busy_kernels: int
    jupyter_activity: bool


@dataclass(frozen=True)
class Prices:
    """USD per hour: what bills asleep, the stable node's share, one spot node's share."""

    always: float
    stable: float
    spot_node: float
    load_balancer: float
    # The same three hourly figures split by what they pay for: {part: (always, stable, spot)}.
    parts: dict[str, tuple[float, float, float]] = field(default_factory=dict)


@dataclass(frozen=True)
class Layout:
    name: str
    config: Config | None  # None: no controller, the workers run all the time they are awake
    fixed_workers: int
    load_balancers: int = 0
    # `himat hibernate --all` after each day's last use, `himat resume` before its first.
    hibernate_between_uses: bool = False


@dataclass
class Result:
    usd: float = 0.0
    worker_hours: float = 0.0
    idle_worker_hours: float = 0.0
    asleep_hours: float = 0.0
    awake_hours: float = 0.0
    spot_node_hours: float = 0.0
    load_balancer_hours: float = 0.0


@dataclass(frozen=True)
class Sample:
    """One minute of the measured week: the work asked for, workers, spot nodes, asleep."""

    minute: int
    work: int
    workers: int
    spot_nodes: int
    asleep: bool


def load_trace(path: Path) -> list[Minute]:
    with path.open() as handle:
        return [
            Minute(
                clients=int(row["clients"]),
                processing=int(row["processing"]),
                adaptive_target=int(row["adaptive_target"]),
                busy_kernels=int(row["busy_kernels"]),
                jupyter_activity=row["jupyter_activity"] == "1",
            )
            for row in csv.DictReader(handle)
        ]


def part_of(item: str, share: str) -> str:
    """Which part of the bill a cost line's share (always, stable or spot) pays for."""
    if "volume" in item or "snapshot" in item:
        return "volumes"
    if item.startswith("EKS control plane"):
        return "control plane"
    if "load balancer" in item:
        return "load balancers"
    return {"stable": "stable node", "spot": "spot nodes"}.get(share, "other")


def split_prices(report: CostReport, nodes: int) -> dict[str, tuple[float, float, float]]:
    """hourly_prices per part: (always, stable, one spot node) in USD per hour."""
    parts: dict[str, list[float]] = {}
    for line in report.lines:
        shares = {
            "always": line.hibernated_all,
            "stable": line.hibernated - line.hibernated_all,
            "spot": (line.running - line.hibernated) / max(1, nodes),
        }
        for index, (share, usd) in enumerate(shares.items()):
            if usd:
                parts.setdefault(part_of(line.item, share), [0.0, 0.0, 0.0])[index] += usd
    return {part: (a, b, c) for part, (a, b, c) in parts.items()}


def usd_by_part(result: Result, prices: Prices, week_hours: float) -> dict[str, float]:
    """The week's bill split by what it paid for; the parts add up to result.usd."""
    usd = {
        part: always * week_hours + stable * result.awake_hours + spot * result.spot_node_hours
        for part, (always, stable, spot) in prices.parts.items()
    }
    if result.load_balancer_hours:
        usd["load balancers"] = (
            usd.get("load balancers", 0.0) + result.load_balancer_hours * prices.load_balancer
        )
    return {part: round(value, 2) for part, value in usd.items()}


def in_use(minute: Minute) -> bool:
    return minute.jupyter_activity or minute.clients > 0 or minute.processing > 0


def use_windows(trace: list[Minute]) -> list[bool]:
    """Per minute: inside its day's span from the first use to the last (awake by hand)."""
    awake = [False] * len(trace)
    for start in range(0, len(trace), 24 * 60):
        used = [i for i in range(start, min(start + 24 * 60, len(trace))) if in_use(trace[i])]
        for i in range(used[0], used[-1] + 1) if used else ():
            awake[i] = True
    return awake


def prices_of(settings_path: Path | None) -> tuple[Prices, int, int, int]:
    """Prices, workers per node, static worker count and the adaptive max, from the settings."""
    settings = load_settings(settings_path)
    fit = compute_fit(settings)
    report = estimate_cost(settings, fit)
    hourly = hourly_prices(settings, report)
    region = settings.cluster.region
    lb = CLASSIC_LB_USD_PER_HOUR.get(region, CLASSIC_LB_USD_PER_HOUR["us-east-1"])
    prices = Prices(
        always=hourly.always,
        stable=hourly.stable,
        spot_node=hourly.spot_node,
        load_balancer=lb + LB_PUBLIC_IPV4 * PUBLIC_IPV4_USD_PER_HOUR,
        parts=split_prices(report, settings.spot.nodes),
    )
    per_node = fit.workers_per_node
    return prices, per_node, fit.worker_count, per_node * settings.spot.max_nodes


class SlidingMax:
    """The largest value seen in the last `window` ticks (a monotonic deque)."""

    def __init__(self, window: int) -> None:
        self.window, self.tick, self.items = window, 0, deque[tuple[int, int]]()

    def push(self, value: int) -> int:
        self.tick += 1
        while self.items and self.items[-1][1] <= value:
            self.items.pop()
        self.items.append((self.tick, value))
        while self.items[0][0] <= self.tick - self.window:
            self.items.popleft()
        return self.items[0][1]


def replay(
    layout: Layout,
    trace: list[Minute],
    prices: Prices,
    per_node: int,
    series: list[Sample] | None = None,
) -> Result:
    """Replay the trace twice and measure the second week; `series` gets one Sample a minute."""
    result = Result()
    by_hand = use_windows(trace) if layout.hibernate_between_uses else None
    ticks_per_minute = int(60 / TICK_S)
    nodes = SlidingMax(int(NODE_SCALE_DOWN_AFTER_S / TICK_S))
    hour = TICK_S / 3600
    state, replicas, asleep = State(), 0, False
    last_activity_s, idle_since_s = 0.0, 0.0
    fixed_nodes = math.ceil(layout.fixed_workers / per_node)
    week_s = len(trace) * 60.0
    # Without a controller nothing carries over from one week to the next: measure at once.
    for week in range(2) if layout.config is not None else (1,):
        measured = week == 1
        for index in range(len(trace) * ticks_per_minute):
            now_s = week * week_s + index * TICK_S
            minute = trace[index // ticks_per_minute]
            if minute.jupyter_activity:
                last_activity_s = now_s
            if minute.processing:
                idle_since_s = now_s
            if by_hand is not None:
                asleep = not by_hand[index // ticks_per_minute]
                replicas = 0 if asleep else layout.fixed_workers
                node_count = 0 if asleep else fixed_nodes
            elif layout.config is None:
                replicas, node_count = layout.fixed_workers, fixed_nodes
            else:
                if asleep and (minute.jupyter_activity or minute.clients):
                    asleep, state = False, State()
                if not asleep:
                    sample = SchedulerSample(
                        adaptive_target=minute.adaptive_target if minute.processing else 0,
                        idle_since_s=None if minute.processing else idle_since_s,
                        clients=minute.clients,
                        processing=minute.processing,
                        workers=tuple(WorkerInfo(f"tcp://w{i}") for i in range(replicas)),
                    )
                    decision, state = decide_workers(layout.config, state, sample, replicas, now_s)
                    replicas = decision.replicas
                    jupyter = JupyterSample(last_activity_s, minute.busy_kernels)
                    sleep, _ = decide_hibernate(layout.config, state, sample, jupyter, now_s)
                    if sleep:
                        asleep, replicas = True, 0
                node_count = 0 if asleep else nodes.push(math.ceil(replicas / per_node))
            if not measured:
                continue
            busy = min(replicas, minute.adaptive_target) if minute.processing else 0
            if series is not None and index % ticks_per_minute == 0:
                work = minute.adaptive_target if minute.processing else 0
                series.append(Sample(index // ticks_per_minute, work, replicas, node_count, asleep))
            result.worker_hours += replicas * hour
            result.load_balancer_hours += layout.load_balancers * hour
            result.idle_worker_hours += (replicas - busy) * hour
            usd_per_hour = prices.always + layout.load_balancers * prices.load_balancer
            if asleep:
                result.asleep_hours += hour
            else:
                result.awake_hours += hour
                result.spot_node_hours += node_count * hour
                usd_per_hour += prices.stable + node_count * prices.spot_node
            result.usd += usd_per_hour * hour
    return result


def layouts(static_count: int, maximum: int) -> list[Layout]:
    """The layouts compared; static without idle sleep is always on (no controller)."""
    sleepy = Config(
        "static",
        static_count=static_count,
        workers_after_s=WORKERS_AFTER_S,
        hibernate_after_s=HIBERNATE_AFTER_S,
    )
    adaptive = Config(
        "adaptive",
        minimum=0,
        maximum=maximum,
        workers_after_s=WORKERS_AFTER_S,
        hibernate_after_s=HIBERNATE_AFTER_S,
    )
    return [
        Layout(
            "Terraform original (always on, 2 public LBs)",
            None,
            static_count,
            TERRAFORM_LOAD_BALANCERS,
        ),
        Layout("pangeo-himat static (always on)", None, static_count),
        Layout(
            "static + hibernate by hand (after each day's last use)",
            None,
            static_count,
            hibernate_between_uses=True,
        ),
        Layout("static + idle sleep", sleepy, static_count),
        Layout(f"adaptive 0..{maximum} + idle sleep", adaptive, static_count),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--settings", type=Path, default=None)
    parser.add_argument("--trace", type=Path, default=TRACE)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    trace = load_trace(args.trace)
    prices, per_node, static_count, maximum = prices_of(args.settings)
    rows = {
        layout.name: replay(layout, trace, prices, per_node)
        for layout in layouts(static_count, maximum)
    }
    if args.json:
        week_h = len(trace) / 60
        data = {
            name: {**vars(r), "usd_by_part": usd_by_part(r, prices, week_h)}
            for name, r in rows.items()
        }
        print(json.dumps(data, indent=2))
        return
    busy_h = sum(1 for m in trace if m.processing) / 60
    print(f"research week ({args.trace.name}: {busy_h:.1f} h of computation), USD upper bounds")
    width = max(len(name) for name in rows)
    head = ("USD/week", "worker-h", "idle w-h", "asleep h")
    print(f"{'layout':<{width}}  " + "  ".join(f"{h:>9}" for h in head))
    for name, r in rows.items():
        print(
            f"{name:<{width}}  {r.usd:>9.2f}  {r.worker_hours:>9.1f}  "
            f"{r.idle_worker_hours:>9.1f}  {r.asleep_hours:>9.1f}"
        )


if __name__ == "__main__":
    main()
