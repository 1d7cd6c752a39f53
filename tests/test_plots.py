"""The pictures are drawn from the product's own numbers: the fit, the replayed week and day."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from pangeo_himat.fit.fit import compute_fit
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.plots import DayPoint, NodeBar, fit_bars, plot_elastic_day, plot_week_cost

sys.path.insert(0, str(ROOT / "scripts"))
import bench_week  # noqa: E402

PNG = b"\x89PNG\r\n\x1a\n"


def _default_bars() -> list[NodeBar]:
    return fit_bars(compute_fit(load_settings(ROOT / "settings.yaml")))


def test_fit_picture_stacks_every_pod_the_fit_placed() -> None:
    fit = compute_fit(load_settings(ROOT / "settings.yaml"))
    bars = fit_bars(fit)
    stable, spot = bars[0], bars[1:]
    assert [s.kind for s in stable.segments] == ["system pods", "Jupyter", "scheduler"]
    assert stable.segments[1].cpu_millicores == fit.stable.other_cpu_millicores
    assert stable.segments[2].memory_mib == fit.stable.dask_memory_mib
    assert len(spot) == fit.spot_nodes
    workers = [s for bar in spot for s in bar.segments if s.kind == "worker"]
    assert len(workers) == fit.worker_count
    assert all(w.memory_mib == fit.worker_memory_mib for w in workers)
    for bar in bars:
        assert sum(s.cpu_millicores for s in bar.segments) <= bar.allocatable_cpu_millicores
        assert sum(s.memory_mib for s in bar.segments) <= bar.allocatable_memory_mib


def test_fit_plot_writes_a_png(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pangeo_himat", "fit", "-f", str(ROOT / "settings.yaml"),
         "--plot", str(tmp_path / "fit.png")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"drew the fit into {tmp_path / 'fit.png'}" in result.stdout
    assert (tmp_path / "fit.png").read_bytes()[:8] == PNG


def test_fit_plot_without_matplotlib_exits_2_and_says_what_to_install(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['matplotlib'] = None; from pangeo_himat.cli import cli; "
        f"cli(['fit', '-f', {str(ROOT / 'settings.yaml')!r}, '--plot', "
        f"{str(tmp_path / 'fit.png')!r}], prog_name='himat')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"{tmp_path / 'fit.png'} --plot: needs matplotlib, which the local extra installs: "
        "pip install -e '.[local]'"
    ]
    assert not (tmp_path / "fit.png").exists()


# Two days of the recorded week (Monday and Tuesday): the whole week takes half a minute.
DAYS = 2
HOURS = DAYS * 24.0


@pytest.fixture(scope="module")
def week() -> tuple[bench_week.Prices, dict[str, bench_week.Result], list[bench_week.Sample]]:
    trace = bench_week.load_trace(bench_week.TRACE)[: DAYS * 24 * 60]
    prices, per_node, static_count, maximum = bench_week.prices_of(ROOT / "settings.yaml")
    results, series = {}, []
    for layout in bench_week.layouts(static_count, maximum):
        samples: list[bench_week.Sample] = []
        results[layout.name] = bench_week.replay(layout, trace, prices, per_node, samples)
        if layout.config is not None and layout.config.mode == "adaptive":
            series = samples
    return prices, results, series


@pytest.mark.slow
def test_the_week_split_by_part_adds_up_to_the_replayed_bill(week, tmp_path: Path) -> None:
    prices, results, _ = week
    for name, result in results.items():
        parts = bench_week.usd_by_part(result, prices, HOURS)
        assert sum(parts.values()) == pytest.approx(result.usd, abs=0.05), name
        control_plane_usd_per_hour = prices.parts["control plane"][0]
        assert parts["control plane"] == pytest.approx(control_plane_usd_per_hour * HOURS, 0.01)
    by_hand = next(r for n, r in results.items() if "by hand" in n)
    always = next(r for n, r in results.items() if n.startswith("pangeo-himat static"))
    assert 0 < by_hand.asleep_hours < HOURS and by_hand.usd < always.usd
    assert always.spot_node_hours == pytest.approx(3 * HOURS)  # the default 3 spot nodes
    path = plot_week_cost(
        {n: bench_week.usd_by_part(r, prices, HOURS) for n, r in results.items()},
        tmp_path / "week.png",
    )
    assert path.read_bytes()[:8] == PNG


@pytest.mark.slow
def test_the_replayed_day_follows_the_work(week, tmp_path: Path) -> None:
    _, _, series = week
    assert len(series) == DAYS * 24 * 60
    busy = [s for s in series if s.work > 0 and not s.asleep]
    assert busy and max(s.workers for s in busy) > 0
    assert all(s.spot_nodes == 0 for s in series if s.asleep)
    points = [DayPoint(s.minute / 60, s.work, s.workers, s.spot_nodes, s.asleep) for s in series]
    path = plot_elastic_day(points[1440:], "Tuesday", tmp_path / "day.png")
    assert path.read_bytes()[:8] == PNG
