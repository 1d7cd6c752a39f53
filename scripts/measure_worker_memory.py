"""Measure the memory a worker pod needs outside Dask's --memory-limit.

Starts a real `dask scheduler` and `dask worker --nworkers N` on 127.0.0.1 and reads, with
psutil, the resident set (RSS) of the `dask worker` parent (it runs the nannies), of
multiprocessing's resource tracker, and of the worker processes (the part --memory-limit
governs). Then runs the chart's rendered preStop command and reads its peak RSS from the
kernel (getrusage of a waited child), beside the peak of `python -c "import distributed"`.
Sums of RSS count shared library pages once per process: an upper bound, on purpose.

    .venv/bin/python scripts/measure_worker_memory.py

The figures feed WORKER_MEMORY_RESERVE_* in generator/pangeo_himat/render/render_values.py.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
import yaml

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
MIB = 2**20


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rendered_worker_container() -> tuple[list[str], str]:
    """The worker's preStop command and the scheduler's HTTP routes, from `helm template`."""
    helm = os.environ.get("HIMAT_HELM4", str(ROOT / ".tools" / "bin" / "helm"))
    output = subprocess.run(
        [helm, "template", "himat", str(ROOT / "charts" / "pangeo-himat"), "-n", "himat"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    containers = {
        doc["metadata"]["name"]: doc["spec"]["template"]["spec"]["containers"][0]
        for doc in yaml.safe_load_all(output)
        if doc and doc["kind"] == "Deployment"
    }
    worker, scheduler = containers["himat-worker"], containers["himat-scheduler"]
    env = {e["name"]: e.get("value") for e in scheduler["env"]}
    routes = str(env["DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES"])
    return list(worker["lifecycle"]["preStop"]["exec"]["command"]), routes


def workers_listed(http_url: str) -> list[dict[str, str]]:
    with urllib.request.urlopen(f"{http_url}/api/v1/get_workers", timeout=5) as response:
        return list(json.loads(response.read())["workers"])


def wait_for_workers(http_url: str, count: int, timeout_s: float = 60) -> None:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        try:
            if len(workers_listed(http_url)) == count:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"{count} workers did not connect within {timeout_s} s")


def peak_rss_mib(argv: list[str], env: dict[str, str]) -> float:
    """Peak RSS of one command, measured by the kernel (ru_maxrss of a waited child, KiB)."""
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=False); "
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    output = subprocess.run(
        [sys.executable, "-c", probe, *argv], env=env, capture_output=True, text=True, check=True
    ).stdout
    return int(output.split()[-1]) / 1024


def dask_worker_rss(parent: psutil.Process) -> dict[str, float]:
    """RSS of the `dask worker` parent, the resource tracker and the worker processes."""
    figures = {"parent": parent.memory_info().rss / MIB, "tracker": 0.0, "workers": 0.0}
    for child in parent.children(recursive=True):
        role = "tracker" if "resource_tracker" in " ".join(child.cmdline()) else "workers"
        figures[role] += child.memory_info().rss / MIB
    return figures


def main() -> None:
    hook, routes = rendered_worker_container()
    port, dashboard = free_port(), free_port()
    http_url = f"http://127.0.0.1:{dashboard}"
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES": routes}
    scheduler = subprocess.Popen(
        [str(BIN / "dask"), "scheduler", "--host", "127.0.0.1", "--port", str(port)]
        + ["--dashboard-address", f"127.0.0.1:{dashboard}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        print(f"{'processes':>9} {'parent':>8} {'tracker':>8} {'workers':>8}   MiB RSS")
        for processes in (1, 2, 4):
            with tempfile.TemporaryDirectory() as scratch:
                worker = subprocess.Popen(
                    [str(BIN / "dask"), "worker", address, "--host", "127.0.0.1"]
                    + ["--nworkers", str(processes), "--nthreads", "1"]
                    + ["--memory-limit", "1GiB", "--local-directory", scratch],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
                wait_for_workers(http_url, processes)
                time.sleep(3)  # let start-up allocations settle
                rss = dask_worker_rss(psutil.Process(worker.pid))
                print(
                    f"{processes:>9} {rss['parent']:>8.1f} {rss['tracker']:>8.1f} "
                    f"{rss['workers']:>8.1f}"
                )
                hook_env = {
                    "PATH": f"{BIN}:/usr/bin:/bin",
                    "POD_IP": "127.0.0.1",
                    "HIMAT_SCHEDULER_HTTP": http_url,
                }
                if processes == 1:
                    print(f"preStop hook peak RSS: {peak_rss_mib(hook, hook_env):.1f} MiB")
                    distributed = [str(BIN / "python"), "-c", "import distributed"]
                    print(f"import distributed peak RSS: {peak_rss_mib(distributed, env):.1f} MiB")
                worker.terminate()
                worker.wait(30)
                wait_for_workers(http_url, 0)
    finally:
        scheduler.terminate()
        scheduler.wait(30)


if __name__ == "__main__":
    main()
