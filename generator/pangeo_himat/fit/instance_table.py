"""`himat fit --list-types`: the instance catalog as a table (or JSON), priced for one region."""

from __future__ import annotations

import json
from typing import Any

from pangeo_himat.fit.fit import max_pods
from pangeo_himat.settings.catalog import Catalog, InstanceType

COLUMNS = ("type", "vCPU", "memory", "max pods", "arch", "USD/h on-demand")


def _row(instance: InstanceType, region: str) -> dict[str, Any]:
    return {
        "type": instance.name,
        "vcpu": instance.vcpu,
        "memory_mib": instance.memory_mib,
        "max_pods": max_pods(instance),
        "architecture": instance.architecture,
        "on_demand_usd_per_hour": instance.on_demand_usd_per_hour.get(region),
    }


def _price(usd_per_hour: float | None) -> str:
    return "-" if usd_per_hour is None else f"{usd_per_hour:.4f}"


def _sort_key(instance: InstanceType) -> tuple[str, int, int, str]:
    return (instance.name.split(".")[0], instance.vcpu, instance.memory_mib, instance.name)


def format_instance_types(catalog: Catalog, region: str, as_json: bool = False) -> str:
    """Every catalog type, by family then size; a price the catalog lacks shows as '-'."""
    rows = [_row(t, region) for t in sorted(catalog.types.values(), key=_sort_key)]
    if as_json:
        return json.dumps(
            {"region": region, "price_date": catalog.price_date, "instance_types": rows}, indent=2
        )
    cells = [
        [
            row["type"],
            str(row["vcpu"]),
            f"{row['memory_mib'] / 1024:g} GiB",
            str(row["max_pods"]),
            row["architecture"],
            _price(row["on_demand_usd_per_hour"]),
        ]
        for row in rows
    ]
    widths = [max(len(title), *(len(line[i]) for line in cells)) for i, title in enumerate(COLUMNS)]
    lines = ["  ".join(title.ljust(w) for title, w in zip(COLUMNS, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in cells
    ]
    lines.append(
        f"prices: {region}, {catalog.price_source}, {catalog.price_date}; max pods: "
        "ENIs x (IPv4 per ENI - 1) + 2"
    )
    return "\n".join(lines)
