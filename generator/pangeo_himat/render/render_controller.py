"""The worker controller's Helm values: its mode, bounds and idle timers, from the settings."""

from __future__ import annotations

from typing import Any

from pangeo_himat.fit import controller_pod
from pangeo_himat.fit.fit import FitReport
from pangeo_himat.render.render_cluster import spot_nodegroup, stable_nodegroup
from pangeo_himat.settings.model import Settings
from pangeo_himat.settings.quantities import format_cpu, format_mib

COOLDOWN_S = 60
INTERVAL_S = 5


def adaptive_bounds(settings: Settings, fit: FitReport) -> tuple[int, int] | None:
    """(min, max) worker pods of adaptive mode, max auto resolved; None in static mode."""
    adaptive = settings.workers.adaptive
    if adaptive is None:
        return None
    maximum = fit.max_worker_count if adaptive.max == "auto" else int(adaptive.max)
    return int(adaptive.min), maximum


def render_controller(settings: Settings, fit: FitReport) -> dict[str, Any]:
    """The chart's `controller` values; hibernate: true renders it paused, like the workers."""
    bounds = adaptive_bounds(settings, fit)
    hibernate_after_s = settings.idle.hibernate_after_s
    amounts = {
        "cpu": format_cpu(controller_pod.REQUESTS_CPU_MILLICORES),
        "memory": format_mib(controller_pod.REQUESTS_MEMORY_MIB),
    }
    return {
        "enabled": True,
        "replicas": 0 if settings.hibernate else 1,
        "mode": "static" if bounds is None else "adaptive",
        "count": fit.worker_count,
        "min": 0 if bounds is None else bounds[0],
        "max": fit.worker_count if bounds is None else bounds[1],
        "workersAfterSeconds": settings.idle.workers_after_s,
        "hibernateAfterSeconds": hibernate_after_s,
        "cooldownSeconds": COOLDOWN_S,
        "intervalSeconds": INTERVAL_S,
        "region": settings.cluster.region if hibernate_after_s else "",
        "cluster": settings.cluster.name if hibernate_after_s else "",
        # The groups as rendered: their names carry a hash of their fixed fields.
        "stableNodegroup": stable_nodegroup(settings)["name"],
        "spotNodegroup": spot_nodegroup(settings, fit)["name"],
        "resources": {"requests": dict(amounts), "limits": dict(amounts)},
    }
