"""`upgrade`: from the live Kubernetes version to the settings' one, one minor version at a time.

Pure functions from the rendered ClusterConfig, the live state and the answers of the
read-only queries to a plan. EKS upgrades a control plane by one minor version per call
(eksctl pkg/ctl/upgrade/cluster.go: `--version`, and `--approve` or it only plans). Per step:
the control plane, the add-ons (to EKS's default version for that minor), the managed stable
group (`eksctl upgrade nodegroup --kubernetes-version`, pkg/ctl/upgrade/nodegroup.go). The
unmanaged spot group cannot be upgraded in place: it is replaced once, at the end (its name's
hash covers the version). Meanwhile its kubelets fall behind the control plane, which the
version-skew policy allows up to three minor versions ("kubelet may be up to three minor
versions older than kube-apiserver", https://kubernetes.io/releases/version-skew-policy/):
before a step that would leave them further behind, the workers and the spot nodes go to 0
(controller and autoscaler paused) until the new group exists. The plan ends with what names
the spot group: the pod identity associations (the idle-sleep policy's condition), the
termination handler, the cluster-autoscaler (its image follows the minor) and the chart (the
controller's --spot-nodegroup).
"""

from __future__ import annotations

import sys
from typing import Any

from pangeo_himat.lifecycle.drift import create_group_step, retire_steps
from pangeo_himat.lifecycle.live import LiveCluster
from pangeo_himat.lifecycle.plans import (
    kubeconfig_step,
    pause_workers_steps,
    restore_elastic_steps,
    scale_nodegroup_step,
)
from pangeo_himat.lifecycle.steps import Step, Target
from pangeo_himat.render import names
from pangeo_himat.settings.versions import Calendar

# As in settings.py: keep jsonschema (which kubernetes-validate uses) from compiling the
# rfc3987_syntax grammar at import, ~1.2 s of every `himat` call; no schema here checks IRIs.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]

import kubernetes_validate  # noqa: E402
from kubernetes_validate.utils import VersionNotSupportedError  # noqa: E402

# kubelet may be up to three minor versions older than kube-apiserver (Kubernetes version-skew
# policy, "kubelet"; two for kubelets older than 1.25, which EKS no longer runs).
KUBELET_SKEW = 3


def minor(version: str) -> int:
    """The minor number of a `1.NN` version."""
    major, number = version.split(".")
    if major != "1":
        raise ValueError(f"not a Kubernetes 1.x version: {version}")
    return int(number)


def chain(live: str, wanted: str) -> list[str]:
    """Every minor version after `live` up to `wanted`, in order (empty when equal)."""
    return [f"1.{number}" for number in range(minor(live) + 1, minor(wanted) + 1)]


def refusal(live: str, wanted: str, calendar: Calendar) -> str | None:
    """Why the upgrade cannot run, as the settings key's message; None when it can."""
    if minor(wanted) < minor(live):
        return (
            f"is {wanted}, older than the {live} the cluster runs: EKS cannot downgrade; "
            f'expected "{live}" or newer'
        )
    unknown = [version for version in chain(live, wanted) if version not in calendar.versions]
    if unknown:
        known = ", ".join(calendar.versions)
        return (
            f"the EKS calendar shipped with himat does not know {', '.join(unknown)}; "
            f"expected one of {known}"
        )
    return None


def addon_names(config: dict[str, Any]) -> list[str]:
    return [str(addon["name"]) for addon in config["addons"]]


def lagging(live: LiveCluster) -> bool:
    """The stable group is older than the control plane: a run stopped within a step."""
    return any(
        names.nodegroup_role(g.name) == names.STABLE_NODEGROUP
        and g.version
        and minor(".".join(g.version.split(".")[:2])) < minor(live.version)
        for g in live.groups
    )


def versions_to_visit(live: LiveCluster, wanted: str) -> list[str]:
    """The minors whose add-ons and stable group the plan upgrades: the live one first when a
    stopped run left them behind, then every later one up to `wanted`."""
    return ([live.version] if lagging(live) else []) + chain(live.version, wanted)


def spot_kubelet_minor(live: LiveCluster, spot: str) -> int | None:
    """The oldest kubelet minor of the old spot groups with nodes; None when none has any.
    eksctl reports an unmanaged group's Version from its nodes' kubelets, and none at 0 nodes
    (pkg/actions/nodegroup/get.go unmanagedStackToSummary, GetNodegroupKubernetesVersion)."""
    minors = [
        minor(".".join(g.version.split(".")[:2]))
        for g in live.groups
        if names.nodegroup_role(g.name) == names.SPOT_NODEGROUP
        and g.name != spot
        and g.version
        and g.desired > 0
    ]
    return min(minors) if minors else None


def upgrade_steps(
    target: Target,
    config: dict[str, Any],
    live: LiveCluster,
    defaults: dict[tuple[str, str], str],
    tail: list[Step],
) -> list[Step]:
    """The whole chain. `defaults`: (add-on, minor) -> EKS's default add-on version. `tail`:
    what follows the spot group's replacement (associations, termination handler, autoscaler,
    chart), run whenever anything else is."""
    where = ("--cluster", target.cluster, "--region", target.region)
    stable = [g.name for g in live.groups if names.nodegroup_role(g.name) == names.STABLE_NODEGROUP]
    spot = str(config["nodeGroups"][0]["name"])
    olds = [
        g
        for g in live.groups
        if names.nodegroup_role(g.name) == names.SPOT_NODEGROUP and g.name != spot
    ]
    kubelet = spot_kubelet_minor(live, spot)
    paused = False
    steps: list[Step] = []
    for version in versions_to_visit(live, config["metadata"]["version"]):
        if version != live.version:
            if kubelet is not None and not paused and minor(version) - kubelet > KUBELET_SKEW:
                steps += pause_workers_steps(target)
                steps += [scale_nodegroup_step(target, g.name, 0, g.maximum) for g in olds]
                paused = True
            argv = ("eksctl", "upgrade", "cluster", "--name", target.cluster)
            steps.append(
                Step(
                    f"upgrade the control plane to {version} (about 10 minutes)",
                    (*argv, "--region", target.region, "--version", version, "--approve"),
                )
            )
        for addon in addon_names(config):
            chosen = defaults[(addon, version)]
            update = ("eksctl", "update", "addon", "--name", addon, *where, "--version", chosen)
            steps.append(Step(f"update add-on {addon} to {chosen}", (*update, "--wait")))
        for group in stable:
            node = ("eksctl", "upgrade", "nodegroup", *where, "--name", group)
            steps.append(
                Step(
                    f"upgrade nodegroup {group} to {version}",
                    (*node, "--kubernetes-version", version),
                )
            )
    if steps and olds:
        steps.append(create_group_step(target, spot))
        for old in olds:
            steps += retire_steps(target, names.SPOT_NODEGROUP, old.name)
    if paused:
        steps += restore_elastic_steps(target)
    # The kubeconfig entry first: the kubectl and helm steps need it.
    return [kubeconfig_step(target), *steps, *tail] if steps else []


def invalid_manifests(documents: list[dict[str, Any]], version: str) -> list[str]:
    """Each chart manifest that kubernetes-validate --strict rejects for that version."""
    problems = []
    for document in documents:
        kind = document.get("kind", "?")
        shown = f"{kind}/{document.get('metadata', {}).get('name', '?')}"
        try:
            kubernetes_validate.validate(document, f"{version}.0", strict=True)
        except VersionNotSupportedError:
            return [
                f"kubernetes-validate has no schemas for Kubernetes {version}; "
                "update it (pip install -U kubernetes-validate)"
            ]
        except kubernetes_validate.SchemaNotFoundError:
            api = document.get("apiVersion", "?")
            problems.append(f"{shown}: Kubernetes {version} has no {kind} in {api}")
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{shown} is not valid for Kubernetes {version}: {error.message}")
    return problems
