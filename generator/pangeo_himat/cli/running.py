"""A running cluster: read what it is, make it follow the settings (`cluster`), upgrade it.

The live state is read in --dry-run too (read-only queries), so the dry run prints the exact
difference and the exact commands a real run would execute.
"""

from __future__ import annotations

from pathlib import Path

import click

from pangeo_himat.lifecycle import live, plans
from pangeo_himat.lifecycle.drift import Drift, plan_drift, table
from pangeo_himat.lifecycle.output import parsed
from pangeo_himat.lifecycle.plans import Step, Target
from pangeo_himat.lifecycle.runner import observe, print_plan, run_steps
from pangeo_himat.lifecycle.state import load_state, save_state
from pangeo_himat.render import Rendered


def read_live(target: Target) -> live.LiveCluster | None:
    """The live cluster, or None when eksctl says it does not exist (any other failure of a
    query is a ToolError: never taken for "absent")."""
    version = parsed(observe(plans.cluster_query(target)), live.cluster_version, "a cluster")
    if version is None:
        return None
    groups = parsed(observe(plans.nodegroups_query(target)), live.nodegroups, "nodegroups")
    addons = parsed(observe(plans.addons_query(target)), live.addons, "add-ons")
    found = parsed(observe(plans.associations_query(target)), live.associations, "associations")
    return live.LiveCluster(version, groups or (), addons or (), found or ())


def record_policies(target: Target, hashes: dict[str, str]) -> None:
    """After the associations were applied: the hash of each one's policy, in state.yaml."""
    path = Path(target.state_file)
    state = load_state(path)
    if state.policy_hashes() != hashes:
        save_state(path, state.with_policy_hashes(hashes))


def drift_of(target: Target, result: Rendered, found: live.LiveCluster) -> Drift:
    recorded = load_state(Path(target.state_file)).policy_hashes()
    return plan_drift(target, result.cluster_config, found, recorded)


def print_drift(drift: Drift) -> None:
    """The table of differences as comment lines, then the commands."""
    if drift.changes:
        for line in table(drift.differences):
            click.echo(f"# {line}")
    else:
        click.echo("# the live cluster matches the settings")
    print_plan(drift.steps)


def follow_settings(
    target: Target, result: Rendered, found: live.LiveCluster, dry_run: bool
) -> None:
    """`cluster` on a cluster that exists: plan the difference, run it, record the policies."""
    drift = drift_of(target, result, found)
    if dry_run:
        print_drift(drift)
        return
    for line in table(drift.differences) if drift.changes else []:
        click.echo(line)
    run_steps("cluster", drift.steps)
    record_policies(target, drift.policy_hashes)
    done = "updated to follow the settings" if drift.changes else "already follows the settings"
    click.echo(f"cluster {target.cluster} in {target.region} {done}; next: make install")


def dry_run_queries(steps: list[Step]) -> None:
    for step in steps:
        click.echo(f"# asks first: {step.shell()}")
