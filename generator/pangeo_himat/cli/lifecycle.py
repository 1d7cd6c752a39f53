"""Verbs that create or change the cluster: cluster, install, hibernate, resume, scale."""

from __future__ import annotations

import shutil
from pathlib import Path

import click

from pangeo_himat.cli.budget import apply_cluster_budget, print_cluster_budget_plan
from pangeo_himat.cli.running import follow_settings, live_state, read_live, record_policies
from pangeo_himat.cli.stages import (
    execute,
    lifecycle_verb,
    preflighted,
    rendered,
    say_cost,
    urls,
    validated,
    with_shipped_chart,
)
from pangeo_himat.cost.plan_cost import ABSENT, HIBERNATED, HIBERNATED_ALL, RUNNING, ClusterState
from pangeo_himat.lifecycle import plans, queries, volumes
from pangeo_himat.lifecycle.drift import policy_hashes
from pangeo_himat.lifecycle.output import parsed
from pangeo_himat.lifecycle.runner import observe, print_plan, run_steps
from pangeo_himat.lifecycle.sleep_record import sleep_line, sleep_record
from pangeo_himat.lifecycle.steps import Target
from pangeo_himat.settings.errors import InputError
from pangeo_himat.settings.model import Settings

AWS_TOOLS = ["eksctl", "kubectl", "aws"]


@click.command()
@lifecycle_verb
def cluster(settings_path: Path | None, dry_run: bool) -> None:
    """Create the EKS cluster, or make the running one follow the settings.

    On a running cluster: pod identity associations, add-ons, nodegroup sizes, and a new
    nodegroup for what eksctl cannot change in place. --dry-run reads the live cluster and
    prints the differences, then the commands.
    """
    settings = validated(settings_path, changes_aws=True)
    result = rendered(settings)
    preflighted(["eksctl", "kubectl", "aws"], dry_run)
    target = Target.of(settings)
    if dry_run:
        _print_volume_check(settings)
    else:
        volumes.check_volume_zone(settings)
    before = ClusterState(ABSENT)
    if dry_run and shutil.which("eksctl") is None:
        click.echo("# eksctl is not on PATH, so the live cluster cannot be read; a new one takes:")
        print_plan(plans.cluster_steps(settings))
        volumes.print_backup_plan(settings)
        print_cluster_budget_plan(settings)
        say_cost("cluster", settings, result.fit, before, ClusterState(RUNNING), dry_run)
        return
    # Only an explicit "not found" means create: any other failure stops here (ToolError).
    found = read_live(target, dry_run)
    if found is not None:
        before = live_state(found)
        follow_settings(target, result, found, dry_run)
    elif dry_run:
        print_plan(plans.cluster_steps(settings))
    else:
        run_steps("cluster", plans.cluster_steps(settings))
        # eksctl create cluster made the associations in the file: record what they apply.
        record_policies(target, policy_hashes(result.cluster_config))
        click.echo(f"cluster {target.cluster} is created in {target.region}")
    # Backups run from the volume's tags, whatever state the cluster is in.
    if dry_run:
        volumes.print_backup_plan(settings)
        print_cluster_budget_plan(settings)
        say_cost("cluster", settings, result.fit, before, ClusterState(RUNNING), dry_run)
        return
    backup_steps = volumes.backup_policy_steps(settings)
    if backup_steps:
        run_steps("cluster (backups)", backup_steps)
        volumes.record_backup_policy(settings)
    apply_cluster_budget(settings)
    say_cost("cluster", settings, result.fit, before, ClusterState(RUNNING), dry_run)
    click.echo("next: make install")


@click.command()
@lifecycle_verb
def install(settings_path: Path | None, dry_run: bool) -> None:
    """helm upgrade --install the spot termination handler, then the chart."""
    settings = validated(settings_path, changes_aws=True)
    result = rendered(settings)
    preflighted(["helm", "kubectl", "aws"], dry_run)
    steps = with_shipped_chart(plans.install_steps(settings))
    if dry_run:
        _print_volume_check(settings)
    else:
        volumes.warn_unused_kept_volume(settings)
        volumes.check_volume_zone(settings)
    execute("install", steps, dry_run)
    if not dry_run:
        for line in urls(settings):
            click.echo(line)
        click.echo(
            f"installed: {result.fit.worker_count} Dask workers, Jupyter with "
            f"{settings.jupyter.storage} of kept storage"
        )


def _print_volume_check(settings: Settings) -> None:
    """--dry-run: jupyter.volume_id's zone is asked before anything changes."""
    volume_id = settings.jupyter.volume_id
    if volume_id is not None:
        query = queries.ebs_volume_query(Target.of(settings), volume_id)
        click.echo(f"# asks first: {query.shell()}")


@click.command()
@click.option("--all", "everything", is_flag=True, help="Also scale the stable node to 0.")
@lifecycle_verb
def hibernate(settings_path: Path | None, dry_run: bool, everything: bool) -> None:
    """Scale the workers and spot nodes to 0 (--all: the stable node too)."""
    settings = validated(settings_path, changes_aws=True)
    result = rendered(settings)
    preflighted(AWS_TOOLS, dry_run)
    execute("hibernate", plans.hibernate_steps(settings, everything), dry_run)
    after = ClusterState(HIBERNATED_ALL if everything else HIBERNATED)
    say_cost("hibernate", settings, result.fit, ClusterState(RUNNING), after, dry_run)


def _say_why_it_slept(settings: Settings) -> None:
    """A cluster the controller put to sleep says when and why before it wakes."""
    answer = observe(queries.sleep_record_query(Target.of(settings)))
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
        click.echo(f"resumed: {settings.spot.nodes} spot nodes, {result.fit.worker_count} workers")
    say_cost(
        "resume", settings, result.fit, ClusterState(HIBERNATED), ClusterState(RUNNING), dry_run
    )


@click.command()
@click.argument("nodes", type=int)
@lifecycle_verb
def scale(settings_path: Path | None, dry_run: bool, nodes: int) -> None:
    """Set the spot node count (0 to spot.max_nodes) and the workers that fit."""
    settings = validated(settings_path, changes_aws=True)
    maximum = settings.spot.max_nodes
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
        if settings.workers.adaptive is not None:
            workers_text = f"adaptive workers up to {workers} (the controller follows the work)"
        else:
            workers_text = f"{workers} workers"
        click.echo(
            f"scaled: {nodes} spot nodes, {workers_text} (spot.nodes in the settings is unchanged)"
        )
    after = ClusterState(RUNNING, spot_nodes=nodes)
    say_cost("scale", settings, result.fit, ClusterState(RUNNING), after, dry_run)
