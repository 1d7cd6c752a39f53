"""Verbs that only read the settings and write files: validate, render, fit, cost, import-tfvars."""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import json
from pathlib import Path

import click

from pangeo_himat.cli.tfvars import import_tfvars, schema_comment
from pangeo_himat.cost import week_cost
from pangeo_himat.cost.cost import HOURS_PER_MONTH, estimate_cost, format_cost
from pangeo_himat.fit.fit import checked_fit, compute_fit
from pangeo_himat.fit.fit_table import format_fit
from pangeo_himat.fit.instance_table import format_instance_types
from pangeo_himat.fit.loader import parse_settings
from pangeo_himat.options import read_settings, reports_input_errors, settings_option
from pangeo_himat.render.budget import cost_note
from pangeo_himat.render.data_access import data_policy, data_role_name, scratch_url
from pangeo_himat.render.render import render_all, write_rendered
from pangeo_himat.render.writer import write_atomic
from pangeo_himat.settings.catalog import load_catalog
from pangeo_himat.settings.errors import InputError, Problem


@click.command()
@settings_option
@reports_input_errors
def validate(settings_path: Path | None) -> None:
    """Check the settings file against the schema, AWS's rules and the fit."""
    settings = read_settings(settings_path)
    fit = checked_fit(settings)
    click.echo(
        f"{settings.file}: valid; {fit.worker_count} workers on {fit.spot_nodes} spot nodes "
        f"({fit.workers_per_node} per node)"
    )


@click.command()
@settings_option
@click.option(
    "--out",
    "out_root",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Project root that holds clusterconfig/ (default: .).",
)
@click.option("--explain", is_flag=True, help="Also print the S3 policy of the data role.")
@reports_input_errors
def render(settings_path: Path | None, out_root: Path, explain: bool) -> None:
    """Write the four files of clusterconfig/<name>/ that cluster and install read.

    \b
    eksctl.yaml               the eksctl ClusterConfig
    values.yaml               the chart's Helm values
    termination-handler.yaml  the AWS Node Termination Handler's values
    cluster-autoscaler.yaml   the cluster-autoscaler's values
    """
    settings = read_settings(settings_path)
    rendered = render_all(settings)
    for result in write_rendered(settings, rendered, out_root):
        click.echo(str(result))
    fit = rendered.fit
    limits = rendered.values["worker"]["resources"]["limits"]
    click.echo(
        f"{fit.worker_count} workers ({limits['cpu']} CPU, {limits['memory']} each) on "
        f"{fit.spot_nodes} spot nodes; hibernate: {str(settings.hibernate).lower()}"
    )
    policy = data_policy(settings)
    if policy is None:
        click.echo(
            "S3 access: none (data.buckets is empty and data.scratch is null, so no IAM role "
            "is created)"
        )
        return
    granted = [f"{b.name} ({b.access})" for b in settings.data.buckets]
    scratch = scratch_url(settings)
    granted += [f"scratch {scratch}/ (readwrite)"] if scratch else []
    click.echo(
        f"S3 access: role {data_role_name(settings)} for Jupyter and workers: " + ", ".join(granted)
    )
    if explain:
        click.echo(json.dumps(policy, indent=2))


@click.command()
@settings_option
@click.option("--json", "as_json", is_flag=True, help="Print the fit as JSON.")
@click.option(
    "--list-types",
    is_flag=True,
    help="List the catalog's instance types with vCPU, memory, max pods, architecture and "
    "the settings' region's on-demand price.",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also draw the fit into this PNG file: each node's allocatable CPU and memory with "
    "every pod stacked in it (needs matplotlib, in the local extra).",
)
@reports_input_errors
def fit(
    settings_path: Path | None, as_json: bool, list_types: bool, plot_path: Path | None
) -> None:
    """Show what fits on the stable and spot nodes (exit 2 if something does not)."""
    if plot_path is not None and importlib.util.find_spec("matplotlib") is None:
        message = "needs matplotlib, which the local extra installs: pip install -e '.[local]'"
        raise InputError([Problem(str(plot_path), None, "--plot", message)])
    settings = read_settings(settings_path)
    if list_types:
        click.echo(format_instance_types(load_catalog(), settings.cluster.region, as_json))
        return
    report = compute_fit(settings)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(format_fit(report))
    if report.problems:
        raise InputError(report.problems)
    if plot_path is not None:
        # Loaded only for --plot: matplotlib is optional (the local extra), and importing it
        # takes longer than the 0.5 s every other himat verb is allowed from start to finish.
        plots = importlib.import_module("pangeo_himat.plots")
        click.echo(f"drew the fit into {plots.plot_fit(report, plot_path)}", err=as_json)


@click.command()
@settings_option
@click.option("--json", "as_json", is_flag=True, help="Print the costs as JSON.")
@click.option(
    "--active-days",
    type=click.IntRange(0, 7),
    default=week_cost.ACTIVE_DAYS,
    show_default=True,
    help="Typical week: days someone works on the cluster.",
)
@click.option(
    "--active-hours",
    type=click.FloatRange(0, 24),
    default=week_cost.ACTIVE_HOURS_PER_DAY,
    show_default=True,
    help="Typical week: hours of work on each of those days.",
)
@click.option(
    "--busy-share",
    type=click.FloatRange(0, 1),
    default=week_cost.BUSY_SHARE,
    show_default=True,
    help="Typical week: share of the working hours with Dask computing.",
)
@reports_input_errors
def cost(
    settings_path: Path | None,
    as_json: bool,
    active_days: int,
    active_hours: float,
    busy_share: float,
) -> None:
    """USD per hour and per month, running and hibernated, and a typical week."""
    settings = read_settings(settings_path)
    fit = checked_fit(settings)
    report = estimate_cost(settings, fit)
    note = cost_note(settings, report.total("running") * HOURS_PER_MONTH)
    report = dataclasses.replace(report, notes=[*report.notes, note])
    week = week_cost.Week(active_days, active_hours, busy_share)
    prices = week_cost.hourly_prices(settings, report)
    costs = week_cost.typical_week(settings, fit, prices, week)
    if as_json:
        data = {**report.as_dict(), "typical_week_usd": costs, "typical_week": vars(week)}
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(format_cost(report) + "\n" + week_cost.week_line(costs, week))


@click.command("import-tfvars")
@click.argument("tfvars", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the settings here (default: print them).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@reports_input_errors
def import_tfvars_command(tfvars: Path, output: Path | None, force: bool) -> None:
    """Turn the original terraform.tfvars into an equivalent settings file."""
    text, notes = import_tfvars(tfvars, schema_comment(output))
    parse_settings(text, str(output or "<imported settings>"))  # what we write must validate
    for note in notes:
        click.echo(f"note: {note}", err=True)
    if output is None:
        click.echo(text, nl=False)
        return
    if output.exists() and not force:
        message = "exists; pass --force (make import-tfvars FORCE=1) to replace it"
        raise InputError([Problem(str(output), None, "", message)])
    click.echo(str(write_atomic(output, text)))
