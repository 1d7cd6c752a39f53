"""`himat connect`: check the kube context, then forward Jupyter and the dashboard to 127.0.0.1."""

from __future__ import annotations

import signal
import subprocess
import time

import click

from pangeo_himat.lifecycle import answers
from pangeo_himat.lifecycle.output import ToolError, parsed
from pangeo_himat.lifecycle.queries import (
    context_query,
    forward_steps,
    jupyter_service_query,
    token_query,
)
from pangeo_himat.lifecycle.runner import observe
from pangeo_himat.lifecycle.steps import Target
from pangeo_himat.render import names

POLL_S = 0.5
STOP_TIMEOUT_S = 5


def _no_cluster_hint(target: Target) -> str:
    return (
        f"run `make cluster` (or `eksctl utils write-kubeconfig --cluster {target.cluster} "
        f"--region {target.region}` if the cluster exists), then `make install`"
    )


def check_context(target: Target) -> str:
    """The current kube context, once its credentials have answered; ToolError with a hint."""
    context = parsed(observe(context_query()), str.strip, "the name of a kube context")
    if not context:
        raise ToolError(f"kubectl: no current kube context; {_no_cluster_hint(target)}")
    answer = observe(jupyter_service_query(target))
    try:
        service = parsed(answer, str.strip, "the Jupyter service's name")
    except ToolError as error:
        raise ToolError(
            f"{error}\nkube context {context!r} does not answer with working credentials; "
            f"{_no_cluster_hint(target)}"
        ) from None
    if service is None:
        raise ToolError(
            f"kubectl: release {target.release} is not installed in namespace "
            f"{target.namespace} of kube context {context!r}; run `make install`"
        )
    return context


def read_token(target: Target) -> str | None:
    return parsed(observe(token_query(target)), answers.token, "a Secret with a UTF-8 `token`")


def connect_forward(target: Target) -> int:
    """Run both forwards, print the URLs, stop both on Ctrl-C or SIGTERM."""
    context = check_context(target)
    token = read_token(target)
    forwards = [subprocess.Popen(step.argv) for step in forward_steps(target)]
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    suffix = f"?token={token}" if token else ""
    click.echo(f"kube context: {context}")
    click.echo(f"jupyter_url: http://127.0.0.1:{names.JUPYTER_LOCAL_PORT}/lab{suffix}")
    click.echo(f"dask_url: http://127.0.0.1:{names.DASHBOARD_LOCAL_PORT}/status")
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
            time.sleep(POLL_S)
    except KeyboardInterrupt:
        pass
    finally:
        for process in forwards:
            if process.poll() is None:
                process.terminate()
        for process in forwards:
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
    return status
