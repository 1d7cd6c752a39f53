"""The recorded research week: reproducible from its seed, and what each layout costs on it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=ROOT, timeout=300
    )


def test_the_recorded_trace_is_what_its_seed_gives() -> None:
    result = run_script("scripts/make_research_week.py", "--check")
    assert result.returncode == 0, result.stderr


@pytest.mark.slow
def test_idle_sleep_and_adaptive_cost_less_and_waste_fewer_worker_hours() -> None:
    result = run_script("scripts/bench_week.py", "--settings", "settings.yaml", "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    terraform, static, by_hand, sleepy, adaptive = rows.values()
    assert terraform["usd"] > static["usd"] > sleepy["usd"] > adaptive["usd"]
    assert static["idle_worker_hours"] > sleepy["idle_worker_hours"]
    assert sleepy["idle_worker_hours"] > adaptive["idle_worker_hours"]
    assert static["asleep_hours"] == 0
    assert sleepy["asleep_hours"] > 0
    assert static["usd"] > by_hand["usd"] and by_hand["asleep_hours"] > 0
    for name, row in rows.items():
        assert sum(row["usd_by_part"].values()) == pytest.approx(row["usd"], abs=0.05), name
