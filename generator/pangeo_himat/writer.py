"""Write rendered documents: YAML text from dicts, each file replaced atomically."""

from __future__ import annotations

import difflib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml


class _BlockDumper(yaml.SafeDumper):
    """Block-style YAML that indents lists under their key, as kubectl and eksctl write it."""

    def increase_indent(self, flow: bool = False, indentless: bool = False):
        return super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)


def to_yaml(document: dict, header: str = "") -> str:
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


def write_atomic(path: Path, text: str) -> WriteResult:
    """Replace `path` with `text` in one rename: a reader sees the old file or the new one."""
    old = path.read_text(encoding="utf-8") if path.exists() else None
    if old == text:
        return WriteResult(path, "unchanged")
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    if old is None:
        return WriteResult(path, "created")
    diff = difflib.unified_diff(old.splitlines(), text.splitlines(), lineterm="", n=0)
    changed = sum(1 for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---")))
    return WriteResult(path, "updated", changed)
