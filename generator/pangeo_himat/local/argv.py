"""The command line of each process of the local stack; every listener on 127.0.0.1.

Building argv writes nothing: the lab settings file is written by `write_lab_settings`.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from pangeo_himat.local.ports import LOOPBACK, LocalPorts
from pangeo_himat.local.shape import LocalShape

SCHEDULER = "scheduler"
JUPYTER = "jupyter"
WORKER_PREFIX = "worker-"


def worker_name(index: int) -> str:
    """The name of one worker pod, as a ReplicaSet would number it."""
    return f"{WORKER_PREFIX}{index}"


def is_worker(name: str) -> bool:
    return name.startswith(WORKER_PREFIX)


def scheduler_argv(ports: LocalPorts) -> list[str]:
    return [
        sys.executable,
        "-m",
        "distributed.cli.dask_scheduler",
        "--host",
        LOOPBACK,
        "--port",
        str(ports.scheduler),
        "--dashboard-address",
        f"{LOOPBACK}:{ports.dashboard}",
    ]


def worker_argv(name: str, shape: LocalShape, ports: LocalPorts, spill_dir: Path) -> list[str]:
    """One pod: a `dask worker` parent with its nanny-supervised processes.

    `--host` binds both the nannies and the worker processes to 127.0.0.1: the CLI hands it to
    every Nanny, which passes it on to its worker (distributed/cli/dask_worker.py, nanny.py).
    """
    return [
        sys.executable,
        "-m",
        "distributed.cli.dask_worker",
        ports.scheduler_address,
        "--host",
        LOOPBACK,
        "--nworkers",
        str(shape.processes),
        "--nthreads",
        str(shape.threads),
        "--memory-limit",
        f"{shape.memory_limit_mib}MiB",
        "--local-directory",
        str(spill_dir),
        "--no-dashboard",
        # The worker's HTTP server (/health, /metrics) starts even without its dashboard, on
        # --dashboard-address, which defaults to ":0", all interfaces (distributed/worker.py
        # `start_http_server(routes, self._dashboard_address)`; cli/dask_worker.py).
        "--dashboard-address",
        f"{LOOPBACK}:0",
        "--name",
        name,
    ]


def jupyter_argv(ports: LocalPorts, notebooks: Path, lab_settings: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--ip={LOOPBACK}",
        f"--port={ports.jupyter}",
        # Kernels' ZMQ ports on loopback too (jupyter_client KernelManager.ip).
        f"--KernelManager.ip={LOOPBACK}",
        f"--ServerApp.root_dir={notebooks}",
        f"--LabApp.app_settings_dir={lab_settings}",
        # Jupyter refuses to start as root unless told; containers often run as root.
        *(["--allow-root"] if os.geteuid() == 0 else []),
    ]


def commands(
    shape: LocalShape,
    ports: LocalPorts,
    spill_dir: Path,
    notebooks: Path,
    lab_settings: Path,
    controller: dict[str, list[str]] | None = None,
) -> dict[str, list[str]]:
    """Every process of the stack by name: the scheduler, one per worker pod, Jupyter.

    With a `controller` ({name: argv}), it runs instead of the worker pods and starts them.
    """
    workers = controller or {
        worker_name(i): worker_argv(worker_name(i), shape, ports, spill_dir)
        for i in range(shape.pods)
    }
    return {
        SCHEDULER: scheduler_argv(ports),
        **workers,
        JUPYTER: jupyter_argv(ports, notebooks, lab_settings),
    }


def write_lab_settings(folder: Path, dashboard_port: int) -> Path:
    """Point the Dask JupyterLab extension at the local dashboard; returns the folder."""
    overrides = {"dask-labextension:plugin": {"defaultURL": f"http://{LOOPBACK}:{dashboard_port}"}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "overrides.json").write_text(json.dumps(overrides))
    return folder
