"""The AWS Budget that emails someone before a forgotten cluster runs up a bill.

Pure renderers: the budget and its notifications as the AWS Budgets API takes them
(CreateBudget `Budget` and `NotificationsWithSubscribers`, UpdateBudget `NewBudget`). Shapes
from the Budgets API reference (https://docs.aws.amazon.com/aws-cost-management/latest/
APIReference/API_budgets_CreateBudget.html) and the AWS CLI's example of a tag budget
(aws/aws-cli awscli/examples/budgets/create-budget.rst).
"""

from __future__ import annotations

from typing import Any

from pangeo_himat.settings.model import Settings

# The cost-allocation tag every resource of a cluster carries (render_cluster.cost_tags).
COST_TAG_KEY = "himat/cluster"
# Alerts: actual spend past 80 % of the limit, forecast spend past 100 %.
ACTUAL_PERCENT = 80
FORECASTED_PERCENT = 100
# "each notification can have one SNS subscriber and up to 10 email subscribers"
# (API_budgets_CreateBudget.html, NotificationsWithSubscribers); values.schema.json caps notify.
MAX_EMAIL_SUBSCRIBERS = 10

# How a user activates the tag once per account: Cost Explorer UpdateCostAllocationTagsStatus
# (CostAllocationTagsStatus: a list of {TagKey, Status: Active | Inactive}).
ACTIVATE_TAG_COMMAND = (
    "aws ce update-cost-allocation-tags-status --cost-allocation-tags-status "
    f"TagKey={COST_TAG_KEY},Status=Active"
)


def budget_name(settings: Settings) -> str:
    """Budget names are unique per account (not per region), so the region is in the name."""
    cluster = settings.cluster
    return f"himat-{cluster.name}-{cluster.region}"


def budget_document(settings: Settings) -> dict[str, Any]:
    """A monthly cost budget over everything tagged `himat/cluster: <name>`.

    CostFilters with TagKeyValue `user:<key>$<value>` (the CLI example's form; a request
    carries CostFilters or FilterExpression, not both, and CostTypes keeps its defaults).
    """
    limit = limit_usd(settings)
    return {
        "BudgetName": budget_name(settings),
        "BudgetType": "COST",
        "TimeUnit": "MONTHLY",
        "BudgetLimit": {"Amount": f"{limit:.2f}", "Unit": "USD"},
        "CostFilters": {"TagKeyValue": [f"user:{COST_TAG_KEY}${settings.cluster.name}"]},
    }


def notifications(settings: Settings) -> list[dict[str, Any]]:
    """The two alerts: Notification objects as DeleteNotification and the describe call use."""
    return [
        {
            "NotificationType": kind,
            "ComparisonOperator": "GREATER_THAN",
            "Threshold": float(percent),
            "ThresholdType": "PERCENTAGE",
        }
        for kind, percent in (("ACTUAL", ACTUAL_PERCENT), ("FORECASTED", FORECASTED_PERCENT))
    ]


def subscribers(settings: Settings) -> list[dict[str, str]]:
    """Every address of budget.notify, by email."""
    return [
        {"SubscriptionType": "EMAIL", "Address": str(address)} for address in settings.budget.notify
    ]


def notifications_with_subscribers(settings: Settings) -> list[dict[str, Any]]:
    """CreateBudget's NotificationsWithSubscribers: each alert to every address."""
    return [
        {"Notification": notification, "Subscribers": subscribers(settings)}
        for notification in notifications(settings)
    ]


def is_budgeted(settings: Settings) -> bool:
    return settings.budget.monthly_usd is not None


def limit_usd(settings: Settings) -> float:
    """The monthly limit of budgeted settings (is_budgeted)."""
    if settings.budget.monthly_usd is None:
        raise ValueError("the settings set no budget.monthly_usd")
    return float(settings.budget.monthly_usd)


def cost_note(settings: Settings, running_usd_per_month: float) -> str:
    """What `himat cost` says about the budget beside the month's estimate."""
    if not is_budgeted(settings):
        return (
            "no budget: nothing warns anyone of a cluster left running; set budget.monthly_usd "
            "and budget.notify for emails at 80 % actual and 100 % forecast spend"
        )
    limit = limit_usd(settings)
    note = (
        f"budget USD {limit:.2f}/month ({budget_name(settings)}): emails "
        + ", ".join(settings.budget.notify)
        + f" when the month's actual spend passes USD {limit * ACTUAL_PERCENT / 100:.2f} "
        f"or its forecast passes USD {limit * FORECASTED_PERCENT / 100:.2f}"
    )
    if running_usd_per_month > limit:
        note += f"; running all month (USD {running_usd_per_month:.2f}) is over the budget"
    return note
