"""The AWS Budget's commands, as steps: `cluster` creates or updates it, `destroy` deletes it.

The Budgets API is global (one endpoint per partition), so no command names a region; every
call names the account, read from `aws sts get-caller-identity`.
"""

from __future__ import annotations

import json
from typing import Any

from pangeo_himat.lifecycle.steps import Step, identity_query
from pangeo_himat.render import budget
from pangeo_himat.settings.model import Settings

# aws on an absent budget: "An error occurred (NotFoundException) when calling the
# DescribeBudget operation: Unable to get budget: <name> - the budget doesn't exist." (Budgets
# API error NotFoundException), exit 254 from AWS CLI v2 and 255 from v1: only the text is read.
AWS_BUDGET_NOT_FOUND = "(NotFoundException)"
ACCOUNT_PLACEHOLDER = "<account-id>"


def _json(document: Any) -> str:
    return json.dumps(document, separators=(",", ":"))


def account_query() -> Step:
    return identity_query()


def budget_query(settings: Settings, account: str) -> Step:
    name = budget.budget_name(settings)
    argv = ("aws", "budgets", "describe-budget", "--account-id", account, "--budget-name", name)
    return Step(f"does budget {name} exist", (*argv, "--output", "json"), AWS_BUDGET_NOT_FOUND)


def notifications_query(settings: Settings, account: str) -> Step:
    name = budget.budget_name(settings)
    argv = ("aws", "budgets", "describe-notifications-for-budget", "--account-id", account)
    return Step(
        f"the alerts of budget {name}",
        (*argv, "--budget-name", name, "--output", "json"),
        AWS_BUDGET_NOT_FOUND,
    )


def create_budget_steps(settings: Settings, account: str) -> list[Step]:
    """The budget and both alerts in one call."""
    argv = (
        *("aws", "budgets", "create-budget", "--account-id", account),
        *("--budget", _json(budget.budget_document(settings))),
        *(
            "--notifications-with-subscribers",
            _json(budget.notifications_with_subscribers(settings)),
        ),
    )
    return [Step(f"create budget {budget.budget_name(settings)}", argv)]


def _same_alert(a: dict[str, Any], b: dict[str, Any]) -> bool:
    keys = ("NotificationType", "ComparisonOperator", "ThresholdType")
    return all(a.get(key) == b.get(key) for key in keys) and float(a["Threshold"]) == float(
        b["Threshold"]
    )


def update_budget_steps(
    settings: Settings, account: str, existing: list[dict[str, Any]]
) -> list[Step]:
    """The limit and filter by UpdateBudget; each alert replaced, so budget.notify is current."""
    name = budget.budget_name(settings)
    on_budget = ("--account-id", account, "--budget-name", name)
    steps = [
        Step(
            f"update budget {name}",
            (
                *("aws", "budgets", "update-budget", "--account-id", account),
                *("--new-budget", _json(budget.budget_document(settings))),
            ),
        )
    ]
    for notification in budget.notifications(settings):
        kind = f"{notification['NotificationType'].lower()} {notification['Threshold']:.0f} %"
        if any(_same_alert(notification, found) for found in existing):
            delete = ("aws", "budgets", "delete-notification", *on_budget)
            steps.append(
                Step(f"remove the {kind} alert", (*delete, "--notification", _json(notification)))
            )
        create = ("aws", "budgets", "create-notification", *on_budget)
        steps.append(
            Step(
                f"add the {kind} alert for {len(settings.budget.notify)} addresses",
                (
                    *create,
                    *("--notification", _json(notification)),
                    *("--subscribers", _json(budget.subscribers(settings))),
                ),
            )
        )
    return steps


def delete_budget_step(settings: Settings, account: str) -> Step:
    name = budget.budget_name(settings)
    argv = ("aws", "budgets", "delete-budget", "--account-id", account, "--budget-name", name)
    return Step(f"delete budget {name}", argv)


# --- answers of the queries above (handed to output.parsed) -----------------------------------


def account_id(text: str) -> str:
    """aws sts get-caller-identity --output json: {"Account": "123456789012", ...}."""
    account = str(json.loads(text)["Account"])
    if not (len(account) == 12 and account.isdigit()):
        raise ValueError("Account is not a 12-digit account ID")
    return account


def budget_found(text: str) -> str:
    """aws budgets describe-budget --output json: {"Budget": {"BudgetName": ...}}."""
    return str(json.loads(text)["Budget"]["BudgetName"])


def alerts(text: str) -> list[dict[str, Any]]:
    """aws budgets describe-notifications-for-budget --output json: {"Notifications": [...]}."""
    found = json.loads(text)["Notifications"]
    if not isinstance(found, list):
        raise TypeError("Notifications is not a list")
    return [dict(notification) for notification in found]
