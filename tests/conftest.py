"""Shared test fixtures: project paths, settings variants and eksctl's own schema."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from pangeo_himat.loader import load_settings
from pangeo_himat.render import render_all
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


# --- The chart rendered by real helm 4, from the values `himat render` writes -------------------

HELM4 = Path(os.environ.get("HIMAT_HELM4", ROOT / ".tools" / "bin" / "helm"))
CHART_DIR = ROOT / "charts" / "pangeo-himat"


def render_chart_from_settings(
    folder: Path, changes: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """`helm template` of the chart with the values rendered from settings.yaml + `changes`."""
    if not HELM4.exists():
        pytest.skip(f"helm 4 is not installed at {HELM4}; `make tools` installs it")
    values = render_all(load_settings(write_settings(folder, changes))).values
    values_file = folder / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    argv = [str(HELM4), "template", "himat", str(CHART_DIR), "-n", "himat", "-f", str(values_file)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def deployment_pod_spec(documents: list[dict[str, Any]], suffix: str) -> dict[str, Any]:
    """The pod spec of the one Deployment whose name ends with `suffix`."""
    (deployment,) = [
        d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"].endswith(suffix)
    ]
    return dict(deployment["spec"]["template"]["spec"])


# --- Kubernetes versions by support phase on the shipped EKS calendar, as of today ---------


def kubernetes_versions(phase: str) -> list[str]:
    """Versions of the calendar in `standard`, `extended` or `retired` support today."""
    calendar = load_calendar()
    return [v for v, info in calendar.versions.items() if info.phase(today()) == phase]
