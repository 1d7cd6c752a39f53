"""The typed settings (model.py) and the JSON Schema (values.schema.json) describe one shape.

Every schema key has a field of the same name and every field a schema key; each alternative
the schema allows (a type, a constant, an enum value) is read by an alternative of the field's
annotation, and the other way round; mappings, lists and nested objects are compared inside.
`schema_mismatches` lists where they part (a test keeps the list empty).
"""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

from pangeo_himat.settings.model import Settings
from pangeo_himat.settings.schema import resolve_ref
from pangeo_himat.settings.yaml_lines import KeyPath, dotted


@dataclass(frozen=True)
class Const:
    """One value a Literal annotation or a schema const/enum allows."""

    value: object

    def __eq__(self, other: object) -> bool:
        # False == 0 in Python, not in the schema.
        return (
            isinstance(other, Const)
            and type(self.value) is type(other.value)
            and self.value == other.value
        )

    def __hash__(self) -> int:
        return hash((type(self.value), self.value))


# JSON Schema type -> the Python types that read it (PyYAML gives int for 2 and float for 2.5).
READS = {
    "string": (str,),
    "integer": (int,),
    "number": (float, int),
    "boolean": (bool,),
    "null": (type(None),),
}


def annotation_options(kind: object) -> list[object]:
    """The alternatives of an annotation: union members and Literal values, flattened."""
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        return [inner for arg in get_args(kind) for inner in annotation_options(arg)]
    if origin is Literal:
        return [Const(value) for value in get_args(kind)]
    return [kind]


def schema_options(node: dict[str, Any], root: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of a schema node: anyOf members, enum values, each listed type."""
    node = resolve_ref(node, root)
    if "anyOf" in node:
        return [alt for member in node["anyOf"] for alt in schema_options(member, root)]
    if "enum" in node:
        return [{"const": value} for value in node["enum"]]
    kinds = node.get("type", "object" if "properties" in node else None)
    if isinstance(kinds, list):
        return [{**node, "type": kind} for kind in kinds]
    return [{**node, "type": kinds}]


def _is_dataclass(option: object) -> bool:
    return isinstance(option, type) and dataclasses.is_dataclass(option)


def reads(option: object, alternative: dict[str, Any]) -> bool:
    """Whether one annotation alternative reads the values of one schema alternative."""
    if "const" in alternative:
        return option == Const(alternative["const"]) or (
            isinstance(option, type) and isinstance(alternative["const"], option)
        )
    kind = alternative.get("type")
    if kind == "object":
        if _is_dataclass(option):
            return "properties" in alternative
        return get_origin(option) is Mapping and isinstance(
            alternative.get("additionalProperties"), dict
        )
    if kind == "array":
        return get_origin(option) is tuple
    return option in READS.get(str(kind), ())


def _where(path: KeyPath) -> str:
    return dotted(path) or "<settings>"


def compare(
    kind: object, node: dict[str, Any], root: dict[str, Any], path: KeyPath = ()
) -> list[str]:
    """Where an annotation and a schema node part, as `dotted.key: what` lines."""
    options = annotation_options(kind)
    alternatives = schema_options(node, root)
    found = [
        f"{_where(path)}: the schema allows {alt}, the type {kind} does not read it"
        for alt in alternatives
        if not any(reads(option, alt) for option in options)
    ]
    found += [
        f"{_where(path)}: the type allows {option}, the schema does not"
        for option in options
        if not any(reads(option, alt) for alt in alternatives)
    ]
    for option in options:
        for alt in alternatives:
            if reads(option, alt):
                found += _compare_inside(option, alt, root, path)
    return found


def _compare_inside(
    option: object, alt: dict[str, Any], root: dict[str, Any], path: KeyPath
) -> list[str]:
    """Compare a matched pair inside: fields and properties, items, mapping values."""
    if _is_dataclass(option) and "properties" in alt:
        assert isinstance(option, type)
        hints = get_type_hints(option)
        fields = {f.name for f in dataclasses.fields(option) if not f.metadata}
        properties: dict[str, Any] = alt["properties"]
        found = [
            f"{_where((*path, key))}: in the schema, not in {option.__name__}"
            for key in sorted(set(properties) - fields)
        ]
        found += [
            f"{_where((*path, key))}: in {option.__name__}, not in the schema"
            for key in sorted(fields - set(properties))
        ]
        for key in sorted(fields & set(properties)):
            found += compare(hints[key], properties[key], root, (*path, key))
        return found
    if get_origin(option) is tuple and isinstance(alt.get("items"), dict):
        return compare(get_args(option)[0], alt["items"], root, (*path, 0))
    if get_origin(option) is Mapping and isinstance(alt.get("additionalProperties"), dict):
        return compare(get_args(option)[1], alt["additionalProperties"], root, (*path, "*"))
    return []


def schema_mismatches(schema: dict[str, Any], root_type: object = Settings) -> list[str]:
    """Every place where the settings' types and the JSON Schema part (none is the goal)."""
    return compare(root_type, schema, schema)
