"""`himat connect`: forward Jupyter and the Dask dashboard to 127.0.0.1 until Ctrl-C."""

from __future__ import annotations

import base64
import shlex
import signal
import subprocess
import time

import click

from pangeo_himat import names
from pangeo_himat.lifecycle.plans import Target
from pangeo_himat.lifecycle.runner import kubectl_field, observe

JUPYTER_LOCAL_PORT = 8888
DASHBOARD_LOCAL_PORT = 8787


def forward_argvs(target: Target) -> list[list[str]]:
    """kubectl port-forward commands, bound to the loopback address only."""
    jupyter = names.jupyter_service(target.cluster)
    scheduler = names.scheduler_service(target.cluster)
    return [
        [
            "kubectl",
            "port-forward",
            "-n",
            target.namespace,
            "--address",
            "127.0.0.1",
            f"svc/{jupyter}",
            f"{JUPYTER_LOCAL_PORT}:80",
        ],
        [
            "kubectl",
            "port-forward",
            "-n",
            target.namespace,
            "--address",
            "127.0.0.1",
            f"svc/{scheduler}",
            f"{DASHBOARD_LOCAL_PORT}:{names.DASHBOARD_PORT}",
        ],
    ]


def read_token(target: Target) -> str | None:
    token = kubectl_field(
        "secret", names.token_secret(target.cluster), "{.data.token}", target.namespace
    )
    return base64.b64decode(token).decode() if token else None


def load_balancer_query(target: Target) -> tuple[str, ...]:
    """The kubectl call that reads the Jupyter load balancer's hostname."""
    return (
        "kubectl",
        "get",
        "service",
        names.jupyter_service(target.cluster),
        "-n",
        target.namespace,
        "-o",
        "jsonpath={.status.loadBalancer.ingress[0].hostname}",
    )


def load_balancer_host(target: Target) -> str | None:
    result = observe(list(load_balancer_query(target)))
    return result.stdout.strip() or None if result.returncode == 0 else None


def connect_forward(target: Target, dry_run: bool) -> int:
    """Run both forwards, print the URLs, stop both on Ctrl-C or SIGTERM."""
    argvs = forward_argvs(target)
    if dry_run:
        for argv in argvs:
            click.echo(shlex.join(argv) + " &")
        return 0
    token = read_token(target)
    forwards = [subprocess.Popen(argv) for argv in argvs]
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    suffix = f"?token={token}" if token else ""
    click.echo(f"jupyter_url: http://127.0.0.1:{JUPYTER_LOCAL_PORT}/lab{suffix}")
    click.echo(f"dask_url: http://127.0.0.1:{DASHBOARD_LOCAL_PORT}/status")
    click.echo("Ctrl-C stops both forwards.")
    status = 0
    try:
        while not stopping:
            ended = [p for p in forwards if p.poll() is not None]
            if ended:
                status = ended[0].returncode or 1
                click.echo(
                    "a port-forward ended; is the release installed? (make install)", err=True
                )
                break
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        for process in forwards:
            if process.poll() is None:
                process.terminate()
        for process in forwards:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
    return status
