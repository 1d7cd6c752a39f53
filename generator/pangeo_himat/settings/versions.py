"""The EKS Kubernetes version calendar shipped with the package, and what each phase costs.

A minor version has 14 months of standard support and then 12 months of extended support, at
a higher price per cluster-hour; after that EKS upgrades the cluster by itself. The dates and
prices, with their source, are in data/kubernetes_versions.json.
"""

from __future__ import annotations

import datetime
import functools
import json
from dataclasses import dataclass
from importlib import resources

HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class KubernetesVersion:
    """One EKS minor version and the last day of each of its support phases."""

    version: str
    release: datetime.date
    end_of_standard_support: datetime.date
    end_of_extended_support: datetime.date

    def phase(self, today: datetime.date) -> str:
        """`standard`, `extended` or `retired` on that day (an end date is the last day)."""
        if today <= self.end_of_standard_support:
            return "standard"
        if today <= self.end_of_extended_support:
            return "extended"
        return "retired"


@dataclass(frozen=True)
class Calendar:
    versions: dict[str, KubernetesVersion]
    source: str
    date: str
    standard_usd_per_hour: float
    extended_usd_per_hour: float
    price_source: str

    def supported(self, today: datetime.date) -> list[str]:
        """Versions that EKS still runs on that day, oldest first."""
        return [v for v, info in self.versions.items() if info.phase(today) != "retired"]

    def in_standard_support(self, today: datetime.date) -> list[str]:
        """Versions under standard support on that day, oldest first."""
        return [v for v, info in self.versions.items() if info.phase(today) == "standard"]

    def extra_usd_per_month(self) -> float:
        return (self.extended_usd_per_hour - self.standard_usd_per_hour) * HOURS_PER_MONTH


@functools.lru_cache(maxsize=1)
def load_calendar() -> Calendar:
    """Read data/kubernetes_versions.json once per process."""
    text = resources.files("pangeo_himat").joinpath("data/kubernetes_versions.json").read_text()
    data = json.loads(text)
    day = datetime.date.fromisoformat
    versions = {
        name: KubernetesVersion(
            name,
            day(dates["release"]),
            day(dates["end_of_standard_support"]),
            day(dates["end_of_extended_support"]),
        )
        for name, dates in data["versions"].items()
    }
    prices = data["control_plane_usd_per_hour"]
    return Calendar(
        versions,
        data["source"],
        data["date"],
        prices["standard"],
        prices["extended"],
        prices["source"],
    )


def today() -> datetime.date:
    """The day in UTC, the calendar's time zone."""
    return datetime.datetime.now(datetime.UTC).date()


def in_extended_support(version: str, day: datetime.date) -> bool:
    info = load_calendar().versions.get(version)
    return info is not None and info.phase(day) == "extended"


def effective_support(version: str, support: str, day: datetime.date) -> str:
    """The upgrade policy the cluster gets: `standard` means "upgrade when standard support
    ends", which a version already past it cannot have, so such a version gets `extended`."""
    return "extended" if in_extended_support(version, day) else support


def control_plane_usd_per_hour(version: str, day: datetime.date) -> float:
    """What the control plane costs on `day`: the extended price once standard support ended
    (with `support: standard` EKS upgrades the cluster then, so it never gets that far)."""
    calendar = load_calendar()
    if in_extended_support(version, day):
        return calendar.extended_usd_per_hour
    return calendar.standard_usd_per_hour
