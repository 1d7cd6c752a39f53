"""`himat backup` (snapshot the notebooks' volume now) and `himat restore SNAPSHOT_ID`."""

from __future__ import annotations

import re
from pathlib import Path

import click

from pangeo_himat.cli.destroy import live_volume
from pangeo_himat.cli.stages import lifecycle_verb, preflighted, rendered, validated
from pangeo_himat.lifecycle import answers, backup, queries, volumes
from pangeo_himat.lifecycle.output import parsed
from pangeo_himat.lifecycle.runner import observe, print_plan
from pangeo_himat.lifecycle.state import load_state
from pangeo_himat.lifecycle.steps import Target
from pangeo_himat.settings.errors import InputError, Problem
from pangeo_himat.settings.model import Settings

# EC2 snapshot IDs: `snap-` and 8 or 17 hex digits, like volume IDs (EC2 API, resource IDs).
SNAPSHOT_ID = re.compile(r"^snap-([0-9a-f]{8}|[0-9a-f]{17})$")
VOLUME_PLACEHOLDER = "<volume of the claim>"


def _volume_to_copy(settings: Settings) -> str | None:
    """jupyter.volume_id, else the live claim's volume, else the one state.yaml keeps."""
    chosen: str | None = settings.jupyter.volume_id
    if chosen is not None:
        return chosen
    target = Target.of(settings)
    clusters = observe(queries.cluster_query(target))
    if parsed(clusters, answers.clusters, "a JSON list of clusters") is not None:
        live = live_volume(target)
        if live is not None:
            return live.volume_id
    kept = load_state(Path(target.state_file)).volume
    return kept.volume_id if kept else None


@click.command("backup")
@lifecycle_verb
def backup_command(settings_path: Path | None, dry_run: bool) -> None:
    """Snapshot the notebooks' volume now, wait until it is complete, record its ID."""
    settings = validated(settings_path, changes_aws=True)
    rendered(settings)
    preflighted(["eksctl", "kubectl", "aws"], dry_run)
    target = Target.of(settings)
    if dry_run:
        chosen = settings.jupyter.volume_id
        if chosen is None:
            for query in (queries.cluster_query(target), queries.claim_query(target)):
                click.echo(f"# asks first: {query.shell()}")
            click.echo(f"# asks first: {queries.volume_query(VOLUME_PLACEHOLDER).shell()}")
        print_plan([backup.snapshot_step(target, chosen or "<jupyter-volume-id>", "backup")])
        print_plan([backup.wait_snapshot_step(target, "<snapshot-id>")])
        return
    volume_id = _volume_to_copy(settings)
    if volume_id is None:
        message = "no notebooks' volume to snapshot: no claim, no jupyter.volume_id, none kept"
        raise InputError([settings.problem(volumes.VOLUME_KEY, message)])
    snapshot_id = volumes.take_snapshot(target, volume_id, "backup")
    click.echo(
        f"snapshot {snapshot_id} of {volume_id} is complete (recorded in {target.state_file}); "
        f"restore it with: himat restore {snapshot_id}"
    )


@click.command()
@click.argument("snapshot_id")
@lifecycle_verb
def restore(settings_path: Path | None, dry_run: bool, snapshot_id: str) -> None:
    """Create an encrypted gp3 volume from SNAPSHOT_ID in cluster.zones[0]; print the
    jupyter.volume_id line to set."""
    settings = validated(settings_path, changes_aws=True)
    if not SNAPSHOT_ID.match(snapshot_id):
        message = "expected an EBS snapshot ID: snap- and 8 or 17 hex digits"
        raise InputError([Problem("SNAPSHOT_ID", None, "", f"{snapshot_id!r}: {message}")])
    rendered(settings)
    preflighted(["aws"], dry_run)
    target = Target.of(settings)
    if dry_run:
        print_plan([backup.restore_step(settings, snapshot_id, volumes.storage_gib(settings))])
        print_plan([backup.wait_volume_step(target, "<new-volume-id>")])
        return
    kept = volumes.restore(settings, snapshot_id)
    click.echo(
        f"volume {kept.volume_id} in {kept.zone} is available (recorded in "
        f"{target.state_file}); set in the settings, then run `himat install`:"
    )
    click.echo(volumes.settings_line(kept.volume_id))
