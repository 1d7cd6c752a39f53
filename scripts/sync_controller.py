"""Copy the worker controller's modules into the chart (charts/pangeo-himat/files/controller/).

The package (generator/pangeo_himat/elastic/) is the one source; the chart ships a byte-for-byte
copy, run there as `python -m controller`. `--check` changes nothing and exits 1 when the copy
differs (a test runs it); without it the copy is rewritten and stale files are removed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "generator" / "pangeo_himat" / "elastic"
TARGET = ROOT / "charts" / "pangeo-himat" / "files" / "controller"


def wanted(source: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(source.glob("*.py"))}


def differences(files: dict[str, bytes], target: Path) -> list[str]:
    present = {p.name: p.read_bytes() for p in target.glob("*.py")} if target.is_dir() else {}
    problems = [f"{target}/{name}: missing" for name in files if name not in present]
    problems += [
        f"{target}/{name}: differs from the package's {name}"
        for name, text in files.items()
        if name in present and present[name] != text
    ]
    problems += [f"{target}/{name}: not in the package" for name in present if name not in files]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 when the copy is stale")
    parser.add_argument("--target", type=Path, default=TARGET, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    target: Path = args.target
    files = wanted(SOURCE)
    problems = differences(files, target)
    if args.check:
        for problem in problems:
            print(problem, file=sys.stderr)
        if problems:
            print("run: python scripts/sync_controller.py", file=sys.stderr)
        return 1 if problems else 0
    target.mkdir(parents=True, exist_ok=True)
    for stale in target.glob("*.py"):
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        path = target / name
        if not path.exists() or path.read_bytes() != text:
            path.write_bytes(text)
            print(f"updated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
