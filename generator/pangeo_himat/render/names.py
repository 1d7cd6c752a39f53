"""Names shared by the ClusterConfig, the Helm values, the chart and the lifecycle verbs.

One place, so that a label, taint, port or resource name cannot drift between the generator's
outputs, the chart and the commands that act on them. The docs' "What `himat render`
writes" (How it works) says what each nodegroup label and the spot taint are for.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pangeo_himat.settings.shipped import CHART_DIR_NAME as CHART_DIR_NAME
from pangeo_himat.settings.shipped import SCHEMA_FILE as SCHEMA_FILE

OUTPUT_DIR_NAME = "clusterconfig"
EKSCTL_FILE = "eksctl.yaml"
VALUES_FILE = "values.yaml"
TERMINATION_HANDLER_FILE = "termination-handler.yaml"
AUTOSCALER_FILE = "cluster-autoscaler.yaml"
# The pod identity associations `cluster` creates on a running cluster: only the missing ones.
NEW_ASSOCIATIONS_FILE = "podidentity-new.yaml"
STATE_FILE = "state.yaml"

# The two nodegroups' roles; each group's name is its role and a short hash of the fields
# eksctl cannot change in place (nodegroup_name), so a change of them is a new group.
STABLE_NODEGROUP = "stable"
SPOT_NODEGROUP = "spot"
NODEGROUP_HASH_CHARS = 6

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

# The label eksctl puts on every node of a nodegroup (eksctl pkg/apis/eksctl.io/v1alpha5/
# types.go NodeGroupNameLabel).
EKSCTL_NODEGROUP_LABEL = "alpha.eksctl.io/nodegroup-name"


def nodegroup_name(role: str, fixed_fields: dict[str, Any]) -> str:
    """`<role>-<hash>`: the hash covers the fields a running group keeps for life, so the name
    changes exactly when the group must be replaced (eksctl shows none of them in `get
    nodegroup`, pkg/actions/nodegroup/get.go Summary, so the name is how they are compared)."""
    canonical = json.dumps(fixed_fields, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{role}-{digest[:NODEGROUP_HASH_CHARS]}"


def nodegroup_role(name: str) -> str | None:
    """The role (`stable`, `spot`) of a nodegroup named by nodegroup_name, else None."""
    if name in (STABLE_NODEGROUP, SPOT_NODEGROUP):
        return name  # named before the hash was part of the name
    role, _, digest = name.rpartition("-")
    if role in (STABLE_NODEGROUP, SPOT_NODEGROUP) and len(digest) == NODEGROUP_HASH_CHARS:
        return role
    return None


# Tags on the notebooks' EBS volume, copied onto every snapshot of it (himat status finds the
# last one by the cluster tag). The backup policy targets the volume by BACKUP_TAG_KEY alone
# (render_backup.py says why).
CLUSTER_TAG_KEY = "himat/cluster"
VOLUME_TAG = ("himat/volume", "home")
BACKUP_TAG_KEY = "himat/backup"


# The cluster-autoscaler: its own Helm release in kube-system. The values set fullnameOverride to
# the release name, so its Deployment and ServiceAccount carry that name too (without it the
# chart's `cluster-autoscaler.fullname` would be `<release>-aws-cluster-autoscaler`; kubernetes/
# autoscaler charts/cluster-autoscaler/templates/_helpers.tpl).
AUTOSCALER_RELEASE = "cluster-autoscaler"
AUTOSCALER_NAMESPACE = "kube-system"
AUTOSCALER_DEPLOYMENT = AUTOSCALER_RELEASE
AUTOSCALER_SERVICE_ACCOUNT = AUTOSCALER_RELEASE


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


def jupyter_deployment(cluster_name: str) -> str:
    """The chart names the Jupyter Deployment `<release>-jupyter`."""
    return f"{release_name(cluster_name)}-jupyter"


def worker_deployment(cluster_name: str) -> str:
    """The chart names the Dask workers' Deployment `<release>-worker`."""
    return f"{release_name(cluster_name)}-worker"


def volume_tags(cluster_name: str) -> dict[str, str]:
    """The notebooks' volume's tags, as the StorageClass, `create-tags` and the policy use them."""
    return {
        CLUSTER_TAG_KEY: cluster_name,
        VOLUME_TAG[0]: VOLUME_TAG[1],
        BACKUP_TAG_KEY: cluster_name,
    }


# The controller's adaptive bounds, read from its environment (pangeo_himat.controller.__main__).
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
