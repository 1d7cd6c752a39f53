"""The sleep record: the ConfigMap the worker controller writes before it hibernates the cluster.

Its data is pangeo_himat.controller.kube.sleep_record's (reason, slept_at, by). `resume` prints it
and then deletes it; `status` shows it while the cluster sleeps.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class SleepRecord:
    reason: str
    slept_at: str


def sleep_record(text: str) -> SleepRecord:
    """kubectl get configmap -o json: the controller's `reason` and `slept_at`."""
    data = json.loads(text)["data"]
    return SleepRecord(reason=str(data["reason"]), slept_at=str(data["slept_at"]))


def sleep_line(record: SleepRecord) -> str:
    by = "put to sleep by the worker controller"
    return f"asleep since {record.slept_at} ({by}: {record.reason})"
