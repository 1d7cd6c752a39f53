"""A running cluster: read what it is, make it follow the settings (`cluster`), upgrade it.

The live state is read in --dry-run too (read-only queries), so the dry run prints the exact
difference and the exact commands a real run would execute.
"""

from __future__ import annotations

import datetime
import shutil
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
import yaml

from pangeo_himat.cli.stages import (
    lifecycle_verb,
    preflighted,
    rendered,
    say_cost,
    validated,
    with_shipped_chart,
)
from pangeo_himat.cost.plan_cost import HIBERNATED_ALL, RUNNING, ClusterState
from pangeo_himat.lifecycle import live, plans, queries, upgrade
from pangeo_himat.lifecycle.drift import DOWNGRADE, Drift, association_drift, plan_drift, table
from pangeo_himat.lifecycle.output import Answer, parsed
from pangeo_himat.lifecycle.runner import observe, print_plan, run_steps
from pangeo_himat.lifecycle.state import load_state, save_state
from pangeo_himat.lifecycle.steps import Step, Target
from pangeo_himat.render import names
from pangeo_himat.render.render import Rendered, render_all
from pangeo_himat.render.writer import to_yaml, write_all
from pangeo_himat.settings.errors import InputError, Problem
from pangeo_himat.settings.model import Settings
from pangeo_himat.settings.versions import load_calendar


def read_live(target: Target, dry_run: bool = False) -> live.LiveCluster | None:
    """The live cluster, or None when eksctl says it does not exist (any other failure of a
    query is a ToolError: never taken for "absent"). --dry-run names each query it asks."""
    answer = _asked(queries.cluster_query(target), dry_run)
    version = parsed(answer, live.cluster_version, "a cluster")
    if version is None:
        return None
    _, groups_query, addons_query, associations_query = queries.live_queries(target)
    groups = parsed(_asked(groups_query, dry_run), live.nodegroups, "nodegroups")
    addons = parsed(_asked(addons_query, dry_run), live.addons, "add-ons")
    found = parsed(_asked(associations_query, dry_run), live.associations, "associations")
    return live.LiveCluster(version, groups or (), addons or (), found or ())


def live_state(found: live.LiveCluster) -> ClusterState:
    """The live cluster's state for its bill: its spot nodes and version, or hibernated."""
    sizes = {group.name: group.desired for group in found.groups}
    if sizes and not any(sizes.values()):
        return ClusterState(HIBERNATED_ALL)
    spot = sum(
        size for name, size in sizes.items() if names.nodegroup_role(name) == names.SPOT_NODEGROUP
    )
    return ClusterState(RUNNING, spot_nodes=spot, kubernetes_version=found.version)


def _asked(step: Step, dry_run: bool, how: str = "asks") -> Answer:
    if dry_run:
        click.echo(f"# {how} first: {step.shell()}")
    return observe(step)


def record_policies(target: Target, hashes: dict[str, str]) -> None:
    """After the associations were applied: the hash of each one's policy, in state.yaml."""
    path = Path(target.state_file)
    state = load_state(path)
    if state.policy_hashes() != hashes:
        save_state(path, state.with_policy_hashes(hashes))


def write_files(drift: Drift) -> None:
    """The files the steps read (a dry run prints commands that name them, so they exist too)."""
    files = [(Path(path), to_yaml(document)) for path, document in drift.files.items()]
    for written in write_all(files):
        if written.status != "unchanged":
            click.echo(str(written), err=True)


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
    write_files(drift)
    if dry_run:
        print_drift(drift)
        return
    for line in table(drift.differences) if drift.changes else []:
        click.echo(line)
    run_steps("cluster", drift.steps)
    record_policies(target, drift.policy_hashes)
    done = "updated to follow the settings" if drift.changes else "already follows the settings"
    click.echo(f"cluster {target.cluster} in {target.region} {done}")


def _documents(text: str) -> list[dict[str, Any]]:
    """helm template: a stream of YAML manifests."""
    documents = [document for document in yaml.safe_load_all(text) if document]
    if not documents or not all(isinstance(document, dict) for document in documents):
        raise ValueError("expected Kubernetes manifests")
    return documents


def check_manifests(target: Target, versions: list[str], dry_run: bool) -> None:
    """Refuse (exit 2) when a chart manifest is not valid for a version the chain reaches."""
    [template] = with_shipped_chart([queries.chart_template_step(target)])
    if dry_run and shutil.which(template.tool) is None:
        click.echo(
            f"# {template.tool} is not on PATH, so the chart is not checked against Kubernetes "
            f"{', '.join(versions)} here; a real run checks it first: {template.shell()}"
        )
        return
    documents = parsed(_asked(template, dry_run, "checks"), _documents, "the chart's manifests")
    problems = [
        Problem(names.CHART_DIR_NAME, None, "", message)
        for version in versions
        for message in upgrade.invalid_manifests(documents or [], version)
    ]
    if problems:
        raise InputError(problems)


def _live_for_upgrade(target: Target, dry_run: bool) -> live.LiveCluster:
    """The live version and nodegroups; exit 1 when the cluster does not exist."""
    answer = _asked(queries.cluster_query(target), dry_run)
    version = parsed(answer, live.cluster_version, "a cluster")
    if version is None:
        click.echo(f"cluster {target.cluster}: not found in {target.region} (make cluster)")
        sys.exit(1)
    answer = _asked(queries.nodegroups_query(target), dry_run)
    groups = parsed(answer, live.nodegroups, "nodegroups") or ()
    return live.LiveCluster(version, groups, (), ())


def assumed_live(settings: Settings) -> live.LiveCluster:
    """--dry-run without eksctl: the cluster as the settings render it one minor below."""
    wanted = settings.cluster.kubernetes_version
    version = f"1.{upgrade.minor(wanted) - 1}"
    config = render_all(settings.replaced(("cluster", "kubernetes_version"), version))
    groups = tuple(
        live.LiveGroup(
            str(group["name"]),
            int(group["desiredCapacity"]),
            int(group["minSize"]),
            int(group["maxSize"]),
            version,
        )
        for group in [
            *config.cluster_config["managedNodeGroups"],
            *config.cluster_config["nodeGroups"],
        ]
    )
    return live.LiveCluster(version, groups, (), ())


@click.command(name="upgrade")
@lifecycle_verb
def upgrade_command(settings_path: Path | None, dry_run: bool) -> None:
    """Upgrade Kubernetes to cluster.kubernetes_version, one minor version at a time.

    The chart is checked against every version on the way before anything runs; then per
    version the control plane, the add-ons and the stable group; then a new spot group, the
    pod identity associations, the termination handler, the cluster-autoscaler and the chart.
    --dry-run reads the live cluster and prints the whole chain.
    """
    settings = validated(settings_path, changes_aws=True)
    result = rendered(settings)
    preflighted(["eksctl", "helm", "kubectl", "aws"], dry_run)
    target = Target.of(settings)
    wanted = settings.cluster.kubernetes_version
    assumed = dry_run and shutil.which("eksctl") is None
    if assumed:
        found = assumed_live(settings)
        click.echo(
            "# eksctl is not on PATH, so the live cluster cannot be read; assuming it runs "
            f"Kubernetes {found.version} (one minor below the settings) with the rendered "
            "nodegroups:"
        )
    else:
        found = _live_for_upgrade(target, dry_run)
    version = found.version
    why = upgrade.refusal(version, wanted, load_calendar())
    if why is not None:
        raise InputError([settings.problem(("cluster", "kubernetes_version"), why)])
    versions = upgrade.versions_to_visit(found, wanted)
    if not versions:
        click.echo(
            f"cluster {target.cluster} runs Kubernetes {version}, the version in the settings: "
            "nothing to upgrade"
        )
        return
    check_manifests(target, upgrade.chain(version, wanted) or [version], dry_run)
    defaults: dict[tuple[str, str], str] = {}
    for step_version in versions:
        for addon in upgrade.addon_names(result.cluster_config):
            if assumed:
                defaults[(addon, step_version)] = f"<EKS default for {step_version}>"
                continue
            query = queries.addon_versions_query(target, addon, step_version)
            chosen = parsed(_asked(query, dry_run), live.default_addon_version, "add-on versions")
            defaults[(addon, step_version)] = chosen or ""
    present: tuple[live.LiveAssociation, ...] = ()
    if not assumed:
        answer = _asked(queries.associations_query(target), dry_run)
        present = parsed(answer, live.associations, "associations") or ()
    recorded = load_state(Path(target.state_file)).policy_hashes()
    identities = association_drift(
        target, result.cluster_config, replace(found, associations=present), recorded
    )
    write_files(identities)
    # What names the spot group follows its replacement: the idle-sleep policy, the
    # autoscaler (its image pinned to the minor), the chart (--spot-nodegroup).
    tail = [*identities.steps, *plans.install_steps(settings)]
    steps = upgrade.upgrade_steps(target, result.cluster_config, found, defaults, tail)
    before = ClusterState(RUNNING, kubernetes_version=version)
    if dry_run:
        print_plan(steps)
        say_cost("upgrade", settings, result.fit, before, ClusterState(RUNNING), dry_run)
        return
    run_steps("upgrade", steps)
    record_policies(target, identities.policy_hashes)
    click.echo(f"cluster {target.cluster} runs Kubernetes {wanted}; next: make status")
    say_cost("upgrade", settings, result.fit, before, ClusterState(RUNNING), dry_run)


def support_line(version: str, day: datetime.date) -> str:
    """The live version, its end of standard support, and what passing it costs a month."""
    calendar = load_calendar()
    info = calendar.versions.get(version)
    if info is None:
        return f"kubernetes: {version} (not in the EKS calendar shipped with himat)"
    extra = calendar.extra_usd_per_month()
    end = info.end_of_standard_support
    days = (end - day).days
    if days >= 0:
        return (
            f"kubernetes: {version}, standard support until {end} ({days} days left; after "
            f"that the control plane costs +USD {extra:.0f}/month: make upgrade)"
        )
    return (
        f"kubernetes: {version}, standard support ended {end} ({-days} days ago): the control "
        f"plane costs USD {calendar.extended_usd_per_hour:.2f}/h, +USD {extra:.0f}/month "
        f"until {info.end_of_extended_support}; make upgrade"
    )


def follows_line(target: Target, result: Rendered, found: live.LiveCluster) -> str:
    """Whether the live cluster differs from the settings, and which verb fixes it."""
    drift = drift_of(target, result, found)
    if not drift.changes:
        return "follows the settings: yes"
    items = ", ".join(difference.item for difference in drift.differences)
    if any(d.action.startswith(DOWNGRADE) for d in drift.differences):
        return (
            f"follows the settings: no ({items}); the cluster runs Kubernetes {found.version}, "
            f'newer than the settings: set cluster.kubernetes_version to "{found.version}"'
        )
    by_upgrade = [d.action.startswith("himat upgrade") for d in drift.differences]
    if all(by_upgrade):
        return f"follows the settings: no ({items}); make upgrade fixes it"
    fix = "make upgrade, then make cluster" if any(by_upgrade) else "make cluster fixes it"
    return f"follows the settings: no ({items}); {fix} (make cluster DRY_RUN=1 shows how)"
