"""`himat import-tfvars`: the original terraform.tfvars becomes an equivalent settings file."""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import run_himat
from pangeo_himat.fit.loader import load_settings

ORIGINAL = Path(__file__).parent / "fixtures" / "tfvars" / "pangeo-himat.tfvars"


def test_original_tfvars_become_valid_equivalent_settings(tmp_path):
    out = tmp_path / "settings.yaml"
    result = run_himat("import-tfvars", str(ORIGINAL), "-o", str(out))
    assert result.returncode == 0, result.stderr
    settings = load_settings(out)
    assert settings.cluster.name == "pangeo-himat"
    assert settings.cluster.region == "us-west-2"
    assert settings.cluster.zones == ("us-west-2a", "us-west-2b")
    assert settings.spot.instance_types == ("m5.xlarge",)
    assert settings.spot.nodes == 3
    assert settings.workers.count == "auto"
    assert (settings.workers.cpu, settings.workers.memory) == ("400m", "1600Mi")
    assert (settings.workers.threads, settings.workers.processes) == (1, 1)
    assert (settings.scheduler.cpu, settings.scheduler.memory) == ("1500m", "6000Mi")
    assert (settings.jupyter.cpu, settings.jupyter.memory) == ("1500m", "6000Mi")
    assert settings.jupyter.storage == "16Gi"


def test_import_explains_what_it_changed(tmp_path):
    result = run_himat("import-tfvars", str(ORIGINAL))
    assert result.returncode == 0, result.stderr
    assert "cluster_version '1.10' is not supported" in result.stderr
    assert "worker_image 'jonahjoughin/pangeo-himat:latest' is not pinned" in result.stderr
    assert "kubeconfig_output_path: dropped" in result.stderr
    document = yaml.safe_load(result.stdout)
    assert document["image"].startswith("pangeo/pangeo-notebook:")


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
