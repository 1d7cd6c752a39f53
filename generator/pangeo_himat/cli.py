"""The `himat` command: one verb per function, each a thin layer over the library.

Bad input never gets a traceback: every verb prints one line per problem and exits 2.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pangeo_himat import __version__
from pangeo_himat.errors import InputError
from pangeo_himat.loader import load_settings
from pangeo_himat.settings import Settings

DEFAULT_SETTINGS = "settings.yaml"


def reports_input_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Print each problem of bad input on its own line and exit 2, writing nothing."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            sys.exit(error.exit_code)

    return wrapper


def settings_option(command: Callable[..., Any]) -> Callable[..., Any]:
    """-f/--settings; without it, ./settings.yaml or else the embedded defaults."""
    return click.option(
        "-f",
        "--settings",
        "settings_path",
        # No click checks: the reader reports a directory or FIFO as a `file: message` line.
        type=click.Path(path_type=Path),
        default=None,
        help=f"Settings file (default: ./{DEFAULT_SETTINGS}, else the built-in defaults).",
    )(command)


def read_settings(settings_path: Path | None) -> Settings:
    """The settings the user meant: the named file, ./settings.yaml, or the defaults."""
    if settings_path is None:
        settings_path = Path(DEFAULT_SETTINGS)
        if not settings_path.exists():
            click.echo(f"note: no {DEFAULT_SETTINGS} here; using the built-in defaults", err=True)
            settings_path = None
    settings = load_settings(settings_path)
    for warning in settings.warnings:
        click.echo(f"warning: {warning}", err=True)
    return settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="himat")
def cli() -> None:
    """pangeo-himat: a Pangeo stack (JupyterLab + Dask on spot nodes) on AWS EKS, or locally."""


@cli.command()
@settings_option
@reports_input_errors
def validate(settings_path: Path | None) -> None:
    """Check the settings file against the schema, AWS's rules and the fit."""
    from pangeo_himat.fit import checked_fit

    settings = read_settings(settings_path)
    fit = checked_fit(settings)
    click.echo(
        f"{settings.file}: valid; {fit.worker_count} workers on {fit.spot_nodes} spot nodes "
        f"({fit.workers_per_node} per node)"
    )


@cli.command()
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
    """Write clusterconfig/<name>/eksctl.yaml and values.yaml."""
    from pangeo_himat.data_access import bucket_policy, data_role_name
    from pangeo_himat.render import render_all, write_rendered

    settings = read_settings(settings_path)
    rendered = render_all(settings)
    for result in write_rendered(settings, rendered, out_root):
        click.echo(str(result))
    fit = rendered.fit
    click.echo(
        f"{fit.worker_count} workers ({rendered.values['worker']['resources']['limits']['cpu']} "
        f"CPU, {rendered.values['worker']['resources']['limits']['memory']} each) on "
        f"{fit.spot_nodes} spot nodes; hibernate: {str(settings['hibernate']).lower()}"
    )
    buckets = settings["data"]["buckets"]
    if not buckets:
        click.echo("S3 access: none (data.buckets is empty, so no IAM role is created)")
        return
    click.echo(
        f"S3 access: role {data_role_name(settings)} for Jupyter and workers: "
        + ", ".join(f"{b['name']} ({b['access']})" for b in buckets)
    )
    if explain:
        policy = bucket_policy(buckets, settings["cluster"]["region"])
        click.echo(json.dumps(policy, indent=2))


@cli.command()
@settings_option
@click.option("--json", "as_json", is_flag=True, help="Print the fit as JSON.")
@reports_input_errors
def fit(settings_path: Path | None, as_json: bool) -> None:
    """Show what fits on the stable and spot nodes (exit 2 if something does not)."""
    from pangeo_himat.fit import compute_fit
    from pangeo_himat.fit_table import format_fit

    settings = read_settings(settings_path)
    report = compute_fit(settings)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
    else:
        click.echo(format_fit(report))
    if report.problems:
        raise InputError(report.problems)


@cli.command()
@settings_option
@click.option("--json", "as_json", is_flag=True, help="Print the costs as JSON.")
@reports_input_errors
def cost(settings_path: Path | None, as_json: bool) -> None:
    """USD per hour and per month, running and hibernated."""
    from pangeo_himat.cost import estimate_cost, format_cost
    from pangeo_himat.fit import checked_fit

    settings = read_settings(settings_path)
    report = estimate_cost(settings, checked_fit(settings))
    click.echo(json.dumps(report.as_dict(), indent=2) if as_json else format_cost(report))


@cli.command("import-tfvars")
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
    from pangeo_himat.errors import Problem
    from pangeo_himat.loader import parse_settings
    from pangeo_himat.tfvars import import_tfvars
    from pangeo_himat.writer import write_atomic

    text, notes = import_tfvars(tfvars)
    parse_settings(text, str(output or "<imported settings>"))  # what we write must validate
    for note in notes:
        click.echo(f"note: {note}", err=True)
    if output is None:
        click.echo(text, nl=False)
        return
    if output.exists() and not force:
        raise InputError([Problem(str(output), None, "", "exists; pass --force to replace it")])
    click.echo(str(write_atomic(output, text)))


def _add_commands_from_other_modules() -> None:
    """Local mode and the lifecycle verbs live in their own modules, which import this one."""
    from pangeo_himat.lifecycle_cli import lifecycle_commands
    from pangeo_himat.local import local_command

    cli.add_command(local_command)
    for command in lifecycle_commands():
        cli.add_command(command)


def main() -> None:
    """Console entry point."""
    _add_commands_from_other_modules()
    cli(prog_name="himat")
