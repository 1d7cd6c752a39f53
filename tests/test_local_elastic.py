"""`himat local` with adaptive workers, tried as a user would: workers appear for a computation
and go away after it. Real processes: himat, its scheduler, Jupyter, the controller, workers.

The controller's timers are shortened with the command's hidden --elastic-timers-s (a real run
keeps the settings', at least 60 s).
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from distributed import Client

from conftest import write_settings

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

TIMERS_S = 2.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def counts(dashboard: int) -> dict[str, Any]:
    url = f"http://127.0.0.1:{dashboard}/json/counts.json"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return dict(json.load(response))
    except (urllib.error.URLError, OSError):
        return {}


def wait_workers(dashboard: int, wanted: Any, timeout_s: float) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        workers = counts(dashboard).get("workers")
        if workers is not None and wanted(workers):
            return int(workers)
        time.sleep(0.2)
    raise AssertionError(f"the worker count never met the condition ({counts(dashboard)})")


@pytest.fixture(scope="module")
def adaptive_stack(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("adaptive")
    write_settings(tmp_path, {"workers.adaptive": {"min": 0, "max": 2}, "workers.memory": "800Mi"})
    ports = {"jupyter": free_port(), "scheduler": free_port(), "dashboard": free_port()}
    log = tmp_path / "himat-stderr.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "pangeo_himat", "local", "-f", "settings.yaml", "--workers", "2"]
        + ["--port", str(ports["jupyter"]), "--scheduler-port", str(ports["scheduler"])]
        + ["--dashboard-port", str(ports["dashboard"])]
        + ["--elastic-timers-s", str(TIMERS_S)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
    )
    assert process.stdout is not None
    # jupyter_url, dask_url, scheduler: ... once the stack answers
    printed = [process.stdout.readline() for _ in range(3)]
    assert printed[0].startswith("jupyter_url:"), log.read_text()
    yield ports, log, printed
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def ready_line(log: Path, timeout_s: float = 60) -> str:
    """The `ready:` line of himat's stderr: written beside the stdout lines, not before them."""
    deadline = time.monotonic() + timeout_s
    while True:
        lines = [line for line in log.read_text().splitlines() if line.startswith("ready:")]
        if lines:
            return lines[0]
        assert time.monotonic() < deadline, f"no ready: line in\n{log.read_text()}"
        time.sleep(0.2)


def test_start_up_text_says_workers_start_on_demand(adaptive_stack):
    _, log, printed = adaptive_stack
    assert printed[2].startswith("scheduler: tcp://127.0.0.1:")
    assert "(0 to 2 workers x 1 thread, " in printed[2]
    assert "started on demand: Dask's adaptive target)" in printed[2]
    ready = ready_line(log)
    assert ", workers start on demand; " in ready
    assert "workers 0." not in ready  # no time for workers nobody waited for


def test_adaptive_workers_appear_for_a_computation_and_go_away_after_it(adaptive_stack):
    ports, log, _ = adaptive_stack
    dashboard = ports["dashboard"]
    assert wait_workers(dashboard, lambda n: n == 0, 30) == 0  # min 0: none while idle
    with Client(f"tcp://127.0.0.1:{ports['scheduler']}", timeout="30s") as client:
        # Standard-library functions: the workers import them without this test's folder.
        naps = client.map(time.sleep, [0.5] * 40, pure=False)
        assert wait_workers(dashboard, lambda n: n >= 1, 60) <= 2, log.read_text()
        # Started with their nanny, as on the cluster: it enforces the memory limit.
        workers = client.scheduler_info()["workers"].values()
        assert workers and all(worker["nanny"] for worker in workers)
        squares = client.map(pow, range(40), [2] * 40)
        total = client.submit(sum, squares)
        assert total.result(timeout=120) == sum(x * x for x in range(40))
        client.gather(naps)
        assert int(counts(dashboard).get("workers", 0)) <= 2  # never above max
        del naps, squares, total
        # The work is done and its results released: the workers are retired, back to min.
        assert wait_workers(dashboard, lambda n: n == 0, 60) == 0, log.read_text()
