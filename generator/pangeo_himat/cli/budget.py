"""The AWS Budget's part of `himat cluster` and `himat destroy`: ask, then act."""

from __future__ import annotations

import click

from pangeo_himat.lifecycle import budget_plans
from pangeo_himat.lifecycle.output import ToolError, parsed
from pangeo_himat.lifecycle.runner import observe, print_plan, run_steps
from pangeo_himat.lifecycle.steps import Step
from pangeo_himat.render import budget
from pangeo_himat.settings.model import Settings

ACCOUNT = budget_plans.ACCOUNT_PLACEHOLDER


def _account() -> str:
    answer = observe(budget_plans.account_query())
    found = parsed(answer, budget_plans.account_id, "the caller's identity as JSON")
    if found is None:  # the query names no "not found" text, so parsed never returns None
        raise ToolError(f"aws: `{answer.step.shell()}` named no account")
    return found


def _exists(settings: Settings, account: str) -> bool:
    answer = observe(budget_plans.budget_query(settings, account))
    return parsed(answer, budget_plans.budget_found, "a budget as JSON") is not None


def activation_hint() -> str:
    return (
        f"note: the budget counts only costs tagged {budget.COST_TAG_KEY}, and AWS counts a tag "
        "only once it is activated for cost allocation, once per account: "
        f"{budget.ACTIVATE_TAG_COMMAND}"
    )


def print_cluster_budget_plan(settings: Settings) -> None:
    """--dry-run: what `cluster` asks and does about the budget."""
    click.echo(f"# asks first: {budget_plans.account_query().shell()}")
    click.echo(f"# asks first: {budget_plans.budget_query(settings, ACCOUNT).shell()}")
    if not budget.is_budgeted(settings):
        click.echo("# if that budget exists (budget.monthly_usd is null), instead:")
        click.echo(f"# {budget_plans.delete_budget_step(settings, ACCOUNT).shell()}")
        return
    print_plan(budget_plans.create_budget_steps(settings, ACCOUNT))
    click.echo("# if the budget exists already, instead:")
    click.echo(f"# {budget_plans.notifications_query(settings, ACCOUNT).shell()}")
    both = budget.notifications(settings)  # the dry run assumes both alerts exist
    for step in budget_plans.update_budget_steps(settings, ACCOUNT, both):
        click.echo(f"# {step.shell()}")
    click.echo(activation_hint())


def apply_cluster_budget(settings: Settings) -> None:
    """Create or update the budget; with budget.monthly_usd null, delete one left behind."""
    account = _account()
    exists = _exists(settings, account)
    name = budget.budget_name(settings)
    if not budget.is_budgeted(settings):
        if exists:
            run_steps("cluster", [budget_plans.delete_budget_step(settings, account)])
            click.echo(f"budget {name} deleted (budget.monthly_usd is null)")
        return
    steps: list[Step]
    if exists:
        answer = observe(budget_plans.notifications_query(settings, account))
        found = parsed(answer, budget_plans.alerts, "a list of notifications as JSON") or []
        steps = budget_plans.update_budget_steps(settings, account, found)
    else:
        steps = budget_plans.create_budget_steps(settings, account)
    run_steps("cluster", steps)
    limit = budget.limit_usd(settings)
    click.echo(
        f"budget {name} {'updated' if exists else 'created'}: USD {limit:.2f}/month, alerts at "
        f"{budget.ACTUAL_PERCENT} % actual and {budget.FORECASTED_PERCENT} % forecast to "
        + ", ".join(settings.budget.notify)
    )
    click.echo(activation_hint())


def destroy_budget_queries(settings: Settings) -> list[Step]:
    return [budget_plans.account_query(), budget_plans.budget_query(settings, ACCOUNT)]


def print_destroy_budget_plan(settings: Settings) -> None:
    """--dry-run: destroy's last step, run only when the budget query finds one."""
    click.echo("# if that budget exists:")
    click.echo(f"# {budget_plans.delete_budget_step(settings, ACCOUNT).shell()}")


def delete_budget(settings: Settings, verb: str) -> None:
    """Last in destroy: a budget that is already gone is not an error."""
    account = _account()
    if _exists(settings, account):
        run_steps(verb, [budget_plans.delete_budget_step(settings, account)])
        click.echo(f"budget {budget.budget_name(settings)} deleted")
