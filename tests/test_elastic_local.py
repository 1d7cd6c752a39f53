"""The controller against a real `dask scheduler`, with the local backend's real worker processes.

The scheduler runs with the HTTP routes the chart renders; the controller is stepped here with
the real clock, short timers (a 1 s cooldown, 0.3 s between samples) and adaptive {min 0, max 2}.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from distributed import Client

from conftest import deployment_pod_spec, render_chart_from_settings
from pangeo_himat.controller.decide import Config
from pangeo_himat.controller.local_backend import LocalWorkers
from pangeo_himat.controller.loop import Controller
from pangeo_himat.controller.readers import SchedulerAPI

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

ROUTES_VARIABLE = "DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES"
CONFIG = Config(mode="adaptive", minimum=0, maximum=2, workers_after_s=1.0, cooldown_s=1.0)
SAMPLE_EVERY_S = 0.3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chart_routes(folder: Path) -> str:
    spec = deployment_pod_spec(render_chart_from_settings(folder), "-scheduler")
    env = {e["name"]: e for e in spec["containers"][0]["env"]}
    return str(env[ROUTES_VARIABLE]["value"])


@pytest.fixture
def scheduler(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """A real scheduler with the chart's routes and no worker: its address and HTTP URL."""
    # The scheduler and the workers import this module's task functions by name.
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    port, dashboard_port = free_port(), free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "dask"), "scheduler", "--host", "127.0.0.1"]
        + ["--port", str(port), "--dashboard-address", f"127.0.0.1:{dashboard_port}"],
        env={**os.environ, ROUTES_VARIABLE: chart_routes(tmp_path)},
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "scheduler.log").open("wb"),
    )
    try:
        yield f"tcp://127.0.0.1:{port}", f"http://127.0.0.1:{dashboard_port}"
    finally:
        process.terminate()
        process.wait(30)


@pytest.fixture
def cluster(scheduler: tuple[str, str], tmp_path: Path) -> Iterator[dict[str, Any]]:
    """The scheduler, a controller over the local backend, and a client."""
    address, http = scheduler
    api = SchedulerAPI(http, replica_by="name")
    backend = LocalWorkers(
        address,
        api,
        memory_limit="400MiB",
        extra_args=("--local-directory", str(tmp_path / "workers")),
    )
    log: list[dict[str, object]] = []
    controller = Controller(CONFIG, api, backend, log=log.append)
    try:
        with Client(address, timeout=60) as client:  # type: ignore[no-untyped-call]
            yield {"client": client, "controller": controller, "backend": backend, "log": log}
    finally:
        backend.close()


def step_until(controller: Controller, condition: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        controller.step()
        time.sleep(SAMPLE_EVERY_S)


def registered(client: Client) -> set[str]:
    return {str(w["name"]) for w in client.scheduler_info(n_workers=-1)["workers"].values()}


def record_call(path: str, value: int) -> int:
    """Appends a line per execution, so a recomputation shows."""
    with open(path, "a") as handle:
        handle.write(f"{value}\n")
    time.sleep(0.2)
    return value * value


def test_work_on_an_idle_cluster_brings_workers_up_and_they_retire_to_min_after(
    cluster: dict[str, Any], tmp_path: Path
) -> None:
    client, controller, backend = cluster["client"], cluster["controller"], cluster["backend"]
    controller.step()
    assert backend.replicas() == 0
    assert controller.scheduler.sample().clients == 1  # the scheduler's fire-and-forget left out
    calls = str(tmp_path / "calls.txt")
    futures = client.map(record_call, [calls] * 12, range(12), pure=False)
    step_until(controller, lambda: all(f.done() for f in futures), "the work to finish")
    assert any("scale up 0 ->" in str(r.get("reason")) for r in cluster["log"])
    assert client.gather(futures) == [i * i for i in range(12)]
    futures.clear()  # the client lets go of its results
    step_until(controller, lambda: backend.replicas() == CONFIG.minimum, "workers back to min")
    step_until(controller, lambda: not registered(client), "the scheduler to drop them")


def test_a_scale_down_keeps_every_result_the_client_holds(
    cluster: dict[str, Any], tmp_path: Path
) -> None:
    client, controller, backend = cluster["client"], cluster["controller"], cluster["backend"]
    calls = tmp_path / "calls.txt"
    futures = client.map(record_call, [str(calls)] * 16, range(16), pure=False)
    step_until(controller, lambda: backend.replicas() == 2, "two workers")
    step_until(controller, lambda: all(f.done() for f in futures), "the work to finish")
    step_until(controller, lambda: backend.replicas() == 1, "the scale-down to one worker")
    assert client.gather(futures) == [i * i for i in range(16)]
    # Each task ran once: the retired worker's results moved instead of being recomputed.
    assert sorted(int(v) for v in calls.read_text().split()) == list(range(16))
    # The client still holds results, so the last worker stays although min is 0.
    for _ in range(10):
        controller.step()
        time.sleep(SAMPLE_EVERY_S)
    assert backend.replicas() == 1


def test_retired_workers_do_not_come_back(cluster: dict[str, Any], tmp_path: Path) -> None:
    client, controller, backend = cluster["client"], cluster["controller"], cluster["backend"]
    # 16 tasks of unknown duration (0.5 s each by Dask's default) make adaptive_target ask for 2.
    futures = client.map(record_call, [str(tmp_path / "c")] * 16, range(16), pure=False)
    step_until(controller, lambda: len(registered(client)) == 2, "two registered workers")
    step_until(controller, lambda: all(f.done() for f in futures), "the work to finish")
    first = registered(client)
    futures.clear()  # the client lets go of its results
    step_until(controller, lambda: backend.replicas() == 0, "every worker retired")
    time.sleep(3)
    controller.step()
    assert not registered(client) & first
    assert backend.replicas() == 0
    assert all(not p or p.poll() is not None for p in backend.processes.values())


def test_the_entry_point_logs_json_lines_and_stops_its_workers_on_sigterm(
    scheduler: tuple[str, str], tmp_path: Path
) -> None:
    address, http = scheduler
    argv = [sys.executable, "-m", "pangeo_himat.controller", "--backend", "local"]
    argv += ["--scheduler-http", http, "--scheduler-address", address, "--mode", "adaptive"]
    argv += ["--min", "0", "--max", "1", "--workers-after", "60", "--interval", "0.3"]
    controller = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        with Client(address, timeout=60) as client:  # type: ignore[no-untyped-call]
            future = client.submit(record_call, str(tmp_path / "calls"), 3, pure=False)
            assert future.result(timeout=120) == 9
            assert len(registered(client)) == 1
            controller.send_signal(signal.SIGTERM)
            out, _ = controller.communicate(timeout=60)
            end = time.monotonic() + 30
            while registered(client):
                assert time.monotonic() < end, "the controller left its worker running"
                time.sleep(0.2)
    finally:
        if controller.poll() is None:
            controller.kill()
    assert controller.returncode == 0
    records = [json.loads(line) for line in out.splitlines()]
    # A read that fails (the scheduler not up yet) is logged as an error, not a decision.
    decisions = [r for r in records if "error" not in r]
    assert all({"at", "reason", "replicas", "current"} <= set(r) for r in decisions)
    assert any(r["reason"] == "scale up 0 -> 1" for r in decisions)
