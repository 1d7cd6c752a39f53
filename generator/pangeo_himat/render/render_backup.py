"""The Amazon Data Lifecycle Manager policy that snapshots the notebooks' volume: a pure render.

The policy lives in AWS, outside the cluster, so snapshots go on while the cluster is hibernated
and after it is destroyed. It targets one tag that only the notebooks' volume of this cluster
carries (`himat/backup: <name>`): DLM targets every volume that has ANY of a policy's target
tags, and `himat/cluster` is on every resource of the cluster (nodes' root volumes too), while
`himat/volume: home` is on the home of every cluster (Terraform aws_dlm_lifecycle_policy docs,
target_tags: "tagged with any of these tags will be targeted"; DLM API CreateLifecyclePolicy:
target tags cannot be re-used across lifecycle policies).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pangeo_himat.render import names
from pangeo_himat.settings.model import Settings

# DLM's RetainRule Count: "The number of snapshots to retain for each volume, up to a maximum of
# 1000" (DLM API reference, RetainRule; botocore data/dlm/2018-01-12/service-2.json shape
# StandardTierRetainRuleCount: min 1, max 1000). values.schema.json bounds jupyter.backup.keep.
KEEP_MAX = 1000
# CreateRule: Interval 24 with IntervalUnit HOURS is once a day; `Times` is the UTC start, the
# snapshot begins within the hour after it (DLM API reference, CreateRule: "The supported values
# are 1, 2, 3, 4, 6, 8, 12, and 24"; Times in hh:mm UTC).
DAILY_INTERVAL_HOURS = 24
DAILY_AT_UTC = "03:00"
SCHEDULE_NAME = "daily"


def backup_enabled(settings: Settings) -> bool:
    """daily, or off (YAML 1.1 reads a bare `off` as false: both mean off)."""
    return bool(settings.jupyter.backup.schedule == "daily")


def policy_description(cluster_name: str) -> str:
    """DLM takes only `[0-9A-Za-z _-]+`, at most 500, in a description (botocore
    data/dlm/2018-01-12/service-2.json shape PolicyDescription)."""
    return f"himat {cluster_name} notebooks home daily snapshots"


def _tags(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": key, "Value": value} for key, value in sorted(tags.items())]


def policy_details(settings: Settings) -> dict[str, Any]:
    """The PolicyDetails of `aws dlm create-lifecycle-policy` (EBS_SNAPSHOT_MANAGEMENT)."""
    name = settings.cluster.name
    target_key = names.BACKUP_TAG_KEY
    return {
        "PolicyType": "EBS_SNAPSHOT_MANAGEMENT",
        "ResourceTypes": ["VOLUME"],
        "TargetTags": _tags({target_key: name}),
        "Schedules": [
            {
                "Name": SCHEDULE_NAME,
                # The volume's tags go onto each snapshot: himat status finds them by
                # himat/cluster, and `himat restore` needs no other record.
                "CopyTags": True,
                "CreateRule": {
                    "Interval": DAILY_INTERVAL_HOURS,
                    "IntervalUnit": "HOURS",
                    "Times": [DAILY_AT_UTC],
                },
                "RetainRule": {"Count": settings.jupyter.backup.keep},
            }
        ],
    }


def policy_details_json(settings: Settings) -> str:
    """The policy as the one-line JSON the AWS CLI takes for --policy-details."""
    return json.dumps(policy_details(settings), sort_keys=True, separators=(",", ":"))


def policy_digest(settings: Settings) -> str:
    """A short hash of the policy as himat applies it (state and schedule): recorded in
    state.yaml, so an unchanged policy is not updated again."""
    state = "ENABLED" if backup_enabled(settings) else "DISABLED"
    text = f"{state}\n{policy_details_json(settings)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
