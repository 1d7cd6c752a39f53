"""`himat local`: the click command; the work is done by the modules beside it."""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import sys
from pathlib import Path

import click

from pangeo_himat.local.argv import JUPYTER, commands
from pangeo_himat.local.elastic import (
    CONTROLLER,
    ROUTES_VARIABLE,
    SCHEDULER_HTTP_ROUTES,
    controller_argv,
    is_elastic,
    on_demand_summary,
    settings_timing,
)
from pangeo_himat.local.plan import (
    Folders,
    LocalPlan,
    check_local_extra,
    free_mib,
    make_folders,
    plan_local,
)
from pangeo_himat.local.ports import LOOPBACK, LocalPorts, check_ports
from pangeo_himat.local.shape import low_spill_warning, plural
from pangeo_himat.options import read_settings, reports_input_errors, settings_option
from pangeo_himat.render.names import DASHBOARD_PORT, SCHEDULER_PORT

JUPYTER_PORT = 8888


def print_ready(plan: LocalPlan, on_demand: str | None, jupyter_s: float, workers_s: float) -> None:
    """The URLs and the workers on stdout; how long it took on stderr. `on_demand`: what the
    controller does with the workers, when it starts them (then none was waited for)."""
    shape = plan.shape
    click.echo(f"jupyter_url: http://{LOOPBACK}:{plan.ports.jupyter}/lab?token={plan.token}")
    click.echo(f"dask_url: http://{LOOPBACK}:{plan.ports.dashboard}/status")
    workers = on_demand or (
        f"{plural(shape.worker_processes, 'worker')} x {plural(shape.threads, 'thread')}, "
        f"{shape.memory_limit_mib} MiB each"
    )
    click.echo(f"scheduler: {plan.ports.scheduler_address} ({workers})")
    ready = "workers start on demand" if on_demand else f"workers {workers_s:.1f} s"
    click.echo(
        f"ready: jupyter {jupyter_s:.1f} s, {ready}; "
        f"notebooks in {plan.notebooks}; Ctrl-C stops everything",
        err=True,
    )
    sys.stdout.flush()


def spill_note(plan: LocalPlan, folders: Folders) -> str:
    return (
        f"spill: {folders.spill} ({free_mib(folders.spill) / 1024:.0f} GiB free; the workers may "
        f"spill up to {plan.shape.spill_mib / 1024:.1f} GiB); change it with --spill-dir"
    )


def scratch_note(plan: LocalPlan) -> str:
    """Where notebooks and workers write scratch data, and how to move it to S3."""
    where = f"scratch: SCRATCH_BUCKET={plan.scratch}"
    if plan.local_scratch() is None:
        return f"{where} (data.scratch; your own AWS credentials are used here)"
    return f"{where} (a folder here; data.scratch names an S3 bucket instead)"


def echo_err(message: str) -> None:
    click.echo(message, err=True)


@click.command("local")
@settings_option
@click.option(
    "--workers",
    "pods",
    type=click.IntRange(min=1),
    default=None,
    help="Worker pods to run (default: as many as this machine holds).",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=JUPYTER_PORT,
    show_default=True,
    help="JupyterLab port (jupyter_url).",
)
@click.option(
    "--scheduler-port",
    type=click.IntRange(1, 65535),
    default=SCHEDULER_PORT,
    show_default=True,
    help="Dask scheduler port (DASK_SCHEDULER_ADDRESS points kernels at it).",
)
@click.option(
    "--dashboard-port",
    type=click.IntRange(1, 65535),
    default=DASHBOARD_PORT,
    show_default=True,
    help="Dask dashboard port (dask_url; JupyterLab's Dask panel opens it).",
)
@click.option(
    "--notebook-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("notebooks"),
    show_default=True,
    help="Where notebooks live and JupyterLab starts (created, never emptied).",
)
@click.option(
    "--spill-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where workers spill memory to disk (default: a temporary folder, removed on exit).",
)
# Tests shorten every controller timer to this many seconds (a real run keeps the settings').
@click.option("--elastic-timers-s", type=click.FloatRange(min=0.1), default=None, hidden=True)
@reports_input_errors
def local_command(
    settings_path: Path | None,
    pods: int | None,
    port: int,
    scheduler_port: int,
    dashboard_port: int,
    notebook_dir: Path,
    spill_dir: Path | None,
    elastic_timers_s: float | None,
) -> None:
    """JupyterLab + Dask on 127.0.0.1, shaped by the settings; Ctrl-C stops everything."""
    check_local_extra()
    # The local extra's modules, importable now that they are known to be installed.
    import psutil

    from pangeo_himat.local.run import run_stack
    from pangeo_himat.local.stack import LocalStack

    settings = read_settings(settings_path)
    ports = LocalPorts(jupyter=port, scheduler=scheduler_port, dashboard=dashboard_port)
    check_ports(ports)
    machine = (os.cpu_count() or 1, psutil.virtual_memory().total // 2**20)
    token = secrets.token_hex(24)
    plan = plan_local(settings, ports, pods, machine, notebook_dir, spill_dir, token)
    folders = make_folders(plan)
    echo_err(spill_note(plan, folders))
    echo_err(scratch_note(plan))
    env = {
        **plan.env(),
        ROUTES_VARIABLE: SCHEDULER_HTTP_ROUTES,
        "JUPYTER_RUNTIME_DIR": str(folders.jupyter_runtime),
    }
    stack = LocalStack(folders.state, env, folders.work, cwd_of={JUPYTER: plan.notebooks})
    controller = None
    on_demand = None
    if is_elastic(settings):
        on_demand = on_demand_summary(settings, plan.shape)
        timing = settings_timing(settings, elastic_timers_s)
        argv_of_controller = controller_argv(settings, plan.shape, ports, folders.spill, timing)
        controller = {CONTROLLER: argv_of_controller}
    argv = commands(
        plan.shape, ports, folders.spill, plan.notebooks, folders.lab_settings, controller
    )
    try:
        status = run_stack(
            stack,
            argv,
            ports,
            # The controller starts the workers when the work asks: nothing to wait for.
            0 if controller else plan.shape.worker_processes,
            spill_check=lambda: low_spill_warning(
                folders.spill, free_mib(folders.spill), plan.shape
            ),
            on_ready=functools.partial(print_ready, plan, on_demand),
            echo=echo_err,
        )
    finally:
        shutil.rmtree(folders.state, ignore_errors=True)
    sys.exit(status)
