"""Run a verb's steps: stream each tool's output, stop at the first failure or at Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import click

from pangeo_himat.lifecycle.output import Answer
from pangeo_himat.lifecycle.steps import IDENTITY_ARGV, Step

QUERY_TIMEOUT_S = 300
OWN_STOP_S = 2
STOP_GRACE_S = 10
INTERRUPTED_STATUS = 130  # 128 + SIGINT, as a shell reports it


class StepStopped(Exception):
    """A step did not finish: `status` is the tool's exit status, or 130 after Ctrl-C."""

    def __init__(self, status: int, number: int, step: Step, done: list[Step]):
        super().__init__(status)
        self.status = status
        self.number = number
        self.step = step
        self.done = done


class StepFailed(StepStopped):
    """A tool exited non-zero; the verb exits with the same status."""


class StepInterrupted(StepStopped):
    """Ctrl-C (SIGINT) during a step; the verb exits 130."""


def print_plan(steps: list[Step]) -> None:
    """--dry-run: the exact commands, one per line, ready to paste into a shell."""
    for step in steps:
        click.echo(step.shell())


def _wait(process: subprocess.Popen[bytes]) -> int:
    """The tool's exit status. On Ctrl-C the terminal has already sent the tool SIGINT (same
    process group); if it is still running shortly after (SIGINT reached himat alone), pass
    one SIGINT on, give it time to stop, then end it. Re-raises KeyboardInterrupt."""
    try:
        return process.wait()
    except KeyboardInterrupt:
        for signal_to_send in (None, signal.SIGINT, signal.SIGKILL):
            if signal_to_send is not None:
                process.send_signal(signal_to_send)
            try:
                process.wait(timeout=OWN_STOP_S if signal_to_send is None else STOP_GRACE_S)
                break
            except (subprocess.TimeoutExpired, KeyboardInterrupt):
                continue
        raise


def _done_text(done: list[Step]) -> str:
    if not done:
        return "nothing yet"
    return "; ".join(f"{number}. {step.title}" for number, step in enumerate(done, start=1))


def run_steps(verb: str, steps: list[Step]) -> None:
    """Run steps in order; on failure or Ctrl-C say which step, what is done, how to resume."""
    total = len(steps)
    for number, step in enumerate(steps, start=1):
        done = steps[: number - 1]
        try:
            click.echo(f"[{number}/{total}] {step.title}: {step.shell()}")
            sys.stdout.flush()
            status = _wait(subprocess.Popen(step.argv))
        except KeyboardInterrupt:
            click.echo(
                f"\nhimat {verb}: interrupted during step {number}/{total}: {step.title}.\n"
                f"Already done: {_done_text(done)}.\n"
                f"Run `himat {verb}` again to resume: the steps already done are safe to repeat.",
                err=True,
            )
            raise StepInterrupted(INTERRUPTED_STATUS, number, step, done) from None
        if status != 0:
            click.echo(
                f"himat {verb}: step {number}/{total} failed with exit status {status}: "
                f"{step.title}.\nAlready done: {_done_text(done)}.\n"
                f"Fix the cause and run `himat {verb}` again: the steps before it are safe "
                "to repeat.",
                err=True,
            )
            raise StepFailed(status, number, step, done)


def observe(step: Step) -> Answer:
    """Run a read-only query and capture its answer (a missing tool answers 127). The caller's
    identity is asked once per run and environment (PATH and the AWS_* variables choose it)."""
    if step.argv != IDENTITY_ARGV:
        return _query(step)
    key = tuple(
        sorted((k, v) for k, v in os.environ.items() if k == "PATH" or k.startswith("AWS_"))
    )
    if key not in _identities:
        answer = _query(step)
        if answer.status != 0:
            return answer
        _identities[key] = answer
    return _identities[key]


_identities: dict[tuple[tuple[str, str], ...], Answer] = {}


def _chooses_identity(variable: str) -> bool:
    return variable == "PATH" or variable.startswith("AWS_")


def _query(step: Step) -> Answer:
    try:
        result = subprocess.run(step.argv, capture_output=True, timeout=QUERY_TIMEOUT_S)
    except FileNotFoundError as error:
        return Answer(step, 127, b"", str(error).encode())
    except subprocess.TimeoutExpired:
        message = f"no answer within {QUERY_TIMEOUT_S} s"
        return Answer(step, 124, b"", message.encode())
    return Answer(step, result.returncode, result.stdout, result.stderr)
