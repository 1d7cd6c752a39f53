"""The notebooks' volume across clusters: its zone, its backup policy, snapshots and restores.

What the verbs run around the volume, asking EC2 and DLM first; the steps themselves are in
lifecycle/backup.py. A snapshot's ID goes into state.yaml as soon as EC2 has accepted it.
"""

from __future__ import annotations

from pathlib import Path

import click

from pangeo_himat.lifecycle import backup, backup_answers, queries
from pangeo_himat.lifecycle.output import ToolError, parsed
from pangeo_himat.lifecycle.runner import observe, print_plan, run_steps
from pangeo_himat.lifecycle.state import KeptVolume, TakenSnapshot, load_state, save_state
from pangeo_himat.lifecycle.steps import Step, Target
from pangeo_himat.render.render_backup import policy_digest
from pangeo_himat.settings.errors import InputError
from pangeo_himat.settings.model import Settings
from pangeo_himat.settings.quantities import memory_mib

VOLUME_KEY = ("jupyter", "volume_id")
# EC2 volume states a volume can be attached in (EC2 API, Volume.State: creating | available |
# in-use | deleting | deleted | error).
USABLE_STATES = ("available", "in-use")
ROLE_PLACEHOLDER = backup.role_arn("<partition>", "<account>")
POLICY_PLACEHOLDER = "<policy-id>"


def storage_gib(settings: Settings) -> int:
    """jupyter.storage in whole GiB (rounded up), the size EC2 takes for a new volume."""
    return -(-memory_mib(settings.jupyter.storage) // 1024)


def settings_line(volume_id: str) -> str:
    """The line to put into the settings, exactly as `destroy` and `restore` print it."""
    return f"jupyter.volume_id: {volume_id}"


def check_volume_zone(settings: Settings) -> KeptVolume | None:
    """jupyter.volume_id's volume, refused (exit 2) unless it exists, is usable and is in
    zones[0], the only zone where the stable node (and so Jupyter) runs."""
    volume_id = settings.jupyter.volume_id
    if volume_id is None:
        return None
    target = Target.of(settings)
    first_zone = settings.cluster.zones[0]
    found = parsed(
        observe(queries.ebs_volume_query(target, volume_id)), backup_answers.volume, "a volume"
    )
    if found is None:
        message = (
            f"volume {volume_id} does not exist in {target.region}; restore a snapshot into "
            f"{first_zone} (himat restore SNAPSHOT_ID) or set jupyter.volume_id: null"
        )
        raise InputError([settings.problem(VOLUME_KEY, message)])
    if found.zone != first_zone:
        message = (
            f"volume {volume_id} is in {found.zone}, not in cluster.zones[0] ({first_zone}); "
            f"set cluster.zones[0] to {found.zone} or restore a snapshot into {first_zone}"
        )
        raise InputError([settings.problem(VOLUME_KEY, message)])
    if found.state not in USABLE_STATES:
        message = f"volume {volume_id} is {found.state}; expected available or in-use"
        raise InputError([settings.problem(VOLUME_KEY, message)])
    return KeptVolume(volume_id, found.zone)


def warn_unused_kept_volume(settings: Settings) -> None:
    """A kept volume on record while jupyter.volume_id is unset: install makes an empty home."""
    target = Target.of(settings)
    kept = load_state(Path(target.state_file)).volume
    if kept is None or settings.jupyter.volume_id is not None:
        return
    where = f" in {kept.zone}" if kept.zone else ""
    first_zone = settings.cluster.zones[0]
    zone = (
        f" and cluster.zones[0]: {kept.zone} (now {first_zone})"
        if kept.zone and kept.zone != first_zone
        else ""
    )
    click.echo(
        f"warning: {target.state_file} records the kept notebooks' volume {kept.volume_id}"
        f"{where}, but jupyter.volume_id is unset: this install gives Jupyter a new, empty "
        f"home. To use the kept one, set in the settings: {settings_line(kept.volume_id)}{zone}",
        err=True,
    )


def _role(partition_and_account: tuple[str, str] | None) -> str:
    if partition_and_account is None:
        raise ToolError("aws: `aws sts get-caller-identity` gave no account")
    return backup.role_arn(*partition_and_account)


def backup_policy_steps(settings: Settings) -> list[Step]:
    """What `cluster` runs for backups: tag a volume_id volume, then create/update/disable the
    policy, as the live policy (found by its target tag) requires."""
    target = Target.of(settings)
    policy = _live_policy(target)
    steps = []
    if settings.jupyter.volume_id is not None:
        steps.append(backup.tag_volume_step(target, settings.jupyter.volume_id))
    applied = load_state(Path(target.state_file)).backup_policy()
    if policy is not None and applied == (policy, policy_digest(settings)):
        return steps  # the live policy is the one these settings ask for
    caller = parsed(observe(backup.caller_query()), backup_answers.caller, "an identity")
    return steps + backup.policy_steps(settings, policy, _role(caller))


def _live_policy(target: Target) -> str | None:
    answer = observe(backup.policies_query(target))
    return parsed(answer, backup_answers.policy_id, "policies")


def record_backup_policy(settings: Settings) -> None:
    """After `cluster` ran the backup steps: which policy now holds these settings' schedule."""
    target = Target.of(settings)
    path = Path(target.state_file)
    policy = _live_policy(target)
    save_state(path, load_state(path).with_backup_policy(policy, policy_digest(settings)))


def print_backup_plan(settings: Settings) -> None:
    """--dry-run of `cluster`'s backup part, with the queries whose answers it depends on."""
    target = Target.of(settings)
    for query in (backup.policies_query(target), backup.caller_query()):
        click.echo(f"# asks first: {query.shell()}")
    volume_id = settings.jupyter.volume_id
    if volume_id is not None:
        print_plan([backup.tag_volume_step(target, volume_id)])
    print_plan(backup.policy_steps(settings, None, ROLE_PLACEHOLDER))
    updates = backup.policy_steps(settings, POLICY_PLACEHOLDER, ROLE_PLACEHOLDER)
    if updates:
        click.echo("# if the backup policy exists already, instead:")
        for step in updates:
            click.echo(f"# {step.shell()}")


def take_snapshot(target: Target, volume_id: str, reason: str, wait: bool = True) -> str:
    """Snapshot the volume, record the snapshot in state.yaml at once, then wait for it."""
    step = backup.snapshot_step(target, volume_id, reason)
    click.echo(f"snapshot: {step.shell()}")
    snapshot_id = parsed(observe(step), backup_answers.created_snapshot_id, "a snapshot")
    if snapshot_id is None:  # the step has no not-found text, so parsed never says "absent"
        raise ToolError(f"aws: `{step.shell()}` gave no snapshot")
    state_path = Path(target.state_file)
    state = load_state(state_path)
    save_state(state_path, state.with_snapshot(TakenSnapshot(snapshot_id, volume_id, reason)))
    if wait:
        run_steps("backup", [backup.wait_snapshot_step(target, snapshot_id)])
    return snapshot_id


def final_snapshot(target: Target, volume_id: str) -> str:
    """destroy --delete-data: the last copy of the home, complete before the volume goes.

    A re-run after an interrupted wait reuses the recorded final snapshot of this volume."""
    recorded = load_state(Path(target.state_file)).snapshot
    if recorded and recorded.volume_id == volume_id and recorded.reason == "final":
        run_steps("destroy", [backup.wait_snapshot_step(target, recorded.snapshot_id)])
        return recorded.snapshot_id
    return take_snapshot(target, volume_id, "final")


def final_snapshot_plan(target: Target, volume_id: str) -> list[str]:
    """The dry-run lines of final_snapshot."""
    return [
        backup.snapshot_step(target, volume_id, "final").shell(),
        backup.wait_snapshot_step(target, "<snapshot-id>").shell(),
    ]


def restore(settings: Settings, snapshot_id: str) -> KeptVolume:
    """A new volume from the snapshot in zones[0]; recorded in state.yaml once EC2 made it."""
    target = Target.of(settings)
    step = backup.restore_step(settings, snapshot_id, storage_gib(settings))
    click.echo(f"restore: {step.shell()}")
    volume_id = parsed(observe(step), backup_answers.created_volume_id, "a volume")
    if volume_id is None:
        message = f"snapshot {snapshot_id} does not exist in {target.region}"
        raise ToolError(f"aws: {message} (himat status shows the last one)")
    zone = settings.cluster.zones[0]
    kept = KeptVolume(volume_id, zone)
    state_path = Path(target.state_file)
    state = load_state(state_path)
    if state.volume is not None and state.volume.volume_id != volume_id:
        click.echo(
            f"note: {target.state_file} recorded volume {state.volume.volume_id}; it is not "
            "deleted and still bills until you delete it: aws ec2 delete-volume --volume-id "
            f"{state.volume.volume_id} --region {target.region}",
            err=True,
        )
    save_state(state_path, state.with_volume(kept))
    run_steps("restore", [backup.wait_volume_step(target, volume_id)])
    return kept


def storage_lines(settings: Settings) -> list[str]:
    """status: the kept (or chosen) volume and the last snapshot of this cluster's home."""
    target = Target.of(settings)
    kept = load_state(Path(target.state_file)).volume
    chosen = settings.jupyter.volume_id
    lines = []
    if chosen is not None:
        lines.append(f"notebooks' volume: {chosen} (jupyter.volume_id)")
    elif kept is not None:
        where = f" in {kept.zone}" if kept.zone else ""
        lines.append(
            f"kept notebooks' volume: {kept.volume_id}{where} (reuse it: "
            f"{settings_line(kept.volume_id)})"
        )
    answer = observe(backup.snapshots_query(target))
    last = parsed(answer, backup_answers.newest_snapshot, "a list of snapshots")
    if last is None:
        lines.append("last snapshot: none yet")
    else:
        lines.append(
            f"last snapshot: {last.snapshot_id} of {last.volume_id or 'a deleted volume'}, "
            f"started {last.started}, {last.state} ({last.size_gib} GiB volume)"
        )
    return lines
