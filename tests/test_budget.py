"""The AWS Budget: its documents as the Budgets API takes them (moto, in process, and botocore's
own request validation), and what `cluster` and `destroy` do about it (the real AWS CLI against
moto's server, and the stand-in's Budgets where moto lacks a call)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import botocore.session  # type: ignore[import-untyped]
import botocore.validate  # type: ignore[import-untyped]
import pytest
from moto import mock_aws

from conftest import AWSEndpoints, calls, himat, run_himat, write_settings
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.lifecycle import budget_plans
from pangeo_himat.lifecycle.steps import Step
from pangeo_himat.render import budget
from pangeo_himat.settings.model import Settings

ACCOUNT = "123456789012"
NOTIFY = ["snow-group@example.org", "pi@example.org"]
BUDGETED = {"budget.monthly_usd": 400, "budget.notify": NOTIFY}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(write_settings(tmp_path, BUDGETED))


@pytest.fixture
def budgets(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A Budgets client that moto answers in process."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    with mock_aws():
        yield botocore.session.get_session().create_client("budgets", region_name="us-east-1")


def request_of(step: Step) -> tuple[str, dict[str, Any]]:
    """The API operation and parameters an `aws budgets <verb> --opt value` step sends."""
    tool, service, verb, *rest = step.argv
    assert (tool, service) == ("aws", "budgets")
    params: dict[str, Any] = {}
    for option, value in zip(rest[::2], rest[1::2], strict=True):
        if option == "--output":
            continue
        key = "".join(part.title() for part in option.removeprefix("--").split("-"))
        params[key] = json.loads(value) if value[:1] in "{[" else value
    return "".join(part.title() for part in verb.split("-")), params


def test_every_budget_command_is_a_valid_budgets_api_request(settings):
    model = botocore.session.get_session().get_service_model("budgets")
    steps = [
        budget_plans.budget_query(settings, ACCOUNT),
        budget_plans.notifications_query(settings, ACCOUNT),
        *budget_plans.create_budget_steps(settings, ACCOUNT),
        *budget_plans.update_budget_steps(settings, ACCOUNT, budget.notifications(settings)),
        budget_plans.delete_budget_step(settings, ACCOUNT),
    ]
    for step in steps:
        operation, params = request_of(step)
        shape = model.operation_model(operation).input_shape
        report = botocore.validate.ParamValidator().validate(params, shape)
        assert not report.has_errors(), (step.shell(), report.generate_report())


def test_moto_keeps_the_budget_as_created(settings, budgets):
    (create,) = budget_plans.create_budget_steps(settings, ACCOUNT)
    _, params = request_of(create)
    budgets.create_budget(**params)
    found = budgets.describe_budget(AccountId=ACCOUNT, BudgetName="himat-himat-us-west-2")
    described = found["Budget"]
    assert described["BudgetType"] == "COST" and described["TimeUnit"] == "MONTHLY"
    assert described["BudgetLimit"] == {"Amount": "400.00", "Unit": "USD"}
    assert described["CostFilters"] == {"TagKeyValue": ["user:himat/cluster$himat"]}
    alerts = budgets.describe_notifications_for_budget(
        AccountId=ACCOUNT, BudgetName="himat-himat-us-west-2"
    )["Notifications"]
    assert sorted((a["NotificationType"], a["Threshold"]) for a in alerts) == [
        ("ACTUAL", 80.0),
        ("FORECASTED", 100.0),
    ]
    answer = json.dumps(found, default=str)
    assert budget_plans.budget_found(answer) == "himat-himat-us-west-2"


def test_moto_says_not_found_as_the_plan_expects(settings, budgets):
    with pytest.raises(budgets.exceptions.NotFoundException) as raised:
        budgets.describe_budget(AccountId=ACCOUNT, BudgetName=budget.budget_name(settings))
    assert raised.value.response["Error"]["Code"] in budget_plans.AWS_BUDGET_NOT_FOUND


def test_every_address_gets_both_alerts(settings):
    for alert in budget.notifications_with_subscribers(settings):
        assert [s["Address"] for s in alert["Subscribers"]] == NOTIFY
        assert {s["SubscriptionType"] for s in alert["Subscribers"]} == {"EMAIL"}


def test_budget_names_differ_between_regions(tmp_path):
    west = load_settings(write_settings(tmp_path, BUDGETED, "west.yaml"))
    changes = {
        **BUDGETED,
        "cluster.region": "eu-west-1",
        "cluster.zones": ["eu-west-1a", "eu-west-1b"],
    }
    eu = load_settings(write_settings(tmp_path, changes, "eu.yaml"))
    assert budget.budget_name(west) != budget.budget_name(eu)


# --- `himat cluster` and `himat destroy`: the real `aws` against moto's server where moto has
# the calls; the stand-in's Budgets where `himat cluster` updates one (moto lacks UpdateBudget) -


def budgeted_project(project: Path) -> str:
    """The default settings with a budget, as budgeted.yaml in the project."""
    write_settings(project, BUDGETED, "budgeted.yaml")
    return "budgeted.yaml"


def budget_calls(project: Path) -> list[str]:
    return [call.split(" --")[0] for call in calls(project) if call.startswith("aws budgets")]


def world_budgets(project: Path) -> dict[str, Any]:
    world = json.loads((project / "calls.jsonl.world.json").read_text())
    return dict(world.get("budgets", {}))


def moto_budgets(aws: AWSEndpoints) -> dict[str, Any]:
    """The account's budgets in moto's server, by name."""
    found = aws.client("budgets").describe_budgets(AccountId=ACCOUNT).get("Budgets", [])
    return {b["BudgetName"]: b for b in found}


def left_behind(aws: AWSEndpoints) -> None:
    """A budget of the default settings' name, as an earlier `himat cluster` leaves it."""
    aws.client("budgets").create_budget(
        AccountId=ACCOUNT,
        Budget={
            "BudgetName": "himat-himat-us-west-2",
            "BudgetType": "COST",
            "TimeUnit": "MONTHLY",
            "BudgetLimit": {"Amount": "300.0", "Unit": "USD"},
        },
    )


def with_real_aws(standins: Path, aws: AWSEndpoints, aws_volume: str) -> dict[str, Any]:
    """himat's keywords for the real `aws` against moto (and the claim's volume there)."""
    return {"path": standins, "extra_env": aws.env, "volume_id": aws_volume}


@pytest.fixture
def aws_volume(aws: AWSEndpoints) -> str:
    created = aws.client("ec2").create_volume(AvailabilityZone="us-west-2a", Size=16)
    return str(created["VolumeId"])


def test_cluster_creates_the_budget_and_says_to_activate_the_tag(
    project, standins, aws, aws_volume
):
    name = budgeted_project(project)
    result = himat(project, "cluster", "-f", name, **with_real_aws(standins, aws, aws_volume))
    assert result.returncode == 0, result.stderr
    assert budget_calls(project) == ["aws budgets describe-budget", "aws budgets create-budget"]
    assert "budget himat-himat-us-west-2 created: USD 400.00/month" in result.stdout
    assert budget.ACTIVATE_TAG_COMMAND in result.stdout
    (kept,) = moto_budgets(aws).values()
    assert float(kept["BudgetLimit"]["Amount"]) == 400.0


def cluster_with_standin_budgets(project, standins, aws, name: str, **knobs: str):
    """`himat cluster` with the stand-in's Budgets, not moto's: moto's server has no
    UpdateBudget, which these runs make; every other AWS call is the real CLI against moto."""
    return himat(
        project, "cluster", "-f", name, path=standins, extra_env=aws.env, budgets="1", **knobs
    )


def test_cluster_run_again_updates_the_budget_and_replaces_its_alerts(project, standins, aws):
    name = budgeted_project(project)
    first = cluster_with_standin_budgets(project, standins, aws, name)
    again_settings = project / name
    again_settings.write_text(
        again_settings.read_text().replace("monthly_usd: 400", "monthly_usd: 250")
    )
    again = cluster_with_standin_budgets(project, standins, aws, name, cluster_exists="1")
    assert first.returncode == again.returncode == 0, first.stderr + again.stderr
    assert budget_calls(project)[2:] == [
        "aws budgets describe-budget",
        "aws budgets describe-notifications-for-budget",
        "aws budgets update-budget",
        "aws budgets delete-notification",
        "aws budgets create-notification",
        "aws budgets delete-notification",
        "aws budgets create-notification",
    ]
    (kept,) = world_budgets(project).values()
    assert kept["budget"]["BudgetLimit"]["Amount"] == "250.00"
    assert len(kept["alerts"]) == 2
    assert "budget himat-himat-us-west-2 updated: USD 250.00/month" in again.stdout


def test_cluster_adds_missing_alerts_without_deleting_them_first(project, standins, aws):
    name = budgeted_project(project)
    result = cluster_with_standin_budgets(project, standins, aws, name, budget_exists="1")
    assert result.returncode == 0, result.stderr
    assert "aws budgets delete-notification" not in budget_calls(project)
    assert budget_calls(project).count("aws budgets create-notification") == 2


def test_cluster_without_a_limit_deletes_a_budget_left_behind(project, standins, aws, aws_volume):
    left_behind(aws)
    real = with_real_aws(standins, aws, aws_volume)
    result = himat(project, "cluster", "-f", "default.yaml", **real)
    assert result.returncode == 0, result.stderr
    assert budget_calls(project) == ["aws budgets describe-budget", "aws budgets delete-budget"]
    assert moto_budgets(aws) == {}


def test_cluster_without_a_limit_and_no_budget_changes_nothing(project, standins, aws, aws_volume):
    real = with_real_aws(standins, aws, aws_volume)
    result = himat(project, "cluster", "-f", "default.yaml", **real)
    assert result.returncode == 0, result.stderr
    assert budget_calls(project) == ["aws budgets describe-budget"]
    assert "budget" not in result.stdout


def test_destroy_deletes_the_budget_last(project, standins, aws, aws_volume):
    left_behind(aws)
    real = with_real_aws(standins, aws, aws_volume)
    result = himat(project, "destroy", "--yes", "-f", "default.yaml", cluster_exists="1", **real)
    assert result.returncode == 0, result.stderr
    assert calls(project)[-1].startswith(f"aws budgets delete-budget --account-id {ACCOUNT} ")
    assert moto_budgets(aws) == {}
    assert "budget himat-himat-us-west-2 deleted" in result.stdout


def test_destroy_with_no_budget_is_not_an_error(project, standins, aws, aws_volume):
    real = with_real_aws(standins, aws, aws_volume)
    result = himat(project, "destroy", "--yes", "-f", "default.yaml", cluster_exists="1", **real)
    assert result.returncode == 0, result.stderr
    assert budget_calls(project) == ["aws budgets describe-budget"]


def test_a_budgets_error_other_than_not_found_stops_destroy(project, standins):
    # The stand-in's aws: the failure is injected (STANDIN_FAIL), not something moto answers.
    knobs = {"cluster_exists": "1", "fail": "aws budgets describe-budget"}
    result = himat(project, "destroy", "--yes", "-f", "default.yaml", path=standins, **knobs)
    assert result.returncode == 1
    assert "aws budgets describe-budget" in result.stderr
    assert "aws budgets delete-budget" not in budget_calls(project)


def test_cost_notes_the_budget_and_when_running_all_month_exceeds_it(tmp_path):
    low = write_settings(tmp_path, {**BUDGETED, "budget.monthly_usd": 50}, "low.yaml")
    result = run_himat("cost", "-f", str(low), "--json")
    assert result.returncode == 0, result.stderr
    (note,) = [n for n in json.loads(result.stdout)["notes"] if n.startswith("budget USD 50.00")]
    assert "passes USD 40.00" in note and "is over the budget" in note
    unbudgeted = run_himat("cost", "-f", str(write_settings(tmp_path, {}, "none.yaml")))
    assert "note: no budget: nothing warns anyone" in unbudgeted.stdout


def test_stand_in_aws_says_not_found_as_the_budgets_api_does(settings, budgets, standins, tmp_path):
    name = budget.budget_name(settings)
    with pytest.raises(budgets.exceptions.NotFoundException) as raised:
        budgets.describe_budget(AccountId=ACCOUNT, BudgetName=name)
    argv = [str(standins / "aws"), *budget_plans.budget_query(settings, ACCOUNT).argv[1:]]
    env = {**os.environ, "STANDIN_LOG": str(tmp_path / "calls.jsonl")}
    answer = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    assert answer.returncode == 254
    error = raised.value.response["Error"]
    assert answer.stderr.strip() == (
        f"An error occurred ({error['Code']}) when calling the DescribeBudget operation: "
        f"{error['Message']}"
    )
