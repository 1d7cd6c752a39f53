"""The read-only queries of the verbs: their answers decide what a verb does next.

Each carries the text by which its tool says "not found"; any other failure is an error, never
"absent". status and connect print theirs in `--dry-run`; the others are named by the verbs
that ask them (`# asks first: ...`).
"""

from __future__ import annotations

from pangeo_himat.lifecycle.steps import Step, Target
from pangeo_himat.render import names
from pangeo_himat.settings.model import Settings

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


# aws on an absent volume: "An error occurred (InvalidVolume.NotFound) when calling the
# DescribeVolumes operation: The volume 'vol-...' does not exist." (EC2 API error codes), exit
# 254 from AWS CLI v2 and 255 from v1 (a service error): only the text is read.
AWS_VOLUME_NOT_FOUND = "(InvalidVolume.NotFound)"


# kubectl config current-context with none set: exit 1, "error: current-context is not set"
# (kubernetes staging/src/k8s.io/kubectl/pkg/cmd/config/current_context.go).
NO_CONTEXT = "current-context is not set"


# How many of the worker controller's decisions `status` shows.
DECISIONS_SHOWN = 5


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


def sleep_record_query(target: Target) -> Step:
    """The ConfigMap the controller writes before it puts the cluster to sleep by itself."""
    name = names.sleep_configmap(target.cluster)
    argv = ("kubectl", "get", "configmap", name, "-n", target.namespace, "-o", "json")
    return Step("the controller's sleep record", argv, KUBECTL_NOT_FOUND)


def status_queries(settings: Settings) -> list[Step]:
    """What status reads, in the order it prints the answers."""
    target = Target.of(settings)
    steps = [*live_queries(target), pods_query(target), sleep_record_query(target)]
    if settings.jupyter.expose == "loadbalancer":
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


def connect_checks(target: Target) -> list[Step]:
    """What connect asks before it prints any URL: a context, then an authenticated call."""
    return [context_query(), jupyter_service_query(target)]


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


def token_hint(target: Target) -> str:
    """The shell line that prints the Jupyter token, as install and status show it."""
    secret = names.token_secret(target.cluster)
    jsonpath = "jsonpath='{.data.token}'"
    return f"kubectl get secret {secret} -n {target.namespace} -o {jsonpath} | base64 -d"
