"""`himat import-tfvars`: the original Terraform variables -> an equivalent settings file.

The original system's terraform.tfvars held flat `key = value` lines (strings, numbers, and
comments). Every knob has a home in settings.yaml; the few that no longer mean anything
(output paths of the kubeconfig and aws-auth ConfigMap, which eksctl writes itself) are
reported and dropped.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from pangeo_himat.fit.fit import compute_fit
from pangeo_himat.fit.loader import parse_settings
from pangeo_himat.render import names
from pangeo_himat.render.writer import to_yaml
from pangeo_himat.settings.errors import InputError, Problem
from pangeo_himat.settings.schema import apply_defaults, settings_schema
from pangeo_himat.settings.shipped import schema_path
from pangeo_himat.settings.versions import load_calendar, today

SCHEMA_FILE = names.SCHEMA_FILE

_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$")
_SUPPORTED_VERSIONS = load_calendar().in_standard_support(today())

# tfvars name -> (settings path, converter). Units follow the original variable names.
MAPPING: dict[str, tuple[tuple[str, ...], Any]] = {
    "cluster_name": (("cluster", "name"), str),
    "cluster_region": (("cluster", "region"), str),
    "cluster_version": (("cluster", "kubernetes_version"), str),
    "stable_instance_type": (("stable", "instance_type"), str),
    "spot_instance_type": (("spot", "instance_types"), lambda v: [v]),
    "spot_instance_types": (("spot", "instance_types"), list),
    "spot_price": (("spot", "max_price"), float),
    "spot_node_count": (("spot", "nodes"), int),
    "worker_image": (("image",), str),
    "dask_worker_count": (("workers", "count"), int),
    "dask_worker_mb_ram": (("workers", "memory"), lambda v: f"{int(v)}Mi"),
    "dask_worker_milli_cpu": (("workers", "cpu"), lambda v: f"{int(v)}m"),
    "dask_worker_threads": (("workers", "threads"), int),
    "dask_worker_procs": (("workers", "processes"), int),
    "dask_scheduler_mb_ram": (("scheduler", "memory"), lambda v: f"{int(v)}Mi"),
    "dask_scheduler_milli_cpu": (("scheduler", "cpu"), lambda v: f"{int(v)}m"),
    "jupyter_mb_ram": (("jupyter", "memory"), lambda v: f"{int(v)}Mi"),
    "jupyter_milli_cpu": (("jupyter", "cpu"), lambda v: f"{int(v)}m"),
    "jupyter_gb_storage": (("jupyter", "storage"), lambda v: f"{int(v)}Gi"),
    "hibernate": (("hibernate",), lambda v: str(v).lower() == "true"),
}
DROPPED = {
    "config_map_output_path": "eksctl manages the aws-auth mapping itself",
    "kubeconfig_output_path": "eksctl writes the kubeconfig entry (himat cluster)",
}


def parse_tfvars(text: str, file: str) -> tuple[dict[str, Any], dict[str, int], list[Problem]]:
    """Flat `name = value` assignments with their lines; anything richer is a problem."""
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    problems: list[Problem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = _strip_comment(raw)
        if not line.strip():
            continue
        match = _LINE.match(line)
        if not match:
            problems.append(Problem(file, number, "", "expected `name = value`"))
            continue
        name, value = match.groups()
        try:
            values[name] = _parse_value(value)
        except ValueError:
            problems.append(Problem(file, number, name, f"cannot read the value {value!r}"))
            continue
        lines[name] = number
    return values, lines, problems


def _strip_comment(line: str) -> str:
    """Remove a trailing # or // comment that is outside a quoted string."""
    quoted = False
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif not quoted and (char == "#" or line.startswith("//", index)):
            return line[:index]
    return line


def _parse_value(text: str) -> Any:
    if text.startswith('"') and text.endswith('"') and len(text) >= 2:
        return text[1:-1]
    if text.startswith("[") and text.endswith("]"):
        return [_parse_value(item.strip()) for item in text[1:-1].split(",") if item.strip()]
    if text in ("true", "false"):
        return text == "true"
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    if re.fullmatch(r"-?\d+\.\d*", text):
        return float(text)
    raise ValueError(text)


def schema_comment(output: Path | None) -> str:
    """The `$schema` a YAML editor resolves from where the settings file is written.

    Relative when the file lands inside the folder that holds the schema (a checkout), so the
    checkout can move; absolute anywhere else, so the file can move on its own.
    """
    schema = schema_path()
    if output is None:
        return SCHEMA_FILE
    folder = output.resolve().parent
    if folder.is_relative_to(schema.parent):
        return Path(os.path.relpath(schema, folder)).as_posix()
    return schema.as_posix()


def import_tfvars(path: Path, schema: str = SCHEMA_FILE) -> tuple[str, list[str]]:
    """Settings YAML equivalent to a terraform.tfvars file, and notes on what changed."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputError([Problem(str(path), None, "", f"cannot be read: {error}")]) from None
    values, lines, problems = parse_tfvars(text, str(path))
    document: dict[str, Any] = {}
    notes: list[str] = []
    for name, value in values.items():
        if name in DROPPED:
            notes.append(f"{name}: dropped, {DROPPED[name]}")
            continue
        if name not in MAPPING:
            problems.append(
                Problem(
                    str(path),
                    lines[name],
                    name,
                    "unknown variable; expected one of: " + ", ".join(sorted(MAPPING)),
                )
            )
            continue
        target, convert = MAPPING[name]
        try:
            converted = convert(value)
        except (TypeError, ValueError):
            problems.append(Problem(str(path), lines[name], name, f"cannot use {value!r}"))
            continue
        node = document
        for key in target[:-1]:
            node = node.setdefault(key, {})
        node[target[-1]] = converted
    image = values.get("worker_image")
    if isinstance(image, str) and not _pinned(image):
        problems.append(Problem(str(path), lines["worker_image"], "worker_image", _pin_hint(image)))
    if problems:
        raise InputError(problems)
    _modernise(document, notes)
    return to_yaml(document, _header(path, schema)), notes


def _modernise(document: dict[str, Any], notes: list[str]) -> None:
    """Fill what the original hard-coded, and replace what EKS no longer runs."""
    defaults = apply_defaults({"cluster": {}}, settings_schema())
    cluster = document.setdefault("cluster", {})
    cluster.setdefault("name", defaults["cluster"]["name"])
    region = cluster.setdefault("region", defaults["cluster"]["region"])
    version = cluster.get("kubernetes_version")
    if version not in _SUPPORTED_VERSIONS:
        cluster["kubernetes_version"] = defaults["cluster"]["kubernetes_version"]
        notes.append(
            f"cluster_version {version!r} is not supported by EKS any more; "
            f"using {cluster['kubernetes_version']!r}"
        )
    cluster["zones"] = [f"{region}a", f"{region}b"]
    notes.append(f"zones: the original hard-coded its zone; using {region}a and {region}b")
    # The fit below needs settings that validate (the image is pinned already).
    workers = document.get("workers", {})
    if "count" in workers:
        fitting = _workers_that_fit(document)
        if fitting is not None and workers["count"] > fitting:
            notes.append(
                f"dask_worker_count {workers['count']}: the original asked for more workers "
                f"than fit ({fitting}) and let the rest stay Pending; count: auto schedules "
                "exactly as many as fit"
            )
            workers["count"] = "auto"


def _pinned(image: str) -> bool:
    """A digest, or a tag other than latest (an image without a tag means latest)."""
    if "@" in image:
        return True
    name = image.rsplit("/", 1)[-1]
    return ":" in name and not name.endswith(":latest")


def _pin_hint(image: str) -> str:
    """The group's own image is kept, pinned: the exact lines that pin it, and how."""
    repository = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
    return (
        f"{image!r} is not pinned (latest changes under a running cluster); himat keeps your "
        f'image: pin it by digest, worker_image = "{repository}@sha256:<digest>" (`docker '
        f"buildx imagetools inspect {image}` prints the digest), or by tag, "
        f'worker_image = "{repository}:<tag>"'
    )


def _workers_that_fit(document: dict[str, Any]) -> int | None:
    """How many workers fit with `count: auto` (None when the settings do not validate yet)."""
    auto = {**document, "workers": {**document["workers"], "count": "auto"}}
    try:
        return compute_fit(parse_settings(to_yaml(auto), "<imported settings>")).worker_count
    except InputError:
        return None


def _header(path: Path, schema: str) -> str:
    return (
        f"# yaml-language-server: $schema={schema}\n"
        f"# Imported by `himat import-tfvars` from {path}. Keys not set here take the\n"
        "# defaults documented in values.schema.json.\n"
    )
