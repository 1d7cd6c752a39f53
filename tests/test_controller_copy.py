"""The controller exists once: the chart's files, which the package imports and runs as they are."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pangeo_himat.controller

ROOT = Path(__file__).resolve().parent.parent
CHART_FILES = ROOT / "charts" / "pangeo-himat" / "files" / "controller"


def test_the_package_imports_the_charts_files() -> None:
    imported = Path(pangeo_himat.controller.__file__).resolve().parent
    assert imported == CHART_FILES.resolve()


def test_git_holds_the_package_as_a_link_not_a_copy() -> None:
    listed = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-s", "generator/pangeo_himat/controller"],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout.split()
    mode, _, _, path = listed
    assert (mode, path) == ("120000", "generator/pangeo_himat/controller"), listed


def test_the_copy_runs_with_the_standard_library_alone(tmp_path: Path) -> None:
    shutil.copytree(CHART_FILES, tmp_path / "controller", ignore=shutil.ignore_patterns("*.pyc"))
    # -I -S: no site-packages, so neither pangeo_himat nor botocore can be imported.
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); sys.argv[1:] = ['--help'];"
        "import controller.aws, controller.local_backend, runpy;"
        "runpy.run_module('controller', run_name='__main__')"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "--scheduler-http" in result.stdout
