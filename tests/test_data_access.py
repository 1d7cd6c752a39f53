"""S3 through one scoped role: exactly the listed buckets and actions, no node credentials."""

from __future__ import annotations

import json

import jsonschema
import pytest

from conftest import write_settings
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.render import names
from pangeo_himat.render.data_access import READWRITE_OBJECT_ACTIONS
from pangeo_himat.render.render import render_all

BUCKETS = {
    0: [],
    1: [{"name": "himat-scratch", "access": "readwrite"}],
    3: [
        {"name": "himat-scratch", "access": "readwrite"},
        {"name": "its-live-data", "access": "read"},
        {"name": "himat.results.2026", "access": "readwrite"},
    ],
}


def data_associations(rendered) -> list[dict]:
    """The S3 associations; the cluster-autoscaler's own one sits in kube-system."""
    associations = rendered.cluster_config["iam"].get("podIdentityAssociations", [])
    return [a for a in associations if a["namespace"] != names.AUTOSCALER_NAMESPACE]


def render_with(tmp_path, buckets, **changes):
    settings = load_settings(write_settings(tmp_path, {"data.buckets": buckets, **changes}))
    return settings, render_all(settings)


@pytest.mark.parametrize("count", sorted(BUCKETS))
def test_cluster_config_stays_valid_with_buckets(count, tmp_path, eksctl_schema):
    _, rendered = render_with(tmp_path, BUCKETS[count])
    jsonschema.Draft7Validator(eksctl_schema).validate(rendered.cluster_config)
    assert len(data_associations(rendered)) == (1 if count else 0)


def granted(policy: dict) -> set[tuple[str, str]]:
    """Every (action, resource) pair the policy allows."""
    pairs = set()
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        for action in statement["Action"]:
            for resource in statement["Resource"]:
                pairs.add((action, resource))
    return pairs


def test_policy_grants_exactly_the_listed_buckets_and_actions(tmp_path):
    _, rendered = render_with(tmp_path, BUCKETS[3])
    (association,) = data_associations(rendered)
    policy = json.loads(json.dumps(association["permissionPolicy"]))  # plain IAM JSON
    assert policy["Version"] == "2012-10-17"
    expected = {("s3:ListBucket", f"arn:aws:s3:::{b['name']}") for b in BUCKETS[3]}
    expected.add(("s3:GetObject", "arn:aws:s3:::its-live-data/*"))
    for bucket in ("himat-scratch", "himat.results.2026"):
        expected |= {(action, f"arn:aws:s3:::{bucket}/*") for action in READWRITE_OBJECT_ACTIONS}
    assert granted(policy) == expected
    for action, resource in granted(policy):
        assert "*" not in action and resource != "*" and not resource.endswith(":::*")


def test_scratch_alone_makes_the_role_write_only_under_the_clusters_prefix(tmp_path):
    read = [{"name": "its-live-data", "access": "read"}]
    _, rendered = render_with(tmp_path, read, **{"data.scratch": "himat-scratch"})
    (association,) = data_associations(rendered)
    expected = {
        ("s3:ListBucket", "arn:aws:s3:::its-live-data"),
        ("s3:GetObject", "arn:aws:s3:::its-live-data/*"),
        ("s3:ListBucket", "arn:aws:s3:::himat-scratch"),
    }
    expected |= {(a, "arn:aws:s3:::himat-scratch/himat/*") for a in READWRITE_OBJECT_ACTIONS}
    assert granted(association["permissionPolicy"]) == expected
    assert rendered.values["data"]["scratchBucket"] == "s3://himat-scratch/himat"
    # a scratch bucket is enough for a role; none without buckets or scratch
    _, alone = render_with(tmp_path, [], **{"data.scratch": "himat-scratch"})
    assert len(data_associations(alone)) == 1
    _, neither = render_with(tmp_path, [])
    assert data_associations(neither) == []
    assert neither.values["data"]["scratchBucket"] == ""


def test_role_binds_the_user_service_account_of_the_release(tmp_path):
    settings, rendered = render_with(tmp_path, BUCKETS[1])
    (association,) = data_associations(rendered)
    name = settings.cluster.name
    assert association["namespace"] == names.namespace(name)
    assert association["serviceAccountName"] == names.user_service_account(name)
    assert association["createServiceAccount"] is False
    assert len(association["roleName"]) <= 64


def test_govcloud_buckets_use_their_partition(tmp_path):
    _, rendered = render_with(
        tmp_path,
        BUCKETS[1],
        **{
            "cluster.region": "us-gov-west-1",
            "cluster.zones": ["us-gov-west-1a", "us-gov-west-1b"],
        },
    )
    (association,) = data_associations(rendered)
    resources = {r for s in association["permissionPolicy"]["Statement"] for r in s["Resource"]}
    assert all(r.startswith("arn:aws-us-gov:s3:::") for r in resources)
