"""Every plan says what it costs: before and after the verb, and what still bills afterwards,
with the figures of `himat cost` (the same functions price both)."""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import pytest

from conftest import ROOT, himat, run_himat, write_settings

USD_PER_HOUR = re.compile(r"USD (\d+\.\d{4})/h")
# PATH without eksctl, helm, kubectl or aws: the dry runs assume what they cannot read.
NO_TOOLS = {**os.environ, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}


def cost_json(settings: Path) -> dict:
    result = run_himat("cost", "--json", "-f", str(settings))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def hourly(report: dict, state: str) -> float:
    return report["usd_per_hour"][state]


def kept_after_destroy(report: dict, volume: bool) -> float:
    kept = ("Jupyter volume", "EBS snapshots") if volume else ("EBS snapshots",)
    return sum(line["running"] for line in report["lines"] if line["item"].startswith(kept))


def bill(stdout: str, verb: str, prefix: str = "") -> tuple[float, float, str]:
    """(before, after, what still bills) as the plan printed them."""
    lines = stdout.splitlines()
    before = next(line for line in lines if line.startswith(f"{prefix}cost before {verb}: "))
    after = next(line for line in lines if line.startswith(f"{prefix}cost after {verb}: "))
    still = next(line for line in lines if line.startswith(f"{prefix}still billing after {verb}: "))
    return (
        float(USD_PER_HOUR.search(before)[1]),
        float(USD_PER_HOUR.search(after)[1]),
        still.split(": ", 1)[1],
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("plans")


@pytest.fixture(scope="module")
def settings(folder) -> Path:
    return write_settings(folder)


@pytest.fixture(scope="module")
def report(settings) -> dict:
    return cost_json(settings)


def dry_run(folder: Path, settings: Path, *args: str) -> str:
    result = run_himat(*args, "-f", str(settings), "--dry-run", cwd=folder, env=NO_TOOLS)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize(
    ("args", "before_state", "after_state"),
    [
        (("hibernate",), "running", "hibernated"),
        (("hibernate", "--all"), "running", "hibernated_all"),
        (("resume",), "hibernated", "running"),
    ],
)
def test_hibernate_and_resume_dry_runs_print_the_bill_of_both_states(
    folder, settings, report, args, before_state, after_state
):
    before, after, _ = bill(dry_run(folder, settings, *args), args[0], "# ")
    assert before == pytest.approx(hourly(report, before_state), abs=1e-4)
    assert after == pytest.approx(hourly(report, after_state), abs=1e-4)
    assert before != after


def test_a_new_cluster_costs_nothing_before_and_the_running_price_after(folder, settings, report):
    before, after, still = bill(dry_run(folder, settings, "cluster"), "cluster", "# ")
    assert (before, after) == (0, pytest.approx(hourly(report, "running"), abs=1e-4))
    assert still.startswith("EKS control plane")


def test_scale_prices_the_new_node_count(folder, settings, report):
    five = cost_json(write_settings(folder, {"spot.nodes": 5}, name="five.yaml"))
    before, after, _ = bill(dry_run(folder, settings, "scale", "5"), "scale", "# ")
    assert before == pytest.approx(hourly(report, "running"), abs=1e-4)
    assert after == pytest.approx(hourly(five, "running"), abs=1e-4)
    assert after > before


@pytest.mark.parametrize("delete_data", [False, True])
def test_destroy_says_the_volume_and_snapshots_still_bill(folder, settings, report, delete_data):
    args = ("destroy", "--delete-data") if delete_data else ("destroy",)
    before, after, still = bill(dry_run(folder, settings, *args), "destroy", "# ")
    assert before == pytest.approx(hourly(report, "running"), abs=1e-4)
    assert after == pytest.approx(kept_after_destroy(report, not delete_data), abs=1e-4)
    assert ("Jupyter volume" in still) is not delete_data
    assert "EBS snapshots" in still


def test_upgrade_prices_the_control_plane_of_both_versions(folder, settings, report):
    stdout = dry_run(folder, settings, "upgrade")
    assumed = re.search(r"assuming it runs Kubernetes (1\.\d+)", stdout)[1]
    older = cost_json(write_settings(folder, {"cluster.kubernetes_version": assumed}, "old.yaml"))
    before, after, _ = bill(stdout, "upgrade", "# ")
    assert before == pytest.approx(hourly(older, "running"), abs=1e-4)
    assert after == pytest.approx(hourly(report, "running"), abs=1e-4)


def test_a_real_hibernate_prints_the_bill_too(project, standins):
    result = himat(project, "hibernate", "-f", "default.yaml", path=standins)
    assert result.returncode == 0, result.stderr
    before, after, still = bill(result.stdout, "hibernate")
    report = cost_json(ROOT / "settings.yaml")
    assert (before, after) == (
        pytest.approx(hourly(report, "running"), abs=1e-4),
        pytest.approx(hourly(report, "hibernated"), abs=1e-4),
    )
    assert still.startswith("EKS control plane")


def test_a_real_destroy_prints_what_still_bills(project, standins, aws):
    # The budget query is the real AWS CLI against moto's server.
    result = himat(project, "destroy", "--yes", "-f", "default.yaml", path=standins,
                   extra_env=aws.env, cluster_exists="1")  # fmt: skip
    assert result.returncode == 0, result.stderr
    _, after, still = bill(result.stdout, "destroy")
    assert after == pytest.approx(
        kept_after_destroy(cost_json(ROOT / "settings.yaml"), True), abs=1e-4
    )
    assert still.startswith("Jupyter volume")
