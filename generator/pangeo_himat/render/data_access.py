"""S3 access through one scoped IAM role, bound to the release's user ServiceAccount.

EKS Pod Identity (eksctl `iam.podIdentityAssociations`) rather than IRSA: the role needs no
account ID or OIDC issuer in the Helm values, the chart owns its ServiceAccount without an
annotation, and eksctl creates the role and association in one step. Pods reach the agent on
169.254.170.23, so blocking the node's instance metadata (169.254.169.254) leaves it working.
Source: https://docs.aws.amazon.com/eks/latest/userguide/pod-identities.html
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pangeo_himat.render import names
from pangeo_himat.settings.model import Bucket, Settings

# Object actions per access level. ListBucket is granted on the bucket itself, nothing else is.
# Action names: https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html
READ_OBJECT_ACTIONS = ("s3:GetObject",)
READWRITE_OBJECT_ACTIONS = (
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
)
BUCKET_ACTIONS = ("s3:ListBucket",)


def partition(region: str) -> str:
    """ARN partition of a region: GovCloud and China have their own."""
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws"


def scratch_prefix(settings: Settings) -> tuple[str, str] | None:
    """The scratch bucket and the key prefix this cluster writes under: its own name, where a
    2i2c hub puts the user's (SCRATCH_BUCKET: s3://<bucket>/$(JUPYTERHUB_USER), 2i2c-org/
    infrastructure docs/howto/features/buckets.md), so clusters can share one bucket."""
    bucket = settings.data.scratch
    return None if bucket is None else (str(bucket), settings.cluster.name)


def scratch_url(settings: Settings) -> str | None:
    """SCRATCH_BUCKET as Pangeo and 2i2c hubs give it to notebooks: a URL with its prefix."""
    scratch = scratch_prefix(settings)
    return None if scratch is None else f"s3://{scratch[0]}/{scratch[1]}"


def bucket_policy(
    buckets: Sequence[Bucket], region: str, scratch: tuple[str, str] | None = None
) -> dict[str, Any]:
    """An IAM policy document that allows exactly the listed buckets and actions, and
    read, write and delete under the scratch prefix (listing its bucket: s3fs lists a store
    before it reads or writes one)."""
    arn = f"arn:{partition(region)}:s3:::"
    listed = [bucket.name for bucket in buckets]
    if scratch is not None and scratch[0] not in listed:
        listed.append(scratch[0])
    statements = [
        {
            "Sid": "ListListedBuckets",
            "Effect": "Allow",
            "Action": list(BUCKET_ACTIONS),
            "Resource": [f"{arn}{name}" for name in listed],
        }
    ]
    for access, actions in (("read", READ_OBJECT_ACTIONS), ("readwrite", READWRITE_OBJECT_ACTIONS)):
        chosen = [bucket for bucket in buckets if bucket.access == access]
        if chosen:
            statements.append(
                {
                    "Sid": "ReadObjects" if access == "read" else "ReadWriteObjects",
                    "Effect": "Allow",
                    "Action": list(actions),
                    "Resource": [f"{arn}{bucket.name}/*" for bucket in chosen],
                }
            )
    if scratch is not None:
        statements.append(
            {
                "Sid": "ReadWriteScratch",
                "Effect": "Allow",
                "Action": list(READWRITE_OBJECT_ACTIONS),
                "Resource": [f"{arn}{scratch[0]}/{scratch[1]}/*"],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def data_role_name(settings: Settings) -> str:
    """IAM role names are global to the account, so the region is part of the name."""
    cluster = settings.cluster
    return f"{cluster.name}-{cluster.region}-s3"[:64]


def data_policy(settings: Settings) -> dict[str, Any] | None:
    """The data-access role's policy (what `render --explain` shows); None = no role at all,
    when data.buckets is empty and data.scratch is null."""
    buckets = settings.data.buckets
    scratch = scratch_prefix(settings)
    if not buckets and scratch is None:
        return None
    return bucket_policy(buckets, settings.cluster.region, scratch)


def pod_identity_associations(settings: Settings, tags: dict[str, str]) -> list[dict[str, Any]]:
    """The association for the user ServiceAccount; none without a bucket or a scratch."""
    policy = data_policy(settings)
    if policy is None:
        return []
    name = settings.cluster.name
    return [
        {
            "namespace": names.namespace(name),
            "serviceAccountName": names.user_service_account(name),
            "createServiceAccount": False,
            "roleName": data_role_name(settings),
            "permissionPolicy": policy,
            "tags": dict(tags),
        }
    ]
