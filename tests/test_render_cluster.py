"""The rendered ClusterConfig: valid for eksctl, and right where a schema cannot tell."""

from __future__ import annotations

import jsonschema
import pytest

from conftest import VARIANTS, write_settings
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.render import names
from pangeo_himat.render.render import render_all


@pytest.fixture(params=sorted(VARIANTS), scope="module")
def rendered(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    settings = load_settings(write_settings(folder, VARIANTS[request.param]))
    return request.param, settings, render_all(settings)


def test_cluster_config_is_valid_for_eksctl(rendered, eksctl_schema):
    _, _, result = rendered
    jsonschema.Draft7Validator(eksctl_schema).validate(result.cluster_config)


def test_spot_group_is_unmanaged_all_spot_with_price_cap(rendered):
    _, settings, result = rendered
    config = result.cluster_config
    roles = [names.nodegroup_role(group["name"]) for group in config["nodeGroups"]]
    assert roles == [names.SPOT_NODEGROUP]
    managed = [names.nodegroup_role(g["name"]) for g in config["managedNodeGroups"]]
    assert managed == [names.STABLE_NODEGROUP]
    distribution = config["nodeGroups"][0]["instancesDistribution"]
    assert distribution["onDemandBaseCapacity"] == 0
    assert distribution["onDemandPercentageAboveBaseCapacity"] == 0
    assert distribution["instanceTypes"] == list(settings.spot.instance_types)
    assert distribution["spotAllocationStrategy"] in (
        "price-capacity-optimized",
        "capacity-optimized",
    )
    assert distribution["capacityRebalance"] is True
    if settings.spot.max_price is None:
        assert "maxPrice" not in distribution  # eksctl then caps at the on-demand price
    else:
        assert distribution["maxPrice"] == settings.spot.max_price


def test_stable_group_is_one_on_demand_node_in_the_first_zone(rendered):
    _, settings, result = rendered
    (stable,) = result.cluster_config["managedNodeGroups"]
    assert stable["availabilityZones"] == [settings.cluster.zones[0]]
    assert (stable["minSize"], stable["maxSize"]) == (0, 1)
    assert stable["desiredCapacity"] == (0 if settings.hibernate else 1)
    assert "spot" not in stable and "instancesDistribution" not in stable


def test_spot_zones_follow_spread_zones(rendered):
    _, settings, result = rendered
    spot = result.cluster_config["nodeGroups"][0]
    zones = list(settings.cluster.zones)
    assert spot["availabilityZones"] == (zones if settings.spot.spread_zones else zones[:1])
    expected = 0 if settings.hibernate else settings.spot.nodes
    assert spot["desiredCapacity"] == expected
    assert (spot["minSize"], spot["maxSize"]) == (0, settings.spot.max_nodes)


def test_oidc_and_ebs_csi_addon_with_its_policy(rendered):
    _, _, result = rendered
    config = result.cluster_config
    assert config["iam"]["withOIDC"] is True
    addons = {addon["name"]: addon for addon in config["addons"]}
    assert addons["aws-ebs-csi-driver"]["wellKnownPolicies"] == {"ebsCSIController": True}
    assert '"enableNetworkPolicy": "true"' in addons["vpc-cni"]["configurationValues"]
    assert {"coredns", "kube-proxy", "eks-pod-identity-agent"} <= set(addons)


def test_labels_taint_and_autoscaler_tags_agree(rendered):
    _, settings, result = rendered
    spot = result.cluster_config["nodeGroups"][0]
    (stable,) = result.cluster_config["managedNodeGroups"]
    label_key, label_value = names.WORKER_LABEL
    assert spot["labels"] == {label_key: label_value}
    assert spot["taints"] == [names.WORKER_TAINT]
    tags = spot["tags"]
    prefix = "k8s.io/cluster-autoscaler"
    assert tags[f"{prefix}/node-template/label/{label_key}"] == label_value
    taint = names.WORKER_TAINT
    assert tags[f"{prefix}/node-template/taint/{taint['key']}"] == (
        f"{taint['value']}:{taint['effect']}"
    )
    assert tags[f"{prefix}/{settings.cluster.name}"] == "owned"
    assert "propagateASGTags" not in spot  # see test_elastic_aws: one taint tag on the ASG
    assert stable["labels"] == dict([names.CORE_LABEL, names.SCHEDULER_LABEL])
    assert "taints" not in stable


def test_cost_tags_on_cluster_and_both_nodegroups(rendered):
    _, settings, result = rendered
    config = result.cluster_config
    for tagged in (config["metadata"], config["nodeGroups"][0], config["managedNodeGroups"][0]):
        assert settings.cluster.tags.items() <= tagged["tags"].items()


def test_pods_cannot_reach_node_credentials(rendered):
    _, _, result = rendered
    groups = result.cluster_config["nodeGroups"] + result.cluster_config["managedNodeGroups"]
    for group in groups:
        assert group["disablePodIMDS"] is True
        assert group["disableIMDSv1"] is True
        assert group["volumeEncrypted"] is True


def test_version_is_a_string(rendered):
    _, settings, result = rendered
    assert result.cluster_config["metadata"]["version"] == settings.cluster.kubernetes_version
    assert isinstance(result.cluster_config["metadata"]["version"], str)


def test_spot_volume_holds_every_workers_spill(rendered):
    _, _, result = rendered
    spot = result.cluster_config["nodeGroups"][0]
    spill_gib = int(result.values["worker"]["spillSizeLimit"].removesuffix("Gi"))
    assert spot["volumeSize"] >= result.fit.workers_per_node * spill_gib + 20


def test_every_add_on_is_named_and_eksctl_adds_none(rendered):
    # eksctl adds each default add-on (vpc-cni, kube-proxy, coredns, metrics-server) that is not
    # listed unless disableDefaultAddons is set: eksctl pkg/actions/addon/tasks.go.
    _, _, result = rendered
    config = result.cluster_config
    assert config["addonsConfig"] == {"disableDefaultAddons": True}
    listed = [addon["name"] for addon in config["addons"]]
    assert {"vpc-cni", "kube-proxy", "coredns"} <= set(listed)
    assert "metrics-server" not in listed


def test_upgrade_policy_follows_cluster_support(rendered):
    _, settings, result = rendered
    support = result.cluster_config["upgradePolicy"]["supportType"]
    assert support == {"standard": "STANDARD", "extended": "EXTENDED"}[settings.cluster.support]
