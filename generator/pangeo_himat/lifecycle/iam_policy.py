"""The IAM policy the person who runs himat needs: eksctl's minimum, plus himat's own calls.

eksctl's part is its documented minimum (eksctl userdocs/src/usage/minimum-iam-policies.md:
AmazonEC2FullAccess, AWSCloudFormationFullAccess, EksAllAccess, IamLimitedAccess), merged into
one document. himat adds what its own `aws` commands call (EC2 volumes and snapshots, Data
Lifecycle Manager, Budgets, STS) and the IAM roles it names itself (`<cluster>-<region>-*`,
which eksctl's IamLimitedAccess, limited to `eksctl-*`, does not cover).
"""

from __future__ import annotations

from typing import Any

from pangeo_himat.lifecycle.backup import DLM_ROLE_NAME
from pangeo_himat.settings.model import Settings

ACCOUNT_PLACEHOLDER = "*"

# eksctl userdocs/src/usage/minimum-iam-policies.md, "AmazonEC2FullAccess (AWS Managed Policy)".
EC2_FULL_ACCESS_PREFIXES = ("ec2", "elasticloadbalancing", "cloudwatch", "autoscaling")
EC2_SERVICE_LINKED_ROLES = (
    "autoscaling.amazonaws.com",
    "ec2scheduled.amazonaws.com",
    "elasticloadbalancing.amazonaws.com",
    "spot.amazonaws.com",
    "spotfleet.amazonaws.com",
    "transitgateway.amazonaws.com",
)
# Same file, "EksAllAccess".
EKS_ALL_ACCESS_EXTRA = ("kms:CreateGrant", "kms:DescribeKey", "logs:PutRetentionPolicy")
SSM_PARAMETER_ACTIONS = ("ssm:GetParameter", "ssm:GetParameters")
# Same file, "IamLimitedAccess": what eksctl does to its roles, instance profiles, policies
# and the OIDC provider.
IAM_LIMITED_ACTIONS = (
    "iam:CreateInstanceProfile",
    "iam:DeleteInstanceProfile",
    "iam:GetInstanceProfile",
    "iam:RemoveRoleFromInstanceProfile",
    "iam:GetRole",
    "iam:CreateRole",
    "iam:DeleteRole",
    "iam:AttachRolePolicy",
    "iam:PutRolePolicy",
    "iam:UpdateAssumeRolePolicy",
    "iam:AddRoleToInstanceProfile",
    "iam:ListInstanceProfilesForRole",
    "iam:PassRole",
    "iam:DetachRolePolicy",
    "iam:DeleteRolePolicy",
    "iam:GetRolePolicy",
    "iam:GetOpenIDConnectProvider",
    "iam:CreateOpenIDConnectProvider",
    "iam:DeleteOpenIDConnectProvider",
    "iam:TagOpenIDConnectProvider",
    "iam:ListAttachedRolePolicies",
    "iam:TagRole",
    "iam:UntagRole",
    "iam:GetPolicy",
    "iam:CreatePolicy",
    "iam:DeletePolicy",
    "iam:ListPolicyVersions",
)
IAM_LIMITED_RESOURCES = (
    "instance-profile/eksctl-*",
    "role/eksctl-*",
    "policy/eksctl-*",
    "oidc-provider/*",
    "role/aws-service-role/eks-nodegroup.amazonaws.com/AWSServiceRoleForAmazonEKSNodegroup",
    "role/eksctl-managed-*",
)
EKS_SERVICE_LINKED_ROLES = (
    "eks.amazonaws.com",
    "eks-nodegroup.amazonaws.com",
    "eks-fargate.amazonaws.com",
)

# The API operations himat's own `aws` commands call (lifecycle/volumes.py, backup.py,
# budget_plans.py, tools.py); `aws ec2 wait snapshot-completed` / `volume-available` poll
# DescribeSnapshots / DescribeVolumes (botocore data/ec2/2016-11-15/waiters-2.json).
HIMAT_OPERATIONS: dict[str, tuple[str, ...]] = {
    "ec2": (
        "CreateSnapshot",
        "CreateTags",
        "CreateVolume",
        "DeleteVolume",
        "DescribeSnapshots",
        "DescribeVolumes",
    ),
    "dlm": ("CreateLifecyclePolicy", "GetLifecyclePolicies", "UpdateLifecyclePolicy"),
    "budgets": (
        "CreateBudget",
        "CreateNotification",
        "DeleteBudget",
        "DeleteNotification",
        "DescribeBudget",
        "DescribeNotificationsForBudget",
        "UpdateBudget",
    ),
    "sts": ("GetCallerIdentity",),
}
# AWS Budgets authorises its API with two IAM actions, not one per operation (Service
# Authorization Reference, "Actions defined by AWS Budget Service": ViewBudget, ModifyBudget).
BUDGETS_IAM_ACTION = {
    "CreateBudget": "ModifyBudget",
    "CreateNotification": "ModifyBudget",
    "DeleteBudget": "ModifyBudget",
    "DeleteNotification": "ModifyBudget",
    "UpdateBudget": "ModifyBudget",
    "DescribeBudget": "ViewBudget",
    "DescribeNotificationsForBudget": "ViewBudget",
}
# `aws dlm create-default-role` reads, creates and attaches the managed policy to this role
# (awscli customizations/dlm/createdefaultrole.py), and create-lifecycle-policy passes it to DLM.
DLM_ROLE_ACTIONS = ("iam:GetRole", "iam:CreateRole", "iam:AttachRolePolicy", "iam:PassRole")


def iam_action(service: str, operation: str) -> str:
    """The IAM action that allows one API operation."""
    if service == "budgets":
        return f"budgets:{BUDGETS_IAM_ACTION[operation]}"
    return f"{service}:{operation}"


def himat_actions() -> list[str]:
    """The IAM actions of himat's own `aws` calls, sorted and without repeats."""
    return sorted(
        {iam_action(service, op) for service, ops in HIMAT_OPERATIONS.items() for op in ops}
    )


def _arn(account: str, resource: str) -> str:
    return f"arn:aws:iam::{account}:{resource}"


def _service_linked(services: tuple[str, ...]) -> dict[str, Any]:
    return {
        "Effect": "Allow",
        "Action": "iam:CreateServiceLinkedRole",
        "Resource": "*",
        "Condition": {"StringEquals": {"iam:AWSServiceName": list(services)}},
    }


def eksctl_statements(account: str) -> list[dict[str, Any]]:
    """eksctl's four minimum policies (eksctl userdocs/src/usage/minimum-iam-policies.md)."""
    return [
        {
            "Sid": "EksctlEc2FullAccess",
            "Effect": "Allow",
            "Action": [f"{prefix}:*" for prefix in EC2_FULL_ACCESS_PREFIXES],
            "Resource": "*",
        },
        _service_linked(EC2_SERVICE_LINKED_ROLES),
        {
            "Sid": "EksctlCloudFormationFullAccess",
            "Effect": "Allow",
            "Action": "cloudformation:*",
            "Resource": "*",
        },
        {
            "Sid": "EksctlEksAllAccess",
            "Effect": "Allow",
            "Action": ["eks:*", *EKS_ALL_ACCESS_EXTRA],
            "Resource": "*",
        },
        {
            "Sid": "EksctlSsmParameters",
            "Effect": "Allow",
            "Action": list(SSM_PARAMETER_ACTIONS),
            "Resource": [
                f"arn:aws:ssm:*:{account}:parameter/aws/*",
                "arn:aws:ssm:*::parameter/aws/*",
            ],
        },
        {
            "Sid": "EksctlIamLimitedAccess",
            "Effect": "Allow",
            "Action": list(IAM_LIMITED_ACTIONS),
            "Resource": [_arn(account, resource) for resource in IAM_LIMITED_RESOURCES],
        },
        {
            "Sid": "EksctlReadRolesAndUsers",
            "Effect": "Allow",
            "Action": ["iam:GetRole", "iam:GetUser"],
            "Resource": [_arn(account, "role/*"), _arn(account, "user/*")],
        },
        _service_linked(EKS_SERVICE_LINKED_ROLES),
    ]


def himat_statements(settings: Settings, account: str) -> list[dict[str, Any]]:
    """What himat adds: its own calls, and the roles it names (data, autoscaler, idle sleep)."""
    cluster = settings.cluster
    return [
        {
            "Sid": "HimatVolumesSnapshotsBackupsBudgets",
            "Effect": "Allow",
            "Action": himat_actions(),
            "Resource": "*",
        },
        {
            "Sid": "HimatNamedRoles",
            "Effect": "Allow",
            "Action": list(IAM_LIMITED_ACTIONS),
            "Resource": [_arn(account, f"role/{cluster.name}-{cluster.region}-*")],
        },
        {
            "Sid": "HimatBackupRole",
            "Effect": "Allow",
            "Action": list(DLM_ROLE_ACTIONS),
            "Resource": [_arn(account, f"role/{DLM_ROLE_NAME}")],
        },
    ]


def operator_policy(settings: Settings, account: str = ACCOUNT_PLACEHOLDER) -> dict[str, Any]:
    """One IAM policy document for the person who runs `himat cluster`, `install`, ... ."""
    statements = eksctl_statements(account) + himat_statements(settings, account)
    return {"Version": "2012-10-17", "Statement": statements}
