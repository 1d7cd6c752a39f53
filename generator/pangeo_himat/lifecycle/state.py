"""clusterconfig/<name>/state.yaml: what only the live system knows and a later verb needs.

Written atomically; the settings file stays the one place a user edits. Each field is optional,
and keys this version does not know are kept as they were read, so later verbs can add fields
(last snapshot, why the cluster sleeps) without breaking older records.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from pangeo_himat.render.writer import to_yaml, write_atomic
from pangeo_himat.settings.errors import InputError, Problem

POLICIES_KEY = "pod_identity_policies"
BACKUP_POLICY_KEY = "backup_policy"
HEADER = "# Written by himat; records what only the live system knows. Do not edit.\n"


@dataclass(frozen=True)
class KeptVolume:
    """The notebooks' EBS volume: its ID and availability zone."""

    volume_id: str
    zone: str | None = None


@dataclass(frozen=True)
class TakenSnapshot:
    """The last snapshot himat took: its ID, the volume it copies, and why (backup or final)."""

    snapshot_id: str
    volume_id: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"id": self.snapshot_id, "volume": self.volume_id, "reason": self.reason}


@dataclass(frozen=True)
class State:
    """Everything state.yaml records; `other` holds keys of newer versions untouched."""

    volume: KeptVolume | None = None
    other: dict[str, Any] = field(default_factory=dict)
    snapshot: TakenSnapshot | None = None

    def with_volume(self, volume: KeptVolume | None) -> State:
        return replace(self, volume=volume)

    def policy_hashes(self) -> dict[str, str]:
        """`namespace/serviceaccount` -> hash of the permission policy last applied to its role
        (eksctl's `get podidentityassociation` shows no policy, so this is how a change shows)."""
        found = self.other.get(POLICIES_KEY)
        if not isinstance(found, dict):
            return {}
        return {str(key): str(value) for key, value in found.items()}

    def with_policy_hashes(self, hashes: dict[str, str]) -> State:
        other = {key: value for key, value in self.other.items() if key != POLICIES_KEY}
        if hashes:
            other[POLICIES_KEY] = dict(sorted(hashes.items()))
        return replace(self, other=other)

    def backup_policy(self) -> tuple[str, str] | None:
        """(policy ID, hash of the policy himat last applied), or None when none was applied.

        `aws dlm get-lifecycle-policies` lists policies without their schedules, so the hash
        is how `cluster` knows the live policy already is what the settings ask for."""
        found = self.other.get(BACKUP_POLICY_KEY)
        if not isinstance(found, dict) or "id" not in found or "hash" not in found:
            return None
        return str(found["id"]), str(found["hash"])

    def with_backup_policy(self, policy_id: str | None, digest: str) -> State:
        other = {key: value for key, value in self.other.items() if key != BACKUP_POLICY_KEY}
        if policy_id is not None:
            other[BACKUP_POLICY_KEY] = {"id": policy_id, "hash": digest}
        return replace(self, other=other)

    def with_snapshot(self, snapshot: TakenSnapshot) -> State:
        return replace(self, snapshot=snapshot)

    def as_dict(self) -> dict[str, Any]:
        document = dict(self.other)
        if self.volume is not None:
            document["volume"] = {"id": self.volume.volume_id, "zone": self.volume.zone}
        if self.snapshot is not None:
            document["snapshot"] = self.snapshot.as_dict()
        return document


def _problem(path: Path, message: str) -> InputError:
    return InputError([Problem(str(path), None, "", message)])


def load_state(path: Path) -> State:
    """The recorded state, or an empty one when nothing was recorded yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return State()
    except (OSError, UnicodeDecodeError) as error:
        raise _problem(path, f"cannot be read: {error}") from None
    try:
        document = yaml.safe_load(text) or {}
    except yaml.YAMLError as error:
        raise _problem(path, f"is not YAML ({error}); restore it or delete it") from None
    if not isinstance(document, dict):
        raise _problem(path, "expected a mapping of recorded fields")
    other = {key: value for key, value in document.items() if key not in ("volume", "snapshot")}
    snapshot = _snapshot(path, document.get("snapshot"))
    volume = document.get("volume")
    if volume is None:
        return State(None, other, snapshot)
    if not isinstance(volume, dict) or not isinstance(volume.get("id"), str):
        raise _problem(path, "volume: expected a mapping with the volume's `id` and `zone`")
    zone = volume.get("zone")
    kept = KeptVolume(volume["id"], zone if isinstance(zone, str) else None)
    return State(kept, other, snapshot)


def _snapshot(path: Path, recorded: Any) -> TakenSnapshot | None:
    if recorded is None:
        return None
    fields = ("id", "volume", "reason")
    if not isinstance(recorded, dict) or not all(isinstance(recorded.get(f), str) for f in fields):
        raise _problem(path, "snapshot: expected a mapping with `id`, `volume` and `reason`")
    return TakenSnapshot(recorded["id"], recorded["volume"], recorded["reason"])


def save_state(path: Path, state: State) -> None:
    """Replace state.yaml in one rename; an empty state leaves an empty mapping."""
    write_atomic(path, to_yaml(state.as_dict(), HEADER) if state.as_dict() else HEADER + "{}\n")
