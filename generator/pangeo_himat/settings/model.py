"""The validated settings as typed, immutable objects: what every stage after `settings` reads.

The JSON Schema (values.schema.json) stays the one source of keys, defaults and documentation;
these classes only give its shape to mypy. Every field is named after its schema key, so
`settings["workers"]["count"]` is `settings.workers.count`; lists are tuples and mappings are
read-only. settings/agreement.py compares the two, and a test keeps them equal. The objects are
built once, from a document that passed the schema with its defaults filled in (`from_document`).
Quantities keep the text the user wrote (`400m`, `16Gi`, `30m`): their unit is in the value, and
settings/quantities.py turns them into numbers with the unit in the name.
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, Union, get_args, get_origin, get_type_hints

from pangeo_himat.settings.errors import Problem
from pangeo_himat.settings.quantities import duration_s
from pangeo_himat.settings.yaml_lines import KeyPath, dotted

EMBEDDED_DEFAULTS = "<embedded defaults>"

# A Kubernetes CPU quantity as written: "400m", 0.5 or 2 (the schema's $defs/cpu).
CpuQuantity = str | int | float
Auto = Literal["auto"]


@dataclass(frozen=True)
class ClusterSettings:
    name: str
    region: str
    kubernetes_version: str
    support: Literal["standard", "extended"]
    zones: tuple[str, ...]
    tags: Mapping[str, str]


@dataclass(frozen=True)
class StableSettings:
    instance_type: str


@dataclass(frozen=True)
class SpotSettings:
    instance_types: tuple[str, ...]
    max_price: float | None
    nodes: int
    max_nodes: int
    spread_zones: bool


@dataclass(frozen=True)
class Resources:
    """Requests of a pod: a CPU and a memory quantity (scheduler)."""

    cpu: CpuQuantity
    memory: str


@dataclass(frozen=True)
class AdaptiveSettings:
    min: int
    max: int | Auto


@dataclass(frozen=True)
class WorkersSettings:
    count: int | Auto
    cpu: CpuQuantity | Auto
    memory: str
    per_node: int | None
    processes: int
    threads: int
    adaptive: AdaptiveSettings | None


@dataclass(frozen=True)
class IdleSettings:
    """Durations as written (`30m`, `8h`); settings.quantities.duration_s gives seconds."""

    workers_after: str | None
    hibernate_after: str | None

    @property
    def workers_after_s(self) -> int | None:
        return None if self.workers_after is None else duration_s(self.workers_after)

    @property
    def hibernate_after_s(self) -> int | None:
        return None if self.hibernate_after is None else duration_s(self.hibernate_after)


@dataclass(frozen=True)
class BackupSettings:
    schedule: Literal["daily", "off", False]
    keep: int


@dataclass(frozen=True)
class JupyterSettings:
    cpu: CpuQuantity
    memory: str
    storage: str
    expose: Literal["port-forward", "loadbalancer"]
    allowed_cidrs: tuple[str, ...]
    tls_certificate_arn: str | None
    volume_id: str | None
    backup: BackupSettings


@dataclass(frozen=True)
class Bucket:
    name: str
    access: Literal["read", "readwrite"]


@dataclass(frozen=True)
class DataSettings:
    buckets: tuple[Bucket, ...]
    scratch: str | None


@dataclass(frozen=True)
class BudgetSettings:
    monthly_usd: float | None
    notify: tuple[str, ...]


@dataclass(frozen=True)
class CustomInstanceType:
    vcpu: int
    memory: str
    max_enis: int
    ipv4_per_eni: int
    usd_per_hour: float | None


# Fields the reader adds beside the schema's keys: where the settings came from.
NOT_FROM_SCHEMA = {"source": True}


@dataclass(frozen=True)
class Settings:
    """Validated settings with defaults filled in; `lines` maps key paths to file lines."""

    cluster: ClusterSettings
    stable: StableSettings
    spot: SpotSettings
    hibernate: bool
    image: str
    image_architectures: tuple[Literal["amd64", "arm64"], ...]
    scheduler: Resources
    workers: WorkersSettings
    idle: IdleSettings
    jupyter: JupyterSettings
    data: DataSettings
    budget: BudgetSettings
    custom_instance_types: Mapping[str, CustomInstanceType]
    instance_prices: Mapping[str, float]
    file: str = field(default=EMBEDDED_DEFAULTS, metadata=NOT_FROM_SCHEMA)
    lines: Mapping[KeyPath, int] = field(
        default_factory=dict, compare=False, repr=False, metadata=NOT_FROM_SCHEMA
    )
    # Things that are allowed but cost money or will soon stop working (stderr, exit 0).
    warnings: tuple[str, ...] = field(default=(), metadata=NOT_FROM_SCHEMA)

    def line_of(self, *path: str | int) -> int | None:
        """The line of a key, or of its nearest written parent (defaults have no line)."""
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return None

    def problem(self, path: KeyPath, message: str) -> Problem:
        """A Problem located at a key of these settings."""
        return Problem(self.file, self.line_of(*path), dotted(path), message)

    def replaced(self, path: tuple[str, ...], value: object) -> Settings:
        """A copy with the value at `path` changed (what a plan would make of the cluster)."""
        changed = _replaced_at(self, path, value)
        assert isinstance(changed, Settings)
        return changed


def _replaced_at(node: object, path: tuple[str, ...], value: object) -> object:
    if not path:
        return value
    head, rest = path[0], path[1:]
    assert dataclasses.is_dataclass(node) and not isinstance(node, type)
    return dataclasses.replace(node, **{head: _replaced_at(getattr(node, head), rest, value)})


def _build(kind: object, value: object) -> object:
    """A value of the document as the annotated type: dataclasses, tuples, mappings."""
    if isinstance(kind, type) and dataclasses.is_dataclass(kind) and isinstance(value, dict):
        hints = get_type_hints(kind)
        return kind(
            **{
                f.name: _build(hints[f.name], value[f.name])
                for f in dataclasses.fields(kind)
                if f.name in value
            }
        )
    origin = get_origin(kind)
    if origin is tuple and isinstance(value, list):
        return tuple(_build(get_args(kind)[0], item) for item in value)
    if origin is Mapping and isinstance(value, dict):
        return {key: _build(get_args(kind)[1], item) for key, item in value.items()}
    if origin in (Union, types.UnionType) and isinstance(value, dict):
        for option in get_args(kind):
            if isinstance(option, type) and dataclasses.is_dataclass(option):
                return _build(option, value)
    return value


def from_document(
    document: Mapping[str, object],
    file: str = EMBEDDED_DEFAULTS,
    lines: Mapping[KeyPath, int] | None = None,
) -> Settings:
    """Settings from a document that passed the schema and has its defaults filled in."""
    built = _build(Settings, {**document, "file": file, "lines": dict(lines or {})})
    assert isinstance(built, Settings)
    return built
