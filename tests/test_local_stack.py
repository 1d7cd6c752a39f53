"""The `local` extra is the image's science stack: one source, the same pins, all importable."""

from __future__ import annotations

import importlib.metadata
import json
import re
import shutil
import subprocess
import sys

import pytest
import yaml

from conftest import ROOT
from pangeo_himat.fit.loader import load_settings

SCRIPT = ROOT / "scripts" / "local_stack.py"
DOCKER = ROOT / "docker"
# The packages the image itself pins that a Pangeo notebook needs first (conda-forge names).
FROM_THE_IMAGE = {
    "dask",
    "distributed",
    "xarray",
    "zarr",
    "matplotlib-base",
    "netcdf4",
    "h5netcdf",
    "scipy",
    "jupyterlab",
}


def local_extra() -> dict[str, str]:
    """{distribution: pinned version} of the extra as pyproject.toml declares it."""
    text = (ROOT / "pyproject.toml").read_text()
    block = re.search(r"^local = \[\n((?:  .*\n)*)\]", text, re.MULTILINE)
    assert block is not None
    pins = re.findall(r'"([A-Za-z0-9_.-]+)(?:\[[a-z,]+\])?==([^"]+)"', block[1])
    return dict(pins)


def check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--check", *args], capture_output=True, text=True, timeout=60
    )


def test_the_local_extra_is_written_from_the_image_and_environment_yml():
    result = check()
    assert result.returncode == 0, result.stdout + result.stderr


def test_check_fails_when_pyproject_disagrees_with_the_sources(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text((ROOT / "pyproject.toml").read_text().replace("zarr==3.1.3", "zarr>=3"))
    result = check("--pyproject", str(pyproject))
    assert result.returncode == 1
    assert "lacks 'zarr==3.1.3'" in result.stdout


def test_check_fails_when_environment_yml_moves_a_pin(tmp_path):
    environment = tmp_path / "environment.yml"
    shutil.copy(DOCKER / "environment.yml", environment)
    environment.write_text(environment.read_text().replace("cartopy=0.25.0", "cartopy=0.24.1"))
    result = check("--environment", str(environment))
    assert result.returncode == 1
    assert "lacks 'cartopy==0.24.1'" in result.stdout


def test_image_versions_are_read_at_the_tag_the_settings_pin():
    image = yaml.safe_load((DOCKER / "image-packages.yml").read_text())
    assert image["image"] == load_settings(None).image
    assert f"pangeo-docker-images/blob/{image['image'].rsplit(':', 1)[1]}/" in (
        (DOCKER / "image-packages.yml").read_text()
    )
    assert {pin.split("=")[0] for pin in image["packages"]} >= FROM_THE_IMAGE


def test_every_package_the_dockerfile_adds_is_in_the_local_extra_at_its_version():
    added = yaml.safe_load((DOCKER / "environment.yml").read_text())["dependencies"]
    names = yaml.safe_load((DOCKER / "image-packages.yml").read_text())["pip_names"]
    extra = {name.lower(): version for name, version in local_extra().items()}
    for pin in added:
        name, version = pin.split("=")
        pip_name = re.sub(r"\[.*\]", "", names.get(name, name)).lower()
        assert extra.get(pip_name) == version, pin


@pytest.mark.timeout(300)
def test_every_science_package_is_installed_at_its_pin_and_imports():
    extra = local_extra()
    installed = {name: importlib.metadata.version(name) for name in extra}
    assert installed == extra
    modules = [name.replace("-", "_") for name in extra]
    program = (
        "import importlib, json, sys\n"
        f"mods = {modules!r}\n"
        "print(json.dumps({m: bool(importlib.import_module(m)) for m in mods}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, timeout=240
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.splitlines()[-1]) == dict.fromkeys(modules, True)
