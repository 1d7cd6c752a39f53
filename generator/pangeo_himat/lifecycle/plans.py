"""What each verb runs, as pure functions from settings (and observed state) to steps.

Nothing here runs a command. `--dry-run` prints the action steps exactly as a real run executes
them; the queries (read-only, their answers shape the actions) are steps too, each with the text
by which its tool says "not found", and status and connect print theirs in `--dry-run`.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from pangeo_himat import cluster_autoscaler, names, termination_handler
from pangeo_himat.fit import FitReport
from pangeo_himat.render import render_all
from pangeo_himat.render_controller import adaptive_bounds
from pangeo_himat.settings import Settings

HELM_TIMEOUT = "15m"

# eksctl get cluster on an absent cluster: exit 1 and "Error: unable to describe control plane
# "<name>": ... ResourceNotFoundException: No cluster found for name: <name>." (eksctl
# pkg/eks/eks.go GetCluster wraps the EKS DescribeCluster error; cmd/eksctl/main.go exits 1);
# get nodegroup says "unable to describe cluster control plane: ..." with the same exception
# (pkg/eks/eks.go DescribeControlPlane, via cmdutils NewProviderForExistingCluster).
EKSCTL_NOT_FOUND = "ResourceNotFoundException"
# kubectl get on an absent object: exit 1 and `Error from server (NotFound): ... not found`
# (kubernetes staging/src/k8s.io/kubectl/pkg/cmd/util/helpers.go, StandardErrorMessage:
# "Error from server (%s): %s" with the API status reason; an expired login is instead
# "error: You must be logged in to the server (...)").
KUBECTL_NOT_FOUND = "Error from server (NotFound)"
# aws on an absent volume: exit 254 and "An error occurred (InvalidVolume.NotFound) when calling
# the DescribeVolumes operation: The volume 'vol-...' does not exist." (EC2 API error codes;
# the AWS CLI exits 254 when the service returns an error).
AWS_VOLUME_NOT_FOUND = "(InvalidVolume.NotFound)"
# kubectl config current-context with none set: exit 1, "error: current-context is not set"
# (kubernetes staging/src/k8s.io/kubectl/pkg/cmd/config/current_context.go).
NO_CONTEXT = "current-context is not set"


# How many of the worker controller's decisions `status` shows.
DECISIONS_SHOWN = 5


@dataclass(frozen=True)
class Step:
    """One command of a verb, with a title for the progress line.

    not_found: the text by which the tool says the object is absent (queries only); any other
    failure is an error, never "absent".
    """

    title: str
    argv: tuple[str, ...]
    not_found: str = ""

    def shell(self) -> str:
        return shlex.join(self.argv)

    @property
    def tool(self) -> str:
        return self.argv[0]


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
    autoscaler_values_file: str
    new_associations_file: str
    state_file: str
    chart: str
    stable_group: str
    spot_group: str

    @classmethod
    def of(cls, settings: Settings) -> Target:
        name = settings["cluster"]["name"]
        folder = Path(names.OUTPUT_DIR_NAME) / name
        config = render_all(settings).cluster_config
        return cls(
            cluster=name,
            region=settings["cluster"]["region"],
            namespace=names.namespace(name),
            release=names.release_name(name),
            eksctl_file=str(folder / names.EKSCTL_FILE),
            values_file=str(folder / names.VALUES_FILE),
            nth_values_file=str(folder / names.TERMINATION_HANDLER_FILE),
            autoscaler_values_file=str(folder / names.AUTOSCALER_FILE),
            new_associations_file=str(folder / names.NEW_ASSOCIATIONS_FILE),
            state_file=str(folder / names.STATE_FILE),
            chart=names.CHART_DIR_NAME,
            stable_group=str(config["managedNodeGroups"][0]["name"]),
            spot_group=str(config["nodeGroups"][0]["name"]),
        )


# --- queries: read-only, their answers decide what the verb does next -------------------------


def cluster_query(target: Target) -> Step:
    where = ("--name", target.cluster, "--region", target.region, "-o", "json")
    return Step("does the cluster exist", ("eksctl", "get", "cluster", *where), EKSCTL_NOT_FOUND)


def nodegroups_query(target: Target) -> Step:
    where = ("--cluster", target.cluster, "--region", target.region, "-o", "json")
    return Step("nodegroups", ("eksctl", "get", "nodegroup", *where), EKSCTL_NOT_FOUND)


def addons_query(target: Target) -> Step:
    where = ("--cluster", target.cluster, "--region", target.region, "-o", "json")
    return Step("add-ons", ("eksctl", "get", "addon", *where), EKSCTL_NOT_FOUND)


def associations_query(target: Target) -> Step:
    where = ("--cluster", target.cluster, "--region", target.region, "-o", "json")
    argv = ("eksctl", "get", "podidentityassociation", *where)
    return Step("pod identity associations", argv, EKSCTL_NOT_FOUND)


def live_queries(target: Target) -> list[Step]:
    """What `cluster` and `upgrade` read of a running cluster, in this order."""
    return [
        cluster_query(target),
        nodegroups_query(target),
        addons_query(target),
        associations_query(target),
    ]


def addon_versions_query(target: Target, addon: str, version: str) -> Step:
    """The add-on versions EKS offers for a Kubernetes version (JSON, one marked default).

    `--verbose 0` keeps eksctl's info log line off standard output, where it would precede the
    JSON (eksctl cmd/eksctl/main.go: "use 0 to silence"; level 0 keeps only the deprecation,
    always and success levels, cmd/eksctl/logger.go initLogger)."""
    argv = ("eksctl", "utils", "describe-addon-versions", "--name", addon)
    where = ("--kubernetes-version", version, "--region", target.region, "--verbose", "0")
    return Step(f"{addon} versions for Kubernetes {version}", (*argv, *where))


def chart_template_step(target: Target) -> Step:
    """The chart's manifests as `install` would apply them (local: reads no cluster)."""
    argv = ("helm", "template", target.release, target.chart, "--namespace", target.namespace)
    return Step("the chart's manifests", (*argv, "-f", target.values_file))


def pods_query(target: Target) -> Step:
    selector = f"{names.INSTANCE_LABEL}={target.release}"
    argv = ("kubectl", "get", "pods", "-n", target.namespace, "-l", selector, "-o", "json")
    return Step("pods", argv, KUBECTL_NOT_FOUND)


def controller_log_query(target: Target, pod: str) -> Step:
    """The worker controller's last decisions: it logs one JSON line each."""
    argv = ("kubectl", "logs", pod, "-n", target.namespace, "--tail", str(DECISIONS_SHOWN))
    return Step("the worker controller's last decisions", argv, KUBECTL_NOT_FOUND)


def services_query(target: Target) -> Step:
    argv = ("kubectl", "get", "services", "-n", target.namespace, "-o", "json")
    return Step("services (load balancers)", argv, KUBECTL_NOT_FOUND)


def claim_query(target: Target) -> Step:
    claim = names.jupyter_pvc(target.cluster)
    argv = ("kubectl", "get", "pvc", claim, "-n", target.namespace, "-o", "json")
    return Step("the notebooks' volume claim", argv, KUBECTL_NOT_FOUND)


def volume_query(volume_name: str) -> Step:
    argv = ("kubectl", "get", "pv", volume_name, "-o", "json")
    return Step("the notebooks' persistent volume", argv, KUBECTL_NOT_FOUND)


def ebs_volume_query(target: Target, volume_id: str) -> Step:
    argv = ("aws", "ec2", "describe-volumes", "--volume-ids", volume_id, "--region", target.region)
    return Step(f"does volume {volume_id} exist", (*argv, "--output", "json"), AWS_VOLUME_NOT_FOUND)


def load_balancer_query(target: Target) -> Step:
    service = names.jupyter_service(target.cluster)
    jsonpath = "jsonpath={.status.loadBalancer.ingress[0].hostname}"
    argv = ("kubectl", "get", "service", service, "-n", target.namespace, "-o", jsonpath)
    return Step("the load balancer's address", argv, KUBECTL_NOT_FOUND)


def token_query(target: Target) -> Step:
    secret = names.token_secret(target.cluster)
    argv = ("kubectl", "get", "secret", secret, "-n", target.namespace, "-o", "json")
    return Step("the Jupyter token", argv, KUBECTL_NOT_FOUND)


def context_query() -> Step:
    return Step("the kube context", ("kubectl", "config", "current-context"), NO_CONTEXT)


def jupyter_service_query(target: Target) -> Step:
    """A cheap authenticated call: proves the credentials work and the release is installed."""
    service = names.jupyter_service(target.cluster)
    argv = ("kubectl", "get", "service", service, "-n", target.namespace, "-o", "name")
    return Step("the Jupyter service", argv, KUBECTL_NOT_FOUND)


def status_queries(settings: Settings) -> list[Step]:
    """What status reads, in the order it prints the answers."""
    target = Target.of(settings)
    steps = [*live_queries(target), pods_query(target), sleep_record_query(target)]
    if settings["jupyter"]["expose"] == "loadbalancer":
        steps.append(load_balancer_query(target))
    return steps


def destroy_queries(target: Target) -> list[Step]:
    """What destroy reads before it deletes anything (the volume's, by the claim's answer)."""
    return [
        cluster_query(target),
        claim_query(target),
        volume_query("<volume of the claim>"),
        services_query(target),
    ]


def forward_steps(target: Target) -> list[Step]:
    """kubectl port-forward commands, bound to the loopback address only."""
    jupyter = names.jupyter_service(target.cluster)
    scheduler = names.scheduler_service(target.cluster)
    forward = ("kubectl", "port-forward", "-n", target.namespace, "--address", "127.0.0.1")
    jupyter_ports = f"{names.JUPYTER_LOCAL_PORT}:{names.JUPYTER_SERVICE_PORT}"
    dashboard_ports = f"{names.DASHBOARD_LOCAL_PORT}:{names.DASHBOARD_PORT}"
    return [
        Step("forward Jupyter", (*forward, f"svc/{jupyter}", jupyter_ports)),
        Step("forward the Dask dashboard", (*forward, f"svc/{scheduler}", dashboard_ports)),
    ]


def connect_checks(target: Target) -> list[Step]:
    """What connect asks before it prints any URL: a context, then an authenticated call."""
    return [context_query(), jupyter_service_query(target)]


def token_hint(target: Target) -> str:
    """The shell line that prints the Jupyter token, as install and status show it."""
    secret = names.token_secret(target.cluster)
    jsonpath = "jsonpath='{.data.token}'"
    return f"kubectl get secret {secret} -n {target.namespace} -o {jsonpath} | base64 -d"


# --- actions ------------------------------------------------------------------------------------


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


def sleep_record_query(target: Target) -> Step:
    """The ConfigMap the controller writes before it puts the cluster to sleep by itself."""
    name = names.sleep_configmap(target.cluster)
    argv = ("kubectl", "get", "configmap", name, "-n", target.namespace, "-o", "json")
    return Step("the controller's sleep record", argv, KUBECTL_NOT_FOUND)


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
    chart = (
        *("helm", "upgrade", "--install", target.release, target.chart),
        *("--namespace", target.namespace, "--create-namespace", "-f", target.values_file),
        *("--wait", "--timeout", HELM_TIMEOUT),
    )
    return [
        Step("install the spot termination handler", handler),
        autoscaler_install_step(target),
        Step("install the Pangeo chart", chart),
    ]


def autoscaler_install_step(target: Target) -> Step:
    """Before the chart: the chart's `--wait` then already has nodes that follow its workers."""
    argv = (
        *("helm", "upgrade", "--install", names.AUTOSCALER_RELEASE, cluster_autoscaler.CHART),
        *("--repo", cluster_autoscaler.CHART_REPO, "--version", cluster_autoscaler.CHART_VERSION),
        *("--namespace", names.AUTOSCALER_NAMESPACE, "-f", target.autoscaler_values_file),
        "--wait",
    )
    return Step("install the cluster-autoscaler", argv)


def hibernate_steps(settings: Settings, everything: bool) -> list[Step]:
    """Workers first (so none is killed mid-task by a vanishing node), then the nodes."""
    target = Target.of(settings)
    steps = [
        _scale_controller(target, 0),
        _scale_autoscaler(0),
        _scale_workers(target, 0),
        _eksctl_scale(target, target.spot_group, 0, settings["spot"]["max_nodes"]),
    ]
    if everything:
        steps.append(_eksctl_scale(target, target.stable_group, 0, 1))
    return steps


def resume_steps(settings: Settings, fit: FitReport) -> list[Step]:
    """Nodes back to the settings, then the workers that fit on them."""
    target = Target.of(settings)
    spot = settings["spot"]
    return [
        _eksctl_scale(target, target.stable_group, 1, 1),
        _eksctl_scale(target, target.spot_group, spot["nodes"], spot["max_nodes"]),
        _scale_workers(target, fit.worker_count),
        forget_sleep_step(target),
        _scale_autoscaler(1),
        _scale_controller(target, 1),
    ]


def scale_steps(settings: Settings, fit: FitReport, nodes: int) -> list[Step]:
    """Spot nodes to `nodes`, workers to what fits on them."""
    target = Target.of(settings)
    spot = _eksctl_scale(target, target.spot_group, nodes, settings["spot"]["max_nodes"])
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
