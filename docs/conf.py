"""Sphinx configuration of the pangeo-himat site, and the build step that generates its parts.

Nothing in docs/_generated/ is written by hand or committed: at `builder-inited` this file
draws the pictures with pangeo_himat.plots and writes the reference tables from their one
source (values.schema.json, the version calendar, the cost model, the replayed week of
`make bench`). Pages pull them in with `{include}` and `{figure}`. This is the one place the
docs import the package, so a move of its modules is fixed here.
"""

from __future__ import annotations

import datetime
import sys
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
GENERATED = DOCS / "_generated"
sys.path.insert(0, str(ROOT / "scripts"))  # the generators the README and `make bench` use

import bench_week  # noqa: E402
import settings_reference  # noqa: E402
from pangeo_himat import __version__  # noqa: E402
from pangeo_himat.cost.cost import (  # noqa: E402
    HOURS_PER_MONTH,
    PUBLIC_IPV4_USD_PER_HOUR,
    SNAPSHOT_USD_PER_GB_MONTH,
    estimate_cost,
)
from pangeo_himat.cost.week_cost import Week, hourly_prices, typical_week  # noqa: E402
from pangeo_himat.fit.fit import compute_fit  # noqa: E402
from pangeo_himat.fit.loader import load_settings  # noqa: E402
from pangeo_himat.plots import DayPoint, plot_elastic_day, plot_fit, plot_week_cost  # noqa: E402
from pangeo_himat.settings.quantities import format_mib, format_millicores  # noqa: E402
from pangeo_himat.settings.versions import load_calendar  # noqa: E402
from pangeo_himat.settings.versions import today as utc_today  # noqa: E402

project = "pangeo-himat"
author = "the pangeo-himat authors"
copyright = "the pangeo-himat authors, BSD-3-Clause"  # noqa: A001
release = __version__

extensions = ["myst_parser", "sphinx_click", "sphinx.ext.graphviz"]
myst_enable_extensions = ["colon_fence", "deflist", "substitution"]
myst_heading_anchors = 3
source_suffix = {".md": "markdown"}
exclude_patterns = ["_build", "_generated", "README.md"]
nitpicky = True
graphviz_output_format = "svg"
highlight_language = "text"  # plain blocks are commands and output, not Python

html_theme = "pydata_sphinx_theme"
html_title = "pangeo-himat"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "footer_start": ["copyright"],
    "footer_end": [],
}
# Top-level pages have no section to navigate; the references keep their sidebar.
html_sidebars: dict[str, list[str]] = {"*": []}

SETTINGS = ROOT / "settings.yaml"  # the shipped defaults, as `make bench` and `make cost` read
# The weekday the elastic-workers picture shows (0 = Monday of the recorded week) and its hours.
DAY_SHOWN, FIRST_HOUR, LAST_HOUR = 2, 7, 24


def figures(settings_path: Path) -> dict[str, str]:
    """Numbers the prose quotes (`{{ name }}` in a page), from the code that uses them."""
    settings = load_settings(settings_path)
    fit = compute_fit(settings)
    spot = min(fit.spot, key=lambda node: node.shape.allocatable_memory_mib)
    calendar = load_calendar()
    return {
        "region": settings.cluster.region,
        "stable_type": fit.stable.shape.instance_type,
        "spot_type": spot.shape.instance_type,
        "spot_nodes": str(fit.spot_nodes),
        "stable_cpu": format_millicores(fit.stable.shape.allocatable_cpu_millicores),
        "stable_memory": format_mib(fit.stable.shape.allocatable_memory_mib),
        "spot_free_cpu": format_millicores(
            spot.shape.allocatable_cpu_millicores - spot.system_cpu_millicores
        ),
        "spot_free_memory": format_mib(spot.shape.allocatable_memory_mib - spot.system_memory_mib),
        "per_node": str(fit.workers_per_node),
        "worker_cpu": format_millicores(fit.worker_cpu_millicores),
        "worker_memory": format_mib(fit.worker_memory_mib),
        "control_plane_standard": f"{calendar.standard_usd_per_hour:.2f}",
        "control_plane_extended": f"{calendar.extended_usd_per_hour:.2f}",
        "extended_extra_month": f"{calendar.extra_usd_per_month():.0f}",
        "public_ipv4_hour": f"{PUBLIC_IPV4_USD_PER_HOUR:g}",
        "snapshot_gb_month": f"{SNAPSHOT_USD_PER_GB_MONTH:g}",
    }


myst_substitutions = figures(SETTINGS)


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def settings_table() -> str:
    """The settings reference: one row per key of values.schema.json."""
    return settings_reference.reference() + "\n"


def version_calendar(day: datetime.date) -> str:
    calendar = load_calendar()
    rows = [
        [
            f"`{info.version}`",
            str(info.release),
            str(info.end_of_standard_support),
            str(info.end_of_extended_support),
            info.phase(day),
        ]
        for info in calendar.versions.values()
    ]
    header = ["version", "released", "standard support until", "extended until", f"on {day}"]
    return (
        _table(header, rows)
        + f"\nSource: {calendar.source}, as of {calendar.date}. Control plane: USD "
        f"{calendar.standard_usd_per_hour:.2f} per hour in standard support, "
        f"{calendar.extended_usd_per_hour:.2f} in extended support ({calendar.price_source}).\n"
    )


def cost_tables(settings_path: Path) -> str:
    """`himat cost` for the default settings: per item, and the typical week."""
    settings = load_settings(settings_path)
    fit = compute_fit(settings)
    report = estimate_cost(settings, fit)
    states = ("running", "hibernated", "hibernated_all")
    rows = [[line.item, *(f"{getattr(line, s):.4f}" for s in states)] for line in report.lines]
    rows.append(["**per hour**", *(f"**{report.total(s):.3f}**" for s in states)])
    rows.append(
        ["**per month (730 h)**", *(f"**{report.total(s) * HOURS_PER_MONTH:.2f}**" for s in states)]
    )
    header = ["USD per hour", "running", "`make hibernate`", "`make hibernate ALL=1`"]
    week = Week()
    costs = typical_week(settings, fit, hourly_prices(settings, report), week)
    return (
        _table(header, rows)
        + f"\nA typical week ({week.active_days} days of {week.active_hours_per_day:g} hours, "
        f"{week.busy_share:.0%} of them computing), as the last line of `himat cost` prices it: "
        f"USD {costs['static']:.2f} static, {costs['idle_sleep']:.2f} with idle sleep, "
        f"{costs['adaptive']:.2f} adaptive with idle sleep.\n"
    )


def replayed_week(settings_path: Path) -> tuple[str, dict[str, dict[str, float]], list[DayPoint]]:
    """`make bench`'s replay: its table, the bill by part per layout, one day of adaptive."""
    trace = bench_week.load_trace(bench_week.TRACE)
    prices, per_node, static_count, maximum = bench_week.prices_of(settings_path)
    rows, by_part, day = [], {}, []
    week_h = len(trace) / 60
    for layout in bench_week.layouts(static_count, maximum):
        series: list[bench_week.Sample] = []
        result = bench_week.replay(layout, trace, prices, per_node, series)
        rows.append(
            [
                layout.name,
                f"{result.usd:.2f}",
                f"{result.worker_hours:.1f}",
                f"{result.idle_worker_hours:.1f}",
                f"{result.asleep_hours:.1f}",
            ]
        )
        by_part[layout.name] = bench_week.usd_by_part(result, prices, week_h)
        if layout.config is not None and layout.config.mode == "adaptive":
            first, last = DAY_SHOWN * 1440 + FIRST_HOUR * 60, DAY_SHOWN * 1440 + LAST_HOUR * 60
            day = [
                DayPoint((s.minute % 1440) / 60, s.work, s.workers, s.spot_nodes, s.asleep)
                for s in series[first:last]
            ]
    header = ["layout", "USD per week", "worker-hours", "idle worker-hours", "hours asleep"]
    return _table(header, rows), by_part, day


def generate(app: Sphinx) -> None:
    """Write every generated part of the site into docs/_generated/."""
    GENERATED.mkdir(exist_ok=True)
    settings = load_settings(SETTINGS)
    fit = compute_fit(settings)
    plot_fit(fit, GENERATED / "fit.png")
    week_table, by_part, day = replayed_week(SETTINGS)
    plot_week_cost(by_part, GENERATED / "week-cost.png")
    plot_elastic_day(
        day,
        f"Wednesday of the recorded week, adaptive 0..{fit.max_worker_count} workers "
        f"with idle sleep ({fit.workers_per_node} workers per spot node)",
        GENERATED / "elastic-day.png",
    )
    texts = {
        "settings-reference.md": settings_table(),
        "version-calendar.md": version_calendar(utc_today()),
        "cost-table.md": cost_tables(SETTINGS),
        "week-table.md": week_table,
    }
    for name, text in texts.items():
        path = GENERATED / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", generate)
    return {"parallel_read_safe": True}
