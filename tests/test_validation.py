"""Bad settings: exit 2, one line per problem naming file, line and key path; nothing written."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import ROOT, run_himat
from pangeo_himat.cli import cli

BAD = sorted((Path(__file__).parent / "fixtures" / "bad").glob("*.yaml"))
PROBLEM_LINE = re.compile(r"^(?P<file>[^\s:]+)(:(?P<line>\d+))?( (?P<path>[^\s:]+))?: .+$")


def expected_path(fixture: Path) -> str:
    return fixture.read_text().splitlines()[0].removeprefix("# expect:").strip()


@pytest.mark.parametrize("fixture", BAD, ids=[f.stem for f in BAD])
@pytest.mark.parametrize("verb", ["validate", "render"])
def test_bad_settings_exit_2_name_the_key_and_write_nothing(fixture, verb, tmp_path):
    settings = tmp_path / fixture.name
    shutil.copy(fixture, settings)
    result = CliRunner().invoke(
        cli,
        [verb, "-f", str(settings), "--out", str(tmp_path)]
        if verb == "render"
        else [verb, "-f", str(settings)],
    )
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines, "no problem was reported"
    for line in lines:
        match = PROBLEM_LINE.match(line)
        assert match, f"not `file:line key.path: message`: {line!r}"
        assert match["file"] == str(settings)
    wanted = expected_path(fixture)
    if wanted:
        assert any(re.search(rf" {re.escape(wanted)}(\W|$)", line) for line in lines), lines
    assert sorted(p.name for p in tmp_path.iterdir()) == [fixture.name]


def test_problems_carry_the_line_of_the_offending_key(tmp_path):
    settings = tmp_path / "settings.yaml"
    shutil.copy(Path(__file__).parent / "fixtures" / "bad" / "bad-cpu.yaml", settings)
    result = CliRunner().invoke(cli, ["validate", "-f", str(settings)])
    assert result.stderr.strip() == (
        f'{settings}:7 workers.cpu: "400x" is not a CPU quantity (e.g. 400m, 0.5, 2)'
    )


def test_a_load_balancer_without_certificate_or_cidrs_reports_both(tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        "cluster:\n  name: himat\n  region: us-west-2\n  zones: [us-west-2a, us-west-2b]\n"
        "image: pangeo/pangeo-notebook:2025.11.13\n"
        "jupyter:\n  expose: loadbalancer\n  allowed_cidrs: []\n"
    )
    result = CliRunner().invoke(cli, ["validate", "-f", str(settings)])
    assert result.exit_code == 2
    assert [line.split(": ")[0] for line in result.stderr.strip().splitlines()] == [
        f"{settings}:6 jupyter.tls_certificate_arn",
        f"{settings}:8 jupyter.allowed_cidrs",
    ]


def test_every_problem_is_reported_at_once(tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        "cluster:\n  name: 9lives\n  region: us-west-2\n  zones: [us-west-2a]\n"
        "workers:\n  cpu: lots\n  memory: 1600MB\n  colour: red\n"
    )
    result = CliRunner().invoke(cli, ["validate", "-f", str(settings)])
    assert result.exit_code == 2
    paths = [line.split(" ")[1].rstrip(":") for line in result.stderr.strip().splitlines()]
    assert paths == [
        "cluster.name",
        "cluster.zones",
        "workers.cpu",
        "workers.memory",
        "workers.colour",
    ]


def test_unquoted_version_number_gets_a_quoting_hint(tmp_path):
    settings = tmp_path / "settings.yaml"
    shutil.copy(Path(__file__).parent / "fixtures" / "bad" / "version-number.yaml", settings)
    result = CliRunner().invoke(cli, ["validate", "-f", str(settings)])
    assert "1.3 is not a quoted Kubernetes version" in result.stderr


def test_worker_count_that_does_not_fit_says_how_many_fit(tmp_path):
    settings = tmp_path / "settings.yaml"
    shutil.copy(Path(__file__).parent / "fixtures" / "bad" / "count-does-not-fit.yaml", settings)
    result = CliRunner().invoke(cli, ["validate", "-f", str(settings)])
    assert re.search(r"500 workers do not fit: 3 spot nodes x \d+ workers", result.stderr)
    assert "set workers.count to" in result.stderr


def test_missing_file_is_a_problem_not_a_traceback(tmp_path):
    result = run_himat("validate", "-f", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"{tmp_path / 'nope.yaml'}: no such file; `himat init` (make init) writes a settings "
        "file to start from"
    )


def test_bad_settings_through_the_real_command(tmp_path):
    settings = tmp_path / "settings.yaml"
    shutil.copy(Path(__file__).parent / "fixtures" / "bad" / "unknown-key-top.yaml", settings)
    result = run_himat("render", "-f", str(settings), "--out", str(tmp_path))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{settings}:6 colour: unknown key; expected one of: ")
    assert not (tmp_path / "clusterconfig").exists()


def test_shipped_settings_are_valid():
    result = run_himat("validate", "-f", str(ROOT / "settings.yaml"))
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
