"""The settings reference, generated from values.schema.json (the single source of truth).

docs/conf.py calls `reference()` at every docs build (docs/reference/settings.md includes the
result), so the reference cannot go stale; `python scripts/settings_reference.py` prints it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pangeo_himat.settings.schema import resolve_ref

ROOT = Path(__file__).resolve().parent.parent


def _kind(node: dict, root: dict) -> str:
    node = resolve_ref(node, root)
    if "enum" in node:
        return " \\| ".join(f"`{value}`" for value in node["enum"])
    if "anyOf" in node:
        return " or ".join(_kind(option, root) for option in node["anyOf"])
    if "const" in node:
        return f"`{node['const']}`"
    kind = node.get("type", "")
    text = " or ".join(kind) if isinstance(kind, list) else kind
    if "pattern" in node and "quantity" in node.get("x-expected", ""):
        text = "quantity"
    return text


def _text(node: dict) -> str:
    """A description as a table cell: `<name>` is text, not an HTML tag."""
    return str(node.get("description", "")).replace("<", "\\<").replace("|", "\\|")


def rows(node: dict, root: dict, prefix: str = "") -> list[str]:
    """One table row per key, depth first, in schema order."""
    lines = []
    for key, child in node.get("properties", {}).items():
        child = resolve_ref(child, root)
        path = f"{prefix}{key}"
        if child.get("type") == "object" and "properties" in child:
            lines.append(f"| `{path}` | object | | {_text(child)} |")
            lines.extend(rows(child, root, f"{path}."))
            continue
        default = json.dumps(child["default"]) if "default" in child else "required"
        lines.append(f"| `{path}` | {_kind(child, root)} | `{default}` | {_text(child)} |")
    return lines


def reference() -> str:
    schema = json.loads((ROOT / "values.schema.json").read_text())
    table = ["| key | type | default | meaning |", "|---|---|---|---|"]
    return "\n".join([*table, *rows(schema, schema)])


def main() -> int:
    argparse.ArgumentParser(description=__doc__).parse_args()
    print(reference())
    return 0


if __name__ == "__main__":
    sys.exit(main())
