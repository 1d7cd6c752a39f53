"""Parsers for each query's output, handed to output.parsed (which turns their errors into a
ToolError naming the tool and the command). Each raises on a shape it does not expect."""

from __future__ import annotations

import base64
import json
from typing import Any

from pangeo_himat.lifecycle.state import KeptVolume
from pangeo_himat.render import names

# The EBS CSI driver's zone keys on the volumes it creates: its own, and the well-known one
# (kubernetes-sigs/aws-ebs-csi-driver pkg/driver/driver.go ZoneTopologyKey and
# WellKnownZoneTopologyKey).
ZONE_KEYS = ("topology.ebs.csi.aws.com/zone", "topology.kubernetes.io/zone")


def clusters(text: str) -> list[Any]:
    """eksctl get cluster -o json: a list of cluster descriptions."""
    found = json.loads(text)
    if not isinstance(found, list):
        raise TypeError("expected a JSON list")
    return found


def pod_phases(text: str) -> dict[str, dict[str, int]]:
    """kubectl get pods -o json: the pods of each component, counted by phase."""
    counts: dict[str, dict[str, int]] = {}
    for pod in json.loads(text)["items"]:
        component = pod["metadata"].get("labels", {}).get(names.COMPONENT_LABEL, "?")
        phase = pod.get("status", {}).get("phase", "Unknown")
        counts.setdefault(component, {}).setdefault(phase, 0)
        counts[component][phase] += 1
    return counts


def running_pod(text: str, component: str) -> str | None:
    """kubectl get pods -o json: a Running pod of the component, else None."""
    for pod in json.loads(text)["items"]:
        labels = pod["metadata"].get("labels", {})
        if labels.get(names.COMPONENT_LABEL) == component and (
            pod.get("status", {}).get("phase") == "Running"
        ):
            return str(pod["metadata"]["name"])
    return None


def decisions(text: str) -> list[str]:
    """kubectl logs of the worker controller: one JSON object a line (pangeo_himat.controller.loop
    json_line); each as `<at> <reason or error>`. Lines that are not such objects are skipped."""
    shown = []
    for line in text.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and ("reason" in record or "error" in record):
            shown.append(f"{record.get('at', '?')} {record.get('reason') or record.get('error')}")
    return shown


def load_balancer_names(text: str) -> list[str]:
    """kubectl get services -o json: the names of the LoadBalancer services."""
    return [
        str(service["metadata"]["name"])
        for service in json.loads(text)["items"]
        if service.get("spec", {}).get("type") == "LoadBalancer"
    ]


def host_name(text: str) -> str:
    """A jsonpath answer: one host name, or nothing while the load balancer is pending."""
    host = text.strip()
    if any(character.isspace() for character in host):
        raise ValueError("expected one host name")
    return host


def claim_volume_name(text: str) -> str:
    """kubectl get pvc -o json: the bound PersistentVolume's name ('' while unbound)."""
    return str(json.loads(text)["spec"].get("volumeName") or "")


def kept_volume(text: str) -> KeptVolume:
    """kubectl get pv -o json: the EBS volume ID (spec.csi.volumeHandle) and its zone."""
    spec = json.loads(text)["spec"]
    volume_id = spec["csi"]["volumeHandle"]
    if not isinstance(volume_id, str) or not volume_id.startswith("vol-"):
        raise ValueError("spec.csi.volumeHandle is not an EBS volume ID")
    zone = None
    terms = spec.get("nodeAffinity", {}).get("required", {}).get("nodeSelectorTerms", [])
    for term in terms:
        for expression in term.get("matchExpressions", []):
            if expression.get("key") in ZONE_KEYS and expression.get("values"):
                zone = str(expression["values"][0])
    return KeptVolume(volume_id, zone)


def volume_ids(text: str) -> list[str]:
    """aws ec2 describe-volumes --output json: {"Volumes": [{"VolumeId": ...}, ...]}."""
    return [str(volume["VolumeId"]) for volume in json.loads(text)["Volumes"]]


def token(text: str) -> str:
    """kubectl get secret -o json: the `token` key, base64 as Kubernetes stores it, as UTF-8."""
    encoded = json.loads(text)["data"]["token"]
    return base64.b64decode(encoded, validate=True).decode("utf-8")
