"""The AWS Node Termination Handler that protects the spot nodes: its chart pin and its values.

Its requests are written once, in fit/system_pods.py (the fit counts them on every spot node,
and the fit sits below the renderers); the rendered values set them.
"""

from __future__ import annotations

from typing import Any

from pangeo_himat.fit import system_pods
from pangeo_himat.render import names

# IMDS mode, chart from AWS's public ECR. Version pinned to the chart's current release:
# aws/aws-node-termination-handler config/helm/aws-node-termination-handler/Chart.yaml
# (version 0.27.6, appVersion 1.25.6, at commit 62a8761d, 2026-07-21).
CHART = "oci://public.ecr.aws/aws-ec2/helm/aws-node-termination-handler"
CHART_VERSION = "0.27.6"

REQUESTS_CPU_MILLICORES = system_pods.TERMINATION_HANDLER_REQUESTS_CPU_MILLICORES
REQUESTS_MEMORY_MIB = system_pods.TERMINATION_HANDLER_REQUESTS_MEMORY_MIB
LIMITS_CPU_MILLICORES = 100
LIMITS_MEMORY_MIB = 128


def termination_handler_values() -> dict[str, Any]:
    """IMDS-mode handler on the spot nodes only; it drains a node on its interruption notice.

    Keys as the chart's values.yaml names them (same Chart.yaml commit as above).
    """
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
        "resources": {
            "requests": {
                "cpu": f"{REQUESTS_CPU_MILLICORES}m",
                "memory": f"{REQUESTS_MEMORY_MIB}Mi",
            },
            "limits": {"cpu": f"{LIMITS_CPU_MILLICORES}m", "memory": f"{LIMITS_MEMORY_MIB}Mi"},
        },
    }
