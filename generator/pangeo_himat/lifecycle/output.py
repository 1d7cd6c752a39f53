"""Tool output is never trusted blindly: one function reads every answer a tool gives.

A query either answers (its output parsed), says explicitly that the object is absent (the
step's own not-found text), or fails; only the second means "absent". Malformed output, a
failure of any other kind and output that is not UTF-8 become a ToolError naming the tool and
the command (exit 1).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from pangeo_himat.lifecycle.steps import Step

T = TypeVar("T")
# What a parser may raise on output of the wrong shape.
MALFORMED = (ValueError, KeyError, TypeError, IndexError, AttributeError)


@dataclass(frozen=True)
class Answer:
    """What a tool returned for one query step, as bytes: decoding is part of parsing."""

    step: Step
    status: int
    stdout: bytes
    stderr: bytes

    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", errors="replace")

    @property
    def says_not_found(self) -> bool:
        """Failed, and the tool said in so many words that the object is not there."""
        marker = self.step.not_found
        return self.status != 0 and bool(marker) and marker in self.stderr_text()


class ToolError(Exception):
    """A tool failed or answered something himat cannot read; the verb exits 1."""

    exit_code = 1


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def parsed(answer: Answer, parse: Callable[[str], T], expected: str) -> T | None:
    """The parsed output of a query; None only when the tool said the object is not found.

    `expected` names what the output should have been, for the error message.
    """
    step = answer.step
    if answer.says_not_found:
        return None
    if answer.status != 0:
        raise ToolError(
            f"{step.tool}: `{step.shell()}` failed with exit status {answer.status}: "
            f"{last_line(answer.stderr_text())}"
        )
    try:
        return parse(answer.stdout.decode("utf-8"))
    except UnicodeDecodeError:
        raise ToolError(
            f"{step.tool}: `{step.shell()}` printed output that is not UTF-8 (expected {expected})"
        ) from None
    except MALFORMED as error:
        shown = answer.stdout[:80].decode("utf-8", errors="replace").strip() or "nothing"
        raise ToolError(
            f"{step.tool}: `{step.shell()}` printed {shown!r}, not {expected} ({error})"
        ) from None
