"""The stand-in eksctl's running clusters: recorded live states and what eksctl verbs do to them.

NOT eksctl: part of the stand-in (standin.py). The shapes are eksctl's own `-o json` output,
cited at each builder; the numbers (versions, ARNs, IDs) are the stand-in's own.
"""

import glob
import hashlib
import json
import os
import sys


def recorded_live() -> dict:
    folder = os.environ.get("STANDIN_LIVE")
    found = {}
    for path in sorted(glob.glob(os.path.join(folder, "*.json"))) if folder else []:
        with open(path) as handle:
            found[os.path.basename(path)[: -len(".json")]] = json.load(handle)
    return found


def flag(args: list[str], name: str) -> str:
    for index, arg in enumerate(args):
        if arg == name:
            return args[index + 1]
        if arg.startswith(name + "="):
            return arg[len(name) + 1 :]
    return ""


def read_config(path: str) -> dict:
    # Imported here: PyYAML costs a third of a stand-in's start, and most calls read no config.
    import yaml

    with open(path) as handle:
        return yaml.safe_load(handle)


def live_of(world: dict, name: str) -> dict:
    """The recorded live state of cluster `name` (a bare default when none was recorded: the
    stand-in's own, in the shapes of eksctl_get and group_summary below)."""
    return world["live"].setdefault(
        name,
        {
            "cluster": [{"Name": name, "Version": "1.35", "Status": "ACTIVE"}],
            "nodegroups": [
                {"Name": "stable", "DesiredCapacity": 1, "MinSize": 0, "MaxSize": 1},
                {"Name": "spot", "DesiredCapacity": 3, "MinSize": 0, "MaxSize": 10},
            ],
            "addons": [],
            "podidentityassociations": [],
        },
    )


def eksctl_get(kind: str, live: dict) -> int:
    """eksctl get <kind> -o json: the objects as json.MarshalIndent(obj, "", "    ") on stdout
    (pkg/printers/json.go), exit 0; with -o json its log lines go to stderr instead (pkg/ctl/get/
    cluster.go, nodegroup.go, addon.go: logger.Writer = os.Stderr), of which himat reads none.
    `get cluster --name` prints a one-element list of EKS Cluster objects (get/cluster.go
    getAndPrintCluster; the recorded states keep their Name, Version and Status)."""
    key = {
        "cluster": "cluster",
        "nodegroup": "nodegroup",
        "addon": "addons",
        "podidentityassociation": "podidentityassociations",
    }[kind]
    print(json.dumps(live["nodegroups" if key == "nodegroup" else key], indent=4))
    return 0


def _suffix(seed: str, length: int) -> str:
    """A stable stand-in for the random part AWS gives a physical name."""
    digest = hashlib.sha256(seed.encode()).hexdigest()
    return digest[:length].upper() if length == 12 else digest[:length]


def group_summary(cluster: str, group: dict, version: str, kind: str) -> dict:
    """eksctl pkg/actions/nodegroup/get.go Summary, as `get nodegroup -o json` prints it.

    Unmanaged (unmanagedStackToSummary, mapStackToNodeGroupSummary): InstanceType is the
    launch template's, which for mixed instances is the first of instancesDistribution's types
    (pkg/cfn/builder/nodegroup.go); ImageID the launch template's AMI; AutoScalingGroupName the
    ASG's physical name, "<stack>-NodeGroup-<12 random>" (GetUnmanagedNodeGroupAutoScalingGroupName:
    the stack resource "NodeGroup"); NodeInstanceRoleARN the stack's output; Version the first
    node's kubelet version without "v" and the "-eks-..." suffix, and "" when DesiredCapacity is
    0 (kubewrapper.GetNodegroupKubernetesVersion is asked only then).
    Managed (getManagedSummary): InstanceType the group's types, ImageID its AMI type,
    AutoScalingGroupName "eks-<group>-<uuid>" (EKS DescribeNodegroup resources), Version the
    nodegroup's minor version, NodeInstanceRoleARN its node role.
    """
    name = group["name"]
    stack = f"eksctl-{cluster}-nodegroup-{name}"
    common = {
        "StackName": stack,
        "Cluster": cluster,
        "Name": name,
        "MaxSize": group["maxSize"],
        "MinSize": group["minSize"],
        "DesiredCapacity": group["desiredCapacity"],
        "CreationTime": "2026-11-02T09:14:07Z",
    }
    if kind == "unmanaged":
        types = (group.get("instancesDistribution") or {}).get("instanceTypes") or [
            group.get("instanceType", "")
        ]
        return {
            **common,
            "Status": "CREATE_COMPLETE",
            "InstanceType": types[0],
            "ImageID": "ami-0abcdef1234567890",
            "NodeInstanceRoleARN": (
                f"arn:aws:iam::123456789012:role/{stack}-NodeInstanceRole-{_suffix(name, 12)}"
            ),
            "AutoScalingGroupName": f"{stack}-NodeGroup-{_suffix(stack, 12)}",
            "Version": f"{version}.7" if group["desiredCapacity"] > 0 else "",
            "Type": kind,
        }
    uuid = _suffix(name, 32)
    return {
        **common,
        "Status": "ACTIVE",
        "InstanceType": group.get("instanceType", ""),
        "ImageID": "AL2023_x86_64_STANDARD",
        "NodeInstanceRoleARN": f"arn:aws:iam::123456789012:role/{stack}-NodeInstanceRole",
        "AutoScalingGroupName": (
            f"eks-{name}-{uuid[:8]}-{uuid[8:12]}-{uuid[12:16]}-{uuid[16:20]}-{uuid[20:]}"
        ),
        "Version": version,
        "Type": kind,
    }


def association_summary(cluster: str, association: dict) -> dict:
    """eksctl pkg/actions/podidentityassociation/getter.go Summary."""
    return {
        "AssociationARN": f"arn:aws:eks:us-west-2:123456789012:podidentityassociation/{cluster}/"
        "a-0123456789abcdef0",
        "Namespace": association["namespace"],
        "ServiceAccountName": association["serviceAccountName"],
        "RoleARN": f"arn:aws:iam::123456789012:role/{association.get('roleName', 'role')}",
        "OwnerARN": "",
    }


def addon_summary(addon: dict, version: str) -> dict:
    """eksctl pkg/actions/addon/get.go Summary."""
    return {
        "Name": addon["name"],
        "Version": addon_version(addon["name"], version),
        "NewerVersion": "",
        "IAMRole": "",
        "Status": "ACTIVE",
        "ConfigurationValues": addon.get("configurationValues", ""),
        "NamespaceConfig": None,
        "Issues": None,
        "PodIdentityAssociations": None,
    }


def addon_version(name: str, kubernetes: str) -> str:
    """A made-up default version per add-on and Kubernetes minor (the stand-in's own)."""
    return f"v{kubernetes}.{len(name)}-eksbuild.1"


def live_from_config(config: dict) -> dict:
    """What a cluster made from this ClusterConfig shows."""
    name, version = config["metadata"]["name"], config["metadata"]["version"]
    # Unmanaged first, as eksctl lists them (pkg/actions/nodegroup/get.go GetAll).
    groups = [group_summary(name, g, version, "unmanaged") for g in config["nodeGroups"]]
    groups += [group_summary(name, g, version, "managed") for g in config["managedNodeGroups"]]
    return {
        "cluster": [{"Name": name, "Version": version, "Status": "ACTIVE"}],
        "nodegroups": groups,
        "addons": [addon_summary(addon, version) for addon in config["addons"]],
        "podidentityassociations": [
            association_summary(name, a)
            for a in config.get("iam", {}).get("podIdentityAssociations", [])
        ],
    }


def log_line(args: list[str], message: str) -> None:
    """An eksctl info line: on standard output (cmd/eksctl/logger.go initLogger sets
    logger.Writer to os.Stdout, or color.Output, which is stdout too), as "<time> [ℹ]  <text>"
    (logger.Line there), and only at verbosity 3 or more (`--verbose`/`-v`, default 3,
    cmd/eksctl/main.go; level 2 and below drop LogInfo). Colour codes are left out: fatih/color
    writes none when stdout is not a terminal."""
    level = flag(args, "--verbose") or flag(args, "-v") or "3"
    if int(level) >= 3:
        print(f"2026-12-07 14:00:00 [ℹ]  {message}")


def addon_versions(args: list[str]) -> int:
    """EKS DescribeAddonVersionsOutput as eksctl prints it: the info line "describing addon
    versions for addon: <name>" first, on stdout (pkg/actions/addon/describe_versions.go
    DescribeVersions), then json.MarshalIndent(..., "", "\t") of {"Addons": [...]} and a newline
    (addonVersionsToString there; fmt.Println in pkg/ctl/utils/describe_addon_versions.go).
    One default version, one older; with STANDIN_EKSCTL_NO_ADDON_VERSIONS=1 EKS knows none for
    that Kubernetes version and the list is empty."""
    name, kubernetes = flag(args, "--name"), flag(args, "--kubernetes-version")
    log_line(args, f"describing addon versions for addon: {name}")
    default = addon_version(name, kubernetes)
    older = default.replace("-eksbuild.1", "-eksbuild.0")
    versions = [
        {
            "AddonVersion": version,
            "Architecture": ["amd64", "arm64"],
            "Compatibilities": [
                {
                    "ClusterVersion": kubernetes,
                    "DefaultVersion": is_default,
                    "PlatformVersions": ["*"],
                }
            ],
            "RequiresConfiguration": False,
        }
        for version, is_default in ((default, True), (older, False))
    ]
    addons = [{"AddonName": name, "AddonVersions": versions}]
    if os.environ.get("STANDIN_EKSCTL_NO_ADDON_VERSIONS"):
        addons = []
    print(json.dumps({"Addons": addons}, indent="\t"))
    return 0


def change_live(args: list[str], world: dict) -> None:
    """What eksctl's changing verbs do to the recorded live state."""
    verb = args[:2]
    cluster = flag(args, "--cluster") or flag(args, "--name")
    config = read_config(flag(args, "-f")) if flag(args, "-f") else None
    if config is not None:
        cluster = config["metadata"]["name"]
    if not cluster or cluster not in world["live"]:
        return
    live = world["live"][cluster]
    version = live["cluster"][0]["Version"]
    groups = live["nodegroups"]
    if verb == ["upgrade", "cluster"] and "--approve" in args:
        live["cluster"][0]["Version"] = flag(args, "--version")
    elif verb == ["upgrade", "nodegroup"]:
        for group in groups:
            if group["Name"] == flag(args, "--name"):
                group["Version"] = flag(args, "--kubernetes-version")
    elif verb == ["scale", "nodegroup"]:
        for group in groups:
            if group["Name"] == flag(args, "--name"):
                group["DesiredCapacity"] = int(flag(args, "--nodes"))
                group["MaxSize"] = int(flag(args, "--nodes-max"))
    elif verb == ["delete", "nodegroup"] and "--approve" in args:
        live["nodegroups"] = [g for g in groups if g["Name"] != flag(args, "--name")]
    elif verb == ["create", "nodegroup"] and config is not None:
        included = flag(args, "--include").split(",")
        present = {g["Name"] for g in groups}
        for kind, key in (("managed", "managedNodeGroups"), ("unmanaged", "nodeGroups")):
            for group in config[key]:
                if group["name"] not in present and group["name"] in included:
                    groups.append(group_summary(cluster, group, version, kind))
    elif verb == ["update", "addon"] and config is not None:
        live["addons"] = [addon_summary(a, version) for a in config["addons"]]
    elif verb == ["update", "addon"]:
        for addon in live["addons"]:
            if addon["Name"] == flag(args, "--name"):
                addon["Version"] = flag(args, "--version")
    elif verb == ["create", "addon"] and config is not None:
        present = {a["Name"] for a in live["addons"]}
        live["addons"] += [
            addon_summary(a, version) for a in config["addons"] if a["name"] not in present
        ]
    elif verb == ["delete", "podidentityassociation"]:
        gone = (flag(args, "--namespace"), flag(args, "--service-account-name"))
        live["podidentityassociations"] = [
            a
            for a in live["podidentityassociations"]
            if (a["Namespace"], a["ServiceAccountName"]) != gone
        ]


def create_associations(args: list[str], world: dict) -> int:
    """eksctl create podidentityassociation -f FILE: one task per association of the file, run
    in parallel (pkg/actions/podidentityassociation/creator.go CreateTasks, runAllTasks in
    tasks.go). An association with a roleName and no roleARN first gets its role from a
    CloudFormation stack named eksctl-<cluster>-podidentityrole-<namespace>-<serviceaccount>
    (iam_role_creator.go MakeStackName); for an association that exists, that stack exists and
    CreateStack fails (pkg/cfn/manager/api.go DoCreateStackRequest wraps it as "creating
    CloudFormation stack %q: %w"). This path passes ignorePodIdentityExistsErr=false, so the
    error stands: runAllTasks joins the task errors with newlines, cobra prints "Error: " and
    the text on stderr, and main exits 1 (cmd/eksctl/main.go). The others are created."""
    config = read_config(flag(args, "-f"))
    cluster = config["metadata"]["name"]
    live = world["live"].setdefault(cluster, live_of(world, cluster))
    present = {(a["Namespace"], a["ServiceAccountName"]) for a in live["podidentityassociations"]}
    errors = []
    for association in config.get("iam", {}).get("podIdentityAssociations", []):
        namespace, account = association["namespace"], association["serviceAccountName"]
        if (namespace, account) not in present:
            live["podidentityassociations"].append(association_summary(cluster, association))
            continue
        stack = f"eksctl-{cluster}-podidentityrole-{namespace}-{account}"
        errors.append(
            f"creating IAM role for pod identity association for service account {account} in "
            f'namespace {namespace}: creating CloudFormation stack "{stack}": operation error '
            "CloudFormation: CreateStack, https response error StatusCode: 400, RequestID: "
            "5d0b7c3e-0000-4000-8000-000000000000, AlreadyExistsException: Stack "
            f"[{stack}] already exists"
        )
    if errors:
        print("Error: " + "\n".join(errors), file=sys.stderr)
        return 1
    return 0
