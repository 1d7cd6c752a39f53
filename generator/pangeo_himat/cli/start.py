"""First steps: `himat init` (a commented settings file) and `himat iam-policy`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import click

from pangeo_himat.cli.tfvars import schema_comment
from pangeo_himat.fit.loader import parse_settings
from pangeo_himat.lifecycle.iam_policy import ACCOUNT_PLACEHOLDER, operator_policy
from pangeo_himat.options import (
    DEFAULT_SETTINGS,
    read_settings,
    reports_input_errors,
    settings_option,
)
from pangeo_himat.render.writer import write_atomic
from pangeo_himat.settings.errors import InputError, Problem
from pangeo_himat.settings.shipped import settings_template

SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=.*$", re.MULTILINE)
ACCOUNT_ID = re.compile(r"^\d{12}$")


def initial_settings(output: Path) -> str:
    """The shipped settings.yaml, its `$schema` line pointing where the editor finds it."""
    line = f"# yaml-language-server: $schema={schema_comment(output)}"
    return SCHEMA_LINE.sub(lambda _: line, settings_template(), count=1)


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path(DEFAULT_SETTINGS),
    show_default=True,
    help="Where to write the settings file.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing file.")
@reports_input_errors
def init(output: Path, force: bool) -> None:
    """Write a settings file to start from: every key, its default and a comment on it."""
    if output.exists() and not force:
        message = "exists; pass --force (make init FORCE=1) to replace it"
        raise InputError([Problem(str(output), None, "", message)])
    text = initial_settings(output)
    parse_settings(text, str(output))  # what we write must validate
    click.echo(str(write_atomic(output, text)))
    click.echo(
        f"next: choose cluster.region and cluster.zones in {output}, then "
        f"`himat validate -f {output}`, `himat fit`, `himat cost`"
    )


@click.command("iam-policy")
@settings_option
@click.option(
    "--account",
    default=ACCOUNT_PLACEHOLDER,
    show_default=True,
    help="AWS account ID (12 digits) for the ARNs; * matches any account.",
)
@reports_input_errors
def iam_policy(settings_path: Path | None, account: str) -> None:
    """Print the IAM policy the person who runs himat needs (eksctl's minimum + himat's calls).

    Attach it to your IAM user or role: aws iam create-policy --policy-name himat-operator
    --policy-document file://policy.json
    """
    if account != ACCOUNT_PLACEHOLDER and not ACCOUNT_ID.match(account):
        message = f"{account!r} is not an AWS account ID; expected 12 digits or *"
        raise InputError([Problem("--account", None, "", message)])
    settings = read_settings(settings_path)
    click.echo(json.dumps(operator_policy(settings, account), indent=2))
