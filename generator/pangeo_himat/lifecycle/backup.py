"""The notebooks' volume and its snapshots, as steps: the backup policy, snapshot, restore.

Pure, like plans.py: nothing here runs a command. Every `aws` call names the region and asks for
JSON where himat reads the answer.
"""

from __future__ import annotations

from pangeo_himat.lifecycle.steps import Step, Target, identity_query
from pangeo_himat.render import names
from pangeo_himat.render.render_backup import (
    backup_enabled,
    policy_description,
    policy_details_json,
)
from pangeo_himat.settings.model import Settings

# `aws dlm create-default-role` creates this role once (and leaves it as it is afterwards), with
# the AWS managed policy AWSDataLifecycleManagerServiceRole (aws-cli
# awscli/customizations/dlm/constants.py LIFECYCLE_DEFAULT_ROLE_NAME; AWS CLI reference, dlm
# create-default-role: --resource-type snapshot, the default).
DLM_ROLE_NAME = "AWSDataLifecycleManagerDefaultRole"
# aws on an absent snapshot: exit 254 from v2, 255 from v1 (a service error, AWS CLI "Command line
# return codes") and
# "An error occurred (InvalidSnapshot.NotFound) when calling the ... operation" (EC2 API errors).
AWS_SNAPSHOT_NOT_FOUND = "(InvalidSnapshot.NotFound)"


def _region(target: Target) -> tuple[str, ...]:
    return ("--region", target.region)


def _tag_list(cluster_name: str) -> str:
    """EC2's shorthand for --tag-specifications: `Tags=[{Key=k,Value=v},...]`."""
    tags = names.volume_tags(cluster_name)
    return ",".join(f"{{Key={key},Value={value}}}" for key, value in sorted(tags.items()))


def tag_specifications(cluster_name: str, resource_type: str) -> str:
    return f"ResourceType={resource_type},Tags=[{_tag_list(cluster_name)}]"


# --- queries ----------------------------------------------------------------------------------


def caller_query() -> Step:
    """The account and partition the role's ARN needs."""
    return identity_query()


def policies_query(target: Target) -> Step:
    """DLM's filter takes `key=value` strings (DLM API GetLifecyclePolicies, targetTags)."""
    tag = f"{names.BACKUP_TAG_KEY}={target.cluster}"
    argv = ("aws", "dlm", "get-lifecycle-policies", "--target-tags", tag, *_region(target))
    return Step("the backup policy", (*argv, "--output", "json"))


def snapshots_query(target: Target) -> Step:
    """Every snapshot of this cluster's home: the policy's copy the volume's tags."""
    wanted = f"Name=tag:{names.CLUSTER_TAG_KEY},Values={target.cluster}"
    argv = ("aws", "ec2", "describe-snapshots", "--filters", wanted, "--owner-ids", "self")
    return Step("the snapshots", (*argv, *_region(target), "--output", "json"))


# --- actions ----------------------------------------------------------------------------------


def role_arn(partition: str, account: str) -> str:
    return f"arn:{partition}:iam::{account}:role/{DLM_ROLE_NAME}"


def policy_steps(settings: Settings, policy_id: str | None, role: str) -> list[Step]:
    """Create or update the policy (daily), or disable it (off; a missing one stays missing).

    A disabled policy keeps the snapshots it took: DLM deletes them only while it runs.
    """
    target = Target.of(settings)
    dlm = ("aws", "dlm")
    if not backup_enabled(settings):
        if policy_id is None:
            return []
        argv = (*dlm, "update-lifecycle-policy", "--policy-id", policy_id, "--state", "DISABLED")
        return [Step("disable the backup policy (backup.schedule: off)", (*argv, *_region(target)))]
    described = (
        *("--execution-role-arn", role, "--description", policy_description(target.cluster)),
        *("--state", "ENABLED", "--policy-details", policy_details_json(settings)),
    )
    role_step = Step(
        f"create the IAM role {DLM_ROLE_NAME} if it is missing",
        (*dlm, "create-default-role", "--resource-type", "snapshot", *_region(target)),
    )
    if policy_id is None:
        create = (*dlm, "create-lifecycle-policy", *described, *_region(target))
        return [role_step, Step("create the daily backup policy", create)]
    update = (*dlm, "update-lifecycle-policy", "--policy-id", policy_id, *described)
    return [role_step, Step(f"update the backup policy {policy_id}", (*update, *_region(target)))]


def tag_volume_step(target: Target, volume_id: str) -> Step:
    """A volume himat did not create (jupyter.volume_id) gets the tags the policy targets."""
    tags = [f"Key={key},Value={value}" for key, value in names.volume_tags(target.cluster).items()]
    argv = ("aws", "ec2", "create-tags", "--resources", volume_id, "--tags", *sorted(tags))
    return Step(f"tag volume {volume_id} for the backup policy", (*argv, *_region(target)))


def snapshot_step(target: Target, volume_id: str, reason: str) -> Step:
    argv = ("aws", "ec2", "create-snapshot", "--volume-id", volume_id)
    described = (
        *("--description", f"himat {target.cluster} notebooks home, {reason}"),
        *("--tag-specifications", tag_specifications(target.cluster, "snapshot")),
    )
    return Step(
        f"snapshot volume {volume_id}",
        (*argv, *described, *_region(target), "--output", "json"),
    )


def wait_snapshot_step(target: Target, snapshot_id: str) -> Step:
    """The waiter polls every 15 s, 40 times, and fails (exit 255) on `error` or after 10 min
    (botocore data/ec2/2016-11-15/waiters-2.json SnapshotCompleted); the snapshot goes on."""
    argv = ("aws", "ec2", "wait", "snapshot-completed", "--snapshot-ids", snapshot_id)
    return Step(f"wait for snapshot {snapshot_id} to complete", (*argv, *_region(target)))


def restore_step(settings: Settings, snapshot_id: str, size_gib: int) -> Step:
    """An encrypted gp3 volume in zones[0], of jupyter.storage's size, tagged for the policy."""
    target = Target.of(settings)
    zone = settings.cluster.zones[0]
    argv = (
        *("aws", "ec2", "create-volume", "--snapshot-id", snapshot_id),
        *("--availability-zone", zone, "--volume-type", "gp3", "--encrypted"),
        *("--size", str(size_gib)),
        *("--tag-specifications", tag_specifications(target.cluster, "volume")),
    )
    return Step(
        f"create a volume from {snapshot_id} in {zone}",
        (*argv, *_region(target), "--output", "json"),
        AWS_SNAPSHOT_NOT_FOUND,
    )


def wait_volume_step(target: Target, volume_id: str) -> Step:
    argv = ("aws", "ec2", "wait", "volume-available", "--volume-ids", volume_id)
    return Step(f"wait for volume {volume_id} to be available", (*argv, *_region(target)))
