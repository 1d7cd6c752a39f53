"""Verbs that only read the live cluster: status and connect."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pangeo_himat import names
from pangeo_himat.cli.stages import lifecycle_verb, preflighted, rendered, urls, validated
from pangeo_himat.lifecycle import answers, plans
from pangeo_himat.lifecycle.connect import check_context, connect_forward
from pangeo_himat.lifecycle.output import parsed
from pangeo_himat.lifecycle.plans import Target
from pangeo_himat.lifecycle.runner import observe, print_plan
from pangeo_himat.lifecycle.sleep_record import sleep_line, sleep_record


@click.command()
@lifecycle_verb
def status(settings_path: Path | None, dry_run: bool) -> None:
    """Nodegroups and their sizes, pods by component, hibernated or not, the URLs.

    --dry-run prints the queries it would make.
    """
    settings = validated(settings_path, changes_aws=False)
    rendered(settings)
    preflighted(["eksctl", "kubectl"], dry_run, credentials=False)
    target = Target.of(settings)
    if dry_run:
        print_plan(plans.status_queries(settings))
        return
    groups = observe(plans.nodegroups_query(target))
    sizes = parsed(groups, answers.nodegroup_sizes, "nodegroups as JSON")
    if sizes is None:
        click.echo(f"cluster {target.cluster}: not found in {target.region} (make cluster)")
        sys.exit(1)
    for name, size in sizes.items():
        click.echo(f"nodegroup {name}: {size} nodes")
    pods = observe(plans.pods_query(target))
    counts = parsed(pods, answers.pod_phases, "a JSON list of pods") or {}
    for component, phases in sorted(counts.items()):
        click.echo(f"pods {component}: " + ", ".join(f"{n} {p}" for p, n in phases.items()))
    hibernated = sizes.get(names.SPOT_NODEGROUP, 0) == 0
    click.echo(f"hibernated: {'yes' if hibernated else 'no'}")
    record = observe(plans.sleep_record_query(target))
    slept = parsed(record, sleep_record, "the sleep record ConfigMap as JSON")
    if slept is not None:
        click.echo(f"{sleep_line(slept)}; `himat resume` wakes it")
    for line in urls(settings):
        click.echo(line)


@click.command()
@lifecycle_verb
def connect(settings_path: Path | None, dry_run: bool) -> None:
    """Check the kube context and credentials, then port-forward Jupyter and the Dask dashboard
    to 127.0.0.1 (Ctrl-C stops both); with a load balancer, print its URLs."""
    settings = validated(settings_path, changes_aws=False)
    rendered(settings)
    preflighted(["kubectl"], dry_run, credentials=False)
    target = Target.of(settings)
    exposed = settings["jupyter"]["expose"] == "loadbalancer"
    if dry_run:
        print_plan(plans.connect_checks(target))
        if exposed:
            print_plan([plans.load_balancer_query(target)])
        for step in plans.forward_steps(target) if not exposed else []:
            click.echo(f"{step.shell()} &")
        return
    if exposed:
        click.echo(f"kube context: {check_context(target)}")
        for line in urls(settings):
            click.echo(line)
        return
    sys.exit(connect_forward(target))
