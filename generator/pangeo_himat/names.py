"""Names shared by the ClusterConfig, the Helm values, the chart and the lifecycle verbs.

One place, so that a label, taint, port or resource name cannot drift between the generator's
outputs, the chart and the commands that act on them. The README's "What `himat render`
builds" says what each nodegroup label and the spot taint are for.
"""

from __future__ import annotations

CHART_DIR_NAME = "charts/pangeo-himat"
OUTPUT_DIR_NAME = "clusterconfig"
EKSCTL_FILE = "eksctl.yaml"
VALUES_FILE = "values.yaml"
TERMINATION_HANDLER_FILE = "termination-handler.yaml"
STATE_FILE = "state.yaml"
SCHEMA_FILE = "values.schema.json"

STABLE_NODEGROUP = "stable"
SPOT_NODEGROUP = "spot"

# Node labels and the spot taint; the chart's selectors and tolerations match them.
CORE_LABEL = ("hub.jupyter.org/node-purpose", "core")
SCHEDULER_LABEL = ("k8s.dask.org/node-purpose", "scheduler")
WORKER_LABEL = ("k8s.dask.org/node-purpose", "worker")
WORKER_TAINT = {"key": "k8s.dask.org/dedicated", "value": "worker", "effect": "NoSchedule"}

COMPONENT_LABEL = "app.kubernetes.io/component"
INSTANCE_LABEL = "app.kubernetes.io/instance"

SCHEDULER_PORT = 8786
DASHBOARD_PORT = 8787
# The Jupyter Service's ports: 80 inside the cluster (ClusterIP), 443 on a load balancer,
# where TLS terminates on the ACM certificate.
JUPYTER_SERVICE_PORT = 80
JUPYTER_TLS_PORT = 443
# Where `himat connect` and local mode listen on 127.0.0.1.
JUPYTER_LOCAL_PORT = 8888
DASHBOARD_LOCAL_PORT = DASHBOARD_PORT

# The spot termination handler: its own Helm release in kube-system.
TERMINATION_HANDLER_RELEASE = "aws-node-termination-handler"
TERMINATION_HANDLER_NAMESPACE = "kube-system"


def release_name(cluster_name: str) -> str:
    """The Helm release is named after the cluster: one Pangeo stack per cluster."""
    return cluster_name


def namespace(cluster_name: str) -> str:
    """The release lives in a namespace of its own, named after the cluster."""
    return cluster_name


def scheduler_service(cluster_name: str) -> str:
    """The chart names the scheduler Service `<release>-scheduler`."""
    return f"{release_name(cluster_name)}-scheduler"


def jupyter_service(cluster_name: str) -> str:
    """The chart names the Jupyter Service `<release>-jupyter`."""
    return f"{release_name(cluster_name)}-jupyter"


def user_service_account(cluster_name: str) -> str:
    """Jupyter and the workers run as `<release>-user`; the S3 role is bound to it."""
    return f"{release_name(cluster_name)}-user"


def token_secret(cluster_name: str) -> str:
    """The chart keeps the Jupyter token in the Secret `<release>-jupyter-token`."""
    return f"{release_name(cluster_name)}-jupyter-token"


def jupyter_pvc(cluster_name: str) -> str:
    """The notebooks' PersistentVolumeClaim is `<release>-jupyter-home`."""
    return f"{release_name(cluster_name)}-jupyter-home"


def worker_deployment(cluster_name: str) -> str:
    """The chart names the Dask workers' Deployment `<release>-worker`."""
    return f"{release_name(cluster_name)}-worker"


# The cluster-autoscaler's Helm release in kube-system; `himat hibernate` pauses it when present.
AUTOSCALER_RELEASE = "cluster-autoscaler"
AUTOSCALER_NAMESPACE = "kube-system"

# The controller's adaptive bounds, read from its environment (pangeo_himat.elastic.__main__).
CONTROLLER_MIN_ENV = "HIMAT_CONTROLLER_MIN"
CONTROLLER_MAX_ENV = "HIMAT_CONTROLLER_MAX"


def controller_deployment(cluster_name: str) -> str:
    """The chart names the worker controller's Deployment `<release>-controller`."""
    return f"{release_name(cluster_name)}-controller"


def sleep_configmap(cluster_name: str) -> str:
    """The controller records why and when the cluster went to sleep in `<release>-sleep`."""
    return f"{release_name(cluster_name)}-sleep"


def controller_service_account(cluster_name: str) -> str:
    """The controller runs as `<release>-controller`; the idle-sleep role is bound to it."""
    return f"{release_name(cluster_name)}-controller"
