"""`himat cost`'s typical week: always on, with idle sleep, adaptive with idle sleep."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import write_settings
from pangeo_himat.cli import cli
from pangeo_himat.cost.cost import estimate_cost
from pangeo_himat.cost.week_cost import Week, hourly_prices, typical_week
from pangeo_himat.fit.fit import compute_fit
from pangeo_himat.fit.loader import load_settings


def week_of(tmp_path, week: Week, changes=None):
    settings = load_settings(write_settings(tmp_path, changes or {}))
    fit = compute_fit(settings)
    report = estimate_cost(settings, fit)
    prices = hourly_prices(settings, report)
    return typical_week(settings, fit, prices, week), prices, report


def test_default_week_adds_up_by_hand(tmp_path):
    costs, p, report = week_of(tmp_path, Week())
    running = p.always + p.stable + 3 * p.spot_node
    assert running == pytest.approx(report.total("running"))
    stable_only = p.always + p.stable
    # 5 days of 9 h; idle stretches of 15 h (x4) and 63 h into the weekend; workers go after
    # 30 min (idle.workers_after), the cluster sleeps 8 h after the last activity (the example).
    gaps = [15, 15, 15, 15, 63]
    sleepy = 45 * running + sum(
        0.5 * running + 7.5 * stable_only + (g - 8) * p.always for g in gaps
    )
    adaptive = 45 * 0.25 * running + 45 * 0.75 * stable_only
    adaptive += sum(8 * stable_only + (g - 8) * p.always for g in gaps)
    assert costs == {
        "static": round(168 * running, 2),
        "idle_sleep": round(sleepy, 2),
        "adaptive": round(adaptive, 2),
    }
    assert costs["adaptive"] < costs["idle_sleep"] < costs["static"]


def test_a_week_of_constant_work_saves_nothing(tmp_path):
    costs, _, _ = week_of(tmp_path, Week(active_days=7, active_hours_per_day=24, busy_share=1))
    assert costs["static"] == costs["idle_sleep"] == costs["adaptive"]


def test_an_adaptive_minimum_keeps_its_nodes_while_awake(tmp_path):
    none, _, _ = week_of(tmp_path, Week(), {"workers.adaptive": {"min": 0, "max": "auto"}})
    kept, p, _ = week_of(tmp_path, Week(), {"workers.adaptive": {"min": 9, "max": "auto"}})
    # 9 workers need 2 nodes of 8, through the 45 - 11.25 idle working hours and 5 x 8 h
    assert kept["adaptive"] - none["adaptive"] == pytest.approx(
        2 * p.spot_node * (45 * 0.75 + 5 * 8), abs=0.02
    )


def test_cost_command_prints_the_typical_week(tmp_path):
    settings = write_settings(tmp_path, {"idle.hibernate_after": "2h"})
    text = CliRunner().invoke(cli, ["cost", "-f", str(settings), "--active-days", "3"]).stdout
    assert "typical week (3 days x 9 h active, 25% of it computing), USD: static " in text
    result = CliRunner().invoke(cli, ["cost", "-f", str(settings), "--json"])
    data = json.loads(result.stdout)
    assert set(data["typical_week_usd"]) == {"static", "idle_sleep", "adaptive"}
    assert data["typical_week"] == {
        "active_days": 5,
        "active_hours_per_day": 9.0,
        "busy_share": 0.25,
    }
