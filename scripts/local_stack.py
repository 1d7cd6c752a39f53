"""Write the `local` extra of pyproject.toml from the image's science stack (one source).

The sources are docker/environment.yml (what the Dockerfile adds to the Pangeo image, conda
`name=version`) and docker/image-packages.yml (the pinned image's own versions of the packages
local mode needs). Where both name a package, environment.yml wins: the Dockerfile installs it
over the image. `python scripts/local_stack.py` rewrites the extra; `--check` exits 1 and
prints the difference when pyproject.toml disagrees (a test runs it).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXTRA_BLOCK = re.compile(r"^local = \[\n(?:  .*\n)*\]\n", re.MULTILINE)
CONDA_PIN = re.compile(r"^([A-Za-z0-9_.-]+)=(\d[^=\s]*)$")
# Local mode's own machinery, not in the image (himat starts the processes itself).
RUNTIME = ["psutil>=5.9"]


def _pins(lines: list[str], source: Path) -> dict[str, str]:
    pins = {}
    for line in lines:
        match = CONDA_PIN.match(line)
        if match is None:
            raise SystemExit(f"{source}: {line!r} is not an exact conda pin (name=version)")
        pins[match[1]] = match[2]
    return pins


def requirements(environment: Path, image_packages: Path) -> list[str]:
    """The pip requirements of the `local` extra, sorted, each pinned with ==."""
    image: dict[str, Any] = yaml.safe_load(image_packages.read_text())
    added: dict[str, Any] = yaml.safe_load(environment.read_text())
    pins = _pins(image["packages"], image_packages)
    pins.update(_pins(added["dependencies"], environment))
    for name, override in (image.get("wheel_overrides") or {}).items():
        pins[name] = str(override["version"])
    names = image.get("pip_names") or {}
    pinned = [f"{names.get(name, name)}=={version}" for name, version in pins.items()]
    return sorted(pinned + RUNTIME, key=str.lower)


def render_extra(pinned: list[str]) -> str:
    body = "".join(f'  "{requirement}",\n' for requirement in pinned)
    return f"local = [\n{body}]\n"


def current_extra(pyproject: Path) -> list[str]:
    """The requirements of the `local = [...]` block (written by render_extra, one a line)."""
    block = EXTRA_BLOCK.search(pyproject.read_text())
    if block is None:
        raise SystemExit(f"{pyproject}: no `local = [` block in [project.optional-dependencies]")
    return re.findall(r'^  "([^"]+)",$', block[0], re.MULTILINE)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when pyproject is stale")
    parser.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml")
    parser.add_argument("--environment", type=Path, default=ROOT / "docker" / "environment.yml")
    parser.add_argument(
        "--image-packages", type=Path, default=ROOT / "docker" / "image-packages.yml"
    )
    args = parser.parse_args(argv)
    wanted = requirements(args.environment, args.image_packages)
    have = current_extra(args.pyproject)
    if have == wanted:
        return 0
    if args.check:
        for line in sorted(set(have) - set(wanted)):
            print(f"{args.pyproject}: local extra has {line!r}, the sources say otherwise")
        for line in sorted(set(wanted) - set(have)):
            print(f"{args.pyproject}: local extra lacks {line!r}")
        print("run: python scripts/local_stack.py", file=sys.stderr)
        return 1
    text = args.pyproject.read_text()
    args.pyproject.write_text(EXTRA_BLOCK.sub(render_extra(wanted), text, count=1))
    print(f"{args.pyproject}: local extra rewritten ({len(wanted)} packages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
