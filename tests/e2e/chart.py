"""Install the chart with real helm into the e2e cluster, and read back what it created."""

from __future__ import annotations

import subprocess
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from conftest import CHART, helm, write_settings
from e2e.kube_api import KubeApi
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.render.render import Rendered, render_all
from pangeo_himat.settings.model import Settings

# helm prints the API server's admission warnings (PodSecurity `warn` mode) on stderr.
POD_SECURITY_WARNING = "would violate PodSecurity"


@dataclass(frozen=True)
class Rendering:
    settings: Settings
    rendered: Rendered
    values_file: Path


def render(folder: Path, changes: dict[str, Any] | None = None) -> Rendering:
    """What `himat render` writes for settings.yaml + `changes`: ClusterConfig, values file."""
    settings = load_settings(write_settings(folder, changes))
    rendered = render_all(settings)
    values_file = folder / "values.yaml"
    values_file.write_text(yaml.safe_dump(rendered.values))
    return Rendering(settings, rendered, values_file)


def helm_run(
    env: dict[str, str], version: str, *args: str, timeout_s: float = 300
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(helm(version)), *args], env=env, capture_output=True, text=True, timeout=timeout_s
    )


def install(
    env: dict[str, str],
    release: str,
    values_file: Path,
    *extra: str,
    version: str = "helm4",
    chart: Path = CHART,
) -> subprocess.CompletedProcess[str]:
    """`helm install RELEASE CHART -n RELEASE -f values` (the release is the namespace)."""
    return helm_run(
        env, version, "install", release, str(chart), "-n", release, "-f", str(values_file), *extra
    )


def deployment(api: KubeApi, namespace: str, name: str) -> dict[str, Any]:
    return dict(api.get(f"/apis/apps/v1/namespaces/{namespace}/deployments/{name}"))


def pods_by_component(api: KubeApi, namespace: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for pod in api.items(f"/api/v1/namespaces/{namespace}/pods"):
        component = pod["metadata"].get("labels", {}).get("app.kubernetes.io/component", "")
        found.setdefault(component, []).append(pod)
    return found


def nodegroup_of(api: KubeApi, node_name: str) -> str:
    node = api.get(f"/api/v1/nodes/{node_name}")
    return str(node["metadata"]["labels"]["alpha.eksctl.io/nodegroup-name"])


def placement(api: KubeApi, pods: list[dict[str, Any]]) -> Counter[str]:
    """Bound pods by nodegroup; unbound ones under ''."""
    return Counter(
        nodegroup_of(api, pod["spec"]["nodeName"]) if pod["spec"].get("nodeName") else ""
        for pod in pods
    )


def unschedulable_message(pod: dict[str, Any]) -> str:
    for condition in pod.get("status", {}).get("conditions", []):
        if condition["type"] == "PodScheduled" and condition["status"] == "False":
            return str(condition.get("message", ""))
    return ""
