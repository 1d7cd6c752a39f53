"""The typed settings agree with the JSON Schema, carry no Any, and cannot be changed."""

from __future__ import annotations

import copy
import dataclasses
import typing
from typing import Any

import pytest

from pangeo_himat.fit.loader import load_settings
from pangeo_himat.settings import model
from pangeo_himat.settings.agreement import annotation_options, schema_mismatches
from pangeo_himat.settings.schema import settings_schema


def schema_copy() -> dict[str, Any]:
    return copy.deepcopy(settings_schema())


def test_the_settings_types_and_the_schema_agree():
    assert schema_mismatches(settings_schema()) == []


def test_a_schema_key_without_a_field_is_reported():
    schema = schema_copy()
    schema["properties"]["workers"]["properties"]["gpus"] = {"type": "integer", "default": 0}
    assert schema_mismatches(schema) == ["workers.gpus: in the schema, not in WorkersSettings"]


def test_a_field_without_a_schema_key_is_reported():
    schema = schema_copy()
    del schema["properties"]["budget"]["properties"]["notify"]
    assert schema_mismatches(schema) == ["budget.notify: in BudgetSettings, not in the schema"]


def test_a_type_the_schema_does_not_allow_is_reported():
    schema = schema_copy()
    schema["properties"]["spot"]["properties"]["nodes"]["type"] = "string"
    found = schema_mismatches(schema)
    assert len(found) == 2
    assert all(line.startswith("spot.nodes: ") for line in found)


def test_an_enum_value_the_type_does_not_list_is_reported():
    schema = schema_copy()
    schema["properties"]["jupyter"]["properties"]["expose"]["enum"].append("ingress")
    (line,) = schema_mismatches(schema)
    assert line.startswith("jupyter.expose: the schema allows {'const': 'ingress'}")


def test_a_nested_list_item_is_compared_inside():
    schema = schema_copy()
    bucket = schema["properties"]["data"]["properties"]["buckets"]["items"]
    bucket["properties"]["access"]["enum"] = ["read"]
    (line,) = schema_mismatches(schema)
    assert line.startswith("data.buckets[0].access: the type allows Const(value='readwrite')")


def annotations_under(kind: object, seen: set[object]) -> list[object]:
    """Every annotation reachable from a type: union members, items, dataclass fields."""
    if kind in seen:
        return []
    seen.add(kind)
    found = [kind]
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        for hint in typing.get_type_hints(kind).values():
            found += annotations_under(hint, seen)
    for arg in typing.get_args(kind):
        found += annotations_under(arg, seen)
    return found


def test_no_settings_type_is_any():
    reachable = annotations_under(model.Settings, set())
    assert typing.Any not in reachable
    assert len([k for k in reachable if dataclasses.is_dataclass(k)]) == 14


def test_settings_cannot_be_changed_after_loading():
    settings = load_settings(None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.workers.count = 3  # type: ignore[misc]
    assert isinstance(settings.cluster.zones, tuple)


def test_the_loaded_values_are_the_schema_defaults():
    settings = load_settings(None)
    schema = settings_schema()["properties"]
    assert settings.spot.instance_types == tuple(
        schema["spot"]["properties"]["instance_types"]["default"]
    )
    assert settings.workers.count == schema["workers"]["properties"]["count"]["default"]
    assert settings.workers.adaptive is None
    assert settings.file == model.EMBEDDED_DEFAULTS


def test_an_adaptive_mapping_becomes_its_dataclass(tmp_path):
    path = tmp_path / "settings.yaml"
    path.write_text(
        "cluster: {name: himat, region: us-west-2, zones: [us-west-2a, us-west-2b]}\n"
        "workers: {adaptive: {min: 1, max: auto}}\n"
    )
    settings = load_settings(path)
    assert settings.workers.adaptive == model.AdaptiveSettings(min=1, max="auto")
    assert settings.problem(("workers", "adaptive", "min"), "x").line == 2


def test_literal_options_are_compared_by_type_too():
    # False is 0 in Python; the schema's `false` (backup schedule off) is not a number.
    options = annotation_options(typing.Literal["off", False])
    assert options[1] != annotation_options(typing.Literal[0])[0]
