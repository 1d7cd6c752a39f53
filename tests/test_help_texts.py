"""Help texts name what the command really does: the files `himat render` writes."""

from __future__ import annotations

import subprocess

from conftest import ROOT, run_himat


def _written_files(tmp_path) -> list[str]:
    """The file names a real render writes into clusterconfig/<name>/."""
    result = run_himat("render", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    return sorted(path.name for path in (tmp_path / "clusterconfig").glob("*/*.yaml"))


def test_render_help_names_every_file_render_writes(tmp_path):
    written = _written_files(tmp_path)
    assert len(written) >= 4
    help_text = run_himat("render", "--help").stdout
    assert [name for name in written if name not in help_text] == []


def test_make_help_names_every_file_render_writes(tmp_path):
    written = _written_files(tmp_path)
    listed = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True
    )
    assert listed.returncode == 0, listed.stderr
    render_line = next(line for line in listed.stdout.splitlines() if "make render" in line)
    assert [name for name in written if name not in render_line] == []
