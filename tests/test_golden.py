"""Golden files: the default settings render to exactly these two documents.

After an intended change, regenerate with `HIMAT_UPDATE_GOLDEN=1 make test` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import ROOT, run_himat
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.lifecycle import plans

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def rendered_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    result = run_himat("render", "-f", "settings.yaml", "--out", str(out), cwd=ROOT)
    assert result.returncode == 0, result.stderr
    return out / "clusterconfig" / "himat"


RENDERED = ["cluster-autoscaler.yaml", "eksctl.yaml", "termination-handler.yaml", "values.yaml"]


@pytest.mark.parametrize("name", RENDERED)
def test_default_settings_render_to_the_golden_file(rendered_dir, name):
    text = (rendered_dir / name).read_text()
    if os.environ.get("HIMAT_UPDATE_GOLDEN"):
        (GOLDEN / name).write_text(text)
    assert text == (GOLDEN / name).read_text()


def test_render_twice_reports_unchanged(tmp_path):
    first = run_himat("render", "-f", "settings.yaml", "--out", str(tmp_path), cwd=ROOT)
    second = run_himat("render", "-f", "settings.yaml", "--out", str(tmp_path), cwd=ROOT)
    statuses = [line.split()[0] for line in first.stdout.splitlines()[:4]]
    assert statuses == ["created"] * 4
    assert [line.split()[0] for line in second.stdout.splitlines()[:4]] == ["unchanged"] * 4
    written = sorted(p.name for p in tmp_path.joinpath("clusterconfig", "himat").iterdir())
    assert written == RENDERED


def test_render_writes_every_file_the_lifecycle_verbs_read(tmp_path):
    result = run_himat("render", "-f", str(ROOT / "settings.yaml"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    settings = load_settings(ROOT / "settings.yaml")
    steps = plans.install_steps(settings) + plans.cluster_steps(settings)
    read = [step.argv[step.argv.index("-f") + 1] for step in steps if "-f" in step.argv]
    assert len(read) == 4
    assert all((tmp_path / path).is_file() for path in read), read


def test_render_reports_changed_lines(tmp_path):
    run_himat("render", "-f", "settings.yaml", "--out", str(tmp_path), cwd=ROOT)
    settings = tmp_path / "settings.yaml"
    settings.write_text((ROOT / "settings.yaml").read_text().replace("nodes: 3", "nodes: 4"))
    result = run_himat("render", "-f", str(settings), "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "updated" in result.stdout and "lines changed" in result.stdout
