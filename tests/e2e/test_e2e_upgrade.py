"""Upgrade paths of the chart on a real API server: from the 0.1.0 chart (tests/fixtures/
chart-0.1.0, a committed copy) to this one, a rollback, an uninstall and a reinstall. The
notebooks' claim (bound to the same volume) and the token Secret must survive all of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import ROOT
from e2e.chart import helm_run, install, render
from e2e.conftest import NodePool
from e2e.kube_api import KubeApi, wait_for
from pangeo_himat.render import names

PREVIOUS_CHART = ROOT / "tests" / "fixtures" / "chart-0.1.0" / "pangeo-himat"
WAIT = ("--wait", "--timeout", "3m")


def kept(kube: KubeApi, namespace: str) -> dict[str, Any]:
    """What must survive: the claim's identity and volume, the token Secret's identity and data."""
    claim = kube.get(
        f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{names.jupyter_pvc(namespace)}"
    )
    secret = kube.get(f"/api/v1/namespaces/{namespace}/secrets/{names.token_secret(namespace)}")
    return {
        "claim": (claim["metadata"]["uid"], claim["spec"].get("volumeName")),
        "claim phase": claim["status"].get("phase"),
        "secret": (secret["metadata"]["uid"], secret["data"]),
    }


def jupyter_running_on_claim(kube: KubeApi, namespace: str) -> bool:
    for pod in kube.items(
        f"/api/v1/namespaces/{namespace}/pods", labelSelector=f"{names.COMPONENT_LABEL}=jupyter"
    ):
        claims = [
            v["persistentVolumeClaim"]["claimName"]
            for v in pod["spec"].get("volumes", [])
            if "persistentVolumeClaim" in v
        ]
        if pod["status"].get("phase") == "Running" and names.jupyter_pvc(namespace) in claims:
            return True
    return False


def test_upgrade_from_0_1_0_rollback_uninstall_and_reinstall_keep_the_home_claim_and_token(
    tmp_path: Path,
    kube: KubeApi,
    kube_env: dict[str, str],
    namespace: str,
    node_pool: NodePool,
) -> None:
    rendering = render(tmp_path)
    node_pool.start(rendering.rendered.cluster_config, rendering.settings)
    previous_values = tmp_path / "values-0.1.0.yaml"
    previous_values.write_text("{}\n")  # the 0.1.0 chart's own defaults

    first = install(kube_env, namespace, previous_values, *WAIT, chart=PREVIOUS_CHART)
    assert first.returncode == 0, first.stderr
    before = kept(kube, namespace)
    assert before["claim phase"] == "Bound"

    upgrade = helm_run(
        kube_env,
        "helm4",
        *("upgrade", namespace, str(ROOT / "charts" / "pangeo-himat"), "-n", namespace),
        *("-f", str(rendering.values_file), *WAIT),
    )
    assert upgrade.returncode == 0, upgrade.stderr
    assert kept(kube, namespace) == before
    wait_for(lambda: jupyter_running_on_claim(kube, namespace), what="Jupyter on its claim")

    rollback = helm_run(kube_env, "helm4", "rollback", namespace, "1", "-n", namespace, *WAIT)
    assert rollback.returncode == 0, rollback.stderr
    assert kept(kube, namespace) == before

    uninstall = helm_run(kube_env, "helm4", "uninstall", namespace, "-n", namespace, "--wait")
    assert uninstall.returncode == 0, uninstall.stderr
    assert kept(kube, namespace) == before
    assert not kube.exists(
        f"/apis/apps/v1/namespaces/{namespace}/deployments/{names.jupyter_deployment(namespace)}"
    )

    again = install(kube_env, namespace, rendering.values_file, *WAIT)
    assert again.returncode == 0, again.stderr
    assert kept(kube, namespace) == before
    wait_for(lambda: jupyter_running_on_claim(kube, namespace), what="Jupyter on the same claim")
