"""The instance catalog shipped with the package (built by scripts/build_catalog.py)."""

from __future__ import annotations

import dataclasses
import functools
import json
from dataclasses import dataclass, field
from importlib import resources

from pangeo_himat.settings.model import Settings
from pangeo_himat.settings.quantities import memory_mib


@dataclass(frozen=True)
class InstanceType:
    """The figures of one EC2 instance type that the fit model and cost need."""

    name: str
    vcpu: int
    memory_mib: int
    max_enis: int
    ipv4_per_eni: int
    architecture: str
    gpus: int = 0
    on_demand_usd_per_hour: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    """Instance types by name, with where their figures and prices come from."""

    types: dict[str, InstanceType]
    price_date: str
    price_source: str
    instance_source: str

    def get(self, name: str) -> InstanceType | None:
        return self.types.get(name)


@functools.lru_cache(maxsize=1)
def load_catalog() -> Catalog:
    """Read data/instances.json once per process."""
    text = resources.files("pangeo_himat").joinpath("data/instances.json").read_text()
    data = json.loads(text)
    types = {
        name: InstanceType(name=name, **figures) for name, figures in data["instance_types"].items()
    }
    prices = data["prices"]
    return Catalog(types, prices["date"], prices["source"], data["instance_source"])


def instance_type(settings: Settings, name: str) -> InstanceType | None:
    """The settings' own description of a type (custom_instance_types) wins over the catalog;
    instance_prices gives a catalog type the price the catalog lacks in the region."""
    custom = settings.custom_instance_types.get(name)
    if custom is not None:
        price = custom.usd_per_hour
        return InstanceType(
            name=name,
            vcpu=custom.vcpu,
            memory_mib=memory_mib(custom.memory),
            max_enis=custom.max_enis,
            ipv4_per_eni=custom.ipv4_per_eni,
            architecture="unknown",
            on_demand_usd_per_hour={} if price is None else {settings.cluster.region: price},
        )
    found = load_catalog().get(name)
    price = settings.instance_prices.get(name)
    if found is None or price is None:
        return found
    region = settings.cluster.region
    return dataclasses.replace(
        found, on_demand_usd_per_hour={**found.on_demand_usd_per_hour, region: float(price)}
    )


def known_instance_type(settings: Settings, name: str) -> InstanceType:
    """A type that `rules.check_instance_types` has already found (the fit and cost use it)."""
    found = instance_type(settings, name)
    if found is None:
        raise LookupError(f"{name} is neither in the catalog nor in custom_instance_types")
    return found
