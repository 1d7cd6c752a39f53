"""Local mode's worker controller: the cluster's decision code with the process backend.

With `workers.adaptive` or `idle.workers_after` set, `himat local` starts no worker itself: it
runs `python -m pangeo_himat.controller --backend local`, which starts and retires `dask worker`
processes on 127.0.0.1 as the scheduler's work asks (adaptive: Dask's target within [min, max];
static: the pods while there is work or a client, none after idle.workers_after).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from pangeo_himat.local.ports import LOOPBACK, LocalPorts
from pangeo_himat.local.shape import LocalShape, plural
from pangeo_himat.settings.model import Settings

CONTROLLER = "controller"
# As on the cluster (render_controller): a 60 s cooldown, a sample every 5 s.
COOLDOWN_S = 60.0
INTERVAL_S = 5.0
# The scheduler's HTTP routes the controller reads: the defaults plus the HTTP API, as the
# chart's scheduler sets them (templates/scheduler/deployment.yaml, which cites the sources).
SCHEDULER_HTTP_ROUTES = (
    '["distributed.http.scheduler.prometheus", "distributed.http.scheduler.info", '
    '"distributed.http.scheduler.json", "distributed.http.health", '
    '"distributed.http.proxy", "distributed.http.statics", '
    '"distributed.http.scheduler.api"]'
)
ROUTES_VARIABLE = "DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES"


@dataclass(frozen=True)
class Timing:
    """The controller's timers in seconds; tests shorten them (a hidden option of the command)."""

    workers_after_s: float | None
    cooldown_s: float = COOLDOWN_S
    interval_s: float = INTERVAL_S


def is_elastic(settings: Settings) -> bool:
    """The controller runs when anything can change the worker count."""
    return settings.workers.adaptive is not None or settings.idle.workers_after is not None


def settings_timing(settings: Settings, short_s: float | None) -> Timing:
    """The settings' timers, or all of them at `short_s` (and samples 4x as often)."""
    if short_s is not None:
        return Timing(workers_after_s=short_s, cooldown_s=short_s, interval_s=short_s / 4)
    after_s = settings.idle.workers_after_s
    return Timing(workers_after_s=None if after_s is None else float(after_s))


def adaptive_bounds(settings: Settings, shape: LocalShape) -> tuple[int, int]:
    """Adaptive [min, max] in worker processes; max auto or above what this machine holds:
    what it holds."""
    adaptive = settings.workers.adaptive
    assert adaptive is not None
    most = shape.worker_processes
    maximum = most if adaptive.max == "auto" else min(int(adaptive.max), most)
    return min(int(adaptive.min), maximum), maximum


def on_demand_summary(settings: Settings, shape: LocalShape) -> str:
    """What the start-up text says of the workers when the controller starts them: none is
    waited for, so no count of running workers and no time."""
    each = f"x {plural(shape.threads, 'thread')}, {shape.memory_limit_mib} MiB each"
    if settings.workers.adaptive is not None:
        minimum, maximum = adaptive_bounds(settings, shape)
        return (
            f"{minimum} to {plural(maximum, 'worker')} {each}, started on demand: "
            "Dask's adaptive target"
        )
    return (
        f"{plural(shape.worker_processes, 'worker')} {each}, started on demand: by the "
        f"controller now and when a client or a task comes back, none after "
        f"{settings.idle.workers_after} without either"
    )


def controller_argv(
    settings: Settings, shape: LocalShape, ports: LocalPorts, spill_dir: Path, timing: Timing
) -> list[str]:
    """One `dask worker` (with its nanny) per local worker: counts are in worker processes."""
    if settings.workers.adaptive is None:
        bounds = ["--mode", "static", "--count", str(shape.worker_processes)]
    else:
        minimum, maximum = adaptive_bounds(settings, shape)
        bounds = ["--mode", "adaptive", "--min", str(minimum), "--max", str(maximum)]
    timers = ["--cooldown", str(timing.cooldown_s), "--interval", str(timing.interval_s)]
    if timing.workers_after_s is not None:
        timers += ["--workers-after", str(timing.workers_after_s)]
    return [
        sys.executable,
        "-m",
        "pangeo_himat.controller",
        "--backend",
        "local",
        "--scheduler-http",
        f"http://{LOOPBACK}:{ports.dashboard}",
        "--scheduler-address",
        ports.scheduler_address,
        *bounds,
        *timers,
        "--worker-threads",
        str(shape.threads),
        "--worker-memory-limit",
        f"{shape.memory_limit_mib}MiB",
        f"--worker-arg=--local-directory={spill_dir}",
        "--worker-arg=--no-dashboard",
        f"--worker-arg=--dashboard-address={LOOPBACK}:0",
    ]
