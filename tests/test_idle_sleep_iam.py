"""Idle sleep's AWS role: bound to the controller, allowed exactly the two nodegroups."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema

from conftest import write_settings
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.render import names
from pangeo_himat.render.render import render_all


def cluster_config(folder: Path, changes: dict[str, Any]) -> dict[str, Any]:
    return dict(render_all(load_settings(write_settings(folder, changes))).cluster_config)


def associations(config: dict[str, Any]) -> list[dict[str, Any]]:
    return list(config["iam"].get("podIdentityAssociations", []))


def controller_association(config: dict[str, Any]) -> dict[str, Any]:
    (association,) = [
        a
        for a in associations(config)
        if a["serviceAccountName"] == names.controller_service_account("himat")
    ]
    return association


def test_no_idle_sleep_role_without_hibernate_after(tmp_path):
    config = cluster_config(tmp_path, {"workers.adaptive": {"min": 0, "max": "auto"}})
    assert not [
        a
        for a in associations(config)
        if a["serviceAccountName"] == names.controller_service_account("himat")
    ]


def test_idle_sleep_role_is_bound_to_the_controller_and_kept_beside_the_s3_role(
    tmp_path, eksctl_schema
):
    config = cluster_config(
        tmp_path,
        {
            "idle.hibernate_after": "8h",
            "data.buckets": [{"name": "himat-scratch", "access": "readwrite"}],
        },
    )
    jsonschema.Draft7Validator(eksctl_schema).validate(config)
    # The S3 role, the autoscaler's and the controller's, each bound to its own account.
    assert sorted(a["serviceAccountName"] for a in associations(config)) == [
        "cluster-autoscaler",
        "himat-controller",
        "himat-user",
    ]
    association = controller_association(config)
    assert association["namespace"] == names.namespace("himat")
    assert association["createServiceAccount"] is False
    assert association["roleName"] == "himat-us-west-2-idle-sleep"


def test_idle_sleep_writes_only_the_tagged_spot_group_and_the_stable_group(tmp_path):
    config = cluster_config(tmp_path, {"idle.hibernate_after": "8h"})
    statements = controller_association(config)["permissionPolicy"]["Statement"]
    by_action = {action: s for s in statements for action in s["Action"]}
    assert set(by_action) == {
        "autoscaling:DescribeAutoScalingGroups",
        "autoscaling:UpdateAutoScalingGroup",
        "autoscaling:SetDesiredCapacity",
        "eks:UpdateNodegroupConfig",
    }
    for action in ("autoscaling:UpdateAutoScalingGroup", "autoscaling:SetDesiredCapacity"):
        assert by_action[action]["Condition"] == {
            "StringEquals": {
                "aws:ResourceTag/alpha.eksctl.io/cluster-name": "himat",
                "aws:ResourceTag/alpha.eksctl.io/nodegroup-name": config["nodeGroups"][0]["name"],
            }
        }
    stable = config["managedNodeGroups"][0]["name"]
    assert stable.startswith("stable-")
    assert by_action["eks:UpdateNodegroupConfig"]["Resource"] == (
        f"arn:aws:eks:us-west-2:*:nodegroup/himat/{stable}/*"
    )
    assert "Condition" not in by_action["autoscaling:DescribeAutoScalingGroups"]


def test_idle_sleep_role_uses_the_region_partition(tmp_path):
    config = cluster_config(
        tmp_path,
        {
            "idle.hibernate_after": "2h",
            "cluster.region": "us-gov-west-1",
            "cluster.zones": ["us-gov-west-1a", "us-gov-west-1b"],
        },
    )
    statements = controller_association(config)["permissionPolicy"]["Statement"]
    (stable,) = [s for s in statements if s["Action"] == ["eks:UpdateNodegroupConfig"]]
    assert stable["Resource"].startswith("arn:aws-us-gov:eks:us-gov-west-1:*:nodegroup/himat/")
