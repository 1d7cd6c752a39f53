"""`himat cost`: what bills running and hibernated."""

from __future__ import annotations

import datetime
import json

import pytest
from click.testing import CliRunner

from conftest import CERTIFICATE_ARN, write_settings
from pangeo_himat.cli import cli
from pangeo_himat.cost.cost import HOURS_PER_MONTH, estimate_cost
from pangeo_himat.fit.fit import compute_fit
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.settings.versions import load_calendar


def cost_of(tmp_path, changes=None):
    settings = load_settings(write_settings(tmp_path, changes))
    return estimate_cost(settings, compute_fit(settings))


def test_default_cluster_costs_add_up_by_hand(tmp_path):
    report = cost_of(tmp_path)
    gp3_hour = 0.08 / HOURS_PER_MONTH
    snapshots = 16 * (1 + 7 * 0.02) * 0.05 / HOURS_PER_MONTH  # 7 kept, 2 % daily change
    spot_volume = report.lines[5].running / (3 * gp3_hour)
    expected_running = (
        0.10  # control plane
        + 16 * gp3_hour  # Jupyter volume
        + 0.192  # stable m5.xlarge on-demand, us-west-2
        + 50 * gp3_hour  # stable root volume
        + 3 * 0.192  # spot nodes at their cap
        + 3 * spot_volume * gp3_hour
        + 4 * 0.005  # public IPv4 of 4 nodes
        + snapshots
    )
    assert report.total("running") == pytest.approx(expected_running)
    assert report.total("hibernated") == pytest.approx(
        0.10 + 16 * gp3_hour + 0.192 + 50 * gp3_hour + 0.005 + snapshots
    )
    assert report.total("hibernated_all") == pytest.approx(0.10 + 16 * gp3_hour + snapshots)


def test_load_balancer_still_bills_when_hibernated(tmp_path):
    plain = cost_of(tmp_path)
    exposed = cost_of(
        tmp_path,
        {
            "jupyter.expose": "loadbalancer",
            "jupyter.allowed_cidrs": ["192.0.2.0/24"],
            "jupyter.tls_certificate_arn": CERTIFICATE_ARN,
        },
    )
    assert exposed.total("hibernated_all") == pytest.approx(
        plain.total("hibernated_all") + 0.025 + 2 * 0.005
    )


def test_hibernate_setting_means_no_spot_nodes_bill(tmp_path):
    report = cost_of(tmp_path, {"hibernate": True})
    assert report.total("running") == pytest.approx(report.total("hibernated"))


def test_null_max_price_is_priced_at_on_demand(tmp_path):
    report = cost_of(tmp_path, {"spot.max_price": None, "spot.instance_types": ["m5.xlarge"]})
    spot_line = next(line for line in report.lines if line.item.startswith("spot nodes"))
    assert spot_line.running == pytest.approx(3 * 0.192)


def test_cost_command_prints_hour_and_month(tmp_path):
    settings = write_settings(tmp_path)
    result = CliRunner().invoke(cli, ["cost", "-f", str(settings), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["usd_per_month"]["running"] == pytest.approx(
        data["usd_per_hour"]["running"] * HOURS_PER_MONTH, abs=0.05
    )
    text = CliRunner().invoke(cli, ["cost", "-f", str(settings)]).stdout
    assert "total per month" in text and "EKS control plane" in text


def test_control_plane_costs_060_once_standard_support_has_ended(tmp_path):
    settings = load_settings(write_settings(tmp_path, {"cluster.support": "extended"}))
    fit = compute_fit(settings)
    end = load_calendar().versions["1.35"].end_of_standard_support
    during = estimate_cost(settings, fit, end)
    after = estimate_cost(settings, fit, end + datetime.timedelta(days=1))
    assert during.lines[0].running == 0.10
    assert after.lines[0].running == after.lines[0].hibernated_all == 0.60
    assert after.lines[0].item == "EKS control plane (1.35, extended support)"
    assert after.total("running") - during.total("running") == pytest.approx(0.50)
    assert any("about +365 USD/month" in note for note in after.notes)


def test_cost_notes_standard_support_ending_within_a_month(tmp_path):
    end = load_calendar().versions["1.35"].end_of_standard_support
    for support, then in (
        ("standard", "EKS then upgrades the cluster"),
        ("extended", "USD 0.60/h (about +365 USD/month)"),
    ):
        settings = load_settings(write_settings(tmp_path, {"cluster.support": support}))
        report = estimate_cost(settings, compute_fit(settings), end - datetime.timedelta(days=10))
        notes = [note for note in report.notes if "standard support of Kubernetes 1.35" in note]
        assert notes == [notes[0]] and f"ends on {end}" in notes[0] and then in notes[0], notes
        far = estimate_cost(settings, compute_fit(settings), end - datetime.timedelta(days=90))
        assert not any("standard support of Kubernetes" in note for note in far.notes)


def test_daily_snapshots_bill_in_every_state_and_off_bills_nothing(tmp_path):
    daily = cost_of(tmp_path, {"jupyter.backup": {"schedule": "daily", "keep": 30}})
    off = cost_of(tmp_path, {"jupyter.backup": {"schedule": "off", "keep": 30}})
    (line,) = [line for line in daily.lines if line.item.startswith("EBS snapshots")]
    stored_gb = 16 * (1 + 30 * 0.02)
    assert line.running == line.hibernated_all == pytest.approx(stored_gb * 0.05 / 730)
    assert not [line for line in off.lines if line.item.startswith("EBS snapshots")]
    assert daily.total("hibernated_all") - off.total("hibernated_all") == pytest.approx(
        line.running
    )
