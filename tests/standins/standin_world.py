"""The stand-in's world: what eksctl, kubectl and the stand-in Budgets answer from it.

NOT the real tools: part of the stand-in (standin.py, whose docstring lists the knobs). The world
is kept in $STANDIN_LOG.world.json between calls.
"""

import base64
import json
import os
import sys

import recorded_kube  # beside this file, as standin_eksctl and standin_live
import standin_eksctl
from standin_live import (
    addon_versions,
    change_live,
    create_associations,
    eksctl_get,
    flag,
    live_from_config,
    live_of,
    read_config,
    recorded_live,
)

VOLUME_ID = "vol-0123456789abcdef0"
PV_NAME = "pvc-0d4b6a1e"


def claim_volume() -> str:
    """The EBS volume behind the claim: $STANDIN_VOLUME_ID (one made in moto by the test), else
    the stand-in EC2's own."""
    return os.environ.get("STANDIN_VOLUME_ID", VOLUME_ID)


def world_path() -> str:
    return os.environ["STANDIN_LOG"] + ".world.json"


def load_world() -> dict:
    try:
        with open(world_path()) as handle:
            return json.load(handle)
    except FileNotFoundError:
        exists = bool(os.environ.get("STANDIN_CLUSTER_EXISTS"))
        world = {
            "cluster": exists,
            "claim": exists,
            "live": recorded_live(),
            "budgets": {},
        }
        if os.environ.get("STANDIN_BUDGET_EXISTS"):
            # A budget of the default settings' name, as an earlier `himat cluster` leaves it.
            name = "himat-himat-us-west-2"
            document = {
                "BudgetName": name,
                "BudgetType": "COST",
                "TimeUnit": "MONTHLY",
                "BudgetLimit": {"Amount": "300.0", "Unit": "USD"},
            }
            world["budgets"][name] = {"budget": document, "alerts": []}
        return world


def save_world(world: dict) -> None:
    with open(world_path(), "w") as handle:
        json.dump(world, handle)


def not_found(kind: str, name: str) -> int:
    # kubectl's answer for an absent object, as recorded from a real API server.
    return recorded_kube.not_found(kind, name)


def describe_cluster_error(name: str, prefix: str) -> int:
    """eksctl wraps the EKS DescribeCluster error (pkg/eks/eks.go: GetCluster for `get cluster`,
    DescribeControlPlane for `get nodegroup`); cobra prints it after "Error: ", exit 1."""
    if os.environ.get("STANDIN_GET_CLUSTER_ERROR"):
        print(
            f"Error: {prefix}: operation error EKS: "
            "DescribeCluster, https response error StatusCode: 403, RequestID: "
            "3f1c2a9e-0000-4000-8000-000000000000, api error ExpiredTokenException: The "
            "security token included in the request is expired",
            file=sys.stderr,
        )
        return 1
    print(
        f"Error: {prefix}: operation error EKS: "
        "DescribeCluster, https response error StatusCode: 404, RequestID: "
        "3f1c2a9e-0000-4000-8000-000000000000, ResourceNotFoundException: No cluster found "
        f"for name: {name}.",
        file=sys.stderr,
    )
    return 1


def kubectl_reachable(world: dict) -> int:
    """0 when a cluster answers; else kubectl's message for an unreachable server."""
    if os.environ.get("STANDIN_UNAUTHORIZED"):
        return recorded_kube.unauthorized()
    if not world["cluster"]:
        return recorded_kube.unreachable("0123456789ABCDEF.gr7.us-west-2.eks.amazonaws.com")
    return 0


def kubectl_get(args: list[str], world: dict) -> int:
    kind = args[1]
    name = args[2] if len(args) > 2 and not args[2].startswith("-") else ""
    if kind == "pvc":
        if not world["claim"]:
            return not_found("persistentvolumeclaims", name)
        claim = {"kind": "PersistentVolumeClaim", "spec": {"volumeName": PV_NAME}}
        print(json.dumps(claim))
        return 0
    if kind == "pv":
        if not world["claim"]:
            return not_found("persistentvolumes", name)
        zone = {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["us-west-2a"]}
        spec = {
            "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": claim_volume()},
            "nodeAffinity": {"required": {"nodeSelectorTerms": [{"matchExpressions": [zone]}]}},
        }
        print(json.dumps({"kind": "PersistentVolume", "spec": spec}))
        return 0
    if kind == "secret":
        raw = bytes.fromhex(os.environ.get("STANDIN_TOKEN_HEX", b"s3cr3t".hex()))
        secret = {"kind": "Secret", "data": {"token": base64.b64encode(raw).decode()}}
        print(json.dumps(secret))
        return 0
    if kind == "service" and "name" in args:
        print(f"service/{name}")
        return 0
    if kind == "service":
        print(
            "a1b2c3-123456789.us-west-2.elb.amazonaws.com"
            if os.environ.get("STANDIN_LOAD_BALANCER")
            else "",
            end="",
        )
        return 0
    if kind == "services":
        items = [{"metadata": {"name": "himat-scheduler"}, "spec": {"type": "ClusterIP"}}]
        if os.environ.get("STANDIN_LOAD_BALANCER"):
            items.append({"metadata": {"name": "himat-jupyter"}, "spec": {"type": "LoadBalancer"}})
        print(json.dumps({"kind": "List", "items": items}))
        return 0
    if kind == "pods":

        def pod(name: str, component: str) -> dict:
            labels = {"app.kubernetes.io/component": component}
            return {"metadata": {"name": name, "labels": labels}, "status": {"phase": "Running"}}

        items = [pod("himat-worker-a", "worker"), pod("himat-worker-b", "worker")]
        items.append(pod("himat-controller-c", "controller"))
        print(json.dumps({"kind": "List", "items": items}))
        return 0
    if kind == "configmap" and name.endswith("-sleep"):
        # The worker controller's sleep record (pangeo_himat.controller.kube.sleep_record).
        if not os.environ.get("STANDIN_SLEPT"):
            return not_found("configmaps", name)
        data = {"reason": "idle 8h", "slept_at": "2026-12-01T02:00:00Z", "by": "worker-controller"}
        print(json.dumps({"kind": "ConfigMap", "metadata": {"name": name}, "data": data}))
        return 0
    print(f"stand-in kubectl: nothing known about {kind}", file=sys.stderr)
    return 1


def budgets_error(code: str, operation: str, message: str) -> int:
    """The AWS CLI's line for a service error, exit 254 (messages as the Budgets API words them)."""
    print(
        f"An error occurred ({code}) when calling the {operation} operation: {message}",
        file=sys.stderr,
    )
    return 254


def option(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


def aws_budgets(args: list[str], world: dict) -> int:
    """aws budgets: one account's budgets in the world, by name, with their notifications."""
    budgets = world.setdefault("budgets", {})
    verb = args[1]
    name = option(args, "--budget-name") if "--budget-name" in args else ""
    if verb == "create-budget":
        document = json.loads(option(args, "--budget"))
        name = document["BudgetName"]
        if name in budgets:
            message = f"Error creating budget: {name} - the budget already exists."
            return budgets_error("DuplicateRecordException", "CreateBudget", message)
        alerts = json.loads(option(args, "--notifications-with-subscribers"))
        budgets[name] = {"budget": document, "alerts": alerts}
    elif verb == "update-budget":
        document = json.loads(option(args, "--new-budget"))
        name = document["BudgetName"]
        if name not in budgets:
            message = f"Unable to update budget: {name} - the budget doesn't exist."
            return budgets_error("NotFoundException", "UpdateBudget", message)
        budgets[name]["budget"] = document
    elif name not in budgets:
        operation = "".join(part.title() for part in verb.split("-"))
        message = f"Unable to get budget: {name} - the budget doesn't exist."
        return budgets_error("NotFoundException", operation, message)
    elif verb == "describe-budget":
        spend = {"ActualSpend": {"Amount": "12.5", "Unit": "USD"}}
        print(json.dumps({"Budget": {**budgets[name]["budget"], "CalculatedSpend": spend}}))
        return 0
    elif verb == "describe-notifications-for-budget":
        notifications = [alert["Notification"] for alert in budgets[name]["alerts"]]
        print(json.dumps({"Notifications": notifications}))
        return 0
    elif verb == "delete-budget":
        del budgets[name]
    elif verb == "delete-notification":
        notification = json.loads(option(args, "--notification"))
        kept = [a for a in budgets[name]["alerts"] if a["Notification"] != notification]
        if len(kept) == len(budgets[name]["alerts"]):
            message = "Unable to delete notification - the notification doesn't exist."
            return budgets_error("NotFoundException", "DeleteNotification", message)
        budgets[name]["alerts"] = kept
    elif verb == "create-notification":
        notification = json.loads(option(args, "--notification"))
        subscribers = json.loads(option(args, "--subscribers"))
        budgets[name]["alerts"].append({"Notification": notification, "Subscribers": subscribers})
    save_world(world)
    return 0  # the CLI prints nothing for an empty response


def answer(tool: str, args: list[str]) -> int:
    """The answers that read or change the world."""
    world = load_world()
    if tool == "eksctl" and args[:1] == ["get"] and args[1:2] != ["cluster"]:
        name = flag(args, "--cluster")
        if not world["cluster"]:
            return describe_cluster_error(name, "unable to describe cluster control plane")
        return eksctl_get(args[1], live_of(world, name))
    if tool == "eksctl" and args[:2] == ["get", "cluster"]:
        name = flag(args, "--name")
        if not world["cluster"] or os.environ.get("STANDIN_GET_CLUSTER_ERROR"):
            return describe_cluster_error(name, f'unable to describe control plane "{name}"')
        return eksctl_get("cluster", live_of(world, name))
    if tool == "eksctl" and args[:2] == ["utils", "describe-addon-versions"]:
        return addon_versions(args)
    if tool == "helm" and args[:1] == ["template"]:
        os.execv(os.environ["STANDIN_REAL_HELM"], ["helm", *args])
    if tool == "eksctl":
        status = standin_eksctl.changing_verb(args)
        if status is not None and status != 0:
            return status
    if tool == "eksctl" and args[:2] == ["create", "podidentityassociation"]:
        status = create_associations(args, world)
        save_world(world)
        return status
    if tool == "eksctl":
        change_live(args, world)
    if tool == "eksctl" and args[:2] == ["create", "cluster"]:
        world.update(cluster=True, claim=False)
        config = read_config(flag(args, "-f"))
        world["live"][config["metadata"]["name"]] = live_from_config(config)
    if tool == "eksctl" and args[:2] == ["delete", "cluster"]:
        world.update(cluster=False, claim=False)
    if tool == "kubectl" and args[:2] == ["config", "current-context"]:
        if os.environ.get("STANDIN_NO_CONTEXT"):
            return recorded_kube.no_context()
        print("arn:aws:eks:us-west-2:123456789012:cluster/himat")
        return 0
    if tool == "kubectl" and args[:1] == ["get"]:
        status = kubectl_reachable(world)
        return status or kubectl_get(args, world)
    if tool == "kubectl" and args[:1] == ["logs"]:
        # The worker controller's JSON lines (pangeo_himat.controller.loop), as kubectl logs prints.
        for reason in ("hold 3 (wanted 3)", "scale down 3 -> 2 (idle 30m)"):
            record = {"at": "2026-12-01T10:00:00Z", "current": 3, "reason": reason}
            print(json.dumps(record, sort_keys=True))
        return 0
    if tool == "kubectl" and args[:2] == ["delete", "pvc"]:
        world["claim"] = False
    if tool == "aws" and args[:1] == ["budgets"]:
        return aws_budgets(args, world)
    if tool == "aws":
        print(
            f"stand-in aws: `aws {args[0]}` runs the real AWS CLI against moto's server and the "
            "DLM endpoint (STANDIN_REAL_AWS, which the tests' `standins` fixture sets)",
            file=sys.stderr,
        )
        return 252
    save_world(world)
    if tool == "eksctl":
        # eksctl's other changing verbs exit 0 after their info lines on stdout, which himat
        # does not read (cmd/eksctl/logger.go); the ones it may read are in standin_eksctl.py.
        return 0
    print(f"stand-in {tool}: ok")
    return 0
