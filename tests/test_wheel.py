"""himat installed from its wheel into a clean venv works from any folder.

The wheel must carry everything himat reads besides its code (the settings schema and template,
the chart, the data files); a dry run writes nothing but the clusterconfig/ folder it names.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT
from once_per_run import once_per_run

pytestmark = pytest.mark.slow

DRY_RUNS = [
    ["cluster"],
    ["install"],
    ["hibernate"],
    ["resume"],
    ["scale", "2"],
    ["upgrade"],
    ["status"],
    ["connect"],
    ["destroy"],
    ["backup"],
    ["restore", "snap-0123456789abcdef0"],
]


# uv, which `make tools` installs, builds and installs in seconds what pip takes a minute for;
# without it, pip does the same work.
UV = Path(os.environ.get("HIMAT_UV") or ROOT / ".tools" / "uv" / "bin" / "uv")


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv (no system site-packages) with the wheel built from this checkout, made once
    per run: two workers building in the same checkout would share its build/ folder."""
    return once_per_run(tmp_path_factory, "wheel-venv", lambda: install_wheel(tmp_path_factory))


def install_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("wheel")
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    if UV.exists():
        build = [str(UV), "build", "--wheel", "-q", str(ROOT), "-o", str(base)]
        install = [str(UV), "pip", "install", "-q", "--python", python]
    else:
        build = [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            str(ROOT),
            "-w",
            str(base),
        ]
        install = [sys.executable, "-m", "pip", "--python", python, "install", "-q", "--no-compile"]
    subprocess.run(build, check=True, capture_output=True, timeout=300)
    [wheel] = base.glob("pangeo_himat-*.whl")
    subprocess.run([*install, str(wheel)], check=True, capture_output=True, timeout=600)
    return venv


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory, installed) -> Path:
    """A folder outside the checkout with a settings file from `himat init`."""
    folder = tmp_path_factory.mktemp("elsewhere")
    assert himat(installed, folder, "init").returncode == 0
    return folder


def himat(venv: Path, folder: Path, *args: str) -> subprocess.CompletedProcess:
    """The installed himat, with no eksctl, helm, kubectl or aws on PATH."""
    env = {"PATH": f"{venv / 'bin'}:/usr/bin:/bin", "HOME": str(folder), "LANG": "C.UTF-8"}
    return subprocess.run(
        [str(venv / "bin" / "himat"), *args],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def files_in(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


def test_the_installed_package_is_not_the_checkout(installed, elsewhere):
    where = subprocess.run(
        [
            str(installed / "bin" / "python"),
            "-c",
            "import pangeo_himat; print(pangeo_himat.__file__)",
        ],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert Path(where).is_relative_to(installed)


def test_init_validate_render_fit_cost_and_iam_policy_work_from_any_folder(installed, elsewhere):
    for args in (["validate"], ["render"], ["fit"], ["cost"], ["iam-policy"]):
        result = himat(installed, elsewhere, *args)
        assert result.returncode == 0, (args, result.stderr)
        assert "Traceback" not in result.stderr
    assert files_in(elsewhere) == {
        "settings.yaml",
        *(f"clusterconfig/himat/{name}" for name in
          ("eksctl.yaml", "values.yaml", "termination-handler.yaml", "cluster-autoscaler.yaml")),
    }  # fmt: skip


@pytest.mark.parametrize("args", DRY_RUNS, ids=" ".join)
def test_every_dry_run_works_from_any_folder_without_the_tools(installed, elsewhere, args):
    result = himat(installed, elsewhere, *args, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.strip()
    written = files_in(elsewhere) - {"settings.yaml"}
    assert written and all(name.startswith("clusterconfig/himat/") for name in written)


def test_install_gives_helm_the_chart_inside_the_installed_package(installed, elsewhere):
    result = himat(installed, elsewhere, "install", "--dry-run")
    line = next(line for line in result.stdout.splitlines() if " himat " in line)
    chart = Path(line.split()[4])
    assert chart.is_relative_to(installed)
    assert (chart / "Chart.yaml").is_file() and (chart / "templates").is_dir()
