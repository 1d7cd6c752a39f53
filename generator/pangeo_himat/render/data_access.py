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


def bucket_policy(buckets: Sequence[Bucket], region: str) -> dict[str, Any]:
    """An IAM policy document that allows exactly the listed buckets and actions."""
    arn = f"arn:{partition(region)}:s3:::"
    statements = [
        {
            "Sid": "ListListedBuckets",
            "Effect": "Allow",
            "Action": list(BUCKET_ACTIONS),
            "Resource": [f"{arn}{bucket.name}" for bucket in buckets],
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
    return {"Version": "2012-10-17", "Statement": statements}


def data_role_name(settings: Settings) -> str:
    """IAM role names are global to the account, so the region is part of the name."""
    cluster = settings.cluster
    return f"{cluster.name}-{cluster.region}-s3"[:64]


def pod_identity_associations(settings: Settings, tags: dict[str, str]) -> list[dict[str, Any]]:
    """The association for the user ServiceAccount; none when no bucket is listed."""
    buckets = settings.data.buckets
    if not buckets:
        return []
    name = settings.cluster.name
    return [
        {
            "namespace": names.namespace(name),
            "serviceAccountName": names.user_service_account(name),
            "createServiceAccount": False,
            "roleName": data_role_name(settings),
            "permissionPolicy": bucket_policy(buckets, settings.cluster.region),
            "tags": dict(tags),
        }
    ]


def first_readwrite_bucket(settings: Settings) -> str | None:
    """The bucket the example notebook may write its scratch store to."""
    for bucket in settings.data.buckets:
        if bucket.access == "readwrite":
            return str(bucket.name)
    return None
