"""Verbs that create or change the cluster: cluster, install, hibernate, resume, scale."""

from __future__ import annotations

from pathlib import Path

import click

from pangeo_himat import names
from pangeo_himat.cli.stages import execute, lifecycle_verb, preflighted, rendered, urls, validated
from pangeo_himat.cost import HOURS_PER_MONTH, estimate_cost
from pangeo_himat.errors import InputError, Problem
from pangeo_himat.lifecycle import answers, plans
from pangeo_himat.lifecycle.output import parsed
from pangeo_himat.lifecycle.plans import Target
from pangeo_himat.lifecycle.runner import observe, print_plan, run_steps
from pangeo_himat.lifecycle.sleep_record import sleep_line, sleep_record
from pangeo_himat.render import Rendered
from pangeo_himat.settings import Settings

AWS_TOOLS = ["eksctl", "kubectl", "aws"]


@click.command()
@lifecycle_verb
def cluster(settings_path: Path | None, dry_run: bool) -> None:
    """Create the EKS cluster, or bring its nodegroups in line with the settings."""
    settings = validated(settings_path, changes_aws=True)
    rendered(settings)
    preflighted(["eksctl", "aws"], dry_run)
    target = Target.of(settings)
    query = plans.cluster_query(target)
    if dry_run:
        click.echo(f"# asks first: {query.shell()}")
        print_plan(plans.cluster_steps(settings, exists=False))
        click.echo("# if the cluster exists already, instead:")
        for step in plans.cluster_steps(settings, exists=True):
            click.echo(f"# {step.shell()}")
        return
    # Only an explicit "not found" means create: any other failure stops here (ToolError).
    exists = parsed(observe(query), answers.clusters, "a JSON list of clusters") is not None
    run_steps("cluster", plans.cluster_steps(settings, exists))
    click.echo(
        f"cluster {target.cluster} is {'up to date' if exists else 'created'} in "
        f"{target.region}; next: make install"
    )


@click.command()
@lifecycle_verb
def install(settings_path: Path | None, dry_run: bool) -> None:
    """helm upgrade --install the spot termination handler, then the chart."""
    settings = validated(settings_path, changes_aws=True)
    result = rendered(settings)
    preflighted(["helm", "kubectl", "aws"], dry_run)
    if not Path(names.CHART_DIR_NAME).is_dir():
        message = "not found; run himat from the pangeo-himat checkout"
        raise InputError([Problem(names.CHART_DIR_NAME, None, "", message)])
    execute("install", plans.install_steps(settings), dry_run)
    if not dry_run:
        for line in urls(settings):
            click.echo(line)
        click.echo(
            f"installed: {result.fit.worker_count} Dask workers, Jupyter with "
            f"{settings['jupyter']['storage']} of kept storage"
        )


def _still_bills(settings: Settings, result: Rendered, state: str) -> str:
    report = estimate_cost(settings, result.fit)
    hourly = report.total(state)
    return (
        f"still billing while hibernated: USD {hourly:.4f}/h "
        f"(USD {hourly * HOURS_PER_MONTH:.2f}/month): "
        + ", ".join(line.item for line in report.lines if getattr(line, state) > 0)
    )


@click.command()
@click.option("--all", "everything", is_flag=True, help="Also scale the stable node to 0.")
@lifecycle_verb
def hibernate(settings_path: Path | None, dry_run: bool, everything: bool) -> None:
    """Scale the workers and spot nodes to 0 (--all: the stable node too)."""
    settings = validated(settings_path, changes_aws=True)
    result = rendered(settings)
    preflighted(AWS_TOOLS, dry_run)
    execute("hibernate", plans.hibernate_steps(settings, everything), dry_run)
    if not dry_run:
        click.echo(_still_bills(settings, result, "hibernated_all" if everything else "hibernated"))


def _say_why_it_slept(settings: Settings) -> None:
    """A cluster the controller put to sleep says when and why before it wakes."""
    answer = observe(plans.sleep_record_query(Target.of(settings)))
    record = parsed(answer, sleep_record, "the sleep record ConfigMap as JSON")
    if record is not None:
        click.echo(f"waking: {sleep_line(record)}")


@click.command()
@lifecycle_verb
def resume(settings_path: Path | None, dry_run: bool) -> None:
    """Scale both nodegroups and the workers back to the settings."""
    settings = validated(settings_path, changes_aws=True)
    result = rendered(settings)
    preflighted(AWS_TOOLS, dry_run)
    if not dry_run:
        _say_why_it_slept(settings)
    execute("resume", plans.resume_steps(settings, result.fit), dry_run)
    if not dry_run:
        click.echo(
            f"resumed: {settings['spot']['nodes']} spot nodes, {result.fit.worker_count} workers"
        )


@click.command()
@click.argument("nodes", type=int)
@lifecycle_verb
def scale(settings_path: Path | None, dry_run: bool, nodes: int) -> None:
    """Set the spot node count (0 to spot.max_nodes) and the workers that fit."""
    settings = validated(settings_path, changes_aws=True)
    maximum = settings["spot"]["max_nodes"]
    if not 0 <= nodes <= maximum:
        message = (
            f"cannot scale to {nodes} nodes; expected 0 to {maximum} "
            "(raise spot.max_nodes for more)"
        )
        raise InputError([settings.problem(("spot", "max_nodes"), message)])
    result = rendered(settings)
    preflighted(AWS_TOOLS, dry_run)
    execute("scale", plans.scale_steps(settings, result.fit, nodes), dry_run)
    if not dry_run:
        workers = nodes * result.fit.workers_per_node
        if settings["workers"]["adaptive"] is not None:
            workers_text = f"adaptive workers up to {workers} (the controller follows the work)"
        else:
            workers_text = f"{workers} workers"
        click.echo(
            f"scaled: {nodes} spot nodes, {workers_text} (spot.nodes in the settings is unchanged)"
        )
