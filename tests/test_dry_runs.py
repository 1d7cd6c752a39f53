"""Dry runs degrade the same way everywhere: without eksctl, helm, kubectl or aws they print
what they would run and say what they assume (every verb, from the wheel: test_wheel.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from conftest import run_himat, write_settings

NO_TOOLS = {**os.environ, "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin"}


def test_upgrade_dry_run_without_eksctl_or_helm_says_what_it_assumes(tmp_path):
    settings = write_settings(tmp_path)
    result = run_himat("upgrade", "-f", str(settings), "--dry-run", cwd=tmp_path, env=NO_TOOLS)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("# eksctl is not on PATH, so the live cluster cannot be read; ")
    assert "assuming it runs Kubernetes 1." in lines[0]
    assert lines[1].startswith("# helm is not on PATH, so the chart is not checked against ")
    assert any(line.startswith("eksctl upgrade cluster --name himat ") for line in lines)
    assert any(line.startswith("eksctl update addon --name vpc-cni ") for line in lines)
