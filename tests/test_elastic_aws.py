"""Idle hibernate's AWS calls through botocore against moto's server (Auto Scaling and EKS),
on Auto Scaling groups tagged as eksctl tags an unmanaged nodegroup's (standins/standin_asg.py)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from conftest import AWSEndpoints, write_settings
from pangeo_himat.controller.aws import (
    CLUSTER_NAME_TAG,
    NODEGROUP_NAME_TAG,
    CloudCallFailed,
    Nodegroups,
    hibernate_cluster,
    hibernate_nodegroups,
)
from pangeo_himat.controller.decide import Config, JupyterSample, SchedulerSample
from pangeo_himat.controller.kube import KubeAPI
from pangeo_himat.controller.loop import Controller
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.lifecycle.answers import decisions
from pangeo_himat.render.render import render_all
from standins.standin_asg import EKSCTL_OWN_TAGS, TAINT_PREFIX, unmanaged_asg_tags
from test_elastic_loop import Clock

REGION, CLUSTER = "us-west-2", "himat"
SPOT = "spot-efaa5d"
GROUPS = Nodegroups(region=REGION, cluster=CLUSTER, spot_nodegroup=SPOT, stable_nodegroup="stable")


@pytest.fixture
def moto(aws: AWSEndpoints, monkeypatch: pytest.MonkeyPatch) -> AWSEndpoints:
    """The controller's botocore reads its credentials from the environment, as in the pod."""
    for key, value in aws.env.items():
        monkeypatch.setenv(key, value)
    return aws


def spot_asg(autoscaling: Any, name: str, tags: dict[str, str]) -> None:
    """An Auto Scaling group with these tags, at 3 nodes (min 1)."""
    autoscaling.create_launch_configuration(
        LaunchConfigurationName=f"{name}-lc", ImageId="ami-12c6146b", InstanceType="m5.xlarge"
    )
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName=name,
        LaunchConfigurationName=f"{name}-lc",
        MinSize=1,
        MaxSize=10,
        DesiredCapacity=3,
        AvailabilityZones=[f"{REGION}a"],
        Tags=[
            {"Key": key, "Value": value, "PropagateAtLaunch": True} for key, value in tags.items()
        ],
    )


def eksctl_tagged(cluster: str, nodegroup: str) -> dict[str, str]:
    """The two tags by which the controller finds a group (eksctl's, standin_asg.py)."""
    return {CLUSTER_NAME_TAG: cluster, NODEGROUP_NAME_TAG: nodegroup}


class Idle:
    """A scheduler with no worker, client or task."""

    def sample(self) -> SchedulerSample:
        return SchedulerSample(0, 0.0, 0, 0, ())


class Awake:
    """Jupyter with no activity since the start and no busy kernel."""

    def sample(self) -> JupyterSample:
        return JupyterSample(last_activity_s=0.0, busy_kernels=0)


class NoWorkers:
    def replicas(self) -> int:
        return 0

    def scale(self, replicas: int, retire: tuple[object, ...]) -> list[str]:
        return []


def stable_nodegroup(eks: Any) -> None:
    role = "arn:aws:iam::123456789012:role/eks"
    eks.create_cluster(
        name=CLUSTER, roleArn=role, resourcesVpcConfig={"subnetIds": ["subnet-1", "subnet-2"]}
    )
    eks.create_nodegroup(
        clusterName=CLUSTER,
        nodegroupName="stable",
        nodeRole=role,
        subnets=["subnet-1"],
        scalingConfig={"minSize": 1, "maxSize": 1, "desiredSize": 1},
    )


def desired(autoscaling: Any, name: str) -> tuple[int, int]:
    (group,) = autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])[
        "AutoScalingGroups"
    ]
    return group["MinSize"], group["DesiredCapacity"]


def test_hibernate_sets_this_clusters_spot_group_then_the_stable_group_to_zero(
    moto: AWSEndpoints,
) -> None:
    autoscaling, eks = moto.client("autoscaling"), moto.client("eks")
    spot_asg(autoscaling, "eksctl-himat-nodegroup-spot", eksctl_tagged(CLUSTER, SPOT))
    spot_asg(autoscaling, "eksctl-other-nodegroup-spot", eksctl_tagged("other", SPOT))
    stable_nodegroup(eks)
    steps = hibernate_nodegroups(GROUPS, moto.moto_url)
    assert steps == [
        "spot group eksctl-himat-nodegroup-spot to 0",
        "stable nodegroup stable to 0",
    ]
    assert desired(autoscaling, "eksctl-himat-nodegroup-spot") == (0, 0)
    assert desired(autoscaling, "eksctl-other-nodegroup-spot") == (1, 3)
    scaling = eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName="stable")["nodegroup"]
    assert scaling["scalingConfig"]["desiredSize"] == 0
    assert scaling["scalingConfig"]["minSize"] == 0


class ConfigMapStandIn(BaseHTTPRequestHandler):
    """A stand-in API server that only knows ConfigMaps: PATCH 404s, POST creates."""

    created: dict[str, Any] = {}

    def log_message(self, *args: object) -> None:
        pass

    def do_PATCH(self) -> None:  # noqa: N802 (the http.server name)
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"kind":"Status","status":"Failure","reason":"NotFound","code":404}'
        self.send_response(404)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802
        created = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        ConfigMapStandIn.created[self.path] = created
        body = json.dumps(created).encode()
        self.send_response(201)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ZeroWorkers:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def replicas(self) -> int:
        return 0

    def scale(self, replicas: int, retire: tuple[object, ...]) -> list[str]:
        self.calls.append(replicas)
        return [f"replicas {replicas}"]


def test_hibernate_records_why_then_workers_then_nodegroups(moto: AWSEndpoints) -> None:
    autoscaling, eks = moto.client("autoscaling"), moto.client("eks")
    spot_asg(autoscaling, "eksctl-himat-nodegroup-spot", eksctl_tagged(CLUSTER, SPOT))
    stable_nodegroup(eks)
    server = ThreadingHTTPServer(("127.0.0.1", 0), ConfigMapStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = KubeAPI(f"http://127.0.0.1:{server.server_port}", "himat")
        workers = ZeroWorkers()
        steps = hibernate_cluster(
            api, workers, GROUPS, "himat-sleep", "idle 8 h", 1_800_000_000.0, moto.moto_url
        )
    finally:
        server.shutdown()
        server.server_close()
    assert steps == [
        "recorded in ConfigMap himat-sleep",
        "replicas 0",
        "spot group eksctl-himat-nodegroup-spot to 0",
        "stable nodegroup stable to 0",
    ]
    created = ConfigMapStandIn.created["/api/v1/namespaces/himat/configmaps"]
    assert created["metadata"]["name"] == "himat-sleep"
    assert created["data"] == {
        "reason": "idle 8 h",
        "slept_at": "2027-01-15T08:00:00Z",
        "by": "worker-controller",
    }


def test_no_matching_spot_group_refuses_to_sleep_and_touches_nothing(moto: AWSEndpoints) -> None:
    # The spot group was replaced (upgrade): the controller still names the old one.
    autoscaling, eks = moto.client("autoscaling"), moto.client("eks")
    spot_asg(autoscaling, "eksctl-himat-nodegroup-spot-new", eksctl_tagged(CLUSTER, "spot-0a1b2c"))
    stable_nodegroup(eks)
    server = ThreadingHTTPServer(("127.0.0.1", 0), ConfigMapStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    ConfigMapStandIn.created.clear()
    workers = ZeroWorkers()
    try:
        api = KubeAPI(f"http://127.0.0.1:{server.server_port}", "himat")
        with pytest.raises(CloudCallFailed, match=f"{NODEGROUP_NAME_TAG}={SPOT}: not going to"):
            hibernate_cluster(api, workers, GROUPS, "himat-sleep", "idle", 1.8e9, moto.moto_url)
    finally:
        server.shutdown()
        server.server_close()
    assert ConfigMapStandIn.created == {}, "no sleep record"
    assert workers.calls == []
    assert desired(autoscaling, "eksctl-himat-nodegroup-spot-new") == (1, 3)
    scaling = eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName="stable")["nodegroup"]
    assert scaling["scalingConfig"]["desiredSize"] == 1


class DeniedAutoScaling(BaseHTTPRequestHandler):
    """An Auto Scaling endpoint that denies every call, in the query protocol's error shape
    (AWS query API: <ErrorResponse><Error><Type/><Code/><Message/></Error>, HTTP 403)."""

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        body = (
            b"<ErrorResponse xmlns='http://autoscaling.amazonaws.com/doc/2011-01-01/'><Error>"
            b"<Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:sts::"
            b"123456789012:assumed-role/himat-us-west-2-idle-sleep/s is not authorized to "
            b"perform: autoscaling:DescribeAutoScalingGroups</Message></Error>"
            b"<RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ErrorResponse>"
        )
        self.send_response(403)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_a_denied_aws_call_leaves_as_a_cloud_error_not_a_crash(moto: AWSEndpoints) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), DeniedAutoScaling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(CloudCallFailed, match="AccessDenied"):
            hibernate_nodegroups(GROUPS, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()


def test_the_rendered_spot_group_carries_exactly_one_correct_taint_tag(
    moto: AWSEndpoints, tmp_path: Path
) -> None:
    config = render_all(load_settings(write_settings(tmp_path))).cluster_config
    (group,) = config["nodeGroups"]
    tags = unmanaged_asg_tags(config, group)
    autoscaling = moto.client("autoscaling")
    spot_asg(autoscaling, "eksctl-himat-nodegroup-spot", tags)
    (found,) = autoscaling.describe_auto_scaling_groups(
        AutoScalingGroupNames=["eksctl-himat-nodegroup-spot"]
    )["AutoScalingGroups"]
    taints = {t["Key"]: t["Value"] for t in found["Tags"] if t["Key"].startswith(TAINT_PREFIX)}
    # cluster-autoscaler reads "<value>:<effect>" and ignores a value without an effect
    # (kubernetes/autoscaler cluster-autoscaler/cloudprovider/aws/aws_manager.go,
    # extractTaintsFromAsg), so a group at zero would look untainted.
    assert taints == {f"{TAINT_PREFIX}k8s.dask.org/dedicated": "worker:NoSchedule"}
    eksctl_own = [key.format(cluster=CLUSTER) for key in EKSCTL_OWN_TAGS]
    assert all(key in {t["Key"] for t in found["Tags"]} for key in eksctl_own)
    assert len(found["Tags"]) <= 50
    # And the controller finds it by those tags.
    spot_groups = Nodegroups(REGION, CLUSTER, spot_nodegroup=str(group["name"]))
    stable_nodegroup(moto.client("eks"))
    assert hibernate_nodegroups(spot_groups, moto.moto_url)[0] == (
        "spot group eksctl-himat-nodegroup-spot to 0"
    )


def test_the_loop_logs_a_denied_sleep_retries_later_and_never_reports_sleep(
    moto: AWSEndpoints,
) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), DeniedAutoScaling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_port}"
    log: list[dict[str, object]] = []
    attempts: list[float] = []
    clock = Clock(60)

    def hibernate(reason: str) -> list[str]:
        attempts.append(clock.now_s)
        return hibernate_nodegroups(GROUPS, endpoint)

    config = Config(mode="static", static_count=0, hibernate_after_s=600, cooldown_s=0)
    controller = Controller(config, Idle(), NoWorkers(), Awake(), hibernate, clock, log.append)
    try:
        for _ in range(40):
            controller.step()
    finally:
        server.shutdown()
        server.server_close()
    assert not controller.asleep
    assert not any(record.get("hibernate") for record in log)
    errors = [str(record["error"]) for record in log if "error" in record]
    assert errors and all("AccessDenied" in error for error in errors)
    assert "trying again in 60 s" in errors[0] and "trying again in 120 s" in errors[1]
    waits = [later - earlier for earlier, later in zip(attempts, attempts[1:], strict=False)]
    assert waits[:3] == [60.0, 120.0, 240.0], "the wait doubles"


def test_status_shows_why_the_controller_would_not_sleep(moto: AWSEndpoints, capsys) -> None:
    # No spot group carries the name the controller was given: it logs why, as one JSON line,
    # and `himat status` shows that line among the controller's last decisions.
    stable_nodegroup(moto.client("eks"))
    clock = Clock(60)

    def hibernate(reason: str) -> list[str]:
        return hibernate_nodegroups(GROUPS, moto.moto_url)

    config = Config(mode="static", static_count=0, hibernate_after_s=600, cooldown_s=0)
    controller = Controller(config, Idle(), NoWorkers(), Awake(), hibernate, clock)
    for _ in range(12):
        controller.step()
    shown = decisions(capsys.readouterr().out)
    refusals = [line for line in shown if "cannot sleep" in line]
    assert refusals, shown
    assert f"no Auto Scaling group is tagged {CLUSTER_NAME_TAG}={CLUSTER}" in refusals[0]
    assert "the spot nodes would keep billing" in refusals[0]
