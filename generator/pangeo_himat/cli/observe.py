"""Verbs that only read the live cluster: status and connect."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from pangeo_himat.cli.running import follows_line, read_live, support_line
from pangeo_himat.cli.stages import lifecycle_verb, preflighted, rendered, urls, validated
from pangeo_himat.lifecycle import answers, backup, queries, volumes
from pangeo_himat.lifecycle.connect import check_context, connect_forward
from pangeo_himat.lifecycle.output import last_line, parsed
from pangeo_himat.lifecycle.runner import observe, print_plan
from pangeo_himat.lifecycle.sleep_record import sleep_line, sleep_record
from pangeo_himat.lifecycle.steps import Target
from pangeo_himat.render import names
from pangeo_himat.settings.versions import today


@click.command()
@lifecycle_verb
def status(settings_path: Path | None, dry_run: bool) -> None:
    """Nodegroups and their sizes, pods by component, hibernated or not, the URLs.

    --dry-run prints the queries it would make.
    """
    settings = validated(settings_path, changes_aws=False)
    result = rendered(settings)
    preflighted(["eksctl", "kubectl", "aws"], dry_run, credentials=False)
    target = Target.of(settings)
    if dry_run:
        print_plan(queries.status_queries(settings))
        print_plan([backup.snapshots_query(target)])
        return
    found = read_live(target)
    if found is None:
        click.echo(f"cluster {target.cluster}: not found in {target.region} (make cluster)")
        for line in volumes.storage_lines(settings):
            click.echo(line)
        sys.exit(1)
    sizes = {group.name: group.desired for group in found.groups}
    for name, size in sizes.items():
        click.echo(f"nodegroup {name}: {size} nodes")
    pods = observe(queries.pods_query(target))
    counts = parsed(pods, answers.pod_phases, "a JSON list of pods") or {}
    for component, phases in sorted(counts.items()):
        click.echo(f"pods {component}: " + ", ".join(f"{n} {p}" for p, n in phases.items()))
    controller = parsed(pods, lambda text: answers.running_pod(text, "controller"), "pods")
    if controller is not None:
        logged = observe(queries.controller_log_query(target, controller))
        if logged.status != 0 and not logged.says_not_found:
            # The API server reads logs from the node's kubelet; a node it cannot reach (or a
            # container restarting) must not hide the rest of the status.
            click.echo(f"controller: its log is unreadable now ({last_line(logged.stderr_text())})")
        else:
            for decision in parsed(logged, answers.decisions, "the controller's log") or []:
                click.echo(f"controller: {decision}")
    spot = [
        size for name, size in sizes.items() if names.nodegroup_role(name) == names.SPOT_NODEGROUP
    ]
    click.echo(f"hibernated: {'yes' if sum(spot) == 0 else 'no'}")
    click.echo(support_line(found.version, today()))
    click.echo(follows_line(target, result, found))
    record = observe(queries.sleep_record_query(target))
    slept = parsed(record, sleep_record, "the sleep record ConfigMap as JSON")
    if slept is not None:
        click.echo(f"{sleep_line(slept)}; `himat resume` wakes it")
    for line in urls(settings):
        click.echo(line)
    for line in volumes.storage_lines(settings):
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
    exposed = settings.jupyter.expose == "loadbalancer"
    if dry_run:
        print_plan(queries.connect_checks(target))
        if exposed:
            print_plan([queries.load_balancer_query(target)])
        for step in queries.forward_steps(target) if not exposed else []:
            click.echo(f"{step.shell()} &")
        return
    if exposed:
        click.echo(f"kube context: {check_context(target)}")
        for line in urls(settings):
            click.echo(line)
        return
    sys.exit(connect_forward(target))
