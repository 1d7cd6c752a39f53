"""The names and ports the lifecycle verbs act on (names.py) are those of the objects the chart
creates, read from `helm template` of what `himat render` writes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.lifecycle.steps import Target
from pangeo_himat.render import names
from pangeo_himat.render.render import render_all

HELM = Path(os.environ.get("HIMAT_HELM4", ROOT / ".tools" / "bin" / "helm"))
CLUSTER = "himat"


@pytest.fixture(scope="module")
def objects(tmp_path_factory) -> dict[tuple[str, str], dict]:
    if not HELM.exists():
        pytest.skip(f"helm is not installed at {HELM}; `make tools` installs it")
    settings = load_settings(ROOT / "settings.yaml")
    assert settings.cluster.name == CLUSTER
    values = tmp_path_factory.mktemp("values") / names.VALUES_FILE
    values.write_text(yaml.safe_dump(render_all(settings).values))
    target = Target.of(settings)
    argv = [str(HELM), "template", target.release, str(ROOT / target.chart)]
    result = subprocess.run(
        [*argv, "-n", target.namespace, "-f", str(values)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    documents = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    return {(doc["kind"], doc["metadata"]["name"]): doc for doc in documents}


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        ("Deployment", names.worker_deployment(CLUSTER)),
        ("Service", names.jupyter_service(CLUSTER)),
        ("Service", names.scheduler_service(CLUSTER)),
        ("Secret", names.token_secret(CLUSTER)),
        ("PersistentVolumeClaim", names.jupyter_pvc(CLUSTER)),
        ("ServiceAccount", names.user_service_account(CLUSTER)),
    ],
)
def test_each_name_the_verbs_use_is_an_object_of_the_chart(objects, kind, name):
    assert (kind, name) in objects, sorted(objects)


def test_the_forwarded_ports_are_the_services_ports(objects):
    jupyter = objects[("Service", names.jupyter_service(CLUSTER))]["spec"]["ports"]
    scheduler = objects[("Service", names.scheduler_service(CLUSTER))]["spec"]["ports"]
    assert names.JUPYTER_SERVICE_PORT in [port["port"] for port in jupyter]
    assert {names.SCHEDULER_PORT, names.DASHBOARD_PORT} <= {port["port"] for port in scheduler}


def test_status_finds_the_pods_by_the_labels_the_chart_sets(objects):
    for (kind, name), doc in objects.items():
        if kind in ("Deployment", "StatefulSet"):
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert labels.get(names.INSTANCE_LABEL) == CLUSTER, name
            assert names.COMPONENT_LABEL in labels, name
