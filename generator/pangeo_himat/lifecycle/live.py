"""What a running cluster is, read from `eksctl get ... -o json`: the parsers for output.parsed.

Each parser raises on a shape it does not expect (output.parsed turns that into a ToolError
naming the command); the field names are eksctl's own JSON, cited at each parser.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LiveGroup:
    """One nodegroup as `eksctl get nodegroup` shows it."""

    name: str
    desired: int
    minimum: int
    maximum: int
    version: str


@dataclass(frozen=True)
class LiveAddon:
    name: str
    version: str
    configuration_values: str


@dataclass(frozen=True)
class LiveAssociation:
    namespace: str
    service_account: str
    role_arn: str

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.service_account}"


@dataclass(frozen=True)
class LiveCluster:
    """Everything drift and upgrade compare with the rendered ClusterConfig."""

    version: str
    groups: tuple[LiveGroup, ...]
    addons: tuple[LiveAddon, ...]
    associations: tuple[LiveAssociation, ...]


def json_after_log(text: str) -> Any:
    """The JSON document of an eksctl answer, after any log lines eksctl wrote before it.

    eksctl's logger writes to standard output (cmd/eksctl/logger.go: logger.Writer = os.Stdout
    or color.Output), so `describe-addon-versions` prints "<time> [ℹ]  describing addon
    versions for addon: <name>" before its JSON (pkg/actions/addon/describe_versions.go;
    eksctl-io/eksctl#5391). himat asks with `--verbose 0`, and parses robustly anyway: the
    document starts at the first line that opens a JSON object or list.
    """
    lines = text.splitlines(keepends=True)
    for index, line in enumerate(lines):
        if line.lstrip().startswith(("{", "[")):
            return json.loads("".join(lines[index:]))
    return json.loads(text)  # `null`, or no JSON at all (ValueError)


def _list(text: str) -> list[Any]:
    # `get podidentityassociation` leaves eksctl's log lines on stdout (pkg/ctl/get/
    # pod_identity_association.go, unlike get cluster/nodegroup/addon), so a warning would
    # precede the JSON there.
    found = json_after_log(text)
    if found is None:  # eksctl prints `null` for an empty result of some resources
        return []
    if not isinstance(found, list):
        raise TypeError("expected a JSON list")
    return found


def cluster_version(text: str) -> str:
    """eksctl get cluster --name C -o json: a one-element list of EKS `Cluster` objects whose
    `Version` is the control plane's minor version (eksctl pkg/ctl/get/cluster.go,
    getAndPrintCluster prints []*ekstypes.Cluster; aws-sdk-go-v2 service/eks/types Cluster)."""
    (cluster,) = _list(text)
    version = cluster["Version"]
    if not isinstance(version, str) or not version.count(".") == 1:
        raise ValueError("Version is not a Kubernetes minor version")
    return version


def nodegroups(text: str) -> tuple[LiveGroup, ...]:
    """eksctl get nodegroup -o json: summaries with Name, DesiredCapacity, MinSize, MaxSize,
    Version (eksctl pkg/actions/nodegroup/get.go, type Summary)."""
    return tuple(
        LiveGroup(
            str(group["Name"]),
            int(group["DesiredCapacity"]),
            int(group["MinSize"]),
            int(group["MaxSize"]),
            str(group.get("Version") or ""),
        )
        for group in _list(text)
    )


def addons(text: str) -> tuple[LiveAddon, ...]:
    """eksctl get addon -o json: summaries with Name, Version, ConfigurationValues (eksctl
    pkg/actions/addon/get.go, type Summary)."""
    return tuple(
        LiveAddon(
            str(addon["Name"]),
            str(addon.get("Version") or ""),
            str(addon.get("ConfigurationValues") or ""),
        )
        for addon in _list(text)
    )


def associations(text: str) -> tuple[LiveAssociation, ...]:
    """eksctl get podidentityassociation -o json: summaries with Namespace, ServiceAccountName,
    RoleARN; no policy (eksctl pkg/actions/podidentityassociation/getter.go, type Summary)."""
    return tuple(
        LiveAssociation(
            str(found["Namespace"]), str(found["ServiceAccountName"]), str(found["RoleARN"])
        )
        for found in _list(text)
    )


def default_addon_version(text: str) -> str:
    """eksctl utils describe-addon-versions --name A --kubernetes-version V: EKS's
    DescribeAddonVersionsOutput as JSON (eksctl pkg/actions/addon/describe_versions.go); the
    version whose compatibility says DefaultVersion, as eksctl itself picks it when no version
    is given (pkg/actions/addon/addon.go getLatestMatchingVersion)."""
    document = json_after_log(text)
    for addon in document["Addons"]:
        for candidate in addon["AddonVersions"]:
            compatibilities = candidate.get("Compatibilities") or []
            if compatibilities and compatibilities[0].get("DefaultVersion"):
                return str(candidate["AddonVersion"])
    raise ValueError("no version is marked DefaultVersion")
