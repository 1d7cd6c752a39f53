"""The checks a JSON Schema cannot make: relations between keys and facts about AWS."""

from __future__ import annotations

import ipaddress
from collections import Counter
from collections.abc import Callable

from pangeo_himat.settings.catalog import InstanceType, instance_type, load_catalog
from pangeo_himat.settings.errors import Problem
from pangeo_himat.settings.model import Settings
from pangeo_himat.settings.quantities import cpu_millicores, duration_s, memory_mib
from pangeo_himat.settings.regions import load_regions, partition_regions
from pangeo_himat.settings.suggest import did_you_mean
from pangeo_himat.settings.versions import load_calendar, today
from pangeo_himat.settings.yaml_lines import KeyPath

# The controller samples the scheduler every few seconds and needs three samples that agree
# before it takes workers away; a timer under a minute would act on a pause between two cells.
MIN_IDLE_S = 60

# EBS gp3 volume sizes: 1 GiB to 16 TiB.
# Source: https://docs.aws.amazon.com/ebs/latest/userguide/general-purpose.html (gp3 volume size)
GP3_MIN_GIB = 1
GP3_MAX_GIB = 16 * 1024


def _unknown_type(settings: Settings, path: KeyPath, name: str) -> Problem:
    return settings.problem(
        path,
        f"{name!r} is not in the instance catalog; {did_you_mean(name, load_catalog().types)}"
        "use a listed type (himat fit --list-types) "
        f"or describe it under custom_instance_types.{name} with vcpu and memory",
    )


def check_region(settings: Settings) -> list[Problem]:
    """The region must exist: a typo would only fail 20 minutes into `eksctl create cluster`."""
    region = settings.cluster.region
    if region in load_regions():
        return []
    return [
        settings.problem(
            ("cluster", "region"),
            f"{region!r} is not an AWS region; {did_you_mean(region, load_regions())}"
            "expected one of "
            + ", ".join(partition_regions("aws"))
            + " (or a region of another AWS partition, such as us-gov-west-1)",
        )
    ]


def check_zones(settings: Settings) -> list[Problem]:
    """Every zone must be a real zone of the region: a stray zone would strand the volume."""
    region = load_regions()[settings.cluster.region]
    problems = []
    for index, zone in enumerate(settings.cluster.zones):
        if region.zones:
            known = zone in region.zones
            expected = ", ".join(region.zones)
        else:  # no zone table for this partition: check the form only
            suffix = zone[len(region.name) :]
            known = zone.startswith(region.name) and len(suffix) == 1 and suffix.isalpha()
            expected = f"{region.name}a, {region.name}b, ..."
        if not known:
            problems.append(
                settings.problem(
                    ("cluster", "zones", index),
                    f"{zone!r} is not an availability zone of {region.name}; "
                    f"{did_you_mean(zone, region.zones)}expected one of {expected}",
                )
            )
    return problems


def check_kubernetes_version(settings: Settings) -> list[Problem]:
    """A version past extended support cannot be created (in extended support: a warning)."""
    version = settings.cluster.kubernetes_version
    calendar = load_calendar()
    day = today()
    supported = ", ".join(f'"{v}"' for v in calendar.supported(day))
    info = calendar.versions.get(version)
    if info is None or info.phase(day) == "retired":
        reason = (
            "is not an EKS version"
            if info is None
            else f"reached the end of EKS extended support on {info.end_of_extended_support}"
        )
        return [
            settings.problem(
                ("cluster", "kubernetes_version"),
                f'"{version}" {reason}; expected one of {supported} '
                f"(calendar of {calendar.date}: {calendar.source.split()[0]})",
            )
        ]
    return []


def check_image(settings: Settings) -> list[Problem]:
    """`latest` moves: two nodes could run different code, and nothing says which."""
    image = settings.image
    if "@" not in image and image.rsplit(":", 1)[-1] == "latest":
        return [
            settings.problem(
                ("image",),
                f"{image!r} is not pinned: latest changes under a running cluster; expected a "
                "fixed tag such as pangeo/pangeo-notebook:2025.11.13 or a digest "
                "(@sha256:<64 hex digits>)",
            )
        ]
    return []


# The catalog says x86_64 or arm64 (AWS's names); an image's manifest list says amd64 or arm64.
IMAGE_ARCHITECTURE = {"x86_64": "amd64", "arm64": "arm64"}


def _unusable(settings: Settings, path: KeyPath, found: InstanceType) -> list[Problem]:
    """A known type the stack cannot run on yet: GPUs, or an architecture the image lacks."""
    if found.gpus:
        return [
            settings.problem(
                path,
                f"{found.name} is a GPU type ({found.gpus} GPU); GPU workers need the NVIDIA "
                "device plugin and a CUDA image, which himat does not set up yet; choose a type "
                "without GPUs",
            )
        ]
    wanted = IMAGE_ARCHITECTURE.get(found.architecture)
    if wanted is not None and wanted not in settings.image_architectures:
        return [
            settings.problem(
                path,
                f"{found.name} is {found.architecture}, and image_architectures says the image "
                f"has no {wanted} build; if it has one (docker buildx imagetools inspect "
                f"{settings.image} lists the platforms), add {wanted} to image_architectures, "
                "else choose a type of another architecture",
            )
        ]
    return []


def check_instance_types(settings: Settings) -> list[Problem]:
    """Types must be known and usable, and the spot types must share one shape so the fit
    holds for all."""
    problems = []
    stable_path: KeyPath = ("stable", "instance_type")
    stable = instance_type(settings, settings.stable.instance_type)
    if stable is None:
        problems.append(_unknown_type(settings, stable_path, settings.stable.instance_type))
    else:
        problems.extend(_unusable(settings, stable_path, stable))
    known: list[tuple[int, InstanceType]] = []
    for index, name in enumerate(settings.spot.instance_types):
        found = instance_type(settings, name)
        if found is None:
            problems.append(_unknown_type(settings, ("spot", "instance_types", index), name))
        else:
            problems.extend(_unusable(settings, ("spot", "instance_types", index), found))
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
    spot = settings.spot
    if spot.nodes > spot.max_nodes:
        return [
            settings.problem(
                ("spot", "max_nodes"),
                f"{spot.max_nodes} is below spot.nodes ({spot.nodes}); expected max_nodes >= nodes",
            )
        ]
    return []


def check_workers(settings: Settings) -> list[Problem]:
    """`per_node` goes with cpu/memory auto, and auto needs it."""
    workers = settings.workers
    uses_auto = "auto" in (workers.cpu, workers.memory)
    if uses_auto and workers.per_node is None:
        return [
            settings.problem(
                ("workers", "per_node"),
                "missing; cpu or memory auto splits each spot node into per_node workers, "
                "expected a whole number such as 4",
            )
        ]
    if not uses_auto and workers.per_node is not None:
        return [
            settings.problem(
                ("workers", "per_node"),
                "is used only when workers.cpu or workers.memory is auto; set it to null",
            )
        ]
    problems = []
    for key, value, parse in (
        ("cpu", workers.cpu, cpu_millicores),
        ("memory", workers.memory, memory_mib),
    ):
        if value != "auto" and parse(value) <= 0:
            problems.append(settings.problem(("workers", key), "must be more than zero"))
    return problems


def check_idle(settings: Settings) -> list[Problem]:
    """Idle timers of at least a minute; adaptive bounds in order."""
    problems = []
    idle = settings.idle
    for key, value in (
        ("workers_after", idle.workers_after),
        ("hibernate_after", idle.hibernate_after),
    ):
        if value is not None and duration_s(value) < MIN_IDLE_S:
            problems.append(
                settings.problem(
                    ("idle", key),
                    f"{value!r} is too short; expected at least {MIN_IDLE_S}s (e.g. 30m), or null",
                )
            )
    adaptive = settings.workers.adaptive
    if adaptive is not None and adaptive.max != "auto" and adaptive.min > adaptive.max:
        problems.append(
            settings.problem(
                ("workers", "adaptive", "min"),
                f"{adaptive.min} is above workers.adaptive.max ({adaptive.max}); "
                "expected min <= max",
            )
        )
    return problems


def check_quantities(settings: Settings) -> list[Problem]:
    """Requests of zero would let the scheduler pack pods without limit."""
    problems = []
    for section, resources in (("scheduler", settings.scheduler), ("jupyter", settings.jupyter)):
        if cpu_millicores(resources.cpu) <= 0:
            problems.append(settings.problem((section, "cpu"), "must be more than zero"))
        if memory_mib(resources.memory) <= 0:
            problems.append(settings.problem((section, "memory"), "must be at least 1Mi"))
    storage_gib = memory_mib(settings.jupyter.storage) / 1024
    if not GP3_MIN_GIB <= storage_gib <= GP3_MAX_GIB:
        problems.append(
            settings.problem(
                ("jupyter", "storage"),
                f"{settings.jupyter.storage!r} is outside what a gp3 volume can be; "
                "expected 1Gi to 16Ti",
            )
        )
    return problems


def check_exposure(settings: Settings) -> list[Problem]:
    """A load balancer without source ranges would put Jupyter on the whole internet."""
    jupyter = settings.jupyter
    if jupyter.expose == "loadbalancer" and not jupyter.allowed_cidrs:
        return [
            settings.problem(
                ("jupyter", "allowed_cidrs"),
                "is empty; expose: loadbalancer needs the CIDRs that may connect, "
                "e.g. [203.0.113.0/24]",
            )
        ]
    problems = []
    for index, cidr in enumerate(jupyter.allowed_cidrs):
        if any(int(octet) > 255 for octet in cidr.split("/")[0].split(".")):
            problems.append(
                settings.problem(
                    ("jupyter", "allowed_cidrs", index), f"{cidr!r} is not an IPv4 CIDR"
                )
            )
        elif ipaddress.ip_network(cidr, strict=False).with_prefixlen != cidr:
            # The API server refuses a CIDR with bits set beyond its prefix length
            # (k8s.io/apimachinery pkg/util/validation/ip.go, parseCIDR).
            network = ipaddress.ip_network(cidr, strict=False).with_prefixlen
            problems.append(
                settings.problem(
                    ("jupyter", "allowed_cidrs", index),
                    f"{cidr!r} has bits set beyond the prefix length; use the network {network}",
                )
            )
    return problems


def bucket_name_problem(name: str) -> str | None:
    """S3 naming rules the schema's pattern cannot express.
    Source: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html"""
    if ".." in name or name.startswith("xn--") or name.endswith("-s3alias"):
        return f"{name!r} breaks the S3 bucket naming rules"
    if all(part.isdigit() for part in name.split(".")) and name.count(".") == 3:
        return f"{name!r} looks like an IP address, not a bucket name"
    return None


def check_buckets(settings: Settings) -> list[Problem]:
    """S3 naming rules the pattern cannot express, and no bucket listed twice."""
    problems = []
    counts = Counter(bucket.name for bucket in settings.data.buckets)
    for index, bucket in enumerate(settings.data.buckets):
        name = bucket.name
        path = ("data", "buckets", index, "name")
        if counts[name] > 1:
            problems.append(settings.problem(path, f"{name!r} is listed more than once"))
        naming = bucket_name_problem(name)
        if naming:
            problems.append(settings.problem(path, naming))
    return problems


def check_scratch(settings: Settings) -> list[Problem]:
    """The scratch bucket follows the same naming rules."""
    name = settings.data.scratch
    naming = None if name is None else bucket_name_problem(name)
    return [settings.problem(("data", "scratch"), naming)] if naming else []


def check_budget(settings: Settings) -> list[Problem]:
    """A budget that notifies nobody would fail to warn anyone (and AWS refuses alerts with
    no subscriber)."""
    budget = settings.budget
    if budget.monthly_usd is not None and not budget.notify:
        return [
            settings.problem(
                ("budget", "notify"),
                "is empty; budget.monthly_usd needs the email addresses its alerts go to, "
                "e.g. [glaciers@example.org]",
            )
        ]
    return []


Check = Callable[[Settings], list[Problem]]

# Each check with the settings it reads: a check runs only when none of them was refused by
# the schema or by a check before it, so one bad value gives one problem, not a cascade.
CHECKS: tuple[tuple[Check, tuple[KeyPath, ...]], ...] = (
    (check_region, (("cluster", "region"),)),
    (check_zones, (("cluster", "region"), ("cluster", "zones"))),
    (check_kubernetes_version, (("cluster", "kubernetes_version"), ("cluster", "support"))),
    (check_image, (("image",),)),
    (
        check_instance_types,
        (
            ("stable", "instance_type"),
            ("spot", "instance_types"),
            ("custom_instance_types",),
        ),
    ),
    (check_spot, (("spot", "nodes"), ("spot", "max_nodes"))),
    (check_workers, (("workers",),)),
    (check_idle, (("idle",), ("workers", "adaptive"))),
    (
        check_quantities,
        (("scheduler",), ("jupyter", "cpu"), ("jupyter", "memory"), ("jupyter", "storage")),
    ),
    (check_exposure, (("jupyter", "expose"), ("jupyter", "allowed_cidrs"))),
    (check_buckets, (("data", "buckets"),)),
    (check_scratch, (("data", "scratch"),)),
    (check_budget, (("budget",),)),
)


def check_settings(settings: Settings) -> list[Problem]:
    """Every cross-key problem at once, in file order (each check on its own)."""
    problems = [problem for check, _ in CHECKS for problem in check(settings)]
    return sorted(problems, key=lambda p: (p.line or 0, p.path))


def settings_warnings(settings: Settings) -> list[str]:
    """Allowed but costly: a Kubernetes version in extended support, as `file:line key: text`."""
    calendar = load_calendar()
    info = calendar.versions.get(settings.cluster.kubernetes_version)
    if info is None or info.phase(today()) != "extended":
        return []
    message = (
        f'"{info.version}" is in EKS extended support since {info.end_of_standard_support} '
        f"(until {info.end_of_extended_support}): the control plane costs USD "
        f"{calendar.extended_usd_per_hour:.2f}/h instead of {calendar.standard_usd_per_hour:.2f}/h "
        f"(about +{calendar.extra_usd_per_month():.0f} USD/month)"
    )
    if settings.cluster.support == "standard":
        message += (
            "; cluster.support: standard cannot apply to a version already past standard "
            "support, so the cluster is rendered with supportType EXTENDED; choose "
            + " or ".join(f'"{v}"' for v in calendar.in_standard_support(today()))
            + " to pay the standard price"
        )
    return [str(settings.problem(("cluster", "kubernetes_version"), message))]
