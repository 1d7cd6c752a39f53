"""What every lifecycle verb shares: its options and error exits, and its three stages.

validate (the settings), render (every file the tools read), preflight (tools, credentials).
"""

from __future__ import annotations

import dataclasses
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from pangeo_himat.cost.plan_cost import ClusterState, plan_cost_lines
from pangeo_himat.fit.fit import FitReport
from pangeo_himat.lifecycle import answers, queries
from pangeo_himat.lifecycle.output import ToolError, parsed
from pangeo_himat.lifecycle.runner import (
    INTERRUPTED_STATUS,
    StepStopped,
    observe,
    print_plan,
    run_steps,
)
from pangeo_himat.lifecycle.steps import Step, Target
from pangeo_himat.lifecycle.tools import preflight
from pangeo_himat.options import read_settings, reports_input_errors, settings_option
from pangeo_himat.render import names
from pangeo_himat.render.render import Rendered, render_all, write_rendered
from pangeo_himat.settings.errors import InputError, Problem
from pangeo_himat.settings.model import Settings
from pangeo_himat.settings.shipped import chart_dir


def lifecycle_verb(command: Callable[..., Any]) -> Callable[..., Any]:
    """-f/--settings, --dry-run (or DRY_RUN=1); bad input exits 2, a tool's failure 1, a failed
    step the tool's status, Ctrl-C 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except StepStopped as stopped:
            sys.exit(stopped.status)
        except ToolError as error:
            click.echo(str(error), err=True)
            sys.exit(error.exit_code)
        except (KeyboardInterrupt, click.Abort):
            click.echo(
                f"\nhimat {command.__name__}: interrupted while no step was running; run it "
                "again: every step is safe to repeat",
                err=True,
            )
            sys.exit(INTERRUPTED_STATUS)

    dry_run = click.option(
        "--dry-run",
        is_flag=True,
        envvar="DRY_RUN",
        help="Print the exact commands, one per line, and run nothing (also DRY_RUN=1).",
    )
    return settings_option(dry_run(reports_input_errors(wrapper)))


def validated(settings_path: Path | None, changes_aws: bool) -> Settings:
    """The settings; a verb that changes AWS resources refuses the built-in defaults."""
    return read_settings(settings_path, defaults_allowed=not changes_aws)


def rendered(settings: Settings) -> Rendered:
    """Render and write every file the tools read; say which files changed."""
    result = render_all(settings)
    for written in write_rendered(settings, result, Path.cwd()):
        if written.status != "unchanged":
            click.echo(str(written), err=True)
    return result


def preflighted(tools: list[str], dry_run: bool, credentials: bool = True) -> None:
    """Real runs only: every tool present and new enough, AWS credentials working."""
    if not dry_run:
        preflight(tools, credentials)


def shipped_chart() -> str:
    """The chart of the installed package, as helm is given it (an InputError if missing)."""
    try:
        return chart_dir()
    except FileNotFoundError as missing:
        raise InputError([Problem(names.CHART_DIR_NAME, None, "", str(missing))]) from None


def with_shipped_chart(steps: list[Step]) -> list[Step]:
    """The plans name the chart as a checkout holds it; give helm the installed package's copy,
    so `install` and `upgrade` work from any folder (what is printed is what runs)."""
    chart = shipped_chart()
    return [
        dataclasses.replace(
            step, argv=tuple(chart if arg == names.CHART_DIR_NAME else arg for arg in step.argv)
        )
        for step in steps
    ]


def say_cost(
    verb: str,
    settings: Settings,
    fit: FitReport,
    before: ClusterState,
    after: ClusterState,
    dry_run: bool,
) -> None:
    """The bill before and after the verb; in a dry run as comments below the commands."""
    for line in plan_cost_lines(verb, settings, fit, before, after):
        click.echo(f"# {line}" if dry_run else line)


def execute(verb: str, steps: list[Step], dry_run: bool) -> None:
    if dry_run:
        print_plan(steps)
    else:
        run_steps(verb, steps)


def urls(settings: Settings) -> list[str]:
    """jupyter_url, dask_url and how to read the token, as `install` and `status` print them.

    A load balancer terminates TLS on 443, so its URLs are https://.
    """
    target = Target.of(settings)
    scheduler = names.scheduler_service(target.cluster)
    token = f"token: {queries.token_hint(target)}"
    if settings.jupyter.expose == "loadbalancer":
        answer = observe(queries.load_balancer_query(target))
        host = parsed(answer, answers.host_name, "a host name") or "<load balancer pending>"
        base = f"https://{host}"
        return [
            f"jupyter_url: {base}/lab",
            f"dask_url: {base}/proxy/{scheduler}:{names.DASHBOARD_PORT}/status",
            token,
        ]
    return [
        f"jupyter_url: http://127.0.0.1:{names.JUPYTER_LOCAL_PORT}/lab (after `make connect`)",
        f"dask_url: http://127.0.0.1:{names.DASHBOARD_LOCAL_PORT}/status (after `make connect`)",
        token,
    ]
