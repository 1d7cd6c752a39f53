"""Local mode figures for `make bench`: start-up, stop time and task throughput.

Start-up: seconds from launching `himat local` to Jupyter answering and to every worker
connected (median of 3 runs). Stop: seconds from SIGTERM (what Ctrl-C sends) to `himat local`
having ended with every process it started (median of 3 runs). Throughput: tasks per second
on a graph of many tiny tasks, on the local stack and on a plain distributed.LocalCluster of
the same worker shape, side by side.
"""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 3
TASKS = 4000
WORKERS = 2


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def fixed_workers(settings: Path, folder: Path) -> Path:
    """The settings with a fixed set of workers: with the controller (idle.workers_after or
    workers.adaptive) himat local waits for no worker, so there would be no start-up to time."""
    import yaml

    data = yaml.safe_load(settings.read_text()) or {}
    data.setdefault("idle", {})["workers_after"] = None
    data.setdefault("workers", {})["adaptive"] = None
    fixed = folder / "settings.yaml"
    fixed.write_text(yaml.safe_dump(data, sort_keys=False))
    return fixed


def _start(settings: Path) -> tuple[subprocess.Popen[str], dict[str, float], str]:
    ports = [str(_free_port()) for _ in range(3)]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pangeo_himat",
            "local",
            "-f",
            str(settings),
            "--workers",
            str(WORKERS),
            "--port",
            ports[0],
            "--scheduler-port",
            ports[1],
            "--dashboard-port",
            ports[2],
            "--notebook-dir",
            "/tmp/himat-bench-notebooks",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready: dict[str, float] = {}
    seen = []
    assert process.stderr is not None
    for line in process.stderr:
        seen.append(line)
        if line.startswith("ready: "):
            # "ready: jupyter 3.4 s, workers 3.9 s; ..."
            words = line.replace(",", "").replace(";", "").split()
            ready = {"jupyter": float(words[2]), "workers": float(words[5])}
            break
    if not ready:
        raise RuntimeError("himat local did not start:\n" + "".join(seen))
    return process, ready, f"tcp://127.0.0.1:{ports[1]}"


def _stop(process: subprocess.Popen[str]) -> float:
    """Seconds from SIGTERM until himat and every process it started have ended."""
    import psutil

    from pangeo_himat.local.stack import wait_ended

    tree = psutil.Process(process.pid).children(recursive=True)
    started = time.perf_counter()
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    left = wait_ended(tree, 60)
    if left:
        raise RuntimeError(f"processes left after stopping: {[p.pid for p in left]}")
    return time.perf_counter() - started


def _throughput(address: str) -> float:
    from distributed import Client

    with Client(address) as client:
        client.gather(client.map(abs, range(100)))  # warm up
        start = time.perf_counter()
        futures = client.map(abs, range(-TASKS, 0), pure=False)
        client.gather(futures)
        return TASKS / (time.perf_counter() - start)


def bench_local(settings: Path) -> dict[str, float]:
    """Start-up medians and throughput of the local stack against LocalCluster."""
    from distributed import LocalCluster

    from pangeo_himat.fit.loader import load_settings
    from pangeo_himat.local import local_shape

    jupyter, workers, ours, stops = [], [], [], []
    folder = Path(tempfile.mkdtemp(prefix="himat-bench-"))
    for _ in range(RUNS):
        process, ready, address = _start(fixed_workers(settings, folder))
        try:
            jupyter.append(ready["jupyter"])
            workers.append(ready["workers"])
            ours.append(_throughput(address))
        finally:
            stops.append(_stop(process))
    shutil.rmtree(folder, ignore_errors=True)
    shape = local_shape(load_settings(settings), 1, 1, WORKERS)
    plain = []
    for _ in range(RUNS):
        with LocalCluster(
            n_workers=shape.worker_processes,
            threads_per_worker=shape.threads,
            memory_limit=f"{shape.memory_limit_mib}MiB",
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,  # its workers' shutdown noise is not a figure
        ) as cluster:
            plain.append(_throughput(cluster.scheduler_address))
    figures = {
        "jupyter_ready_s": statistics.median(jupyter),
        "workers_ready_s": statistics.median(workers),
        "stop_s": statistics.median(stops),
        "tasks_per_s_local": statistics.median(ours),
        "tasks_per_s_localcluster": statistics.median(plain),
    }
    figures["throughput_ratio"] = figures["tasks_per_s_local"] / figures["tasks_per_s_localcluster"]
    print(f"himat local, {WORKERS} worker pods, median of {RUNS} runs:")
    print(f"  Jupyter ready after     {figures['jupyter_ready_s']:.1f} s (target < 10 s)")
    print(f"  all workers after       {figures['workers_ready_s']:.1f} s (target < 10 s)")
    print(f"  stopped (SIGTERM) in    {figures['stop_s']:.1f} s (target < 3 s)")
    print(
        f"  {TASKS} tiny tasks:  himat local {figures['tasks_per_s_local']:.0f} tasks/s, "
        f"LocalCluster {figures['tasks_per_s_localcluster']:.0f} tasks/s, ratio "
        f"{figures['throughput_ratio']:.2f} (target >= 0.9)"
    )
    return figures


if __name__ == "__main__":
    bench_local(Path(sys.argv[1] if len(sys.argv) > 1 else "settings.yaml").resolve())
