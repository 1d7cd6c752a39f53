"""What each changing verb runs, as pure functions from settings (and observed state) to steps.

Nothing here runs a command. `--dry-run` prints the action steps exactly as a real run executes
them. The queries whose answers shape these plans are in lifecycle/queries.py; Step and Target
in lifecycle/steps.py.
"""

from __future__ import annotations

from pangeo_himat.fit.fit import FitReport
from pangeo_himat.lifecycle.steps import Step, Target
from pangeo_himat.render import cluster_autoscaler, names, termination_handler
from pangeo_himat.render.render_controller import adaptive_bounds
from pangeo_himat.settings.model import Settings

HELM_TIMEOUT = "15m"


def _eksctl_scale(target: Target, group: str, nodes: int, max_nodes: int) -> Step:
    where = ("--cluster", target.cluster, "--region", target.region, "--name", group)
    sizes = ("--nodes", str(nodes), "--nodes-min", "0", "--nodes-max", str(max_nodes))
    argv = ("eksctl", "scale", "nodegroup", *where, *sizes)
    return Step(f"scale nodegroup {group} to {nodes}", argv)


def _kubeconfig(target: Target) -> Step:
    where = ("--cluster", target.cluster, "--region", target.region)
    return Step("write the kubeconfig entry", ("eksctl", "utils", "write-kubeconfig", *where))


def scale_nodegroup_step(target: Target, group: str, nodes: int, max_nodes: int) -> Step:
    return _eksctl_scale(target, group, nodes, max_nodes)


def kubeconfig_step(target: Target) -> Step:
    return _kubeconfig(target)


def _scale_controller(target: Target, replicas: int) -> Step:
    """Manual verbs win: hibernate pauses the worker controller first, resume restores it last."""
    deployment = f"deployment/{names.controller_deployment(target.cluster)}"
    argv = ("kubectl", "scale", deployment, "--replicas", str(replicas), "-n", target.namespace)
    verb = "pause" if replicas == 0 else "restore"
    return Step(f"{verb} the worker controller", argv)


def _scale_autoscaler(replicas: int) -> Step:
    """Manual verbs win: the cluster-autoscaler must not add spot nodes back while hibernated
    (install always installs it; its Deployment is named by fullnameOverride, names.py)."""
    deployment = f"deployment/{names.AUTOSCALER_DEPLOYMENT}"
    argv = (
        *("kubectl", "scale", deployment, "--replicas", str(replicas)),
        *("-n", names.AUTOSCALER_NAMESPACE),
    )
    verb = "pause" if replicas == 0 else "restore"
    return Step(f"{verb} the cluster-autoscaler", argv)


def _controller_bounds(target: Target, minimum: int, maximum: int) -> Step:
    """New adaptive bounds; the changed environment restarts the controller with them."""
    deployment = f"deployment/{names.controller_deployment(target.cluster)}"
    argv = (
        *("kubectl", "set", "env", deployment),
        f"{names.CONTROLLER_MIN_ENV}={minimum}",
        f"{names.CONTROLLER_MAX_ENV}={maximum}",
        *("-n", target.namespace),
    )
    return Step(f"adaptive workers between {minimum} and {maximum}", argv)


def forget_sleep_step(target: Target) -> Step:
    name = names.sleep_configmap(target.cluster)
    argv = ("kubectl", "delete", "configmap", name, "-n", target.namespace, "--ignore-not-found")
    return Step("clear the controller's sleep record", argv)


def _scale_workers(target: Target, replicas: int) -> Step:
    deployment = f"deployment/{names.worker_deployment(target.cluster)}"
    argv = ("kubectl", "scale", deployment, "--replicas", str(replicas), "-n", target.namespace)
    return Step(f"scale Dask workers to {replicas}", argv)


def cluster_steps(settings: Settings) -> list[Step]:
    """Create the cluster (a running one follows the settings through lifecycle/drift.py)."""
    target = Target.of(settings)
    create = ("eksctl", "create", "cluster", "-f", target.eksctl_file)
    return [Step("create the cluster (15-20 minutes)", create), _kubeconfig(target)]


def install_steps(settings: Settings) -> list[Step]:
    """The spot termination handler first, so spot nodes are covered from the first minute;
    then the autoscaler, then the chart."""
    target = Target.of(settings)
    handler = (
        *("helm", "upgrade", "--install", names.TERMINATION_HANDLER_RELEASE),
        *(termination_handler.CHART, "--version", termination_handler.CHART_VERSION),
        *("--namespace", names.TERMINATION_HANDLER_NAMESPACE, "-f", target.nth_values_file),
        "--wait",
    )
    return [
        Step("install the spot termination handler", handler),
        autoscaler_install_step(target),
        chart_install_step(target),
    ]


def chart_install_step(target: Target) -> Step:
    """The chart with the rendered values: the controller's --spot-nodegroup among them."""
    chart = (
        *("helm", "upgrade", "--install", target.release, target.chart),
        *("--namespace", target.namespace, "--create-namespace", "-f", target.values_file),
        *("--wait", "--timeout", HELM_TIMEOUT),
    )
    return Step("install the Pangeo chart", chart)


def autoscaler_install_step(target: Target) -> Step:
    """Before the chart: the chart's `--wait` then already has nodes that follow its workers."""
    argv = (
        *("helm", "upgrade", "--install", names.AUTOSCALER_RELEASE, cluster_autoscaler.CHART),
        *("--repo", cluster_autoscaler.CHART_REPO, "--version", cluster_autoscaler.CHART_VERSION),
        *("--namespace", names.AUTOSCALER_NAMESPACE, "-f", target.autoscaler_values_file),
        "--wait",
    )
    return Step("install the cluster-autoscaler", argv)


def pause_workers_steps(target: Target) -> list[Step]:
    """The controller and the autoscaler paused, then the workers to 0 (none is killed mid-task
    by a vanishing node, and nothing scales them back meanwhile)."""
    return [_scale_controller(target, 0), _scale_autoscaler(0), _scale_workers(target, 0)]


def restore_elastic_steps(target: Target) -> list[Step]:
    """The autoscaler, then the controller, which sets the workers again."""
    return [_scale_autoscaler(1), _scale_controller(target, 1)]


def hibernate_steps(settings: Settings, everything: bool) -> list[Step]:
    """Workers first (so none is killed mid-task by a vanishing node), then the nodes."""
    target = Target.of(settings)
    steps = [
        _scale_controller(target, 0),
        _scale_autoscaler(0),
        _scale_workers(target, 0),
        _eksctl_scale(target, target.spot_group, 0, settings.spot.max_nodes),
    ]
    if everything:
        steps.append(_eksctl_scale(target, target.stable_group, 0, 1))
    return steps


def resume_steps(settings: Settings, fit: FitReport) -> list[Step]:
    """Nodes back to the settings, then the workers that fit on them."""
    target = Target.of(settings)
    spot = settings.spot
    return [
        _eksctl_scale(target, target.stable_group, 1, 1),
        _eksctl_scale(target, target.spot_group, spot.nodes, spot.max_nodes),
        _scale_workers(target, fit.worker_count),
        forget_sleep_step(target),
        _scale_autoscaler(1),
        _scale_controller(target, 1),
    ]


def scale_steps(settings: Settings, fit: FitReport, nodes: int) -> list[Step]:
    """Spot nodes to `nodes`, workers to what fits on them."""
    target = Target.of(settings)
    spot = _eksctl_scale(target, target.spot_group, nodes, settings.spot.max_nodes)
    bounds = adaptive_bounds(settings, fit)
    if bounds is None:
        return [spot, _scale_workers(target, nodes * fit.workers_per_node)]
    # Adaptive: a count would be overwritten by the controller's next decision; the bounds hold.
    maximum = nodes * fit.workers_per_node
    return [spot, _controller_bounds(target, min(bounds[0], maximum), maximum)]


def delete_volume_step(target: Target, volume_id: str) -> Step:
    """The notebooks' EBS volume, by the ID recorded in state.yaml, once the cluster is gone."""
    argv = ("aws", "ec2", "delete-volume", "--volume-id", volume_id, "--region", target.region)
    return Step(f"delete the notebooks' volume {volume_id}", argv)


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
    uninstall = ("helm", "uninstall", target.release, "--namespace", target.namespace)
    steps.append(
        Step(
            "uninstall the Pangeo chart (the notebooks' volume is kept)",
            (*uninstall, "--ignore-not-found", "--wait"),
        )
    )
    if delete_data:
        claim = ("kubectl", "delete", "pvc", names.jupyter_pvc(target.cluster))
        steps.append(
            Step(
                "delete the notebooks' volume claim",
                (*claim, "-n", target.namespace, "--ignore-not-found", "--wait"),
            )
        )
    steps.append(cluster_deletion_step(target))
    if delete_data and volume_id:
        steps.append(delete_volume_step(target, volume_id))
    return steps


def cluster_deletion_step(target: Target) -> Step:
    where = ("--name", target.cluster, "--region", target.region, "--wait")
    return Step("delete the cluster (10-15 minutes)", ("eksctl", "delete", "cluster", *where))
