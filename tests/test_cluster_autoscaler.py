"""The cluster-autoscaler: it finds only this cluster's spot group, runs on the stable node,
may change only the tagged groups, removes empty nodes after 5 minutes, and the fit counts it."""

from __future__ import annotations

import jsonschema
import pytest

from conftest import VARIANTS, deployment_pod_spec, render_chart_from_settings, write_settings
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.fit.system_pods import pods_on
from pangeo_himat.render import cluster_autoscaler, names
from pangeo_himat.render.cluster_autoscaler import AUTOSCALER_TAG_PREFIX, autoscaler_values
from pangeo_himat.render.render import render_all
from pangeo_himat.settings.versions import load_calendar


@pytest.fixture(params=sorted(VARIANTS), scope="module")
def rendered(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    settings = load_settings(write_settings(folder, VARIANTS[request.param]))
    return settings, render_all(settings), autoscaler_values(settings)


def nodegroups(result) -> tuple[dict, dict]:
    (stable,) = result.cluster_config["managedNodeGroups"]
    (spot,) = result.cluster_config["nodeGroups"]
    return stable, spot


def autoscaler_association(result) -> dict:
    (association,) = [
        a
        for a in result.cluster_config["iam"]["podIdentityAssociations"]
        if a["namespace"] == names.AUTOSCALER_NAMESPACE
    ]
    return association


def test_discovery_matches_the_spot_groups_tags_only(rendered):
    settings, result, values = rendered
    stable, spot = nodegroups(result)
    assert values["autoDiscovery"]["clusterName"] == settings.cluster.name
    wanted = values["autoDiscovery"]["tags"]
    assert wanted == [
        f"{AUTOSCALER_TAG_PREFIX}/enabled",
        f"{AUTOSCALER_TAG_PREFIX}/{settings.cluster.name}",
    ]
    assert all(tag in spot["tags"] for tag in wanted)


def test_stable_group_carries_no_autoscaler_tag(rendered):
    _, result, _ = rendered
    stable, _ = nodegroups(result)
    assert not [key for key in stable["tags"] if key.startswith(AUTOSCALER_TAG_PREFIX)]
    assert not [key for key in result.cluster_config["metadata"]["tags"] if "autoscaler" in key]


def test_runs_on_the_stable_node_and_not_on_spot_nodes(rendered):
    _, result, values = rendered
    stable, spot = nodegroups(result)
    assert values["nodeSelector"].items() <= stable["labels"].items()
    assert not values["nodeSelector"].items() <= spot["labels"].items()
    taint_keys = {taint["key"] for taint in spot["taints"]}
    assert not [t for t in values["tolerations"] if t.get("key") in taint_keys or "key" not in t]


def test_empty_spot_node_goes_after_five_minutes(rendered):
    _, _, values = rendered
    assert values["extraArgs"]["scale-down-unneeded-time"] == "5m"
    assert values["extraArgs"]["scale-down-delay-after-add"] == "5m"
    assert values["awsRegion"] == rendered[0].cluster.region


def test_deployment_and_service_account_names_are_the_release_name(rendered):
    _, _, values = rendered
    assert values["fullnameOverride"] == names.AUTOSCALER_DEPLOYMENT == names.AUTOSCALER_RELEASE
    assert values["rbac"]["serviceAccount"]["name"] == names.AUTOSCALER_SERVICE_ACCOUNT


def test_image_follows_the_clusters_kubernetes_minor(tmp_path):
    for version in load_calendar().versions:
        tag = cluster_autoscaler.image_tag(version)
        assert tag.startswith(f"v{version}."), (version, tag)
    settings = load_settings(write_settings(tmp_path, {"cluster.kubernetes_version": "1.34"}))
    assert autoscaler_values(settings)["image"]["tag"] == "v1.34.5"


def test_write_actions_are_conditioned_on_the_clusters_tag(rendered):
    settings, result, _ = rendered
    association = autoscaler_association(result)
    assert association["serviceAccountName"] == names.AUTOSCALER_SERVICE_ACCOUNT
    assert association["createServiceAccount"] is False
    assert len(association["roleName"]) <= 64
    name = settings.cluster.name
    for statement in association["permissionPolicy"]["Statement"]:
        writes = [
            a for a in statement["Action"] if not a.split(":")[1].startswith(("Describe", "Get"))
        ]
        if writes:
            assert sorted(writes) == sorted(cluster_autoscaler.WRITE_ACTIONS)
            condition = statement["Condition"]["StringEquals"]
            assert condition == {f"aws:ResourceTag/{AUTOSCALER_TAG_PREFIX}/{name}": "owned"}
    _, spot = nodegroups(result)
    assert spot["tags"][f"{AUTOSCALER_TAG_PREFIX}/{name}"] == "owned"


def test_association_is_valid_for_eksctl(rendered, eksctl_schema):
    _, result, _ = rendered
    jsonschema.Draft7Validator(eksctl_schema).validate(result.cluster_config)
    schema = eksctl_schema["definitions"]["PodIdentityAssociation"]
    assert set(autoscaler_association(result)) <= set(schema["properties"])


def test_fit_counts_the_autoscaler_on_the_stable_node_only(rendered):
    _, result, values = rendered
    assert values["resources"]["requests"] == {
        "cpu": f"{cluster_autoscaler.REQUESTS_CPU_MILLICORES}m",
        "memory": f"{cluster_autoscaler.REQUESTS_MEMORY_MIB}Mi",
    }
    on_stable = [pod for pod in pods_on("stable") if pod.name == names.AUTOSCALER_RELEASE]
    assert [(p.cpu_millicores, p.memory_mib, p.replicas) for p in on_stable] == [
        (cluster_autoscaler.REQUESTS_CPU_MILLICORES, cluster_autoscaler.REQUESTS_MEMORY_MIB, 1)
    ]
    assert not [pod for pod in pods_on("spot") if pod.name == names.AUTOSCALER_RELEASE]
    stable = result.fit.stable
    assert stable.system_cpu_millicores == sum(
        p.cpu_millicores * p.replicas for p in pods_on("stable")
    )
    assert stable.system_memory_mib == sum(p.memory_mib * p.replicas for p in pods_on("stable"))


def test_workers_let_the_autoscaler_evict_exactly_their_emptydirs(tmp_path):
    spec = deployment_pod_spec(render_chart_from_settings(tmp_path), "-worker")
    documents = render_chart_from_settings(tmp_path)
    (deployment,) = [
        d
        for d in documents
        if d["kind"] == "Deployment" and d["metadata"]["name"].endswith("-worker")
    ]
    annotations = deployment["spec"]["template"]["metadata"]["annotations"]
    listed = annotations["cluster-autoscaler.kubernetes.io/safe-to-evict-local-volumes"]
    empty_dirs = [volume["name"] for volume in spec["volumes"] if "emptyDir" in volume]
    assert sorted(listed.split(",")) == sorted(empty_dirs)
