"""The instance catalog covers what AWS offers; fit knows architectures and GPUs; cost says
how to give a price the catalog lacks."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from importlib import resources

from conftest import ROOT, run_himat, write_settings
from pangeo_himat.settings.catalog import load_catalog

MOTO_RECORDS = "ec2/resources/instance_types.json.gz"


def moto_types() -> dict[str, dict]:
    with resources.files("moto").joinpath(MOTO_RECORDS).open("rb") as handle:
        return json.loads(gzip.decompress(handle.read()))


def test_the_catalog_holds_every_type_of_the_records_but_the_mac_instances():
    records = moto_types()
    mac = {
        name
        for name, record in records.items()
        if "mac" in " ".join(record["ProcessorInfo"]["SupportedArchitectures"])
    }
    assert mac and set(load_catalog().types) == set(records) - mac
    assert {"m7g.xlarge", "g4dn.xlarge", "c7gn.large", "x2iedn.xlarge"} <= set(load_catalog().types)


def test_the_shipped_catalog_is_what_the_build_script_writes():
    check = [sys.executable, str(ROOT / "scripts" / "build_catalog.py"), "--check"]
    assert subprocess.run(check, capture_output=True).returncode == 0


def test_architecture_and_gpus_come_from_the_records():
    catalog = load_catalog()
    assert catalog.types["m7g.xlarge"].architecture == "arm64"
    assert catalog.types["t2.micro"].architecture == "x86_64"  # its records list i386 first
    assert (catalog.types["g4dn.xlarge"].gpus, catalog.types["m5.xlarge"].gpus) == (1, 0)


def problem_lines(tmp_path, changes: dict) -> tuple[int, list[str]]:
    result = run_himat("validate", "-f", str(write_settings(tmp_path, changes)))
    return result.returncode, result.stderr.splitlines()


def refusal(tmp_path, changes: dict, key: str) -> str:
    """The one line validate prints for `key` (it exits 2)."""
    status, lines = problem_lines(tmp_path, changes)
    assert status == 2
    [line] = [line for line in lines if f" {key}: " in line]
    return line


def test_an_arm64_type_is_refused_while_the_image_has_no_arm64_build(tmp_path):
    line = refusal(tmp_path, {"stable.instance_type": "m7g.xlarge"}, "stable.instance_type")
    assert "m7g.xlarge is arm64, and image_architectures says the image has no arm64 build" in line
    assert "add arm64 to image_architectures" in line


def test_an_arm64_type_is_accepted_when_the_image_has_an_arm64_build(tmp_path):
    changes = {
        "image_architectures": ["amd64", "arm64"],
        "spot.instance_types": ["m7g.xlarge", "m6g.xlarge"],
        "spot.max_price": None,
    }
    status, lines = problem_lines(tmp_path, changes)
    assert status == 0, lines


def test_a_gpu_type_is_refused_with_the_reason(tmp_path):
    line = refusal(tmp_path, {"spot.instance_types": ["g4dn.xlarge"]}, "spot.instance_types[0]")
    assert "g4dn.xlarge is a GPU type (1 GPU)" in line
    assert "NVIDIA device plugin" in line


def test_cost_says_how_to_give_a_missing_price_then_uses_it(tmp_path):
    changes = {
        "image_architectures": ["arm64"],
        "stable.instance_type": "m7g.xlarge",
        "spot.instance_types": ["m7g.xlarge"],
    }
    assert "us-west-2" not in load_catalog().types["m7g.xlarge"].on_demand_usd_per_hour
    result = run_himat("cost", "--json", "-f", str(write_settings(tmp_path, changes)))
    assert result.returncode == 0, result.stderr
    notes = json.loads(result.stdout)["notes"]
    assert any(
        "no on-demand price for m7g.xlarge in us-west-2" in note
        and "instance_prices: {m7g.xlarge: <USD per hour>}" in note
        for note in notes
    )
    priced = write_settings(
        tmp_path, {**changes, "instance_prices": {"m7g.xlarge": 0.1632}}, "p.yaml"
    )
    result = run_himat("cost", "--json", "-f", str(priced))
    lines = json.loads(result.stdout)["lines"]
    stable = next(line for line in lines if line["item"].startswith("stable node"))
    assert stable["running"] == 0.1632
