"""The chart's copy of the controller: identical to the package, and runnable on its own."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYNC = ROOT / "scripts" / "sync_controller.py"
COPY = ROOT / "charts" / "pangeo-himat" / "files" / "controller"


def sync(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SYNC), *args], capture_output=True, text=True, timeout=60
    )


def test_the_charts_copy_matches_the_package() -> None:
    result = sync("--check")
    assert result.returncode == 0, result.stderr


def test_check_fails_on_a_changed_copy(tmp_path: Path) -> None:
    target = tmp_path / "controller"
    shutil.copytree(COPY, target)
    (target / "decide.py").write_text("# edited by hand\n")
    result = sync("--check", "--target", str(target))
    assert result.returncode == 1
    assert "decide.py: differs" in result.stderr
    assert sync("--target", str(target)).returncode == 0
    assert sync("--check", "--target", str(target)).returncode == 0


def test_the_copy_runs_with_the_standard_library_alone(tmp_path: Path) -> None:
    shutil.copytree(COPY, tmp_path / "controller")
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
