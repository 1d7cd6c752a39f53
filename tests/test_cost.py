"""`himat cost`: what bills running and hibernated."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import CERTIFICATE_ARN, write_settings
from pangeo_himat.cli import cli
from pangeo_himat.cost import HOURS_PER_MONTH, estimate_cost
from pangeo_himat.fit import compute_fit
from pangeo_himat.settings import load_settings


def cost_of(tmp_path, changes=None):
    settings = load_settings(write_settings(tmp_path, changes))
    return estimate_cost(settings, compute_fit(settings))


def test_default_cluster_costs_add_up_by_hand(tmp_path):
    report = cost_of(tmp_path)
    gp3_hour = 0.08 / HOURS_PER_MONTH
    spot_volume = report.lines[5].running / (3 * gp3_hour)
    expected_running = (
        0.10  # control plane
        + 16 * gp3_hour  # Jupyter volume
        + 0.192  # stable m5.xlarge on-demand, us-west-2
        + 50 * gp3_hour  # stable root volume
        + 3 * 0.192  # spot nodes at their cap
        + 3 * spot_volume * gp3_hour
        + 4 * 0.005  # public IPv4 of 4 nodes
    )
    assert report.total("running") == pytest.approx(expected_running)
    assert report.total("hibernated") == pytest.approx(
        0.10 + 16 * gp3_hour + 0.192 + 50 * gp3_hour + 0.005
    )
    assert report.total("hibernated_all") == pytest.approx(0.10 + 16 * gp3_hour)


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
