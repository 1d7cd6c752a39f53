"""Every name and port in pangeo_himat.render.names is what `helm template` really produces, so the
lifecycle verbs (connect, status, destroy) address objects that exist."""

from __future__ import annotations

import pytest
import yaml

from conftest import helm_template, of_kind, pod_specs
from pangeo_himat.render import names

CLUSTER = "glacier-lab"


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    """The chart as `himat install` deploys it: release and namespace named by names.py."""
    values = tmp_path_factory.mktemp("names") / "values.yaml"
    values.write_text(yaml.safe_dump({"worker": {"replicas": 2}}))
    return helm_template(
        values, release=names.release_name(CLUSTER), namespace=names.namespace(CLUSTER)
    )


def named(documents: list[dict], kind: str, name: str) -> dict:
    matches = [d for d in of_kind(documents, kind) if d["metadata"]["name"] == name]
    assert len(matches) == 1, (
        kind,
        name,
        [d["metadata"]["name"] for d in of_kind(documents, kind)],
    )
    return matches[0]


def test_every_namespaced_object_is_in_the_release_namespace(documents):
    for doc in documents:
        if doc["kind"] != "StorageClass":
            assert doc["metadata"]["namespace"] == names.namespace(CLUSTER), doc["kind"]
        assert doc["metadata"]["labels"]["app.kubernetes.io/instance"] == names.release_name(
            CLUSTER
        )


def test_scheduler_service_and_its_ports(documents):
    service = named(documents, "Service", names.scheduler_service(CLUSTER))
    assert {p["port"] for p in service["spec"]["ports"]} == {
        names.SCHEDULER_PORT,
        names.DASHBOARD_PORT,
    }
    scheduler = pod_specs(documents)[f"Deployment/{names.scheduler_service(CLUSTER)}"]
    ports = {p["containerPort"] for p in scheduler["containers"][0]["ports"]}
    assert ports == {names.SCHEDULER_PORT, names.DASHBOARD_PORT}
    args = scheduler["containers"][0]["args"]
    assert args[args.index("--port") + 1] == str(names.SCHEDULER_PORT)
    assert args[args.index("--dashboard-address") + 1] == f":{names.DASHBOARD_PORT}"


def test_jupyter_service_selects_the_jupyter_pod(documents):
    service = named(documents, "Service", names.jupyter_service(CLUSTER))
    deployment = named(documents, "Deployment", names.jupyter_service(CLUSTER))
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert labels["app.kubernetes.io/component"] == "jupyter"


def test_workers_and_jupyter_run_as_the_user_service_account(documents):
    named(documents, "ServiceAccount", names.user_service_account(CLUSTER))
    specs = pod_specs(documents)
    users = {
        n
        for n, s in specs.items()
        if s["serviceAccountName"] == names.user_service_account(CLUSTER)
    }
    assert users == {
        f"Deployment/{names.jupyter_service(CLUSTER)}",
        f"Deployment/{names.release_name(CLUSTER)}-worker",
    }


def test_token_secret_and_home_claim(documents):
    secret = named(documents, "Secret", names.token_secret(CLUSTER))
    assert "token" in secret["data"]
    claim = named(documents, "PersistentVolumeClaim", names.jupyter_pvc(CLUSTER))
    jupyter = pod_specs(documents)[f"Deployment/{names.jupyter_service(CLUSTER)}"]
    claims = [
        v["persistentVolumeClaim"]["claimName"]
        for v in jupyter["volumes"]
        if "persistentVolumeClaim" in v
    ]
    assert claims == [claim["metadata"]["name"]]


def test_scheduler_address_the_pods_are_given(documents):
    address = f"tcp://{names.scheduler_service(CLUSTER)}:{names.SCHEDULER_PORT}"
    for name, spec in pod_specs(documents).items():
        env = {e["name"]: e.get("value") for e in spec["containers"][0].get("env", [])}
        if "DASK_SCHEDULER_ADDRESS" in env:
            assert env["DASK_SCHEDULER_ADDRESS"] == address, name


def test_every_object_carries_the_component_of_its_folder(documents):
    components = {
        d["metadata"]["labels"].get("app.kubernetes.io/component")
        for d in documents
        if d["kind"] != "ServiceAccount"
    }
    assert components == {"jupyter", "scheduler", "worker", "controller", "test"}
