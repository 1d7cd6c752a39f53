"""Read a settings file with bounds: regular files only, at most MAX_BYTES, UTF-8 text.

Every refusal is one `file: message` problem. The file is stat-ed before it is opened, and
opened with O_NONBLOCK, so a FIFO (or a terminal, or /dev/zero) never blocks or fills memory.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from pangeo_himat.settings.errors import InputError, Problem

MAX_BYTES = 1024 * 1024
MAX_TEXT = "1 MiB"


def _refuse(path: Path, message: str) -> InputError:
    return InputError([Problem(str(path), None, "", message)])


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _check_stat(path: Path, status: os.stat_result) -> None:
    if not stat.S_ISREG(status.st_mode):
        raise _refuse(path, f"is {_kind(status.st_mode)}; expected a settings file (YAML)")
    if status.st_size > MAX_BYTES:
        raise _refuse(
            path,
            f"is {status.st_size} bytes; settings files are limited to {MAX_TEXT} "
            f"({MAX_BYTES} bytes)",
        )


def _reason(error: OSError) -> str:
    if error.errno == errno.EACCES:
        return "cannot be read: permission denied"
    if error.errno == errno.ENOENT:
        return "no such file; `himat init` (make init) writes a settings file to start from"
    return f"cannot be read: {os.strerror(error.errno) if error.errno else error}"


def read_settings_text(path: Path) -> str:
    """The text of a settings file, or InputError with one `file: message` line."""
    try:
        _check_stat(path, os.stat(path))
        descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as error:
        raise _refuse(path, _reason(error)) from None
    try:
        _check_stat(path, os.fstat(descriptor))  # the file may have been swapped since stat
        with os.fdopen(descriptor, "rb") as handle:
            descriptor = -1
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise _refuse(path, _reason(error)) from None
    finally:
        if descriptor >= 0:
            os.close(descriptor)
    if len(data) > MAX_BYTES:
        raise _refuse(path, f"is larger than {MAX_TEXT}; settings files are limited to {MAX_TEXT}")
    if not data.strip():
        raise _refuse(
            path, "is empty; expected a mapping with the keys cluster, stable, spot, workers, ..."
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _refuse(
            path, f"is not UTF-8 text (at byte offset {error.start}); save it as UTF-8"
        ) from None
