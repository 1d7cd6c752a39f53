"""Readers of the scheduler's and Jupyter's HTTP APIs, standard library only.

Scheduler routes, from distributed/http/scheduler/api.py (github:dask/distributed, enabled by
the route module distributed.http.scheduler.api in distributed.scheduler.http.routes):
  GET  /api/v1/adaptive_target -> {"workers": scheduler.adaptive_target()}
  GET  /api/v1/check_idle      -> {"idle_since": scheduler.check_idle()} (epoch s or null)
  GET  /api/v1/get_workers     -> {"num_workers": n, "workers": [{"name", "address"}]}
  POST /api/v1/retire_workers {"workers": [address, ...]} -> {address: worker info}
The API has no client count. distributed/http/scheduler/json.py's /json/counts.json has
"clients": len(scheduler.clients), which always holds the scheduler's own "fire-and-forget"
entry (distributed/scheduler.py, Scheduler.__init__); the prometheus gauge
dask_scheduler_clients leaves it out (distributed/http/scheduler/prometheus/core.py) but needs
prometheus_client, so the count here is counts.json's minus that entry. /json/identity.json
(Scheduler.identity) gives each worker's metrics, whose managed_bytes is the data it holds
(distributed/worker.py, Worker.get_metrics).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime
from typing import Any

from .decide import JupyterSample, SchedulerSample, WorkerInfo

FIRE_AND_FORGET_CLIENTS = 1
TIMEOUT_S = 10.0


def http_json(url: str, body: object = None, headers: dict[str, str] | None = None) -> Any:
    """GET (or POST with a JSON body) and decode the JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, headers={"Accept": "application/json"})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    for key, value in (headers or {}).items():
        request.add_header(key, value)
    with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
        return json.loads(response.read() or b"null")


class SchedulerAPI:
    """The scheduler's dashboard port (8787), where its HTTP API answers."""

    def __init__(self, base_url: str, replica_by: str = "host") -> None:
        """replica_by: what tells a worker's pod, its address's host (Kubernetes: the pod IP)
        or its name (local mode: one process per replica, named after it)."""
        self.base_url = base_url.rstrip("/")
        self.replica_by = replica_by

    def sample(self) -> SchedulerSample:
        target = http_json(f"{self.base_url}/api/v1/adaptive_target")["workers"]
        idle_since = http_json(f"{self.base_url}/api/v1/check_idle")["idle_since"]
        counts = http_json(f"{self.base_url}/json/counts.json")
        identity = http_json(f"{self.base_url}/json/identity.json")
        workers = tuple(
            WorkerInfo(
                address=address,
                name=str(info.get("name", address)),
                managed_bytes=int((info.get("metrics") or {}).get("managed_bytes", 0)),
                replica=(
                    str(info.get("name", address))
                    if self.replica_by == "name"
                    else urllib.parse.urlsplit(address).hostname or address
                ),
            )
            for address, info in sorted(identity.get("workers", {}).items())
        )
        return SchedulerSample(
            adaptive_target=int(target),
            idle_since_s=None if idle_since is None else float(idle_since),
            clients=max(0, int(counts["clients"]) - FIRE_AND_FORGET_CLIENTS),
            processing=int(counts["processing"]) + int(counts.get("unrunnable", 0)),
            workers=workers,
        )

    def worker_addresses(self) -> list[str]:
        listed = http_json(f"{self.base_url}/api/v1/get_workers")["workers"]
        return sorted(str(w["address"]) for w in listed)

    def retire(self, addresses: list[str]) -> list[str]:
        """Retire these workers (their data moves first); returns the addresses retired."""
        if not addresses:
            return []
        try:
            answer = http_json(f"{self.base_url}/api/v1/retire_workers", {"workers": addresses})
        except (urllib.error.HTTPError, ValueError):
            # distributed 2025.7.0 (the image's) can retire and then fail to encode its answer
            # (dask/distributed#8996, fixed in 2025.10.0): who is still registered decides.
            still = set(self.worker_addresses())
            return sorted(a for a in addresses if a not in still)
        return sorted(answer) if isinstance(answer, dict) else []


def parse_iso_s(text: str) -> float:
    """Jupyter's ISO 8601 UTC timestamps ('2026-12-01T08:00:00.123456Z') as epoch seconds."""
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


class JupyterAPI:
    """Jupyter Server's REST API, read without counting as activity.

    jupyter_server/services/api/handlers.py APIStatusHandler: GET /api/status ->
    {"started", "last_activity", "kernels", "connections"}, itself never tracked
    (_track_activity = False). Other API handlers count a request as activity unless it carries
    no_track_activity (jupyter_server/base/handlers.py, update_api_activity), so /api/kernels is
    read with it; each kernel model has "execution_state" (services/kernels/kernelmanager.py).
    """

    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.headers = {"Authorization": f"token {token}"}

    def sample(self) -> JupyterSample:
        status = self._get("/api/status")
        kernels = self._get("/api/kernels")
        # Only "busy": a kernel nobody connects to can stay "starting" for good.
        busy = sum(1 for k in kernels if k.get("execution_state") == "busy")
        last_activity_s = parse_iso_s(status["last_activity"])
        return JupyterSample(last_activity_s=last_activity_s, busy_kernels=busy)

    def _get(self, path: str) -> Any:
        return http_json(f"{self.base_url}{path}?no_track_activity=1", headers=self.headers)
