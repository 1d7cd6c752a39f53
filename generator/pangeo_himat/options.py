"""Options and error handling every verb module shares (the `cli` package's and local mode's).

It sits below both, so that a verb module never imports the root group that registers it.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pangeo_himat.fit.loader import load_settings
from pangeo_himat.settings.errors import InputError, Problem
from pangeo_himat.settings.model import Settings

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


def read_settings(settings_path: Path | None, defaults_allowed: bool = True) -> Settings:
    """The settings the user meant: the named file, ./settings.yaml, or the defaults.

    Verbs that create or change AWS resources pass defaults_allowed=False: a cluster's region
    and zones are the user's choice, never a silent default.
    """
    if settings_path is None:
        settings_path = Path(DEFAULT_SETTINGS)
        if not settings_path.exists():
            if not defaults_allowed:
                raise InputError([missing_settings_problem(settings_path)])
            click.echo(f"note: no {DEFAULT_SETTINGS} here; using the built-in defaults", err=True)
            return _with_warnings(load_settings(None))
    return _with_warnings(load_settings(settings_path))


def _with_warnings(settings: Settings) -> Settings:
    """Print what validated but deserves a word (e.g. a version in extended support)."""
    for warning in settings.warnings:
        click.echo(f"warning: {warning}", err=True)
    return settings


def missing_settings_problem(path: Path) -> Problem:
    """What to do when a verb that changes AWS resources finds no settings file."""
    return Problem(
        str(path),
        None,
        "",
        "not found; this verb changes AWS resources and never uses the built-in defaults "
        f"(region and zones are yours to choose). Create {path} with `himat init` (make init), "
        "or `himat import-tfvars terraform.tfvars -o settings.yaml`; or pass -f FILE",
    )
