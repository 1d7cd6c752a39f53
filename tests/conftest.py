"""Shared test fixtures: project paths, settings variants and eksctl's own schema."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pangeo_himat.versions import load_calendar, today

ROOT = Path(__file__).resolve().parent.parent
SHARED_SCHEMA = ROOT.parent / "shared" / "schemas" / "eksctl-clusterconfig-v1alpha5.schema.json"


def run_himat(*args: str, cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "pangeo_himat", *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def write_settings(folder: Path, changes: dict | None = None, name: str = "settings.yaml") -> Path:
    """The default settings.yaml with `changes` merged in (dotted keys allowed)."""
    data = yaml.safe_load((ROOT / "settings.yaml").read_text())
    for dotted_key, value in (changes or {}).items():
        node = data
        *parents, last = dotted_key.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def eksctl_schema() -> dict:
    """eksctl's ClusterConfig JSON Schema: ../shared/schemas, else `eksctl utils schema`."""
    if SHARED_SCHEMA.is_file():
        return json.loads(SHARED_SCHEMA.read_text())
    if shutil.which("eksctl"):
        output = subprocess.run(
            ["eksctl", "utils", "schema"], capture_output=True, text=True, check=True
        ).stdout
        return json.loads(output)
    pytest.skip(
        f"eksctl's ClusterConfig schema is unavailable: {SHARED_SCHEMA} does not exist and "
        "eksctl is not installed (install eksctl to run `eksctl utils schema`)"
    )


# --- Kubernetes versions by support phase on the shipped EKS calendar, as of today ---------


def kubernetes_versions(phase: str) -> list[str]:
    """Versions of the calendar in `standard`, `extended` or `retired` support today."""
    calendar = load_calendar()
    return [v for v, info in calendar.versions.items() if info.phase(today()) == phase]
