"""The lifecycle verbs of `himat`: cluster, install, hibernate, resume, scale, status, connect,
destroy. Each renders first, checks its tools, then runs (or with --dry-run prints) its plan."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pangeo_himat import names
from pangeo_himat.cli import read_settings, reports_input_errors, settings_option
from pangeo_himat.cost import estimate_cost
from pangeo_himat.errors import InputError, Problem
from pangeo_himat.lifecycle import plans
from pangeo_himat.lifecycle.connect import (
    connect_forward,
    load_balancer_host,
    load_balancer_query,
)
from pangeo_himat.lifecycle.plans import Step, Target
from pangeo_himat.lifecycle.runner import (
    StepFailed,
    kubectl_field,
    observe,
    print_plan,
    run_steps,
)
from pangeo_himat.lifecycle.tools import preflight
from pangeo_himat.render import Rendered, render_all, write_rendered
from pangeo_himat.settings import Settings
from pangeo_himat.writer import to_yaml, write_atomic


def lifecycle_verb(command: Callable[..., Any]) -> Callable[..., Any]:
    """-f/--settings, --dry-run, bad input -> exit 2, a failed step -> the tool's status."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except StepFailed as failure:
            sys.exit(failure.status)

    wrapper = reports_input_errors(wrapper)
    wrapper = click.option(
        "--dry-run", is_flag=True, help="Print the exact commands, one per line, and run nothing."
    )(wrapper)
    return settings_option(wrapper)


def prepare(
    settings_path: Path | None, tools: list[str], dry_run: bool, credentials: bool = True
) -> tuple[Settings, Rendered]:
    """Validate and render the settings, then (for real runs) check tools and credentials."""
    settings = read_settings(settings_path)
    rendered = render_all(settings)
    for result in write_rendered(settings, rendered, Path.cwd()):
        if result.status != "unchanged":
            click.echo(str(result), err=True)
    target = Target.of(settings)
    write_atomic(Path(target.nth_values_file), to_yaml(plans.termination_handler_values()))
    if not dry_run:
        preflight(tools, credentials)
    return settings, rendered


def execute(verb: str, steps: list[Step], dry_run: bool) -> None:
    if dry_run:
        print_plan(steps)
    else:
        run_steps(verb, steps)


def urls(settings: Settings) -> list[str]:
    """jupyter_url, dask_url and how to read the token, as `install` and `status` print them."""
    target = Target.of(settings)
    scheduler = names.scheduler_service(target.cluster)
    token = (
        f"kubectl get secret {names.token_secret(target.cluster)} -n {target.namespace} "
        "-o jsonpath='{.data.token}' | base64 -d"
    )
    if settings["jupyter"]["expose"] == "loadbalancer":
        host = load_balancer_host(target) or "<load balancer pending>"
        base = f"http://{host}"
        return [
            f"jupyter_url: {base}/lab",
            f"dask_url: {base}/proxy/{scheduler}:8787/status",
            f"token: {token}",
        ]
    return [
        "jupyter_url: http://127.0.0.1:8888/lab (after `make connect`)",
        "dask_url: http://127.0.0.1:8787/status (after `make connect`)",
        f"token: {token}",
    ]


@click.command()
@lifecycle_verb
def cluster(settings_path: Path | None, dry_run: bool) -> None:
    """Create the EKS cluster, or bring its nodegroups in line with the settings."""
    settings, _ = prepare(settings_path, ["eksctl", "aws"], dry_run)
    target = Target.of(settings)
    if dry_run:
        print_plan(plans.cluster_steps(settings, exists=False))
        click.echo("# if the cluster exists already, instead:")
        for step in plans.cluster_steps(settings, exists=True):
            click.echo(f"# {step.shell()}")
        return
    exists = (
        observe(
            [
                "eksctl",
                "get",
                "cluster",
                "--name",
                target.cluster,
                "--region",
                target.region,
                "-o",
                "json",
            ]
        ).returncode
        == 0
    )
    run_steps("cluster", plans.cluster_steps(settings, exists))
    click.echo(
        f"cluster {target.cluster} is {'up to date' if exists else 'created'} in "
        f"{target.region}; next: make install"
    )


@click.command()
@lifecycle_verb
def install(settings_path: Path | None, dry_run: bool) -> None:
    """helm upgrade --install the chart and the spot termination handler."""
    settings, rendered = prepare(settings_path, ["helm", "kubectl", "aws"], dry_run)
    if not Path(names.CHART_DIR_NAME).is_dir():
        raise InputError(
            [
                Problem(
                    names.CHART_DIR_NAME,
                    None,
                    "",
                    "not found; run himat from the pangeo-himat checkout",
                )
            ]
        )
    execute("install", plans.install_steps(settings), dry_run)
    if not dry_run:
        for line in urls(settings):
            click.echo(line)
        click.echo(
            f"installed: {rendered.fit.worker_count} Dask workers, Jupyter with "
            f"{settings['jupyter']['storage']} of kept storage"
        )


def _still_bills(settings: Settings, rendered: Rendered, state: str) -> str:
    report = estimate_cost(settings, rendered.fit)
    return (
        f"still billing while hibernated: USD {report.total(state):.4f}/h "
        f"(USD {report.total(state) * 730:.2f}/month): "
        + ", ".join(line.item for line in report.lines if getattr(line, state) > 0)
    )


@click.command()
@click.option("--all", "everything", is_flag=True, help="Also scale the stable node to 0.")
@lifecycle_verb
def hibernate(settings_path: Path | None, dry_run: bool, everything: bool) -> None:
    """Scale the workers and spot nodes to 0 (--all: the stable node too)."""
    settings, rendered = prepare(settings_path, ["eksctl", "kubectl", "aws"], dry_run)
    execute("hibernate", plans.hibernate_steps(settings, everything), dry_run)
    if not dry_run:
        click.echo(
            _still_bills(settings, rendered, "hibernated_all" if everything else "hibernated")
        )


@click.command()
@lifecycle_verb
def resume(settings_path: Path | None, dry_run: bool) -> None:
    """Scale both nodegroups and the workers back to the settings."""
    settings, rendered = prepare(settings_path, ["eksctl", "kubectl", "aws"], dry_run)
    execute("resume", plans.resume_steps(settings, rendered.fit), dry_run)
    if not dry_run:
        click.echo(
            f"resumed: {settings['spot']['nodes']} spot nodes, {rendered.fit.worker_count} workers"
        )


@click.command()
@click.argument("nodes", type=int)
@lifecycle_verb
def scale(settings_path: Path | None, dry_run: bool, nodes: int) -> None:
    """Set the spot node count (0 to spot.max_nodes) and the workers that fit."""
    settings = read_settings(settings_path)
    maximum = settings["spot"]["max_nodes"]
    if not 0 <= nodes <= maximum:
        raise InputError(
            [
                settings.problem(
                    ("spot", "max_nodes"),
                    f"cannot scale to {nodes} nodes; expected 0 to "
                    f"{maximum} (raise spot.max_nodes for more)",
                )
            ]
        )
    settings, rendered = prepare(settings_path, ["eksctl", "kubectl", "aws"], dry_run)
    execute("scale", plans.scale_steps(settings, rendered.fit, nodes), dry_run)
    if not dry_run:
        click.echo(
            f"scaled: {nodes} spot nodes, {nodes * rendered.fit.workers_per_node} "
            "workers (spot.nodes in the settings is unchanged)"
        )


@click.command()
@lifecycle_verb
def status(settings_path: Path | None, dry_run: bool) -> None:
    """Nodegroups and their sizes, pods by component, hibernated or not, the URLs."""
    settings, _ = prepare(settings_path, ["eksctl", "kubectl"], dry_run, credentials=False)
    target = Target.of(settings)
    groups_argv = [
        "eksctl",
        "get",
        "nodegroup",
        "--cluster",
        target.cluster,
        "--region",
        target.region,
        "-o",
        "json",
    ]
    pods_argv = [
        "kubectl",
        "get",
        "pods",
        "-n",
        target.namespace,
        "-l",
        f"app.kubernetes.io/instance={target.release}",
        "-o",
        "json",
    ]
    if dry_run:
        print_plan([Step("nodegroups", tuple(groups_argv)), Step("pods", tuple(pods_argv))])
        return
    groups = observe(groups_argv)
    if groups.returncode != 0:
        click.echo(f"cluster {target.cluster}: not found in {target.region} (make cluster)")
        sys.exit(1)
    sizes = {
        g.get("Name", g.get("name")): g.get("DesiredCapacity", 0)
        for g in json.loads(groups.stdout or "[]")
    }
    for name, size in sizes.items():
        click.echo(f"nodegroup {name}: {size} nodes")
    pods = observe(pods_argv)
    counts: dict[str, dict[str, int]] = {}
    for pod in json.loads(pods.stdout or "{}").get("items", []):
        component = pod["metadata"].get("labels", {}).get("app.kubernetes.io/component", "?")
        phase = pod.get("status", {}).get("phase", "Unknown")
        counts.setdefault(component, {}).setdefault(phase, 0)
        counts[component][phase] += 1
    for component, phases in sorted(counts.items()):
        click.echo(f"pods {component}: " + ", ".join(f"{n} {p}" for p, n in phases.items()))
    hibernated = sizes.get(names.SPOT_NODEGROUP, 0) == 0
    click.echo(f"hibernated: {'yes' if hibernated else 'no'}")
    for line in urls(settings):
        click.echo(line)


@click.command()
@lifecycle_verb
def connect(settings_path: Path | None, dry_run: bool) -> None:
    """Port-forward Jupyter and the Dask dashboard to 127.0.0.1 (Ctrl-C stops both)."""
    settings, _ = prepare(settings_path, ["kubectl"], dry_run, credentials=False)
    target = Target.of(settings)
    if settings["jupyter"]["expose"] == "loadbalancer":
        if dry_run:
            print_plan([Step("load balancer address", load_balancer_query(target))])
            return
        for line in urls(settings):
            click.echo(line)
        return
    sys.exit(connect_forward(Target.of(settings), dry_run))


def _confirm(cluster_name: str) -> bool:
    """The user types the cluster's name; no terminal or a wrong name means no."""
    if not sys.stdin or not sys.stdin.isatty():
        try:
            typed = sys.stdin.readline().strip() if sys.stdin else ""
        except (OSError, ValueError):
            typed = ""
    else:
        typed = click.prompt(
            f"Type the cluster name ({cluster_name}) to delete it", default="", show_default=False
        )
    return typed == cluster_name


def _volume_id(target: Target) -> str | None:
    """The EBS volume behind the notebooks' claim, recorded before anything is deleted."""
    claim = names.jupyter_pvc(target.cluster)
    volume = kubectl_field("pvc", claim, "{.spec.volumeName}", target.namespace)
    return kubectl_field("pv", volume, "{.spec.csi.volumeHandle}") if volume else None


def _load_balancers(target: Target) -> list[str]:
    services = observe(["kubectl", "get", "services", "-n", target.namespace, "-o", "json"])
    if services.returncode != 0:
        return []
    return [
        s["metadata"]["name"]
        for s in json.loads(services.stdout or "{}").get("items", [])
        if s.get("spec", {}).get("type") == "LoadBalancer"
    ]


@click.command()
@click.option("--yes", is_flag=True, help="Do not ask for the cluster name.")
@click.option("--delete-data", is_flag=True, help="Also delete the notebooks' EBS volume.")
@lifecycle_verb
def destroy(settings_path: Path | None, dry_run: bool, yes: bool, delete_data: bool) -> None:
    """Delete the cluster; the notebooks' volume is kept (and its ID printed) unless asked."""
    settings, _ = prepare(settings_path, ["eksctl", "helm", "kubectl", "aws"], dry_run)
    target = Target.of(settings)
    if dry_run:
        exposed = settings["jupyter"]["expose"] == "loadbalancer"
        services = [names.jupyter_service(target.cluster)] if exposed else []
        print_plan(plans.destroy_steps(settings, services, "<jupyter-volume-id>", delete_data))
        return
    if not yes and not _confirm(target.cluster):
        click.echo(f"not confirmed: cluster {target.cluster} was left as it is", err=True)
        sys.exit(1)
    volume = _volume_id(target)
    run_steps(
        "destroy", plans.destroy_steps(settings, _load_balancers(target), volume, delete_data)
    )
    if delete_data:
        click.echo(
            f"destroyed {target.cluster}; the notebooks' volume {volume or '(none)'} "
            "was deleted as asked"
        )
    elif volume:
        click.echo(
            f"destroyed {target.cluster}; kept the notebooks' EBS volume {volume} "
            f"(delete it with: aws ec2 delete-volume --volume-id {volume} --region "
            f"{target.region})"
        )
    else:
        click.echo(f"destroyed {target.cluster}; no notebooks' volume was found to keep")


def lifecycle_commands() -> list[click.Command]:
    """The verbs, for cli.py to register."""
    return [cluster, install, hibernate, resume, scale, status, connect, destroy]
