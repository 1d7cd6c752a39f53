"""The checks a JSON Schema cannot make: relations between keys and facts about AWS."""

from __future__ import annotations

from collections import Counter

from pangeo_himat.catalog import InstanceType, load_catalog
from pangeo_himat.errors import Problem
from pangeo_himat.quantities import cpu_millicores, memory_mib
from pangeo_himat.settings import Settings

# EBS gp3 volume sizes: 1 GiB to 16 TiB.
# Source: https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html (gp3 volume size)
GP3_MIN_GIB = 1
GP3_MAX_GIB = 16 * 1024


def instance_type(settings: Settings, name: str) -> InstanceType | None:
    """The settings' own description of a type wins over the shipped catalog."""
    custom = settings.get("custom_instance_types", {}).get(name)
    if custom is not None:
        price = custom.get("usd_per_hour")
        return InstanceType(
            name=name,
            vcpu=custom["vcpu"],
            memory_mib=memory_mib(custom["memory"]),
            max_enis=custom["max_enis"],
            ipv4_per_eni=custom["ipv4_per_eni"],
            architecture="unknown",
            on_demand_usd_per_hour={} if price is None else {settings["cluster"]["region"]: price},
        )
    return load_catalog().get(name)


def _unknown_type(settings: Settings, path: tuple, name: str) -> Problem:
    return settings.problem(
        path,
        f"{name!r} is not in the instance catalog; use a listed type (himat fit --list-types) "
        f"or describe it under custom_instance_types.{name} with vcpu and memory",
    )


def check_zones(settings: Settings) -> list[Problem]:
    """Every zone must belong to the region: a stray zone would strand the Jupyter volume."""
    region = settings["cluster"]["region"]
    problems = []
    for index, zone in enumerate(settings["cluster"]["zones"]):
        suffix = zone[len(region) :]
        if not zone.startswith(region) or len(suffix) != 1 or not suffix.isalpha():
            problems.append(
                settings.problem(
                    ("cluster", "zones", index),
                    f"{zone!r} is not a zone of region {region!r}; expected e.g. {region}a",
                )
            )
    return problems


def check_instance_types(settings: Settings) -> list[Problem]:
    """Types must be known, and the spot types must share one shape so the fit holds for all."""
    problems = []
    if instance_type(settings, settings["stable"]["instance_type"]) is None:
        problems.append(
            _unknown_type(
                settings, ("stable", "instance_type"), settings["stable"]["instance_type"]
            )
        )
    known: list[tuple[int, InstanceType]] = []
    for index, name in enumerate(settings["spot"]["instance_types"]):
        found = instance_type(settings, name)
        if found is None:
            problems.append(_unknown_type(settings, ("spot", "instance_types", index), name))
        else:
            known.append((index, found))
    if known:
        _, first = known[0]
        for index, other in known[1:]:
            if (other.vcpu, other.memory_mib, other.architecture) != (
                first.vcpu,
                first.memory_mib,
                first.architecture,
            ):
                problems.append(
                    settings.problem(
                        ("spot", "instance_types", index),
                        f"{other.name} ({other.vcpu} vCPU, {other.memory_mib} MiB, "
                        f"{other.architecture}) differs from {first.name} ({first.vcpu} vCPU, "
                        f"{first.memory_mib} MiB, {first.architecture}); spot types must share "
                        "one shape and architecture",
                    )
                )
    return problems


def check_spot(settings: Settings) -> list[Problem]:
    """nodes <= max_nodes: eksctl refuses a desired capacity above the maximum."""
    spot = settings["spot"]
    if spot["nodes"] > spot["max_nodes"]:
        return [
            settings.problem(
                ("spot", "max_nodes"),
                f"{spot['max_nodes']} is below spot.nodes ({spot['nodes']}); "
                "expected max_nodes >= nodes",
            )
        ]
    return []


def check_workers(settings: Settings) -> list[Problem]:
    """`per_node` goes with cpu/memory auto, and auto needs it."""
    workers = settings["workers"]
    uses_auto = "auto" in (workers["cpu"], workers["memory"])
    if uses_auto and workers["per_node"] is None:
        return [
            settings.problem(
                ("workers", "per_node"),
                "missing; cpu or memory auto splits each spot node into per_node workers, "
                "expected a whole number such as 4",
            )
        ]
    if not uses_auto and workers["per_node"] is not None:
        return [
            settings.problem(
                ("workers", "per_node"),
                "is used only when workers.cpu or workers.memory is auto; set it to null",
            )
        ]
    problems = []
    for key, parse in (("cpu", cpu_millicores), ("memory", memory_mib)):
        if workers[key] != "auto" and parse(workers[key]) <= 0:
            problems.append(settings.problem(("workers", key), "must be more than zero"))
    return problems


def check_quantities(settings: Settings) -> list[Problem]:
    """Requests of zero would let the scheduler pack pods without limit."""
    problems = []
    for section in ("scheduler", "jupyter"):
        if cpu_millicores(settings[section]["cpu"]) <= 0:
            problems.append(settings.problem((section, "cpu"), "must be more than zero"))
        if memory_mib(settings[section]["memory"]) <= 0:
            problems.append(settings.problem((section, "memory"), "must be at least 1Mi"))
    storage_gib = memory_mib(settings["jupyter"]["storage"]) / 1024
    if not GP3_MIN_GIB <= storage_gib <= GP3_MAX_GIB:
        problems.append(
            settings.problem(
                ("jupyter", "storage"),
                f"{settings['jupyter']['storage']!r} is outside what a gp3 volume can be; "
                "expected 1Gi to 16Ti",
            )
        )
    return problems


def check_exposure(settings: Settings) -> list[Problem]:
    """A load balancer without source ranges would put Jupyter on the whole internet."""
    jupyter = settings["jupyter"]
    if jupyter["expose"] == "loadbalancer" and not jupyter["allowed_cidrs"]:
        return [
            settings.problem(
                ("jupyter", "allowed_cidrs"),
                "is empty; expose: loadbalancer needs the CIDRs that may connect, "
                "e.g. [203.0.113.0/24]",
            )
        ]
    problems = []
    for index, cidr in enumerate(jupyter["allowed_cidrs"]):
        if any(int(octet) > 255 for octet in cidr.split("/")[0].split(".")):
            problems.append(
                settings.problem(
                    ("jupyter", "allowed_cidrs", index), f"{cidr!r} is not an IPv4 CIDR"
                )
            )
    return problems


def check_buckets(settings: Settings) -> list[Problem]:
    """S3 naming rules the pattern cannot express, and no bucket listed twice."""
    problems = []
    counts = Counter(bucket["name"] for bucket in settings["data"]["buckets"])
    for index, bucket in enumerate(settings["data"]["buckets"]):
        name = bucket["name"]
        path = ("data", "buckets", index, "name")
        if counts[name] > 1:
            problems.append(settings.problem(path, f"{name!r} is listed more than once"))
        # Source: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
        if ".." in name or name.startswith("xn--") or name.endswith("-s3alias"):
            problems.append(settings.problem(path, f"{name!r} breaks the S3 bucket naming rules"))
        elif all(part.isdigit() for part in name.split(".")) and name.count(".") == 3:
            problems.append(
                settings.problem(path, f"{name!r} looks like an IP address, not a bucket name")
            )
    return problems


CHECKS = (
    check_zones,
    check_instance_types,
    check_spot,
    check_workers,
    check_quantities,
    check_exposure,
    check_buckets,
)


def check_settings(settings: Settings) -> list[Problem]:
    """Every cross-key problem at once, in file order."""
    problems = [problem for check in CHECKS for problem in check(settings)]
    return sorted(problems, key=lambda p: (p.line or 0, p.path))
