"""Lifecycle verbs under faults, against the stand-in tools (tests/standins/standin.py):
malformed tool output, failures that are not "not found", a stop at each step of
`destroy --delete-data`, Ctrl-C during a step, a token that is not UTF-8, no settings file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from conftest import (
    LIVE_STATES,
    AWSEndpoints,
    calls,
    claim_volume,
    himat,
    himat_env,
    write_settings,
)

LIVE_1_33 = Path(__file__).parent / "fixtures" / "live-1.33"

VOLUME = "vol-0123456789abcdef0"
DESTROY_STEPS = [
    "helm uninstall himat",
    "kubectl delete pvc himat-jupyter-home",
    "eksctl delete cluster --name himat",
    "aws ec2 wait snapshot-completed",
    "aws ec2 delete-volume --volume-id",
]


def recorded_volume(project: Path) -> dict | None:
    path = project / "clusterconfig" / "himat" / "state.yaml"
    return (yaml.safe_load(path.read_text()) or {}).get("volume") if path.exists() else None


@pytest.mark.parametrize(
    ("verb", "query"),
    [
        ("status", "eksctl get nodegroup"),
        ("status", "kubectl get pods"),
        ("cluster", "eksctl get cluster"),
        ("destroy", "kubectl get pvc"),
    ],
)
def test_malformed_tool_output_is_one_clear_error(project, standins, verb, query):
    args = ("--yes",) if verb == "destroy" else ()
    result = himat(
        project,
        verb,
        *args,
        "-f",
        "default.yaml",
        path=standins,
        cluster_exists="1",
        malformed=query,
    )
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    tool = query.split()[0]
    assert f"{tool}: `{query}" in result.stderr and "502 Bad Gateway" in result.stderr
    assert not any(word in call for call in calls(project) for word in ("create", "delete"))


def test_get_cluster_failing_otherwise_than_not_found_never_creates(project, standins):
    result = himat(project, "cluster", "-f", "default.yaml", path=standins, get_cluster_error="1")
    assert result.returncode == 1
    assert "ExpiredTokenException" in result.stderr and "Traceback" not in result.stderr
    assert calls(project) == ["eksctl get cluster --name himat --region us-west-2 -o json"]


@pytest.mark.parametrize("failing", DESTROY_STEPS)
def test_destroy_delete_data_stopped_at_any_step_keeps_the_volume_recorded(
    project, standins, failing, aws
):
    # The real AWS CLI against moto's server, where the claim's volume is made; the stand-in
    # only fails the step as asked (STANDIN_FAIL), before the real CLI would run.
    volume = claim_volume(aws)
    real = {"path": standins, "extra_env": aws.env, "volume_id": volume}
    args = ("destroy", "--yes", "--delete-data", "-f", "default.yaml")
    result = himat(project, *args, cluster_exists="1", fail=failing, **real)
    assert result.returncode == 3, result.stderr
    assert recorded_volume(project) == {"id": volume, "zone": "us-west-2a"}
    assert f"the notebooks' volume {volume} in us-west-2a still exists" in result.stderr
    assert "himat destroy --delete-data" in result.stderr
    assert f"aws ec2 delete-volume --volume-id {volume} --region us-west-2" in result.stderr
    done = calls(project)
    deletions = [i for i, call in enumerate(done) if call.startswith("aws ec2 delete-volume")]
    cluster_gone = [i for i, call in enumerate(done) if call.startswith("eksctl delete cluster")]
    assert all(cluster_gone and i > cluster_gone[0] for i in deletions)

    again = himat(project, *args, **real)
    assert again.returncode == 0, again.stderr
    assert f"the notebooks' volume {volume} was deleted as asked" in again.stdout
    assert recorded_volume(project) is None
    volume_deletions = [c for c in calls(project) if c.startswith("aws ec2 delete-volume")]
    assert volume_deletions[-1] == f"aws ec2 delete-volume --volume-id {volume} --region us-west-2"
    volumes = aws.client("ec2").describe_volumes()["Volumes"]
    assert volume not in [v["VolumeId"] for v in volumes]


def test_destroy_rerun_strikes_off_a_recorded_volume_ec2_no_longer_has(
    project, standins, aws: AWSEndpoints
):
    # The real AWS CLI against moto's server; the claim's volume is made there.
    ec2 = aws.client("ec2")
    volume = ec2.create_volume(AvailabilityZone="us-west-2a", Size=16)["VolumeId"]
    real = {"path": standins, "extra_env": aws.env, "volume_id": volume}
    args = ("destroy", "--yes", "--delete-data", "-f", "default.yaml")
    first = himat(project, *args, cluster_exists="1", fail="aws ec2 delete-volume", **real)
    assert first.returncode == 3 and recorded_volume(project) is not None
    ec2.delete_volume(VolumeId=volume)  # someone deleted it meanwhile
    again = himat(project, *args, **real)
    assert again.returncode == 0, again.stderr
    assert f"the recorded volume {volume} is already gone" in again.stdout
    assert recorded_volume(project) is None
    asked = [c for c in calls(project) if not c.startswith(("aws sts", "aws budgets describe"))]
    assert asked[-1].startswith("aws ec2 describe-volumes --volume-ids " + volume)


def test_destroy_stopped_by_a_query_still_names_the_recorded_volume(project, standins):
    args = ("destroy", "--yes", "--delete-data", "-f", "default.yaml")
    knobs = {"cluster_exists": "1", "malformed": "kubectl get services"}
    result = himat(project, *args, path=standins, **knobs)
    assert result.returncode == 1
    assert f"the notebooks' volume {VOLUME} in us-west-2a still exists" in result.stderr
    assert recorded_volume(project) == {"id": VOLUME, "zone": "us-west-2a"}


def test_destroy_records_the_volume_before_deleting_anything(project, standins):
    args = ("destroy", "--yes", "-f", "default.yaml")
    result = himat(project, *args, path=standins, cluster_exists="1", fail="helm uninstall")
    assert result.returncode == 3
    assert recorded_volume(project) == {"id": VOLUME, "zone": "us-west-2a"}


def interrupt_during(project: Path, standins: Path, step: str, *args: str, **knobs: str):
    """Run himat until a stand-in sleeps in `step`, then send SIGINT to himat alone."""
    env = himat_env(project, standins, None, {"sleep": step, "sleep_s": "30", **knobs})
    process = subprocess.Popen(
        [sys.executable, "-m", "pangeo_himat", *args],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    marker = project / "calls.jsonl.sleeping"
    deadline = time.monotonic() + 60
    while not marker.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.1)
    assert marker.exists(), process.communicate(timeout=30)
    os.kill(process.pid, signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    return process.returncode, stdout, stderr


def test_ctrl_c_during_a_step_names_the_step_what_is_done_and_how_to_resume(project, standins):
    step = "eksctl scale nodegroup --cluster himat --region us-west-2 --name spot"
    status, _, stderr = interrupt_during(project, standins, step, "hibernate", "-f", "default.yaml")
    assert status == 130, stderr
    assert "interrupted during step 4/4: scale nodegroup spot-efaa5d to 0" in stderr
    assert (
        "Already done: 1. pause the worker controller; 2. pause the cluster-autoscaler; "
        "3. scale Dask workers to 0." in stderr
    )
    assert "Run `himat hibernate` again to resume" in stderr
    assert "Aborted!" not in stderr and "Traceback" not in stderr.split("interrupted")[-1]


def test_ctrl_c_during_destroy_reports_the_recorded_volume(project, standins):
    args = ("destroy", "--yes", "--delete-data", "-f", "default.yaml")
    step = "eksctl delete cluster"
    status, _, stderr = interrupt_during(project, standins, step, *args, cluster_exists="1")
    assert status == 130, stderr
    assert "interrupted during step 3/3: delete the cluster" in stderr
    assert f"the notebooks' volume {VOLUME} in us-west-2a still exists" in stderr
    assert recorded_volume(project) == {"id": VOLUME, "zone": "us-west-2a"}
    assert not any(call.startswith("aws ec2 delete-volume") for call in calls(project))


def test_status_without_a_cluster_says_so_and_what_to_run(project, standins, aws):
    result = himat(project, "status", "-f", "default.yaml", path=standins, extra_env=aws.env)
    assert result.returncode == 1
    assert "cluster himat: not found in us-west-2 (make cluster)" in result.stdout


def test_connect_with_a_token_that_is_not_utf8_is_a_clear_error(project, standins):
    result = himat(
        project,
        "connect",
        "-f",
        "default.yaml",
        path=standins,
        cluster_exists="1",
        token_hex="fffe00",
    )
    assert result.returncode == 1
    assert (
        "not UTF-8" in result.stderr and "kubectl get secret himat-jupyter-token" in result.stderr
    )
    assert "Traceback" not in result.stderr
    assert "jupyter_url" not in result.stdout


@pytest.mark.parametrize(
    ("knobs", "expected"),
    [
        ({"no_context": "1"}, "no current kube context; run `make cluster`"),
        ({"cluster_exists": "1", "unauthorized": "1"}, "does not answer with working credentials"),
        ({}, "does not answer with working credentials; run `make cluster`"),
    ],
)
def test_connect_checks_the_context_and_credentials_before_any_url(
    project, standins, knobs, expected
):
    result = himat(project, "connect", "-f", "default.yaml", path=standins, **knobs)
    assert result.returncode == 1
    assert expected in result.stderr
    assert "jupyter_url" not in result.stdout
    assert not any("port-forward" in call for call in calls(project))


@pytest.mark.parametrize("verb", ["cluster", "install", "hibernate", "resume", "destroy"])
def test_verbs_that_change_aws_refuse_the_built_in_defaults(project, standins, verb):
    result = himat(project, verb, "--dry-run", path=standins)
    assert result.returncode == 2
    assert result.stderr.startswith("settings.yaml: not found; this verb changes AWS resources")
    assert not (project / "clusterconfig").exists()
    assert calls(project) == []


def test_read_only_verbs_still_work_from_the_built_in_defaults(project, standins):
    result = himat(project, "status", "--dry-run", path=standins)
    assert result.returncode == 0, result.stderr
    assert "using the built-in defaults" in result.stderr


# --- eksctl's own failures, as its source words them (tests/standins/standin_eksctl.py) ------


def test_a_rolled_back_spot_group_stops_the_replacement_before_the_old_group_goes(
    project, standins
):
    write_settings(project, {"spot.instance_types": ["m6i.2xlarge"]}, name="changed.yaml")
    result = himat(project, "cluster", "-f", "changed.yaml", path=standins, cluster_exists="1",
                   eksctl_rollback="1")  # fmt: skip
    assert result.returncode == 1
    assert "failed to create nodegroups for cluster" in result.stderr
    assert "run `himat cluster` again" in result.stderr
    done = calls(project)
    assert any(c.startswith("eksctl create nodegroup") for c in done)
    assert not any(c.startswith(("kubectl cordon", "eksctl delete nodegroup")) for c in done)


def test_an_addon_version_eks_does_not_offer_stops_the_upgrade_at_that_addon(project, standins):
    result = himat(project, "upgrade", "-f", "default.yaml", path=standins, cluster_exists="1",
                   live=str(LIVE_1_33), eksctl_addon_version_missing="1")  # fmt: skip
    assert result.returncode == 1
    assert 'no version(s) found matching "v1.34.7-eksbuild.1" for "vpc-cni"' in result.stderr
    done = calls(project)
    assert done[-1].startswith("eksctl update addon --name vpc-cni")
    assert not any(c.startswith("eksctl upgrade nodegroup") for c in done)


def test_scaling_a_nodegroup_eks_does_not_know_is_one_clear_failure(project, standins):
    spot = json.loads((LIVE_STATES / "himat.json").read_text())["nodegroups"][0]["Name"]
    result = himat(project, "hibernate", "-f", "default.yaml", path=standins, cluster_exists="1",
                   eksctl_nodegroup_missing=spot)  # fmt: skip
    assert result.returncode == 1
    assert f"ResourceNotFoundException: No node group found for name: {spot}." in result.stderr
    assert "Traceback" not in result.stderr
