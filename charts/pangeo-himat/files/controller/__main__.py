"""`python -m pangeo_himat.controller` (in the chart: `python -m controller`): run the controller.

Durations are seconds; the Jupyter token comes from $JUPYTER_TOKEN, never from a flag, so it
does not show in the process list.
"""

from __future__ import annotations

import argparse
import os
import signal
import threading
import time
from pathlib import Path
from types import FrameType

from .aws import Nodegroups, hibernate_cluster
from .decide import Config
from .kube import KubeAPI, KubernetesBackend, WorkerBackend
from .local_backend import LocalWorkers
from .loop import Controller
from .readers import JupyterAPI, SchedulerAPI

MIN_ENV = "HIMAT_CONTROLLER_MIN"
MAX_ENV = "HIMAT_CONTROLLER_MAX"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="controller", description=__doc__)
    add = parser.add_argument
    add("--scheduler-http", required=True, help="the scheduler's dashboard URL (port 8787)")
    add("--mode", choices=["static", "adaptive"], default="static")
    add("--count", type=int, default=0, help="static mode: workers while there is work")
    # Adaptive bounds also from the environment: `himat scale` sets them with `kubectl set env`.
    add("--min", type=int, default=int(os.environ.get(MIN_ENV, "0")), dest="minimum")
    add("--max", type=int, default=int(os.environ.get(MAX_ENV, "0")), dest="maximum")
    add("--workers-after", type=float, default=None, help="s of idle before workers go to 0/min")
    add("--hibernate-after", type=float, default=None, help="s of idle before the cluster sleeps")
    add("--cooldown", type=float, default=60.0)
    add("--workers-per-replica", type=int, default=1, help="dask worker --nworkers of a pod")
    add("--interval", type=float, default=5.0, help="s between samples")
    add("--backend", choices=["kubernetes", "local"], default="kubernetes")
    add("--deployment", default="", help="kubernetes: the worker Deployment")
    add("--pod-selector", default="", help="kubernetes: label selector of the worker pods")
    add("--scheduler-address", default="", help="local: tcp://127.0.0.1:8786")
    add("--worker-threads", type=int, default=1, help="local: dask worker --nthreads")
    add("--worker-memory-limit", default="auto", help="local: dask worker --memory-limit")
    add("--worker-arg", action="append", default=[], help="local: one more dask worker argument")
    add("--jupyter-url", default="", help="Jupyter's base URL, for idle sleep")
    add("--sleep-configmap", default="", help="kubernetes: the ConfigMap that records a sleep")
    add("--region", default="")
    add("--cluster", default="")
    add("--stable-nodegroup", default="stable", help="the managed group idle sleep stops last")
    add("--spot-nodegroup", default="spot", help="the unmanaged spot group idle sleep stops")
    add("--heartbeat-file", default="", help="touched after every decision (liveness probe)")
    args = parser.parse_args(argv)
    if args.minimum > args.maximum and args.mode == "adaptive":
        parser.error(f"--min {args.minimum} is above --max {args.maximum}")
    if args.backend == "kubernetes" and not (args.deployment and args.pod_selector):
        parser.error("--backend kubernetes needs --deployment and --pod-selector")
    if args.backend == "local" and not args.scheduler_address:
        parser.error("--backend local needs --scheduler-address")
    return args


def build(args: argparse.Namespace) -> Controller:
    config = Config(
        mode=args.mode,
        static_count=args.count,
        minimum=args.minimum,
        maximum=args.maximum,
        workers_after_s=args.workers_after,
        hibernate_after_s=args.hibernate_after,
        cooldown_s=args.cooldown,
        workers_per_replica=args.workers_per_replica,
    )
    scheduler = SchedulerAPI(args.scheduler_http, "name" if args.backend == "local" else "host")
    jupyter = None
    if args.jupyter_url:
        jupyter = JupyterAPI(args.jupyter_url, os.environ.get("JUPYTER_TOKEN", ""))
    backend: WorkerBackend
    if args.backend == "local":
        backend = LocalWorkers(
            args.scheduler_address,
            scheduler,
            nthreads=args.worker_threads,
            memory_limit=args.worker_memory_limit,
            extra_args=tuple(args.worker_arg),
        )
        return Controller(config, scheduler, backend, jupyter)
    api = KubeAPI.in_cluster()
    backend = KubernetesBackend(api, scheduler, args.deployment, args.pod_selector)
    groups = Nodegroups(
        region=args.region,
        cluster=args.cluster,
        spot_nodegroup=args.spot_nodegroup,
        stable_nodegroup=args.stable_nodegroup,
    )
    kube_backend = backend

    def hibernate(reason: str) -> list[str]:
        return hibernate_cluster(
            api, kube_backend, groups, args.sleep_configmap, reason, time.time()
        )

    sleeper = hibernate if args.sleep_configmap and args.region and args.cluster else None
    return Controller(config, scheduler, backend, jupyter, sleeper)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    controller = build(args)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        heartbeat = Path(args.heartbeat_file) if args.heartbeat_file else None
        controller.run(args.interval, stop, heartbeat)
        # Asleep: stay up doing nothing until stopped, rather than exit and be restarted into
        # a cluster that is going away.
        while not stop.wait(args.interval):
            if heartbeat is not None:
                heartbeat.touch()
    finally:
        if isinstance(controller.backend, LocalWorkers):
            controller.backend.close()


if __name__ == "__main__":
    main()
