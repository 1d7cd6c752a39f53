"""`himat iam-policy`: every action it lists exists, and it allows every aws call himat makes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import botocore.session
import pytest
from botocore import xform_name

from conftest import run_himat
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.lifecycle.iam_policy import (
    BUDGETS_IAM_ACTION,
    DLM_ROLE_ACTIONS,
    HIMAT_OPERATIONS,
    operator_policy,
)

GOLDEN = Path(__file__).parent / "golden" / "dry-run"
# IAM's service prefix -> botocore's service models (elasticloadbalancing covers both APIs).
BOTOCORE_SERVICES = {
    "autoscaling": ["autoscaling"],
    "budgets": ["budgets"],
    "cloudformation": ["cloudformation"],
    "cloudwatch": ["cloudwatch"],
    "dlm": ["dlm"],
    "ec2": ["ec2"],
    "eks": ["eks"],
    "elasticloadbalancing": ["elb", "elbv2"],
    "iam": ["iam"],
    "kms": ["kms"],
    "logs": ["logs"],
    "ssm": ["ssm"],
    "sts": ["sts"],
}
# AWS Budgets is authorised by two IAM actions (Service Authorization Reference, "Actions
# defined by AWS Budget Service"), not one per API operation.
BUDGETS_ACTIONS = {"ViewBudget", "ModifyBudget"}
# Actions that authorise no API operation of their own ("permission only" in the Service
# Authorization Reference): iam:PassRole lets a service (EC2, EKS, DLM) use a role.
PERMISSION_ONLY = {"iam:PassRole"}

SESSION = botocore.session.get_session()


def operations(prefix: str) -> set[str]:
    return {
        name
        for service in BOTOCORE_SERVICES[prefix]
        for name in SESSION.get_service_model(service).operation_names
    }


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def listed_actions(policy: dict) -> list[str]:
    return [action for statement in policy["Statement"] for action in as_list(statement["Action"])]


@pytest.fixture(scope="module")
def policy() -> dict:
    return operator_policy(load_settings(None))


def test_every_listed_action_is_a_real_action_of_its_service(policy):
    unknown = []
    for action in listed_actions(policy):
        prefix, name = action.split(":", 1)
        if prefix not in BOTOCORE_SERVICES:
            unknown.append(action)
        elif name == "*" or action in PERMISSION_ONLY:
            continue
        elif prefix == "budgets":
            if name not in BUDGETS_ACTIONS:
                unknown.append(action)
        elif name not in operations(prefix):
            unknown.append(action)
    assert unknown == []


def test_the_budgets_operations_himat_calls_are_real_and_mapped():
    assert set(BUDGETS_IAM_ACTION) == set(HIMAT_OPERATIONS["budgets"])
    assert set(BUDGETS_IAM_ACTION) <= operations("budgets")


def aws_commands() -> set[tuple[str, str, str]]:
    """(service, command, subcommand or "") of every aws line in the golden dry runs."""
    found = set()
    pattern = re.compile(r"^(?:# \w+ first: )?aws ([a-z0-9-]+) ([a-z0-9-]+)(?: ([a-z0-9-]+))?")
    for path in GOLDEN.rglob("*.txt"):
        for line in path.read_text().splitlines():
            match = pattern.match(line)
            if match:
                found.add((match[1], match[2], match[3] or ""))
    return found


def allowed(actions: list[str], action: str) -> bool:
    prefix = action.split(":", 1)[0]
    return action in actions or f"{prefix}:*" in actions


def needed_actions(service: str, command: str, subcommand: str) -> list[str]:
    """The IAM actions one aws CLI command needs, read from botocore's models."""
    if (service, command) == ("dlm", "create-default-role"):
        # awscli customizations/dlm/createdefaultrole.py: IAM calls, not a DLM operation.
        return list(DLM_ROLE_ACTIONS)
    model = SESSION.get_service_model(service)
    if command == "wait":
        waiter = SESSION.get_waiter_model(service).get_waiter(
            "".join(part.title() for part in subcommand.split("-"))
        )
        operation = waiter.operation
    else:
        by_command = {xform_name(name, "-"): name for name in model.operation_names}
        operation = by_command[command]
    if service == "budgets":
        return [f"budgets:{BUDGETS_IAM_ACTION[operation]}"]
    return [f"{service}:{operation}"]


def test_every_aws_command_of_the_dry_runs_is_allowed(policy):
    commands = aws_commands()
    assert {service for service, _, _ in commands} >= {"ec2", "dlm", "budgets", "sts"}
    actions = listed_actions(policy)
    missing = [
        (command, action)
        for command in sorted(commands)
        for action in needed_actions(*command)
        if not allowed(actions, action)
    ]
    assert missing == []


def test_iam_policy_prints_the_document_for_the_account(tmp_path):
    result = run_himat("iam-policy", "--account", "123456789012", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["Version"] == "2012-10-17"
    arns = [
        arn
        for statement in document["Statement"]
        for arn in as_list(statement["Resource"])
        if arn.startswith("arn:aws:iam::")
    ]
    assert arns and all(arn.startswith("arn:aws:iam::123456789012:") for arn in arns)
    assert "arn:aws:iam::123456789012:role/himat-us-west-2-*" in json.dumps(document)


def test_iam_policy_refuses_an_account_that_is_not_twelve_digits():
    result = run_himat("iam-policy", "--account", "12345")
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == "--account: '12345' is not an AWS account ID; expected 12 digits or *"
    )
