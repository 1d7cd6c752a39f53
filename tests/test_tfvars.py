"""`himat import-tfvars`: the original terraform.tfvars becomes an equivalent settings file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conftest import run_himat
from pangeo_himat.fit.loader import load_settings

ORIGINAL = Path(__file__).parent / "fixtures" / "tfvars" / "pangeo-himat.tfvars"
GROUP_IMAGE = "jonahjoughin/pangeo-himat"
PINNED_TAG = "2019.05"  # a tag for the test; any tag other than latest pins the image


@pytest.fixture
def pinned(tmp_path) -> Path:
    """The original tfvars with the group's image pinned by tag, as the refusal asks."""
    tfvars = tmp_path / "pinned.tfvars"
    text = ORIGINAL.read_text().replace(f"{GROUP_IMAGE}:latest", f"{GROUP_IMAGE}:{PINNED_TAG}")
    tfvars.write_text(text)
    return tfvars


def test_original_tfvars_become_valid_equivalent_settings(tmp_path, pinned):
    out = tmp_path / "settings.yaml"
    result = run_himat("import-tfvars", str(pinned), "-o", str(out))
    assert result.returncode == 0, result.stderr
    settings = load_settings(out)
    assert settings.cluster.name == "pangeo-himat"
    assert settings.cluster.region == "us-west-2"
    assert list(settings.cluster.zones) == ["us-west-2a", "us-west-2b"]
    assert list(settings.spot.instance_types) == ["m5.xlarge"]
    assert settings.spot.nodes == 3
    assert settings.workers.count == "auto"
    assert (settings.workers.cpu, settings.workers.memory) == ("400m", "1600Mi")
    assert (settings.workers.threads, settings.workers.processes) == (1, 1)
    assert (settings.scheduler.cpu, settings.scheduler.memory) == ("1500m", "6000Mi")
    assert (settings.jupyter.cpu, settings.jupyter.memory) == ("1500m", "6000Mi")
    assert settings.jupyter.storage == "16Gi"
    assert settings.image == f"{GROUP_IMAGE}:{PINNED_TAG}"


def test_import_explains_what_it_changed(pinned):
    result = run_himat("import-tfvars", str(pinned))
    assert result.returncode == 0, result.stderr
    assert "cluster_version '1.10' is not supported" in result.stderr
    assert "kubeconfig_output_path: dropped" in result.stderr
    assert yaml.safe_load(result.stdout)["image"] == f"{GROUP_IMAGE}:{PINNED_TAG}"


def test_latest_image_is_refused_with_the_lines_that_pin_the_groups_image(tmp_path):
    out = tmp_path / "settings.yaml"
    result = run_himat("import-tfvars", str(ORIGINAL), "-o", str(out))
    assert result.returncode == 2
    assert not out.exists()
    line = next(
        n
        for n, text in enumerate(ORIGINAL.read_text().splitlines(), 1)
        if "image" in text and "=" in text
    )
    [problem] = result.stderr.splitlines()
    assert problem.startswith(
        f"{ORIGINAL}:{line} worker_image: '{GROUP_IMAGE}:latest' is not pinned"
    )
    assert f'worker_image = "{GROUP_IMAGE}@sha256:<digest>"' in problem
    assert f'worker_image = "{GROUP_IMAGE}:<tag>"' in problem


def test_untagged_image_counts_as_latest(tmp_path):
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text(f'worker_image = "{GROUP_IMAGE}"\n')
    result = run_himat("import-tfvars", str(tfvars))
    assert result.returncode == 2
    assert f'worker_image = "{GROUP_IMAGE}:<tag>"' in result.stderr


def test_image_pinned_by_digest_is_kept(tmp_path):
    digest = "sha256:" + "a" * 64
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text(f'worker_image = "{GROUP_IMAGE}@{digest}"\n')
    result = run_himat("import-tfvars", str(tfvars))
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout)["image"] == f"{GROUP_IMAGE}@{digest}"


def test_import_refuses_to_overwrite_settings(tmp_path):
    out = tmp_path / "settings.yaml"
    out.write_text("keep me\n")
    result = run_himat("import-tfvars", str(ORIGINAL), "-o", str(out))
    assert result.returncode == 2
    assert out.read_text() == "keep me\n"


def test_unknown_variable_is_reported_with_its_line(tmp_path):
    tfvars = tmp_path / "terraform.tfvars"
    tfvars.write_text('cluster_name = "x"\ngpu_count = 2\n')
    result = run_himat("import-tfvars", str(tfvars))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{tfvars}:2 gpu_count: unknown variable")
