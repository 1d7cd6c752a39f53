"""What each verb runs, as pure functions from settings (and observed state) to steps.

Nothing here runs a command, so `--dry-run` prints exactly what a real run executes.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from pangeo_himat import names
from pangeo_himat.fit import FitReport
from pangeo_himat.settings import Settings

# aws-node-termination-handler, IMDS mode: chart from AWS's public ECR, pinned.
# Source: aws/aws-node-termination-handler config/helm/aws-node-termination-handler/Chart.yaml
NTH_CHART = "oci://public.ecr.aws/aws-ec2/helm/aws-node-termination-handler"
NTH_VERSION = "0.27.1"
NTH_RELEASE = "aws-node-termination-handler"
HELM_TIMEOUT = "15m"


@dataclass(frozen=True)
class Step:
    """One command of a verb, with a title for the progress line."""

    title: str
    argv: tuple[str, ...]

    def shell(self) -> str:
        return shlex.join(self.argv)


@dataclass(frozen=True)
class Target:
    """The names every command of one cluster uses."""

    cluster: str
    region: str
    namespace: str
    release: str
    eksctl_file: str
    values_file: str
    nth_values_file: str
    chart: str

    @classmethod
    def of(cls, settings: Settings) -> Target:
        name = settings["cluster"]["name"]
        folder = Path(names.OUTPUT_DIR_NAME) / name
        return cls(
            cluster=name,
            region=settings["cluster"]["region"],
            namespace=names.namespace(name),
            release=names.release_name(name),
            eksctl_file=str(folder / names.EKSCTL_FILE),
            values_file=str(folder / names.VALUES_FILE),
            nth_values_file=str(folder / "termination-handler.yaml"),
            chart=names.CHART_DIR_NAME,
        )


def termination_handler_values() -> dict:
    """IMDS-mode handler on the spot nodes only; it drains a node on its interruption notice."""
    label_key, label_value = names.WORKER_LABEL
    taint = names.WORKER_TAINT
    return {
        # On the host network it still reaches the instance metadata that pods cannot.
        "useHostNetwork": True,
        "enableSpotInterruptionDraining": True,
        "enableRebalanceMonitoring": True,
        "enableRebalanceDraining": True,
        "enableScheduledEventDraining": True,
        # -1: each pod's own terminationGracePeriodSeconds, so workers get time to retire.
        "podTerminationGracePeriod": -1,
        "nodeSelector": {label_key: label_value},
        "tolerations": [
            {
                "key": taint["key"],
                "operator": "Equal",
                "value": taint["value"],
                "effect": taint["effect"],
            }
        ],
        # These requests are what system_pods counts for the handler on each spot node.
        "resources": {
            "requests": {"cpu": "50m", "memory": "64Mi"},
            "limits": {"cpu": "100m", "memory": "128Mi"},
        },
    }


def _eksctl_scale(target: Target, group: str, nodes: int, max_nodes: int) -> Step:
    return Step(
        f"scale nodegroup {group} to {nodes}",
        (
            "eksctl",
            "scale",
            "nodegroup",
            "--cluster",
            target.cluster,
            "--region",
            target.region,
            "--name",
            group,
            "--nodes",
            str(nodes),
            "--nodes-min",
            "0",
            "--nodes-max",
            str(max_nodes),
        ),
    )


def _kubeconfig(target: Target) -> Step:
    return Step(
        "write the kubeconfig entry",
        (
            "eksctl",
            "utils",
            "write-kubeconfig",
            "--cluster",
            target.cluster,
            "--region",
            target.region,
        ),
    )


def _scale_workers(target: Target, replicas: int) -> Step:
    return Step(
        f"scale Dask workers to {replicas}",
        (
            "kubectl",
            "scale",
            f"deployment/{target.release}-worker",
            "--replicas",
            str(replicas),
            "-n",
            target.namespace,
        ),
    )


def desired_nodes(settings: Settings) -> tuple[int, int]:
    """(stable, spot) node counts the settings ask for."""
    if settings["hibernate"]:
        return 0, 0
    return 1, settings["spot"]["nodes"]


def cluster_steps(settings: Settings, exists: bool) -> list[Step]:
    """Create the cluster, or add missing nodegroups and scale the others to the settings."""
    target = Target.of(settings)
    if not exists:
        create = Step(
            "create the cluster (15-20 minutes)",
            ("eksctl", "create", "cluster", "-f", target.eksctl_file),
        )
        return [create, _kubeconfig(target)]
    stable, spot = desired_nodes(settings)
    return [
        Step(
            "create missing nodegroups (existing ones are skipped)",
            ("eksctl", "create", "nodegroup", "-f", target.eksctl_file),
        ),
        _eksctl_scale(target, names.STABLE_NODEGROUP, stable, 1),
        _eksctl_scale(target, names.SPOT_NODEGROUP, spot, settings["spot"]["max_nodes"]),
        _kubeconfig(target),
    ]


def install_steps(settings: Settings) -> list[Step]:
    """The chart with the rendered values, then the spot termination handler."""
    target = Target.of(settings)
    return [
        Step(
            "install the Pangeo chart",
            (
                "helm",
                "upgrade",
                "--install",
                target.release,
                target.chart,
                "--namespace",
                target.namespace,
                "--create-namespace",
                "-f",
                target.values_file,
                "--wait",
                "--timeout",
                HELM_TIMEOUT,
            ),
        ),
        Step(
            "install the spot termination handler",
            (
                "helm",
                "upgrade",
                "--install",
                NTH_RELEASE,
                NTH_CHART,
                "--version",
                NTH_VERSION,
                "--namespace",
                "kube-system",
                "-f",
                target.nth_values_file,
                "--wait",
            ),
        ),
    ]


def hibernate_steps(settings: Settings, everything: bool) -> list[Step]:
    """Workers first (so none is killed mid-task by a vanishing node), then the nodes."""
    target = Target.of(settings)
    steps = [
        _scale_workers(target, 0),
        _eksctl_scale(target, names.SPOT_NODEGROUP, 0, settings["spot"]["max_nodes"]),
    ]
    if everything:
        steps.append(_eksctl_scale(target, names.STABLE_NODEGROUP, 0, 1))
    return steps


def resume_steps(settings: Settings, fit: FitReport) -> list[Step]:
    """Nodes back to the settings, then the workers that fit on them."""
    target = Target.of(settings)
    return [
        _eksctl_scale(target, names.STABLE_NODEGROUP, 1, 1),
        _eksctl_scale(
            target, names.SPOT_NODEGROUP, settings["spot"]["nodes"], settings["spot"]["max_nodes"]
        ),
        _scale_workers(target, fit.worker_count),
    ]


def scale_steps(settings: Settings, fit: FitReport, nodes: int) -> list[Step]:
    """Spot nodes to `nodes`, workers to what fits on them."""
    target = Target.of(settings)
    return [
        _eksctl_scale(target, names.SPOT_NODEGROUP, nodes, settings["spot"]["max_nodes"]),
        _scale_workers(target, nodes * fit.workers_per_node),
    ]


def destroy_steps(
    settings: Settings, lb_services: list[str], volume_id: str | None, delete_data: bool
) -> list[Step]:
    """Load balancers first (eksctl cannot delete a VPC they still sit in), then the rest."""
    target = Target.of(settings)
    steps = [
        Step(
            f"delete load balancer service {service}",
            ("kubectl", "delete", "service", service, "-n", target.namespace, "--wait"),
        )
        for service in lb_services
    ]
    steps.append(
        Step(
            "uninstall the Pangeo chart (the notebooks' volume is kept)",
            (
                "helm",
                "uninstall",
                target.release,
                "--namespace",
                target.namespace,
                "--ignore-not-found",
                "--wait",
            ),
        )
    )
    if delete_data:
        steps.append(
            Step(
                "delete the notebooks' volume claim",
                (
                    "kubectl",
                    "delete",
                    "pvc",
                    names.jupyter_pvc(target.cluster),
                    "-n",
                    target.namespace,
                    "--ignore-not-found",
                    "--wait",
                ),
            )
        )
    steps.append(
        Step(
            "delete the cluster (10-15 minutes)",
            (
                "eksctl",
                "delete",
                "cluster",
                "--name",
                target.cluster,
                "--region",
                target.region,
                "--wait",
            ),
        )
    )
    if delete_data and volume_id:
        steps.append(
            Step(
                f"delete the notebooks' volume {volume_id}",
                (
                    "aws",
                    "ec2",
                    "delete-volume",
                    "--volume-id",
                    volume_id,
                    "--region",
                    target.region,
                ),
            )
        )
    return steps
