"""`himat init` writes the shipped, commented settings file; typos get "did you mean ...?"."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run_himat, write_settings
from pangeo_himat.fit.loader import load_settings


def test_init_writes_the_shipped_settings_with_their_comments(tmp_path):
    result = run_himat("init", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    written = (tmp_path / "settings.yaml").read_text()
    shipped = (ROOT / "settings.yaml").read_text()
    # Everything but the $schema line (which points where the editor finds the schema).
    assert written.splitlines()[1:] == shipped.splitlines()[1:]
    assert yaml.safe_load(written) == yaml.safe_load(shipped)
    assert load_settings(tmp_path / "settings.yaml").cluster.name == "himat"


def test_init_points_the_editor_to_a_schema_that_exists(tmp_path):
    out = tmp_path / "elsewhere" / "mine.yaml"
    out.parent.mkdir()
    assert run_himat("init", "-o", str(out), cwd=tmp_path).returncode == 0
    first = out.read_text().splitlines()[0]
    schema = first.split("$schema=", 1)[1]
    assert (out.parent / schema).is_file()


def test_init_never_replaces_a_file_without_force(tmp_path):
    out = tmp_path / "settings.yaml"
    out.write_text("keep me\n")
    result = run_himat("init", "-o", str(out))
    assert result.returncode == 2
    assert result.stderr.strip() == f"{out}: exists; pass --force (make init FORCE=1) to replace it"
    assert out.read_text() == "keep me\n"
    assert run_himat("init", "-o", str(out), "--force").returncode == 0
    assert out.read_text().startswith("# yaml-language-server:")


def make(target: str, settings: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", target, f"SETTINGS={settings}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )


def test_make_validate_without_a_settings_file_says_to_run_init(tmp_path):
    missing = tmp_path / "mine.yaml"
    result = make("validate", missing)
    assert result.returncode != 0
    assert f"{missing}: no such file; `himat init` (make init)" in result.stderr


def test_make_init_writes_the_settings_file(tmp_path):
    out = tmp_path / "mine.yaml"
    result = make("init", out)
    assert result.returncode == 0, result.stderr
    assert load_settings(out).cluster.region


@pytest.mark.parametrize(
    ("key", "typo", "suggested"),
    [
        ("stable.instance_type", "m5.xlarg", "did you mean m5.xlarge"),
        ("cluster.region", "us-west-3", "did you mean us-west-"),
        ("jupyter.expose", "loadbalancr", "did you mean loadbalancer?"),
    ],
)
def test_a_misspelt_value_gets_the_nearest_known_ones(tmp_path, key, typo, suggested):
    settings = write_settings(tmp_path, {key: typo})
    result = run_himat("validate", "-f", str(settings))
    assert result.returncode == 2
    line = next(line for line in result.stderr.splitlines() if f" {key}: " in line)
    assert line.startswith(f"{settings}:")
    assert suggested in line


def test_a_misspelt_region_names_regions_near_it(tmp_path):
    settings = write_settings(tmp_path, {"cluster.region": "us-west-3"})
    result = run_himat("validate", "-f", str(settings))
    line = next(line for line in result.stderr.splitlines() if " cluster.region: " in line)
    suggestion = line.split("did you mean ", 1)[1].split("?", 1)[0]
    assert set(suggestion.replace(" or ", ", ").split(", ")) >= {"us-west-1", "us-west-2"}
