"""Parsers for the EC2, DLM and STS answers about the notebooks' volume and its snapshots.

Handed to output.parsed; each raises on a shape it does not expect. The shapes are the AWS
CLI's `--output json` of the API responses (EC2 API DescribeVolumes, CreateSnapshot,
CreateVolume, DescribeSnapshots; DLM API GetLifecyclePolicies; STS GetCallerIdentity).
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class VolumeFacts:
    """What EC2 says about one volume."""

    volume_id: str
    zone: str
    state: str


@dataclass(frozen=True)
class SnapshotFacts:
    snapshot_id: str
    volume_id: str
    started: str
    state: str
    size_gib: int


def caller(text: str) -> tuple[str, str]:
    """(partition, account) from get-caller-identity: {"Account": ..., "Arn": "arn:aws:..."}."""
    answer = json.loads(text)
    partition = str(answer["Arn"]).split(":")[1]
    account = str(answer["Account"])
    if not partition or not account.isdigit():
        raise ValueError("expected an Arn and a numeric Account")
    return partition, account


def policy_id(text: str) -> str | None:
    """get-lifecycle-policies: {"Policies": [{"PolicyId": "policy-...", ...}]}; the first."""
    policies = json.loads(text)["Policies"]
    return str(policies[0]["PolicyId"]) if policies else None


def volume(text: str) -> VolumeFacts:
    """describe-volumes: {"Volumes": [{"VolumeId", "AvailabilityZone", "State", ...}]}."""
    (found,) = json.loads(text)["Volumes"]
    return VolumeFacts(str(found["VolumeId"]), str(found["AvailabilityZone"]), str(found["State"]))


def created_snapshot_id(text: str) -> str:
    """create-snapshot: the Snapshot itself, {"SnapshotId": "snap-...", "State": "pending"}."""
    snapshot_id = str(json.loads(text)["SnapshotId"])
    if not snapshot_id.startswith("snap-"):
        raise ValueError("SnapshotId is not a snapshot ID")
    return snapshot_id


def created_volume_id(text: str) -> str:
    """create-volume: the Volume itself, {"VolumeId": "vol-...", "State": "creating"}."""
    volume_id = str(json.loads(text)["VolumeId"])
    if not volume_id.startswith("vol-"):
        raise ValueError("VolumeId is not a volume ID")
    return volume_id


def newest_snapshot(text: str) -> SnapshotFacts | None:
    """describe-snapshots: {"Snapshots": [...]}; the one started last (ISO 8601 UTC sorts)."""
    snapshots = json.loads(text)["Snapshots"]
    if not snapshots:
        return None
    last = max(snapshots, key=lambda snapshot: str(snapshot["StartTime"]))
    return SnapshotFacts(
        str(last["SnapshotId"]),
        str(last.get("VolumeId", "")),
        str(last["StartTime"]),
        str(last["State"]),
        int(last["VolumeSize"]),
    )
