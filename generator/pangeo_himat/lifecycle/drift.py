"""What `cluster` changes on a running cluster: a pure function from the rendered ClusterConfig
and the live state (lifecycle/live.py) to a table of differences and the steps that fix them.

Order: pod identity associations, then a restart of the pods that use them (credentials are
read when a pod starts); add-ons; nodegroup sizes; nodegroup replacements (new group first,
then the old one emptied and deleted, then the autoscaler and the chart again, so that the
controller names the new group). The kubeconfig entry comes first, for the kubectl steps.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from pangeo_himat.lifecycle import plans
from pangeo_himat.lifecycle.live import LiveCluster, LiveGroup
from pangeo_himat.lifecycle.steps import Step, Target
from pangeo_himat.render import names
from pangeo_himat.render.render_cluster import group_name

ROLLOUT_TIMEOUT = "15m"


@dataclass(frozen=True)
class Difference:
    """One row of the table `cluster --dry-run` prints."""

    item: str
    live: str
    wanted: str
    action: str


@dataclass(frozen=True)
class Drift:
    """The differences, the steps that remove them, and the policy hashes to record after."""

    differences: list[Difference] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    policy_hashes: dict[str, str] = field(default_factory=dict)
    # Files the steps read besides the rendered ones (path -> document), written before them.
    files: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def changes(self) -> bool:
        return bool(self.differences)


def policy_hash(association: dict[str, Any]) -> str:
    """A short hash of what eksctl applies to the association's role (role name and policy)."""
    applied = {key: association.get(key) for key in ("roleName", "permissionPolicy")}
    canonical = json.dumps(applied, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:12]


def policy_hashes(config: dict[str, Any]) -> dict[str, str]:
    """The hash of every association the ClusterConfig applies, by `namespace/serviceaccount`."""
    return {
        association_key(association): policy_hash(association)
        for association in config["iam"].get("podIdentityAssociations", [])
    }


def association_key(association: dict[str, Any]) -> str:
    return f"{association['namespace']}/{association['serviceAccountName']}"


def associations_config(
    config: dict[str, Any], associations: list[dict[str, Any]]
) -> dict[str, Any]:
    """A ClusterConfig holding only `associations` (what `create podidentityassociation -f`
    reads: metadata and iam.podIdentityAssociations, pkg/ctl/cmdutils
    NewCreatePodIdentityAssociationLoader)."""
    metadata = {key: config["metadata"][key] for key in ("name", "region")}
    return {
        "apiVersion": config["apiVersion"],
        "kind": config["kind"],
        "metadata": metadata,
        "iam": {"podIdentityAssociations": associations},
    }


def restart_users_step(target: Target) -> Step:
    """Jupyter and the workers run as the user ServiceAccount (the chart's deployments)."""
    deployments = (
        f"deployment/{names.jupyter_deployment(target.cluster)}",
        f"deployment/{names.worker_deployment(target.cluster)}",
    )
    argv = ("kubectl", "rollout", "restart", *deployments, "-n", target.namespace)
    return Step("restart Jupyter and the workers (new credentials)", argv)


def restart_step(target: Target, key: str) -> Step | None:
    """The restart that gives the pods of one association's ServiceAccount new credentials
    (a pod reads them when it starts); None for a ServiceAccount no deployment of ours uses."""
    if key == f"{target.namespace}/{names.user_service_account(target.cluster)}":
        return restart_users_step(target)
    if key == f"{target.namespace}/{names.controller_service_account(target.cluster)}":
        argv = (
            "kubectl",
            "rollout",
            "restart",
            f"deployment/{names.controller_deployment(target.cluster)}",
        )
        return Step(
            "restart the worker controller (new credentials)", (*argv, "-n", target.namespace)
        )
    if key == f"{names.AUTOSCALER_NAMESPACE}/{names.AUTOSCALER_SERVICE_ACCOUNT}":
        argv = ("kubectl", "rollout", "restart", f"deployment/{names.AUTOSCALER_DEPLOYMENT}")
        return Step(
            "restart the cluster-autoscaler (new credentials)",
            (*argv, "-n", names.AUTOSCALER_NAMESPACE),
        )
    return None


def _purpose(key: str) -> str:
    if key.startswith(f"{names.AUTOSCALER_NAMESPACE}/"):
        return "autoscaler role"
    return "idle-sleep role" if key.endswith("-controller") else "S3 role"


def association_drift(
    target: Target, config: dict[str, Any], live: LiveCluster, recorded: dict[str, str]
) -> Drift:
    """The pod identity associations' part alone (upgrade ends with it: the idle-sleep policy
    names the spot group, whose name changes with the version)."""
    drift = Drift()
    _associations(target, config, live, drift, recorded)
    return drift


def _associations(
    target: Target,
    config: dict[str, Any],
    live: LiveCluster,
    drift: Drift,
    recorded: dict[str, str],
) -> None:
    wanted = {association_key(a): a for a in config["iam"].get("podIdentityAssociations", [])}
    # Ours: every association the settings render, and any left in the release's namespace.
    present = {
        a.key: a for a in live.associations if a.key in wanted or a.namespace == target.namespace
    }
    where = ("--cluster", target.cluster, "--region", target.region)
    changed: list[str] = []
    missing = [key for key in wanted if key not in present]
    if missing:
        # Only the missing ones: eksctl fails on an association that exists (its role's stack
        # exists: pkg/actions/podidentityassociation/creator.go CreateTasks is called with
        # ignorePodIdentityExistsErr false on this path, and iam_role_creator.go's CreateStack
        # returns CloudFormation's AlreadyExistsException).
        drift.files[target.new_associations_file] = associations_config(
            config, [wanted[key] for key in missing]
        )
        argv = ("eksctl", "create", "podidentityassociation", "-f", target.new_associations_file)
        drift.steps.append(Step("create the missing pod identity associations", argv))
    for key, association in wanted.items():
        drift.policy_hashes[key] = policy_hash(association)
        if key in missing:
            drift.differences.append(
                Difference(
                    f"pod identity {key}", "absent", _purpose(key), "create, restart its pods"
                )
            )
            changed.append(key)
        elif recorded.get(key) != drift.policy_hashes[key]:
            shown = f"policy {recorded[key]}" if key in recorded else "policy not recorded"
            drift.differences.append(
                Difference(
                    f"pod identity {key}",
                    shown,
                    f"policy {drift.policy_hashes[key]}",
                    "update, restart its pods",
                )
            )
            changed.append(key)
    if any(key not in missing for key in changed):
        argv = ("eksctl", "update", "podidentityassociation", "-f", target.eksctl_file)
        drift.steps.append(Step("update the pod identity associations' roles", argv))
    for key, association in present.items():
        if key not in wanted:
            drift.differences.append(
                Difference(
                    f"pod identity {key}",
                    association.role_arn,
                    "absent (no bucket)",
                    "delete, restart its pods",
                )
            )
            namespace, account = key.split("/", 1)
            delete: tuple[str, ...] = (
                "eksctl",
                "delete",
                "podidentityassociation",
                *where,
                "--namespace",
                namespace,
                "--service-account-name",
                account,
            )
            drift.steps.append(Step(f"delete the pod identity association of {account}", delete))
            changed.append(key)
    restarts = [restart_step(target, key) for key in changed]
    for step in dict.fromkeys(step for step in restarts if step is not None):
        drift.steps.append(step)


def _same_configuration(wanted: str, live: str) -> bool:
    """Configuration values as JSON objects: key order and spacing do not matter."""
    if not wanted and not live:
        return True
    try:
        return bool(json.loads(wanted or "{}") == json.loads(live or "{}"))
    except ValueError:
        return wanted == live


def _addons(target: Target, config: dict[str, Any], live: LiveCluster, drift: Drift) -> None:
    present = {addon.name: addon for addon in live.addons}
    create = update = False
    for addon in config["addons"]:
        name = addon["name"]
        wanted_values = str(addon.get("configurationValues") or "")
        if name not in present:
            drift.differences.append(Difference(f"add-on {name}", "absent", "installed", "create"))
            create = True
        elif not _same_configuration(wanted_values, present[name].configuration_values):
            shown = present[name].configuration_values or "defaults"
            drift.differences.append(
                Difference(f"add-on {name}", shown, wanted_values, "update its configuration")
            )
            update = True
    # eksctl create addon -f skips the add-ons already present (pkg/actions/addon/create.go);
    # update addon -f keeps each add-on's version when the file names none (update.go).
    if create:
        argv = ("eksctl", "create", "addon", "-f", target.eksctl_file)
        drift.steps.append(Step("create the missing add-ons", argv))
    if update:
        argv = ("eksctl", "update", "addon", "-f", target.eksctl_file)
        drift.steps.append(Step("update the add-ons' configuration", argv))


def retire_steps(target: Target, role: str, old: str) -> list[Step]:
    """Empty the old group, then delete it. Its nodes are cordoned first, so nothing new lands
    there; spot: the workers are restarted onto the new group (each old worker's preStop hook
    retires it, handing its data to the others), and only then is the group drained. Stable:
    the drain moves Jupyter and the scheduler; the new group is in zones[0] too, so the
    notebooks' volume attaches there."""
    # kubectl cordon -l/--selector (kubernetes staging/src/k8s.io/kubectl/pkg/cmd/drain/drain.go,
    # NewCmdCordon); rollout restart/status take TYPE/NAME and --timeout (pkg/cmd/rollout).
    selector = f"{names.EKSCTL_NODEGROUP_LABEL}={old}"
    steps = [Step(f"cordon the nodes of {old}", ("kubectl", "cordon", "-l", selector))]
    if role == names.SPOT_NODEGROUP:
        worker = f"deployment/{names.worker_deployment(target.cluster)}"
        steps += [
            Step(
                "restart the workers onto the new group (old ones retire)",
                ("kubectl", "rollout", "restart", worker, "-n", target.namespace),
            ),
            Step(
                "wait for the new workers",
                (
                    "kubectl",
                    "rollout",
                    "status",
                    worker,
                    "-n",
                    target.namespace,
                    "--timeout",
                    ROLLOUT_TIMEOUT,
                ),
            ),
        ]
    # --drain is eksctl's default; --approve, since without it eksctl only plans
    # (pkg/ctl/delete/nodegroup.go, cmdutils AddApproveFlag); --wait, so the next step sees it gone.
    where = ("--cluster", target.cluster, "--region", target.region, "--name", old)
    argv = ("eksctl", "delete", "nodegroup", *where, "--drain", "--approve", "--wait")
    steps.append(Step(f"drain and delete nodegroup {old}", argv))
    return steps


def create_group_step(target: Target, name: str) -> Step:
    argv = ("eksctl", "create", "nodegroup", "-f", target.eksctl_file, f"--include={name}")
    return Step(f"create nodegroup {name}", argv)


def _groups(target: Target, config: dict[str, Any], live: LiveCluster, drift: Drift) -> None:
    version = config["metadata"]["version"]
    rendered = [
        (names.STABLE_NODEGROUP, config["managedNodeGroups"][0]),
        (names.SPOT_NODEGROUP, config["nodeGroups"][0]),
    ]
    replacements: list[Step] = []
    for role, group in rendered:
        wanted = str(group["name"])
        of_role = [g for g in live.groups if names.nodegroup_role(g.name) == role]
        current = next((g for g in of_role if g.name == wanted), None)
        olds = [g.name for g in of_role if g.name != wanted]
        if current is not None:
            _scale(target, group, current, drift)
        elif live.version != version and any(
            # A spot group that differs only by the cluster's version waits for `himat
            # upgrade`: nodes newer than the control plane are not allowed.
            old == group_name(role, {k: v for k, v in group.items() if k != "name"}, live.version)
            for old in olds
        ):
            drift.differences.append(
                Difference(
                    f"nodegroup {role}",
                    f"Kubernetes {live.version}",
                    f"Kubernetes {version}",
                    version_action(live.version, version, "himat upgrade replaces it"),
                )
            )
            continue
        elif live.version != version:
            # A new group takes the settings' version, which the control plane does not run yet.
            drift.differences.append(
                Difference(
                    f"nodegroup {role}",
                    ", ".join(olds) or "absent",
                    wanted,
                    version_action(live.version, version, "after himat upgrade: replace"),
                )
            )
            continue
        else:
            replacements.append(create_group_step(target, wanted))
        if current is None or olds:
            # With the new group already there, a replacement stopped halfway: finish it.
            action = ("replace" if olds else "create") if current is None else "delete the old"
            drift.differences.append(
                Difference(f"nodegroup {role}", ", ".join(olds) or "absent", wanted, action)
            )
        for old in olds:
            replacements += retire_steps(target, role, old)
    if replacements:
        # What names the groups follows them: the autoscaler and the chart (the controller's
        # --spot-nodegroup and --stable-nodegroup); the associations were planned above.
        replacements += [plans.autoscaler_install_step(target), plans.chart_install_step(target)]
    drift.steps.extend(replacements)


def _scale(target: Target, group: dict[str, Any], current: LiveGroup, drift: Drift) -> None:
    desired, maximum = int(group["desiredCapacity"]), int(group["maxSize"])
    if (current.desired, current.maximum, current.minimum) == (desired, maximum, 0):
        return
    drift.differences.append(
        Difference(
            f"nodegroup {current.name}",
            f"{current.desired} nodes (max {current.maximum})",
            f"{desired} nodes (max {maximum})",
            "scale",
        )
    )
    drift.steps.append(plans.scale_nodegroup_step(target, current.name, desired, maximum))


def plan_drift(
    target: Target, config: dict[str, Any], live: LiveCluster, recorded: dict[str, str]
) -> Drift:
    """The differences between the rendered ClusterConfig and the live cluster, and the steps.

    `recorded`: the policy hashes state.yaml holds. The Kubernetes version is compared but not
    changed here (`himat upgrade` does that, one minor version at a time).
    """
    # The kubeconfig entry first: the kubectl steps below need it on a machine new to the cluster.
    drift = Drift(steps=[plans.kubeconfig_step(target)])
    version = config["metadata"]["version"]
    if live.version != version:
        action = version_action(live.version, version, "himat upgrade")
        drift.differences.append(Difference("Kubernetes version", live.version, version, action))
    _associations(target, config, live, drift, recorded)
    _addons(target, config, live, drift)
    _groups(target, config, live, drift)
    return drift


DOWNGRADE = "none: a cluster cannot be downgraded; set cluster.kubernetes_version to"


def version_action(live: str, wanted: str, upgrade: str) -> str:
    """What fixes a version difference: `upgrade` when the settings are newer, else the
    settings themselves (EKS cannot downgrade)."""
    if _minor(live) < _minor(wanted):
        return upgrade
    return f'{DOWNGRADE} "{live}"'


def _minor(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("."))


def table(differences: list[Difference]) -> list[str]:
    """Fixed-width rows: what, live, settings, what himat does."""
    rows = [Difference("what", "live", "settings", "action"), *differences]
    widths = [
        max(len(getattr(row, column)) for row in rows) for column in ("item", "live", "wanted")
    ]
    return [
        f"{row.item:<{widths[0]}}  {row.live:<{widths[1]}}  {row.wanted:<{widths[2]}}  "
        f"{row.action}".rstrip()
        for row in rows
    ]
