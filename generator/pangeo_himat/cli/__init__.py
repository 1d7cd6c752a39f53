"""The `himat` command: the root group, built from the verb modules.

Each verb module defines its commands and imports nothing from here; this module imports them
and registers them (as kr8s's kubectl-ng example builds its root group).
"""

from __future__ import annotations

import click

from pangeo_himat import __version__
from pangeo_himat.cli.backup import backup_command, restore
from pangeo_himat.cli.destroy import destroy
from pangeo_himat.cli.generate import cost, fit, import_tfvars_command, render, validate
from pangeo_himat.cli.lifecycle import cluster, hibernate, install, resume, scale
from pangeo_himat.cli.observe import connect, status
from pangeo_himat.cli.running import upgrade_command
from pangeo_himat.local import local_command

VERBS = (
    validate,
    render,
    fit,
    cost,
    import_tfvars_command,
    local_command,
    cluster,
    install,
    hibernate,
    resume,
    scale,
    upgrade_command,
    status,
    connect,
    destroy,
    backup_command,
    restore,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="himat")
def cli() -> None:
    """pangeo-himat: a Pangeo stack (JupyterLab + Dask on spot nodes) on AWS EKS, or locally."""


for verb in VERBS:
    cli.add_command(verb)


def main() -> None:
    """Console entry point."""
    cli(prog_name="himat")
