"""`himat destroy`: delete the cluster, never losing track of the notebooks' volume.

The volume's ID and zone go into clusterconfig/<name>/state.yaml before anything is deleted;
with --delete-data the volume is deleted only after the cluster is gone, by that recorded ID.
A re-run resumes from the record, also when the cluster is already gone.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from pangeo_himat.cli.budget import delete_budget, destroy_budget_queries, print_destroy_budget_plan
from pangeo_himat.cli.stages import lifecycle_verb, preflighted, rendered, say_cost, validated
from pangeo_himat.cost.plan_cost import DESTROYED, RUNNING, ClusterState
from pangeo_himat.lifecycle import answers, plans, queries, volumes
from pangeo_himat.lifecycle.output import ToolError, parsed
from pangeo_himat.lifecycle.runner import StepStopped, observe, print_plan, run_steps
from pangeo_himat.lifecycle.state import KeptVolume, State, load_state, save_state
from pangeo_himat.lifecycle.steps import Step, Target
from pangeo_himat.render import names
from pangeo_himat.settings.model import Settings

VOLUME_PLACEHOLDER = "<jupyter-volume-id>"


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


def live_volume(target: Target) -> KeptVolume | None:
    """The EBS volume behind the notebooks' claim; None when there is no claim or it is unbound."""
    claim = parsed(observe(queries.claim_query(target)), answers.claim_volume_name, "a claim")
    if not claim:
        return None
    return parsed(
        observe(queries.volume_query(claim)), answers.kept_volume, "a PersistentVolume of EBS"
    )


def _still_exists(target: Target, volume: KeptVolume) -> bool:
    """Only EC2's own "InvalidVolume.NotFound" means the recorded volume is gone."""
    answer = observe(queries.ebs_volume_query(target, volume.volume_id))
    return parsed(answer, answers.volume_ids, "a list of volumes") is not None


def _record_live_volume(
    target: Target, state_path: Path, state: State
) -> tuple[State, KeptVolume | None]:
    """Record the claim's volume before anything is deleted (a claim deleted by an earlier,
    interrupted run leaves the recorded volume in force)."""
    live = live_volume(target)
    recorded = state.volume
    if live is None or live == recorded:
        return state, recorded
    if recorded is not None and recorded.volume_id != live.volume_id:
        click.echo(
            f"note: {target.state_file} recorded volume {recorded.volume_id}, which the claim "
            "no longer uses; it is not deleted and still bills until you delete it: aws ec2 "
            f"delete-volume --volume-id {recorded.volume_id} --region {target.region}",
            err=True,
        )
    state = state.with_volume(live)
    save_state(state_path, state)
    return state, live


def _forget_volume_if_gone(
    target: Target, state_path: Path, state: State
) -> tuple[State, KeptVolume | None]:
    """With the cluster gone, a recorded volume that EC2 no longer has is struck off."""
    if state.volume is None or _still_exists(target, state.volume):
        return state, state.volume
    click.echo(f"the recorded volume {state.volume.volume_id} is already gone")
    state = state.with_volume(None)
    save_state(state_path, state)
    return state, None


def _volume_lines(target: Target, volume: KeptVolume | None, delete_data: bool) -> list[str]:
    """After a stop: which volume still exists, and what to run."""
    if volume is None:
        return ["no notebooks' volume was recorded."]
    where = f" in {volume.zone}" if volume.zone else ""
    lines = [
        f"the notebooks' volume {volume.volume_id}{where} still exists (it bills until "
        f"deleted) and is recorded in {target.state_file}."
    ]
    if delete_data:
        lines.append(
            "Run `himat destroy --delete-data` again to resume; it deletes the volume by this "
            "ID once the cluster is gone. Or, once the cluster is gone: aws ec2 delete-volume "
            f"--volume-id {volume.volume_id} --region {target.region}"
        )
    return lines


@click.command()
@click.option("--yes", is_flag=True, help="Do not ask for the cluster name.")
@click.option("--delete-data", is_flag=True, help="Also delete the notebooks' EBS volume.")
@lifecycle_verb
def destroy(settings_path: Path | None, dry_run: bool, yes: bool, delete_data: bool) -> None:
    """Delete the cluster; the notebooks' volume is kept (and its ID printed) unless asked."""
    settings = validated(settings_path, changes_aws=True)
    fit = rendered(settings).fit
    preflighted(["eksctl", "helm", "kubectl", "aws"], dry_run)
    after = ClusterState(DESTROYED, keeps_data=not delete_data)
    target = Target.of(settings)
    state_path = Path(target.state_file)
    state = load_state(state_path)
    if dry_run:
        exposed = settings.jupyter.expose == "loadbalancer"
        shown = [names.jupyter_service(target.cluster)] if exposed else []
        recorded = state.volume.volume_id if state.volume else VOLUME_PLACEHOLDER
        for query in [*queries.destroy_queries(target), *destroy_budget_queries(settings)]:
            click.echo(f"# asks first: {query.shell()}")
        steps = plans.destroy_steps(settings, shown, recorded, delete_data)
        rest, deletion = _split_deletion(steps)
        print_plan(rest)
        if deletion:
            for line in volumes.final_snapshot_plan(target, recorded):
                click.echo(line)
        print_plan(deletion)
        print_destroy_budget_plan(settings)
        say_cost("destroy", settings, fit, ClusterState(RUNNING), after, dry_run)
        return
    if not yes and not _confirm(target.cluster):
        click.echo(f"not confirmed: cluster {target.cluster} was left as it is", err=True)
        sys.exit(1)
    try:
        _destroy(settings, target, state_path, state, delete_data)
        say_cost("destroy", settings, fit, ClusterState(RUNNING), after, dry_run)
    except (StepStopped, ToolError, KeyboardInterrupt):
        # Whatever stopped it, state.yaml holds the volume that is still there.
        for line in _volume_lines(target, load_state(state_path).volume, delete_data):
            click.echo(line, err=True)
        raise


def _destroy(
    settings: Settings, target: Target, state_path: Path, state: State, delete_data: bool
) -> None:
    clusters = observe(queries.cluster_query(target))
    if parsed(clusters, answers.clusters, "a JSON list of clusters") is not None:
        state, volume = _record_live_volume(target, state_path, state)
        listed = observe(queries.services_query(target))
        services = parsed(listed, answers.load_balancer_names, "a JSON list of services")
        volume_id = volume.volume_id if volume else None
        steps = plans.destroy_steps(settings, services or [], volume_id, delete_data)
    else:
        click.echo(f"cluster {target.cluster} does not exist in {target.region}")
        state, volume = _forget_volume_if_gone(target, state_path, state)
        steps = (
            [plans.delete_volume_step(target, volume.volume_id)] if delete_data and volume else []
        )
    rest, deletion = _split_deletion(steps)
    run_steps("destroy", rest)
    snapshot_id = None
    if deletion and volume is not None:
        # The last copy of the home: complete, and in state.yaml, before the volume goes.
        snapshot_id = volumes.final_snapshot(target, volume.volume_id)
        run_steps("destroy", deletion)
    delete_budget(settings, "destroy")
    reloaded = load_state(state_path)
    zones = settings.cluster.zones
    _summary(target, state_path, reloaded, volume, delete_data, snapshot_id, zones)


def _split_deletion(steps: list[Step]) -> tuple[list[Step], list[Step]]:
    """(everything else, the volume's deletion): a final snapshot goes between them."""
    deletion = [step for step in steps if step.argv[:3] == ("aws", "ec2", "delete-volume")]
    return [step for step in steps if step not in deletion], deletion


def _summary(
    target: Target,
    state_path: Path,
    state: State,
    volume: KeptVolume | None,
    delete_data: bool,
    snapshot_id: str | None,
    zones: Sequence[str],
) -> None:
    if delete_data and volume is not None:
        save_state(state_path, state.with_volume(None))
        click.echo(
            f"destroyed {target.cluster}; the notebooks' volume {volume.volume_id} was deleted "
            "as asked"
        )
        if snapshot_id:
            click.echo(
                f"its final snapshot {snapshot_id} is kept (it bills until deleted); "
                f"restore it with: himat restore {snapshot_id}"
            )
    elif delete_data:
        click.echo(f"destroyed {target.cluster}; no notebooks' volume was found to delete")
    elif volume is not None:
        click.echo(
            f"destroyed {target.cluster}; kept the notebooks' EBS volume {volume.volume_id} "
            f"(recorded in {target.state_file}; delete it with: aws ec2 delete-volume "
            f"--volume-id {volume.volume_id} --region {target.region})"
        )
        for line in _reuse_lines(zones, volume):
            click.echo(line)
    else:
        click.echo(f"destroyed {target.cluster}; no notebooks' volume was found to keep")


def _reuse_lines(zones: Sequence[str], volume: KeptVolume) -> list[str]:
    """The settings lines that give the next cluster this home (the zone only if it differs)."""
    lines = ["to reuse it in the next cluster, set in the settings:"]
    lines.append(volumes.settings_line(volume.volume_id))
    if volume.zone and volume.zone != zones[0]:
        lines.append(f"cluster.zones[0]: {volume.zone}  (the volume's zone)")
    return lines
