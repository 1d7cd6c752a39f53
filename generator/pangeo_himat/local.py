"""`himat local`: the same JupyterLab + Dask stack on this machine, from the same settings.

A Dask scheduler, `dask worker` processes shaped like the cluster's worker pods, and JupyterLab
with a random token, all on 127.0.0.1. Kernels see DASK_SCHEDULER_ADDRESS, so `Client()`
connects with no arguments here as on the cluster. Ctrl-C or SIGTERM stops every process
started, and their children.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import click

from pangeo_himat.errors import InputError, Problem
from pangeo_himat.options import read_settings, reports_input_errors, settings_option
from pangeo_himat.quantities import memory_mib
from pangeo_himat.render_values import dask_memory_limit_mib
from pangeo_himat.settings import Settings

# Memory left to the OS, JupyterLab, its kernels and the scheduler before workers are counted.
LOCAL_RESERVE_MIB = 2048
READY_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 10
# What local mode runs, from the `local` extra.
LOCAL_MODULES = ("distributed", "psutil", "jupyterlab", "jupyter_server_proxy", "dask_labextension")


@dataclass(frozen=True)
class LocalShape:
    """How many worker pods-worth run here, and the shape of each."""

    pods: int
    processes: int
    threads: int
    pod_memory_mib: int

    @property
    def worker_processes(self) -> int:
        return self.pods * self.processes

    @property
    def memory_limit_mib(self) -> int:
        """Per process, the same headroom below the pod as on the cluster."""
        return dask_memory_limit_mib(self.pod_memory_mib, self.processes)


def local_shape(settings: Settings, cpu_count: int, total_mib: int, pods: int | None) -> LocalShape:
    """As many worker pods as this machine has cores and memory for, or exactly `pods`."""
    workers = settings["workers"]
    processes, threads = workers["processes"], workers["threads"]
    usable_mib = max(total_mib - LOCAL_RESERVE_MIB, 256)
    by_cpu = max(1, cpu_count // (processes * threads))
    if workers["memory"] == "auto":
        count = pods or by_cpu
        return LocalShape(count, processes, threads, usable_mib // count)
    pod_mib = memory_mib(workers["memory"])
    count = pods or max(1, min(by_cpu, usable_mib // pod_mib))
    return LocalShape(count, processes, threads, pod_mib)


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers themselves do: a port with closed connections in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def check_ports(ports: dict[str, int]) -> None:
    """A port in use is bad input: name it and the option that moves it."""
    problems = [
        Problem(f"127.0.0.1:{port}", None, "", f"port {port} is in use; choose another with {opt}")
        for opt, port in ports.items()
        if not _port_free(port)
    ]
    if problems:
        raise InputError(problems)


def _wait_for_http(url: str, deadline: float, stack: LocalStack) -> None:
    while time.monotonic() < deadline:
        failure = stack.failed()
        if failure is not None:
            raise RuntimeError(failure)
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {READY_TIMEOUT_SECONDS} s")


def _wait_for_workers(address: str, count: int, deadline: float) -> None:
    from distributed import Client

    with Client(address, timeout=max(1.0, deadline - time.monotonic())) as client:
        client.wait_for_workers(count, timeout=max(1.0, deadline - time.monotonic()))


def _die_with_parent() -> None:
    """On Linux a child gets SIGTERM when himat itself dies, even by kill -9: no orphans."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1  # linux/prctl.h
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class StopRequested(Exception):
    """Ctrl-C or SIGTERM: leave whatever we are waiting for and stop the stack."""


class LocalStack:
    """The processes of one local stack; `stop` ends them and every child they started."""

    def __init__(self, logs: Path) -> None:
        self.processes: list[subprocess.Popen] = []
        self.logs = logs

    def start(self, name: str, argv: list[str], env: dict[str, str], cwd: Path) -> None:
        # A session of its own, so a terminal's Ctrl-C reaches us first and we stop in order.
        with (self.logs / f"{name}.log").open("wb") as log:
            self.processes.append(
                subprocess.Popen(
                    argv,
                    env=env,
                    cwd=cwd,
                    start_new_session=True,
                    preexec_fn=_die_with_parent,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )

    def failed(self) -> str | None:
        """The log tail of a process that ended on its own, if any."""
        for name, process in zip(("scheduler", "workers", "jupyter"), self.processes, strict=False):
            if process.poll() is not None:
                tail = (self.logs / f"{name}.log").read_text(errors="replace")[-2000:]
                return f"{name} exited with status {process.returncode}:\n{tail}"
        return None

    def stop(self) -> None:
        import psutil  # shipped with distributed

        tree = []
        for process in self.processes:
            try:
                parent = psutil.Process(process.pid)
                tree += [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
        for process in reversed(self.processes):  # Jupyter first, the scheduler last
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        _, alive = psutil.wait_procs(tree, timeout=STOP_TIMEOUT_SECONDS)
        for leftover in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                leftover.kill()
        psutil.wait_procs(alive, timeout=STOP_TIMEOUT_SECONDS)
        for process in self.processes:
            process.wait()


def _lab_settings(folder: Path, dashboard_port: int) -> Path:
    """Point the Dask JupyterLab extension at the local dashboard."""
    overrides = {"dask-labextension:plugin": {"defaultURL": f"http://127.0.0.1:{dashboard_port}"}}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "overrides.json").write_text(json.dumps(overrides))
    return folder


def commands(
    shape: LocalShape,
    ports: dict[str, int],
    state: Path,
    notebooks: Path,
) -> dict[str, list[str]]:
    """The three commands of the stack, all bound to 127.0.0.1."""
    python = sys.executable
    scheduler = f"tcp://127.0.0.1:{ports['--scheduler-port']}"
    lab_settings = _lab_settings(state / "lab", ports["--dashboard-port"])
    return {
        "scheduler": [
            python,
            "-m",
            "distributed.cli.dask_scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            str(ports["--scheduler-port"]),
            "--dashboard-address",
            f"127.0.0.1:{ports['--dashboard-port']}",
        ],
        "workers": [
            python,
            "-m",
            "distributed.cli.dask_worker",
            scheduler,
            "--host",
            "127.0.0.1",
            "--nworkers",
            str(shape.worker_processes),
            "--nthreads",
            str(shape.threads),
            "--memory-limit",
            f"{shape.memory_limit_mib}MiB",
            "--local-directory",
            str(state / "dask"),
            "--no-dashboard",
            "--name",
            "local",
        ],
        "jupyter": [
            python,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={ports['--port']}",
            f"--ServerApp.root_dir={notebooks}",
            f"--LabApp.app_settings_dir={lab_settings}",
            # Jupyter refuses to start as root unless told; containers often run as root.
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ],
    }


@click.command("local")
@settings_option
@click.option(
    "--workers",
    "pods",
    type=click.IntRange(min=1),
    default=None,
    help="Worker pods to run (default: as many as this machine holds).",
)
@click.option("--port", type=click.IntRange(1, 65535), default=8888, help="JupyterLab port.")
@click.option("--scheduler-port", type=click.IntRange(1, 65535), default=8786)
@click.option("--dashboard-port", type=click.IntRange(1, 65535), default=8787)
@click.option(
    "--notebook-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("notebooks"),
    help="Where notebooks live (created, never emptied).",
)
@reports_input_errors
def local_command(
    settings_path: Path | None,
    pods: int | None,
    port: int,
    scheduler_port: int,
    dashboard_port: int,
    notebook_dir: Path,
) -> None:
    """JupyterLab + Dask on 127.0.0.1, shaped by the settings; Ctrl-C stops everything."""
    missing = [name for name in LOCAL_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise InputError(
            [
                Problem(
                    name,
                    None,
                    "",
                    "not installed; local mode needs "
                    "pip install 'pangeo-himat[local]' (make local does it)",
                )
                for name in missing
            ]
        )
    import psutil

    settings = read_settings(settings_path)
    ports = {"--port": port, "--scheduler-port": scheduler_port, "--dashboard-port": dashboard_port}
    if len(set(ports.values())) != len(ports):
        raise InputError([Problem("himat local", None, "", "the three ports must differ")])
    check_ports(ports)
    shape = local_shape(settings, os.cpu_count() or 1, psutil.virtual_memory().total // 2**20, pods)
    notebook_dir = notebook_dir.resolve()
    notebook_dir.mkdir(parents=True, exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix="himat-local-"))
    token = secrets.token_hex(24)
    scheduler = f"tcp://127.0.0.1:{scheduler_port}"
    env = {
        **os.environ,
        "DASK_SCHEDULER_ADDRESS": scheduler,
        "JUPYTER_TOKEN": token,
        "DASK_DISTRIBUTED__DASHBOARD__LINK": f"/proxy/{dashboard_port}/status",
    }
    stack = LocalStack(state)

    def on_signal(*_: object) -> None:
        raise StopRequested

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    status = 0
    try:
        started = time.monotonic()
        for name, argv in commands(shape, ports, state, notebook_dir).items():
            stack.start(name, argv, env, notebook_dir)
        deadline = started + READY_TIMEOUT_SECONDS
        _wait_for_http(f"http://127.0.0.1:{port}/api", deadline, stack)
        ready_jupyter = time.monotonic() - started
        _wait_for_workers(scheduler, shape.worker_processes, deadline)
        ready_workers = time.monotonic() - started
        click.echo(f"jupyter_url: http://127.0.0.1:{port}/lab?token={token}")
        click.echo(f"dask_url: http://127.0.0.1:{dashboard_port}/status")
        click.echo(
            f"scheduler: {scheduler} ({shape.worker_processes} workers x "
            f"{shape.threads} threads, {shape.memory_limit_mib} MiB each)"
        )
        click.echo(
            f"ready: jupyter {ready_jupyter:.1f} s, workers {ready_workers:.1f} s; "
            f"notebooks in {notebook_dir}; Ctrl-C stops everything",
            err=True,
        )
        sys.stdout.flush()
        while True:
            failure = stack.failed()
            if failure is not None:
                click.echo(f"himat local: {failure}", err=True)
                status = 1
                break
            time.sleep(0.3)
    except StopRequested:
        click.echo("stopping the local stack", err=True)
    except (TimeoutError, RuntimeError) as error:
        click.echo(f"himat local: {error}", err=True)
        status = 1
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        stack.stop()
        shutil.rmtree(state, ignore_errors=True)
    sys.exit(status)
