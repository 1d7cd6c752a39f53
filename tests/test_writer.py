"""Writes are all or nothing: a failure leaves every old file intact, in one line, exit 1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, write_settings
from pangeo_himat.cli import cli
from pangeo_himat.render.writer import write_all
from pangeo_himat.settings.errors import OutputError

# Root ignores file modes; without these capabilities it obeys them like any user.
AS_AN_ORDINARY_USER = (
    ["setpriv", "--bounding-set", "-dac_override,-dac_read_search,-fowner", "--"]
    if os.geteuid() == 0
    else []
)


def render(settings: Path, out: Path):
    return CliRunner().invoke(cli, ["render", "-f", str(settings), "--out", str(out)])


def test_write_all_creates_updates_and_leaves_unchanged(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "sub" / "b.yaml"
    first = write_all([(a, "one\n"), (b, "two\n")])
    assert [r.status for r in first] == ["created", "created"]
    second = write_all([(a, "one\n"), (b, "three\n")])
    assert [r.status for r in second] == ["unchanged", "updated"]
    assert b.read_text() == "three\n"


def test_a_failure_writes_nothing_and_leaves_no_temporaries(tmp_path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("old\n")
    b.mkdir()
    with pytest.raises(OutputError) as caught:
        write_all([(a, "new\n"), (b, "new\n")])
    assert caught.value.exit_code == 1
    assert [str(p) for p in caught.value.problems] == [f"{b}: cannot be written: Is a directory"]
    assert a.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.yaml", "b.yaml"]


def test_directory_in_place_of_values_keeps_the_old_eksctl_file(tmp_path):
    out = tmp_path / "out"
    assert render(write_settings(tmp_path), out).exit_code == 0
    folder = out / "clusterconfig" / "himat"
    old_eksctl = (folder / "eksctl.yaml").read_text()
    (folder / "values.yaml").unlink()
    (folder / "values.yaml").mkdir()
    result = render(write_settings(tmp_path, {"spot.nodes": 2}), out)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        f"{folder / 'values.yaml'}: cannot be written: Is a directory"
    ]
    assert (folder / "eksctl.yaml").read_text() == old_eksctl
    # No temporary file is left behind beside the rendered files.
    assert sorted(p.name for p in folder.iterdir()) == [
        "cluster-autoscaler.yaml",
        "eksctl.yaml",
        "termination-handler.yaml",
        "values.yaml",
    ]


@pytest.mark.skipif(
    os.geteuid() == 0 and not shutil.which("setpriv"),
    reason="running as root without setpriv: file modes cannot be enforced",
)
def test_read_only_folder_keeps_the_old_files_in_one_line(tmp_path):
    out = tmp_path / "out"
    assert render(write_settings(tmp_path), out).exit_code == 0
    folder = out / "clusterconfig" / "himat"
    old = {p.name: p.read_text() for p in folder.iterdir()}
    settings = write_settings(tmp_path, {"spot.nodes": 2})
    folder.chmod(0o555)
    try:
        result = subprocess.run(
            [*AS_AN_ORDINARY_USER, sys.executable, "-m", "pangeo_himat", "render"]
            + ["-f", str(settings), "--out", str(out)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        folder.chmod(0o755)
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"{folder / 'eksctl.yaml'}: cannot be written: Permission denied"
    ]
    assert {p.name: p.read_text() for p in folder.iterdir()} == old
