"""Idle hibernate's AWS calls against moto (Auto Scaling and EKS, in process), spot first."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import botocore.session  # type: ignore[import-untyped]
import pytest
from moto import mock_aws

from pangeo_himat.controller.aws import (
    CLUSTER_NAME_TAG,
    NODEGROUP_NAME_TAG,
    Nodegroups,
    hibernate_cluster,
    hibernate_nodegroups,
)
from pangeo_himat.controller.kube import KubeAPI

REGION, CLUSTER = "us-west-2", "himat"
GROUPS = Nodegroups(region=REGION, cluster=CLUSTER)


@pytest.fixture
def moto_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto answers every botocore call made while this fixture is active."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield None


def client(service: str) -> Any:
    return botocore.session.get_session().create_client(service, region_name=REGION)


def spot_asg(autoscaling: Any, name: str, cluster: str, nodegroup: str) -> None:
    """An Auto Scaling group tagged as eksctl tags an unmanaged nodegroup's."""
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
            {"Key": CLUSTER_NAME_TAG, "Value": cluster, "PropagateAtLaunch": True},
            {"Key": NODEGROUP_NAME_TAG, "Value": nodegroup, "PropagateAtLaunch": True},
        ],
    )


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
    moto_aws: None,
) -> None:
    autoscaling, eks = client("autoscaling"), client("eks")
    spot_asg(autoscaling, "eksctl-himat-nodegroup-spot", CLUSTER, "spot")
    spot_asg(autoscaling, "eksctl-other-nodegroup-spot", "other", "spot")
    stable_nodegroup(eks)
    steps = hibernate_nodegroups(GROUPS)
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


def test_hibernate_records_why_then_workers_then_nodegroups(moto_aws: None) -> None:
    autoscaling, eks = client("autoscaling"), client("eks")
    spot_asg(autoscaling, "eksctl-himat-nodegroup-spot", CLUSTER, "spot")
    stable_nodegroup(eks)
    server = ThreadingHTTPServer(("127.0.0.1", 0), ConfigMapStandIn)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = KubeAPI(f"http://127.0.0.1:{server.server_port}", "himat")
        workers = ZeroWorkers()
        steps = hibernate_cluster(api, workers, GROUPS, "himat-sleep", "idle 8 h", 1_800_000_000.0)
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
