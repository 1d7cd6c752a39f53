"""Write rendered documents: YAML text from dicts, the files of one render all or none."""

from __future__ import annotations

import difflib
import errno
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pangeo_himat.settings.errors import OutputError


class _BlockDumper(yaml.SafeDumper):
    """Block-style YAML that indents lists under their key, as kubectl and eksctl write it."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)


def to_yaml(document: dict[str, Any], header: str = "") -> str:
    """A dict as YAML, keys in the order the renderer chose."""
    body = yaml.dump(
        document, Dumper=_BlockDumper, sort_keys=False, default_flow_style=False, width=100
    )
    return header + body


@dataclass(frozen=True)
class WriteResult:
    """What happened to one file: created, updated (with changed line count) or unchanged."""

    path: Path
    status: str
    changed_lines: int = 0

    def __str__(self) -> str:
        if self.status == "updated":
            return f"updated   {self.path} ({self.changed_lines} lines changed)"
        return f"{self.status:<9} {self.path}"


def _describe(error: OSError) -> str:
    return os.strerror(error.errno) if error.errno else str(error)


def _stage(path: Path, text: str) -> tuple[str | None, Path]:
    """Write text to a temporary file beside path; return the old text and the temporary."""
    if path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
    old = path.read_text(encoding="utf-8") if path.exists() else None
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return old, Path(temporary)


def _result(path: Path, old: str | None, text: str) -> WriteResult:
    if old is None:
        return WriteResult(path, "created")
    diff = difflib.unified_diff(old.splitlines(), text.splitlines(), lineterm="", n=0)
    changed = sum(1 for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---")))
    return WriteResult(path, "updated", changed)


def write_all(files: list[tuple[Path, str]]) -> list[WriteResult]:
    """Replace every file or none: all temporaries are written before the first rename.

    A failure while writing leaves every old file as it was and removes the temporaries; it
    raises OutputError naming the file and the cause. (A rename within one folder does not
    fail once its temporary exists, so the renames that follow are all-or-nothing in practice.)
    """
    staged: list[tuple[Path, str, str | None, Path]] = []
    results: dict[Path, WriteResult] = {}
    try:
        for path, text in files:
            try:
                current = path.read_text(encoding="utf-8") if path.is_file() else None
                if current == text:
                    results[path] = WriteResult(path, "unchanged")
                    continue
                old, temporary = _stage(path, text)
            except (OSError, UnicodeDecodeError) as error:
                reason = _describe(error) if isinstance(error, OSError) else "not UTF-8 text"
                raise OutputError(path, reason) from None
            staged.append((path, text, old, temporary))
        for index, (path, _, _, temporary) in enumerate(staged):
            try:
                os.replace(temporary, path)
            except OSError as error:
                for _, _, _, left in staged[index:]:
                    left.unlink(missing_ok=True)
                raise OutputError(path, _describe(error)) from None
    except BaseException:
        for _, _, _, temporary in staged:
            temporary.unlink(missing_ok=True)
        raise
    for path, text, old, _ in staged:
        results[path] = _result(path, old, text)
    return [results[path] for path, _ in files]


def write_atomic(path: Path, text: str) -> WriteResult:
    """Replace `path` with `text` in one rename: a reader sees the old file or the new one."""
    return write_all([(path, text)])[0]
