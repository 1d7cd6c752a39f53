"""The settings reader is bounded, and one run reports every independent problem."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from conftest import ROOT, helm_template, kubernetes_versions, pod_specs, write_settings
from pangeo_himat.cli import cli
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.render.render_values import split_image
from pangeo_himat.settings.errors import Problem
from pangeo_himat.settings.reader import MAX_BYTES
from pangeo_himat.settings.regions import load_regions

DIGEST = "sha256:" + "0123456789abcdef" * 4


def validate(path: Path | str) -> tuple[int, list[str], str]:
    result = CliRunner().invoke(cli, ["validate", "-f", str(path)])
    return result.exit_code, result.stderr.strip().splitlines(), result.stdout


def test_two_independent_problems_are_both_reported(tmp_path):
    settings = write_settings(tmp_path, {"cluster.kubernetes_version": "1.3", "workers.count": 500})
    code, lines, _ = validate(settings)
    assert code == 2
    assert [line.split(" ")[1].rstrip(":") for line in lines] == [
        "cluster.kubernetes_version",
        "workers.count",
    ], lines
    assert "500 workers do not fit" in lines[1]


def test_schema_rule_and_fit_problems_come_in_one_run(tmp_path):
    settings = write_settings(
        tmp_path,
        {
            "cluster.name": "Himat",
            "cluster.zones": ["us-west-2a", "us-west-2z"],
            "image": "pangeo/pangeo-notebook:latest",
            "workers.count": 500,
        },
    )
    code, lines, _ = validate(settings)
    assert code == 2
    paths = [line.split(" ")[1].rstrip(":") for line in lines]
    assert paths == ["cluster.name", "cluster.zones[1]", "image", "workers.count"], lines


def test_a_refused_input_skips_only_the_checks_that_read_it(tmp_path):
    # workers.cpu is refused, so the fit (which needs it) is skipped, but the zone rule runs.
    settings = write_settings(
        tmp_path, {"workers.cpu": "lots", "cluster.zones": ["us-west-2a", "us-west-2z"]}
    )
    code, lines, _ = validate(settings)
    assert code == 2
    assert [line.split(" ")[1].rstrip(":") for line in lines] == [
        "cluster.zones[1]",
        "workers.cpu",
    ], lines


def test_unknown_region_lists_the_real_regions(tmp_path):
    settings = write_settings(
        tmp_path, {"cluster.region": "us-west-9", "cluster.zones": ["us-west-9a", "us-west-9b"]}
    )
    code, lines, _ = validate(settings)
    assert code == 2
    assert len(lines) == 1 and " cluster.region: 'us-west-9' is not an AWS region" in lines[0]
    assert "us-west-2" in lines[0] and "eu-west-1" in lines[0]


def test_every_shipped_region_of_the_aws_partition_has_zones():
    regions = [r for r in load_regions().values() if r.partition == "aws"]
    assert len(regions) >= 30
    assert all(region.zones for region in regions)
    assert load_regions()["us-west-2"].zones[:2] == ("us-west-2a", "us-west-2b")


def test_regions_data_is_generated_from_botocore_and_moto():
    pytest.importorskip("botocore")
    pytest.importorskip("moto")
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_regions.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, "data/regions.json is stale: run scripts/build_regions.py"


@pytest.mark.parametrize(
    "image", [f"pangeo/pangeo-notebook@{DIGEST}", f"pangeo/pangeo-notebook:2025.11.13@{DIGEST}"]
)
def test_image_pinned_by_digest_validates_and_renders(tmp_path, image):
    settings = write_settings(tmp_path, {"image": image})
    result = CliRunner().invoke(cli, ["render", "-f", str(settings), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    values_file = tmp_path / "clusterconfig" / "himat" / "values.yaml"
    assert yaml.safe_load(values_file.read_text())["image"]["digest"] == DIGEST
    # The chart joins repository, tag and digest back into the image the settings name.
    images = {
        container["image"]
        for spec in pod_specs(helm_template(values_file)).values()
        for container in spec["containers"]
    }
    assert images == {image}


@pytest.mark.parametrize(
    "image", ["pangeo/pangeo-notebook:latest", "pangeo/pangeo-notebook", "registry:5000/pangeo"]
)
def test_unpinned_images_are_refused(tmp_path, image):
    code, lines, _ = validate(write_settings(tmp_path, {"image": image}))
    assert code == 2
    assert len(lines) == 1 and re.search(r":\d+ image: ", lines[0]), lines


@pytest.mark.parametrize("name", ["Himat", "himat-", "-himat", "him_at", "a" * 41])
def test_names_helm_and_kubernetes_refuse_are_refused(tmp_path, name):
    code, lines, _ = validate(write_settings(tmp_path, {"cluster.name": name}))
    assert code == 2
    assert len(lines) == 1 and " cluster.name: " in lines[0]


def test_oversized_file_is_refused_before_it_is_parsed(tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_text("# padding\n" * (MAX_BYTES // 10 + 1))
    code, lines, _ = validate(settings)
    assert code == 2
    assert lines == [
        f"{settings}: is {settings.stat().st_size} bytes; settings files are "
        f"limited to 1 MiB ({MAX_BYTES} bytes)"
    ]


@pytest.mark.timeout(20)
def test_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "settings.yaml"
    os.mkfifo(fifo)
    code, lines, _ = validate(fifo)
    assert code == 2
    assert lines == [f"{fifo}: is a FIFO; expected a settings file (YAML)"]


def test_directory_is_one_file_line(tmp_path):
    code, lines, _ = validate(tmp_path)
    assert code == 2
    assert lines == [f"{tmp_path}: is a directory; expected a settings file (YAML)"]


@pytest.mark.timeout(20)
def test_dev_zero_is_refused_without_reading_it():
    code, lines, _ = validate("/dev/zero")
    assert code == 2
    assert lines == ["/dev/zero: is a device; expected a settings file (YAML)"]


def test_empty_file_is_one_file_line(tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_bytes(b"")
    code, lines, _ = validate(settings)
    assert code == 2
    assert len(lines) == 1 and lines[0].startswith(f"{settings}: is empty; expected a mapping")


def test_file_that_is_not_utf8_is_one_file_line(tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_bytes(b"cluster:\n  name: h\xe9mat\n")
    code, lines, _ = validate(settings)
    assert code == 2
    assert lines == [f"{settings}: is not UTF-8 text (at byte offset 18); save it as UTF-8"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file whatever its mode")
def test_unreadable_file_is_one_file_line(tmp_path):
    settings = write_settings(tmp_path)
    settings.chmod(0)
    code, lines, _ = validate(settings)
    assert code == 2
    assert lines == [f"{settings}: cannot be read: permission denied"]


@pytest.mark.timeout(20)
def test_alias_bomb_fails_with_one_line():
    bomb = ROOT / "tests" / "fixtures" / "bad" / "alias-bomb.yaml"
    code, lines, _ = validate(bomb)
    assert code == 2
    assert len(lines) == 1 and "aliases expand to more than" in lines[0]


def test_merge_keys_still_work(tmp_path):
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        "cluster: {name: himat, region: us-west-2, zones: [us-west-2a, us-west-2b]}\n"
        "scheduler: &res {cpu: 1000m, memory: 4000Mi}\n"
        "jupyter:\n  <<: *res\n  memory: 5000Mi\n"
    )
    loaded = load_settings(settings)
    assert loaded.jupyter.cpu == "1000m"
    assert loaded.jupyter.memory == "5000Mi"


def test_settings_without_line_information_can_name_a_problem():
    settings = load_settings(None)
    assert settings.problem(("cluster", "name"), "is bad") == Problem(
        "<embedded defaults>", None, "cluster.name", "is bad"
    )


def test_a_problem_is_always_one_line():
    problem = Problem("settings.yaml", 3, "cluster.tags.a\nb", "value\r\nx")
    assert "\n" not in str(problem) and "\r" not in str(problem)


# --- Kubernetes versions and support -------------------------------------------------------


def test_default_renders_version_135_with_standard_support(tmp_path):
    result = CliRunner().invoke(
        cli, ["render", "-f", str(ROOT / "settings.yaml"), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    text = (tmp_path / "clusterconfig" / "himat" / "eksctl.yaml").read_text()
    assert "  version: '1.35'\n" in text
    assert "upgradePolicy:\n  supportType: STANDARD\n" in text
    assert "addonsConfig:\n  disableDefaultAddons: true\n" in text


def test_extended_support_renders_extended(tmp_path):
    settings = write_settings(tmp_path, {"cluster.support": "extended"})
    result = CliRunner().invoke(cli, ["render", "-f", str(settings), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "clusterconfig" / "himat" / "eksctl.yaml").read_text()
    assert "upgradePolicy:\n  supportType: EXTENDED\n" in text


@pytest.fixture
def extended_version() -> str:
    versions = kubernetes_versions("extended")
    assert versions, "the shipped calendar has no version in extended support today; update it"
    return versions[-1]


def test_version_in_extended_support_warns_with_date_and_price(tmp_path, extended_version):
    settings = write_settings(
        tmp_path, {"cluster.kubernetes_version": extended_version, "cluster.support": "extended"}
    )
    code, lines, stdout = validate(settings)
    assert code == 0, lines
    assert "valid" in stdout
    assert len(lines) == 1 and lines[0].startswith("warning: "), lines
    assert f'"{extended_version}" is in EKS extended support since 20' in lines[0]
    assert "USD 0.60/h instead of 0.10/h (about +365 USD/month)" in lines[0]


def test_cost_prices_an_extended_version_at_060(tmp_path, extended_version):
    settings = write_settings(
        tmp_path, {"cluster.kubernetes_version": extended_version, "cluster.support": "extended"}
    )
    result = CliRunner().invoke(cli, ["cost", "-f", str(settings), "--json"])
    assert result.exit_code == 0, result.output
    control_plane = result.stdout.split('"item": "EKS control plane')[1]
    assert '"running": 0.6,' in control_plane.split("}")[0]


def test_version_in_extended_support_cannot_get_standard_support(tmp_path, extended_version):
    # supportType STANDARD means "upgrade at the end of standard support", already past.
    settings = write_settings(tmp_path, {"cluster.kubernetes_version": extended_version})
    code, lines, _ = validate(settings)
    assert code == 0, lines
    assert len(lines) == 1 and lines[0].startswith("warning: ")
    assert "cluster.support: standard cannot apply" in lines[0]
    assert "rendered with supportType EXTENDED" in lines[0]
    result = CliRunner().invoke(cli, ["render", "-f", str(settings), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "clusterconfig" / "himat" / "eksctl.yaml").read_text()
    assert "upgradePolicy:\n  supportType: EXTENDED\n" in text


def test_retired_version_is_refused(tmp_path):
    retired = kubernetes_versions("retired")[-1]
    code, lines, _ = validate(write_settings(tmp_path, {"cluster.kubernetes_version": retired}))
    assert code == 2
    assert len(lines) == 1
    assert (
        f' cluster.kubernetes_version: "{retired}" reached the end of EKS extended support'
        in (lines[0])
    )


def test_a_missing_key_is_not_checked_as_its_default(tmp_path):
    # Without a region the zones cannot be checked against one: only the missing key is named,
    # while the fit (which needs neither) still runs.
    settings = tmp_path / "settings.yaml"
    settings.write_text(
        "cluster:\n  name: himat\n  zones: [eu-west-1a, eu-west-1b]\nworkers:\n  count: 500\n"
    )
    code, lines, _ = validate(settings)
    assert code == 2
    assert [line.split(" ")[1].rstrip(":") for line in lines] == [
        "cluster.region",
        "workers.count",
    ], lines


@pytest.mark.timeout(20)
def test_a_file_of_many_values_stops_at_the_value_limit(tmp_path):
    settings = tmp_path / "settings.yaml"
    tags = "".join(f"    k{i}: v\n" for i in range(60_000))
    settings.write_text(f"cluster:\n  name: himat\n  tags:\n{tags}")
    code, lines, _ = validate(settings)
    assert code == 2
    assert len(lines) == 1 and lines[0].endswith(
        ": holds more than 20000 values; a settings file has about 60"
    ), lines


@pytest.mark.parametrize(
    ("image", "parts"),
    [
        ("pangeo/pangeo-notebook:2025.11.13", ("pangeo/pangeo-notebook", "2025.11.13", "")),
        ("registry:5000/pangeo:v1", ("registry:5000/pangeo", "v1", "")),
        (f"registry:5000/pangeo@{DIGEST}", ("registry:5000/pangeo", "", DIGEST)),
        (f"pangeo/pangeo-notebook:v1@{DIGEST}", ("pangeo/pangeo-notebook", "v1", DIGEST)),
    ],
)
def test_an_image_splits_into_repository_tag_and_digest(image, parts):
    assert split_image(image) == parts
