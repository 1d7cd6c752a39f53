"""Run a verb's steps: stream each tool's output, stop at the first failure."""

from __future__ import annotations

import subprocess
import sys

import click

from pangeo_himat.lifecycle.plans import Step


class StepFailed(Exception):
    """A tool exited non-zero; the verb exits with the same status."""

    def __init__(self, status: int):
        super().__init__(status)
        self.status = status


def print_plan(steps: list[Step]) -> None:
    """--dry-run: the exact commands, one per line, ready to paste into a shell."""
    for step in steps:
        click.echo(step.shell())


def run_steps(verb: str, steps: list[Step]) -> None:
    """Run steps in order; on failure name the step and how to resume, and raise StepFailed."""
    total = len(steps)
    for number, step in enumerate(steps, start=1):
        click.echo(f"[{number}/{total}] {step.title}: {step.shell()}")
        sys.stdout.flush()
        status = subprocess.run(step.argv).returncode
        if status != 0:
            click.echo(
                f"himat {verb}: step {number}/{total} failed with exit status {status}: "
                f"{step.title}.\nFix the cause and run `himat {verb}` again: the steps before "
                "it are safe to repeat.",
                err=True,
            )
            raise StepFailed(status)


def observe(argv: list[str]) -> subprocess.CompletedProcess:
    """A read-only query of the cluster's state (never printed in --dry-run)."""
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=300)
    except FileNotFoundError as error:
        return subprocess.CompletedProcess(argv, 127, "", str(error))


def kubectl_field(kind: str, name: str, jsonpath: str, namespace: str | None = None) -> str | None:
    """One field of one object, or None when the object (or the cluster) is not there."""
    scope = ["-n", namespace] if namespace else []
    result = observe(["kubectl", "get", kind, name, *scope, "-o", f"jsonpath={jsonpath}"])
    value = result.stdout.strip()
    return value or None if result.returncode == 0 else None
