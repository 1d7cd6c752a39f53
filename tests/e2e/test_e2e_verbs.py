"""The lifecycle verbs' Kubernetes steps, run for real: real helm and kubectl against the real
API server and scheduler, the nodes played by the node stand-in, the real AWS CLI against moto's
server (where the node stand-in, playing the EBS CSI driver, creates the notebooks' volume);
eksctl alone is the stand-in of tests/standins/. What each verb leaves is read back from the API
server and from EC2."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from conftest import HELMS, REAL_AWS, ROOT, STANDIN, AWSEndpoints, himat, write_settings
from e2e.chart import deployment, helm_run, pods_by_component
from e2e.conftest import KUBECTL, Cluster, NodePool
from e2e.external_charts import helm_wrapper
from e2e.kube_api import KubeApi, wait_for
from e2e.node_standin import CHART_BRINGS, EBS_DRIVER_TAG, ec2_volumes
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.render import names
from pangeo_himat.render.render import render_all

# himat install brings these two itself (through the stand-in charts of external_charts.py).
INSTALLED_BY_HIMAT = CHART_BRINGS | {"cluster-autoscaler", "aws-node-termination-handler"}
THIRD_PARTY_RELEASES = (names.AUTOSCALER_RELEASE, names.TERMINATION_HANDLER_RELEASE)


@pytest.fixture
def tools(tmp_path: Path, cluster: Cluster, aws: AWSEndpoints) -> Iterator[Path]:
    """PATH for himat: the eksctl stand-in, helm (real, third-party charts swapped), the real
    kubectl and the real AWS CLI (run by its fork server when there is one: the same script)."""
    folder = tmp_path / "bin"
    folder.mkdir()
    source = (
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(STANDIN.parent)!r})\n"
        "import standin\nsys.exit(standin.main())\n"
    )
    (folder / "eksctl").write_text(source)
    (folder / "eksctl").chmod(0o755)
    helm_wrapper(folder, HELMS["helm4"])
    (folder / "kubectl").symlink_to(KUBECTL)
    if aws.fork_server:
        (folder / "aws").write_text(f"#!{sys.executable}\n{aws.forwarding_source()}")
        (folder / "aws").chmod(0o755)
    else:
        (folder / "aws").symlink_to(REAL_AWS)
    yield folder
    env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)}
    for release in THIRD_PARTY_RELEASES:
        subprocess.run(
            [str(HELMS["helm4"]), "uninstall", release, "-n", "kube-system", "--ignore-not-found"],
            env=env,
            capture_output=True,
            timeout=120,
        )


def verb(
    project: Path, tools: Path, cluster: Cluster, aws: AWSEndpoints, *args: str
) -> subprocess.CompletedProcess:
    result = himat(
        project,
        *args,
        "-f",
        "settings.yaml",
        path=tools,
        extra_env={**aws.env, "KUBECONFIG": str(cluster.kubeconfig), "HOME": str(project)},
        cluster_exists="1",
    )
    assert result.returncode == 0, f"himat {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def replicas(kube: KubeApi, namespace: str, name: str) -> int:
    return int(deployment(kube, namespace, name)["spec"]["replicas"])


def running(kube: KubeApi, namespace: str, component: str) -> int:
    return sum(
        1
        for pod in pods_by_component(kube, namespace).get(component, [])
        if pod["status"].get("phase") == "Running" and not pod["metadata"].get("deletionTimestamp")
    )


def test_install_scale_hibernate_resume_status_destroy_leave_what_they_say_in_the_cluster(
    tmp_path: Path,
    kube: KubeApi,
    cluster: Cluster,
    namespace: str,
    node_pool: NodePool,
    tools: Path,
    aws: AWSEndpoints,
) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "charts").symlink_to(ROOT / "charts")
    shutil.copy(write_settings(tmp_path, {"cluster.name": namespace}), project / "settings.yaml")
    settings = load_settings(project / "settings.yaml")
    rendered = render_all(settings)
    ec2 = aws.client("ec2", settings.cluster.region)
    node_pool.start(
        rendered.cluster_config,
        settings,
        chart_brings=INSTALLED_BY_HIMAT,
        create_volume=ec2_volumes(ec2),
    )
    fit = rendered.fit
    workers = names.worker_deployment(namespace)
    controller = names.controller_deployment(namespace)

    installed = verb(project, tools, cluster, aws, "install")
    assert f"installed: {fit.worker_count} Dask workers" in installed.stdout
    assert replicas(kube, namespace, workers) == fit.worker_count
    assert running(kube, namespace, "worker") == fit.worker_count
    assert running(kube, namespace, "jupyter") == 1
    claim = kube.get(
        f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{names.jupyter_pvc(namespace)}"
    )
    assert claim["status"]["phase"] == "Bound"
    volume_id = kube.get(f"/api/v1/persistentvolumes/{claim['spec']['volumeName']}")["spec"]["csi"][
        "volumeHandle"
    ]
    (volume,) = ec2.describe_volumes(VolumeIds=[volume_id])["Volumes"]
    tags = {tag["Key"]: tag["Value"] for tag in volume["Tags"]}
    assert tags[EBS_DRIVER_TAG] == "true"
    assert names.volume_tags(namespace).items() <= tags.items()
    autoscaler = f"/apis/apps/v1/namespaces/kube-system/deployments/{names.AUTOSCALER_DEPLOYMENT}"
    assert kube.get(autoscaler)["spec"]["replicas"] == 1

    verb(project, tools, cluster, aws, "scale", "2")
    assert replicas(kube, namespace, workers) == 2 * fit.workers_per_node
    wait_for(
        lambda: running(kube, namespace, "worker") == 2 * fit.workers_per_node,
        what="the workers of two spot nodes",
    )

    verb(project, tools, cluster, aws, "hibernate")
    assert replicas(kube, namespace, workers) == 0
    assert replicas(kube, namespace, controller) == 0
    assert kube.get(autoscaler)["spec"]["replicas"] == 0
    wait_for(lambda: running(kube, namespace, "worker") == 0, what="no worker pod left")

    verb(project, tools, cluster, aws, "resume")
    assert replicas(kube, namespace, workers) == fit.worker_count
    assert replicas(kube, namespace, controller) == 1
    assert kube.get(autoscaler)["spec"]["replicas"] == 1
    wait_for(
        lambda: running(kube, namespace, "worker") == fit.worker_count, what="the workers back"
    )

    status = verb(project, tools, cluster, aws, "status")
    assert f"pods worker: {fit.worker_count} Running" in status.stdout
    assert "pods jupyter: 1 Running" in status.stdout
    # No kubelet serves the controller's log here: status says so and goes on.
    assert "controller: its log is unreadable now" in status.stdout
    assert "hibernated: no" in status.stdout

    destroyed = verb(project, tools, cluster, aws, "destroy", "--yes")
    assert f"kept the notebooks' EBS volume {volume_id}" in destroyed.stdout
    listed = helm_run(
        {**os.environ, "KUBECONFIG": str(cluster.kubeconfig)},
        "helm4",
        "list",
        "-n",
        namespace,
        "-o",
        "yaml",
    )
    assert yaml.safe_load(listed.stdout) == []
    # The release is gone; the notebooks' claim and the token Secret stay (resource policy keep),
    # and so does the volume in EC2.
    assert kube.exists(
        f"/api/v1/namespaces/{namespace}/persistentvolumeclaims/{names.jupyter_pvc(namespace)}"
    )
    assert not kube.exists(f"/apis/apps/v1/namespaces/{namespace}/deployments/{workers}")
    assert [v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]] == [volume_id]

    # Asked by name, the volume goes too, after a final snapshot of it: all of it in EC2.
    deleted = verb(project, tools, cluster, aws, "destroy", "--yes", "--delete-data")
    assert f"the notebooks' volume {volume_id} was deleted as asked" in deleted.stdout
    assert ec2.describe_volumes()["Volumes"] == []
    of_volume = [{"Name": "volume-id", "Values": [volume_id]}]
    (snapshot,) = ec2.describe_snapshots(Filters=of_volume)["Snapshots"]
    assert f"restore it with: himat restore {snapshot['SnapshotId']}" in deleted.stdout
