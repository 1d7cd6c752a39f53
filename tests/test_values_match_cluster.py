"""The generator knows both sides: every selector and toleration in the rendered chart must
match a label or taint of a nodegroup in the rendered ClusterConfig."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import CHART, VARIANTS, helm_template, pod_specs, write_settings
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.render import names
from pangeo_himat.render.render import render_all

CHOSEN = ["defaults", "hibernating", "load-balancer", "three-buckets", "eu-west-1-spread"]


def rendered_template(values: dict, folder: Path) -> list[dict]:
    values_file = folder / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    return helm_template(values_file)


@pytest.fixture(params=CHOSEN, scope="module")
def rendered_chart(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    settings = load_settings(write_settings(folder, VARIANTS[request.param]))
    rendered = render_all(settings)
    return rendered, rendered_template(rendered.values, folder)


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_rendered_values_validate_against_the_chart_schema(variant, tmp_path):
    schema = json.loads((CHART / "values.schema.json").read_text())
    rendered = render_all(load_settings(write_settings(tmp_path, VARIANTS[variant])))
    jsonschema.Draft7Validator(schema).validate(rendered.values)


def test_every_selector_and_toleration_matches_a_nodegroup(rendered_chart):
    rendered, documents = rendered_chart
    config = rendered.cluster_config
    groups = config["managedNodeGroups"] + config["nodeGroups"]
    taints = [(t["key"], t["value"], t["effect"]) for g in groups for t in g.get("taints", [])]
    for name, spec in pod_specs(documents).items():
        selector = spec.get("nodeSelector", {})
        assert selector, f"{name} has no nodeSelector"
        homes = [g for g in groups if selector.items() <= g["labels"].items()]
        assert homes, f"{name} selects {selector}, which no nodegroup carries"
        for toleration in spec.get("tolerations", []):
            wanted = (toleration["key"], toleration.get("value"), toleration["effect"])
            assert wanted in taints, f"{name} tolerates {wanted}, which no nodegroup has"
        for home in homes:
            for key, value, effect in [
                (t["key"], t["value"], t["effect"]) for t in home.get("taints", [])
            ]:
                assert any(
                    t["key"] == key and t.get("value") == value and t["effect"] == effect
                    for t in spec.get("tolerations", [])
                ), f"{name} selects {home['name']} but does not tolerate its taint {key}"


def test_only_workers_land_on_spot_nodes(rendered_chart):
    _, documents = rendered_chart
    worker_key, worker_value = names.WORKER_LABEL
    for name, spec in pod_specs(documents).items():
        on_spot = spec.get("nodeSelector", {}).get(worker_key) == worker_value
        tolerates = any(t["key"] == names.WORKER_TAINT["key"] for t in spec.get("tolerations", []))
        is_worker = name == "Deployment/himat-worker"
        assert on_spot == is_worker and tolerates == is_worker, name


def test_storage_zone_is_the_stable_nodes_zone(rendered_chart):
    rendered, documents = rendered_chart
    (stable,) = rendered.cluster_config["managedNodeGroups"]
    (storage_class,) = [d for d in documents if d["kind"] == "StorageClass"]
    zones = [
        value
        for term in storage_class["allowedTopologies"]
        for expression in term["matchLabelExpressions"]
        for value in expression["values"]
    ]
    assert zones == stable["availabilityZones"]
