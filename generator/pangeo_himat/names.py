"""Names shared by the ClusterConfig, the Helm values, the chart and the lifecycle verbs.

One place, so that a label, taint or resource name cannot drift between the generator's two
outputs and the commands that act on them.
"""

from __future__ import annotations

CHART_DIR_NAME = "charts/pangeo-himat"
OUTPUT_DIR_NAME = "clusterconfig"
EKSCTL_FILE = "eksctl.yaml"
VALUES_FILE = "values.yaml"

STABLE_NODEGROUP = "stable"
SPOT_NODEGROUP = "spot"

# Node labels and the spot taint (DESIGN.md §4); the chart's selectors and tolerations match them.
CORE_LABEL = ("hub.jupyter.org/node-purpose", "core")
SCHEDULER_LABEL = ("k8s.dask.org/node-purpose", "scheduler")
WORKER_LABEL = ("k8s.dask.org/node-purpose", "worker")
WORKER_TAINT = {"key": "k8s.dask.org/dedicated", "value": "worker", "effect": "NoSchedule"}

SCHEDULER_PORT = 8786
DASHBOARD_PORT = 8787


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
