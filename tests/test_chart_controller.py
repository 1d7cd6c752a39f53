"""The chart's worker controller: what it may do in the API, what it runs, where, and with what."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from conftest import (
    CHART,
    CHECKOV,
    CONTROLLER_VARIANTS,
    KUBERNETES_VERSIONS,
    deployment_pod_spec,
    of_kind,
    render_chart_from_settings,
)
from pangeo_himat.controller import __main__ as controller_main
from pangeo_himat.render import names

_CACHE: dict[str, list[dict[str, Any]]] = {}


def rendered(variant: str, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    if variant not in _CACHE:
        folder = tmp_path_factory.mktemp(variant)
        _CACHE[variant] = render_chart_from_settings(folder, CONTROLLER_VARIANTS[variant])
    return _CACHE[variant]


def controller_args(documents: list[dict[str, Any]]) -> dict[str, str]:
    (container,) = deployment_pod_spec(documents, "-controller")["containers"]
    args = container["args"]
    assert args[:3] == ["python", "-m", "controller"]
    return dict(arg.removeprefix("--").split("=", 1) for arg in args[3:])


@pytest.mark.parametrize("variant", sorted(CONTROLLER_VARIANTS))
def test_controller_role_is_namespaced_and_grants_only_the_listed_verbs(variant, tmp_path_factory):
    documents = rendered(variant, tmp_path_factory)
    assert not of_kind(documents, "ClusterRole")
    assert not of_kind(documents, "ClusterRoleBinding")
    (role,) = of_kind(documents, "Role")
    assert role["metadata"]["namespace"] == names.namespace("himat")
    assert role["rules"] == [
        {
            "apiGroups": ["apps"],
            "resources": ["deployments/scale"],
            "resourceNames": [names.worker_deployment("himat")],
            "verbs": ["get", "patch"],
        },
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["list", "patch"]},
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": [names.sleep_configmap("himat")],
            "verbs": ["get", "patch"],
        },
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]},
    ]
    (binding,) = of_kind(documents, "RoleBinding")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": role["metadata"]["name"],
    }
    spec = deployment_pod_spec(documents, "-controller")
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": spec["serviceAccountName"], "namespace": "himat"}
    ]


def test_no_template_of_the_chart_makes_a_cluster_wide_object():
    for template in (CHART / "templates").rglob("*.yaml"):
        text = template.read_text()
        assert "kind: ClusterRole" not in text, template


def test_controller_runs_the_shipped_files_through_the_image_entrypoint(tmp_path_factory):
    documents = rendered("controller-static", tmp_path_factory)
    spec = deployment_pod_spec(documents, "-controller")
    (container,) = spec["containers"]
    assert "command" not in container  # the image's ENTRYPOINT activates conda first
    env = {e["name"]: e.get("value") for e in container["env"]}
    (code,) = [m for m in container["volumeMounts"] if m["name"] == "code"]
    assert Path(code["mountPath"]).parent == Path(env["PYTHONPATH"])
    assert Path(code["mountPath"]).name == "controller"
    (volume,) = [v for v in spec["volumes"] if v["name"] == "code"]
    (files,) = [
        c
        for c in of_kind(documents, "ConfigMap")
        if c["metadata"]["name"] == volume["configMap"]["name"]
    ]
    shipped = {p.name: p.read_text() for p in (CHART / "files" / "controller").glob("*.py")}
    assert files["data"] == shipped
    assert "__main__.py" in shipped


def test_controller_sits_on_the_stable_node_beside_the_scheduler(tmp_path_factory):
    documents = rendered("controller-adaptive", tmp_path_factory)
    controller = deployment_pod_spec(documents, "-controller")
    scheduler = deployment_pod_spec(documents, "-scheduler")
    assert controller["nodeSelector"] == scheduler["nodeSelector"] == dict([names.SCHEDULER_LABEL])
    assert "tolerations" not in controller


def test_static_controller_keeps_the_count_and_the_idle_timer(tmp_path_factory):
    documents = rendered("controller-static", tmp_path_factory)
    args = controller_args(documents)
    (worker,) = [
        d for d in of_kind(documents, "Deployment") if d["metadata"]["name"].endswith("-worker")
    ]
    assert args["mode"] == "static"
    assert args["count"] == str(worker["spec"]["replicas"]) == "24"
    assert args["workers-after"] == str(45 * 60)
    assert args["deployment"] == names.worker_deployment("himat")
    assert "app.kubernetes.io/component=worker" in args["pod-selector"].split(",")
    assert "hibernate-after" not in args and "jupyter-url" not in args


def test_adaptive_controller_max_auto_is_what_fits_on_max_nodes(tmp_path_factory):
    documents = rendered("controller-adaptive", tmp_path_factory)
    args = controller_args(documents)
    # The defaults: 8 workers per m5.xlarge-class spot node, spot.max_nodes 10.
    (container,) = deployment_pod_spec(documents, "-controller")["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    bounds = (env[names.CONTROLLER_MIN_ENV], env[names.CONTROLLER_MAX_ENV])
    assert (args["mode"], *bounds) == ("adaptive", "0", "80")
    (worker,) = [
        d for d in of_kind(documents, "Deployment") if d["metadata"]["name"].endswith("-worker")
    ]
    assert worker["spec"]["replicas"] == 0  # adaptive starts at min


def test_idle_sleep_reads_jupyter_with_the_token_from_its_secret(tmp_path_factory):
    documents = rendered("controller-idle-sleep", tmp_path_factory)
    args = controller_args(documents)
    assert args["hibernate-after"] == str(8 * 3600)
    assert args["sleep-configmap"] == names.sleep_configmap("himat")
    assert (args["region"], args["cluster"]) == ("us-west-2", "himat")
    assert args["jupyter-url"] == f"http://{names.jupyter_service('himat')}:80"
    (container,) = deployment_pod_spec(documents, "-controller")["containers"]
    (token,) = [e for e in container["env"] if e["name"] == "JUPYTER_TOKEN"]
    assert token == {
        "name": "JUPYTER_TOKEN",
        "valueFrom": {"secretKeyRef": {"name": names.token_secret("himat"), "key": "token"}},
    }
    assert not any("token" in arg.lower() for arg in container["args"])


@pytest.mark.parametrize("variant", sorted(CONTROLLER_VARIANTS))
def test_controller_variants_are_valid_kubernetes(variant, tmp_path_factory, cached_schema_files):
    for doc in rendered(variant, tmp_path_factory):
        for kubernetes_version in KUBERNETES_VERSIONS:
            kubernetes_validate.validate(doc, kubernetes_version, strict=True)


@pytest.mark.parametrize("variant", sorted(CONTROLLER_VARIANTS))
def test_checkov_finds_nothing_in_the_controller_variants(variant, tmp_path_factory, tmp_path):
    if not CHECKOV.exists():
        pytest.skip(f"checkov is not installed at {CHECKOV}; `make tools` installs it")
    (tmp_path / "chart.yaml").write_text(yaml.safe_dump_all(rendered(variant, tmp_path_factory)))
    argv = [str(CHECKOV), "-d", str(tmp_path), "--framework", "kubernetes", "--skip-download"]
    result = subprocess.run(argv + ["-o", "json"], capture_output=True, text=True, timeout=600)
    summary = json.loads(result.stdout)["summary"]
    assert summary["failed"] == 0, result.stdout[-3000:]


def test_the_bounds_environment_names_are_the_controllers():
    assert controller_main.MIN_ENV == names.CONTROLLER_MIN_ENV
    assert controller_main.MAX_ENV == names.CONTROLLER_MAX_ENV
