"""Problems with user input, reported one line each and never as a traceback."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where it is and what was expected."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where} {self.path}: {self.message}" if self.path else f"{where}: {self.message}"
        return _one_line(text)


def _one_line(text: str) -> str:
    """A problem is one line, whatever a key or value written in the file contains."""
    return "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode() for ch in text)


class InputError(Exception):
    """Bad input: the CLI prints every problem and exits 2, having written nothing."""

    exit_code = 2

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


class OutputError(InputError):
    """A file could not be written: one `file: cause` line, exit 1 (the input was fine).

    It is an InputError so that every command that reports input problems reports this one
    the same way, one line and no traceback; only the exit status differs.
    """

    exit_code = 1

    def __init__(self, path: object, reason: str):
        super().__init__([Problem(str(path), None, "", f"cannot be written: {reason}")])
