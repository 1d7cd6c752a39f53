"""Fit figures against values computed by hand from the EKS AL2023 formulas."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from conftest import write_settings
from pangeo_himat.cli import cli
from pangeo_himat.fit.fit import compute_fit, kube_reserved_cpu_millicores, node_shape
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.fit.system_pods import SYSTEM_PODS, requests_on
from pangeo_himat.settings.catalog import load_catalog

# type: (max pods, kube-reserved CPU m, allocatable CPU m, allocatable memory MiB), by hand:
#   max pods = ENIs * (IPs per ENI - 1) + 2
#   allocatable memory = MiB - ceil(7.5 % of MiB) - (11 * max pods + 255) - 100
HAND_COMPUTED = {
    # 3 * 9 + 2 = 29; 60 + 10 = 70m; 8192 - 615 - 574 - 100
    "m5.large": (29, 70, 1930, 6903),
    # 4 * 14 + 2 = 58; 60 + 10 + 2 * 5 = 80m; 16384 - 1229 - 893 - 100
    "m5.xlarge": (58, 80, 3920, 14162),
    # 8 * 29 + 2 = 234; 60 + 10 + 10 + 12 * 2.5 = 110m; 65536 - 4916 - 2829 - 100
    "m5.4xlarge": (234, 110, 15890, 57691),
    # 4 * 14 + 2 = 58; 60 + 10 + 10 + 4 * 2.5 = 90m; 65536 - 4916 - 893 - 100
    "r5.2xlarge": (58, 90, 7910, 59627),
}


@pytest.mark.parametrize("name", sorted(HAND_COMPUTED))
def test_node_shape_matches_hand_computed_figures(name):
    shape = node_shape(load_catalog().get(name))
    pods, reserved_cpu, cpu, memory = HAND_COMPUTED[name]
    assert shape.max_pods == pods
    assert shape.kube_reserved_cpu_millicores == reserved_cpu
    assert shape.allocatable_cpu_millicores == cpu
    assert shape.allocatable_memory_mib == memory


def test_kube_reserved_cpu_ladder_rounds_each_range_down():
    assert [kube_reserved_cpu_millicores(n) for n in (1, 2, 3, 4, 5, 48)] == [
        60,
        70,
        75,
        80,
        82,
        70 + 10 + 44 * 25 // 10,
    ]


@pytest.mark.parametrize("name", sorted(HAND_COMPUTED))
def test_workers_per_node_is_what_is_left_after_system_pods(name, tmp_path):
    settings = load_settings(write_settings(tmp_path, {"spot.instance_types": [name]}))
    report = compute_fit(settings)
    _, _, cpu, memory = HAND_COMPUTED[name]
    system_cpu, system_memory, _ = requests_on("spot")
    expected = min((cpu - system_cpu) // 400, (memory - system_memory) // 1600)
    assert report.workers_per_node == expected
    assert report.worker_count == expected * 3


def test_auto_split_gives_dask_nearly_all_of_each_spot_node(tmp_path):
    settings = load_settings(
        write_settings(
            tmp_path, {"workers.cpu": "auto", "workers.memory": "auto", "workers.per_node": 3}
        )
    )
    report = compute_fit(settings)
    assert report.workers_per_node == 3
    for node in report.spot:
        assert node.fits
        assert node.dask_cpu_share_after_system >= 0.99
        assert node.dask_memory_share_after_system >= 0.99


def test_stable_node_holds_jupyter_scheduler_and_system_pods(tmp_path):
    report = compute_fit(load_settings(write_settings(tmp_path)))
    stable = report.stable
    assert stable.fits
    assert stable.requested_cpu_millicores == 3000 + requests_on("stable")[0]
    assert stable.requested_memory_mib == 12000 + requests_on("stable")[1]


def test_fit_json_has_the_table_figures(tmp_path):
    settings = write_settings(tmp_path)
    result = CliRunner().invoke(cli, ["fit", "-f", str(settings), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["stable"]["shape"]["allocatable_cpu_millicores"] == 3920
    assert data["workers"]["count"] == 3 * data["workers"]["per_node"]
    assert data["problems"] == []
    assert 0 < data["spot"][0]["dask_cpu_share"] <= 1


def test_fit_table_lists_every_node_type(tmp_path):
    settings = write_settings(tmp_path)
    result = CliRunner().invoke(cli, ["fit", "-f", str(settings)])
    assert result.exit_code == 0, result.output
    for name in ["m5.xlarge", "m5a.xlarge", "m6i.xlarge", "m6a.xlarge"]:
        assert name in result.stdout


@pytest.mark.parametrize("cpu", ["1", "2", "1500m"])
def test_fit_prints_every_cpu_figure_in_millicores(tmp_path, cpu):
    settings = write_settings(tmp_path, {"workers.cpu": cpu, "workers.memory": "2Gi"})
    result = CliRunner().invoke(cli, ["fit", "-f", str(settings)])
    table = result.stdout.splitlines()
    # allocatable, system pods, ours and free are `<cpu>/<memory>` pairs
    pairs = [cell for row in table[1:-2] for cell in row.split() if "/" in cell]
    assert pairs and all(pair.split("/")[0].endswith("m") for pair in pairs), pairs
    assert f"({cpu if cpu.endswith('m') else str(int(cpu) * 1000) + 'm'} CPU, " in table[-2]


def test_ebs_csi_figures_match_the_chart_defaults():
    # charts/aws-ebs-csi-driver: node 10m/40Mi + two sidecars at 10m/32Mi; controller five
    # containers at 10m/40Mi + liveness-probe at 10m/32Mi.
    pods = {pod.name: pod for pod in SYSTEM_PODS}
    assert (pods["ebs-csi-node"].cpu_millicores, pods["ebs-csi-node"].memory_mib) == (30, 104)
    controller = pods["ebs-csi-controller"]
    assert (controller.cpu_millicores, controller.memory_mib, controller.replicas) == (60, 232, 2)
    assert not any("metrics-server" in name for name in pods)
