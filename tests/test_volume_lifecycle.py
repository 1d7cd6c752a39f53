"""The notebooks' volume across clusters, and its backups, with the real AWS CLI.

`aws` is the real CLI (v1) against moto's server for EC2 volumes, snapshots and tags and STS,
and against tests/aws_endpoints.py's DLM endpoint for the lifecycle policies; eksctl, helm and
kubectl are the stand-ins (the claim's PersistentVolume names the volume made in moto). The
tests check which commands himat runs, in which order, and what it records and prints.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml

from conftest import (
    ROOT,
    AWSEndpoints,
    calls,
    helm_template,
    himat,
    of_kind,
    plan_only,
    write_settings,
)
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.render import render_backup

STATE = Path("clusterconfig") / "himat" / "state.yaml"
SNAPSHOT = "snap-0fedcba9876543210"
GOLDEN = Path(__file__).parent / "golden" / "dry-run" / "volume"


def state(project: Path) -> dict:
    path = project / STATE
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def settings_with(project: Path, changes: dict) -> str:
    """default.yaml with `changes`, written into the project; returns its file name."""
    write_settings(project, changes, name="changed.yaml")
    return "changed.yaml"


def printed_volume_line(output: str) -> str:
    (volume_id,) = re.findall(r"^jupyter\.volume_id: (vol-[0-9a-f]+)$", output, re.MULTILINE)
    return volume_id


@pytest.fixture
def claim(aws: AWSEndpoints) -> str:
    """The claim's volume, in moto: 16 GiB gp3, encrypted, in us-west-2a."""
    return ebs_volume(aws, "us-west-2a")


def real(standins: Path, aws: AWSEndpoints, claim: str = "") -> dict:
    """himat's keywords for a run with the stand-ins and the real `aws` (moto, DLM)."""
    knobs = {"volume_id": claim} if claim else {}
    return {"path": standins, "extra_env": aws.env, **knobs}


def destroy(project: Path, standins: Path, aws: AWSEndpoints, claim: str) -> None:
    """`himat destroy --yes` of the default settings' running cluster: the volume is kept."""
    result = himat(project, "destroy", "--yes", "-f", "default.yaml", cluster_exists="1",
                   **real(standins, aws, claim))  # fmt: skip
    assert result.returncode == 0, result.stderr


def ebs_volume(aws: AWSEndpoints, zone: str, region: str = "us-west-2") -> str:
    ec2 = aws.client("ec2", region)
    created = ec2.create_volume(AvailabilityZone=zone, Size=16, VolumeType="gp3", Encrypted=True)
    return str(created["VolumeId"])


def test_destroy_then_install_with_the_printed_line_binds_the_same_volume(
    project, standins, aws, claim
):
    destroyed = himat(
        project,
        "destroy",
        "--yes",
        "-f",
        "default.yaml",
        **real(standins, aws, claim),
        cluster_exists="1",
    )
    assert destroyed.returncode == 0, destroyed.stderr
    assert state(project)["volume"] == {"id": claim, "zone": "us-west-2a"}
    volume_id = printed_volume_line(destroyed.stdout)
    assert volume_id == claim
    assert "cluster.zones[0]" not in destroyed.stdout  # the volume is in zones[0] already

    settings = settings_with(project, {"jupyter.volume_id": volume_id})
    installed = himat(project, "install", "-f", settings, **real(standins, aws, claim))
    assert installed.returncode == 0, installed.stderr
    assert "warning" not in installed.stderr
    assert f"aws ec2 describe-volumes --volume-ids {claim} --region us-west-2 --output json" in (
        calls(project)
    )
    documents = helm_template(project / "clusterconfig" / "himat" / "values.yaml")
    (volume,) = of_kind(documents, "PersistentVolume")
    assert volume["spec"]["csi"]["volumeHandle"] == state(project)["volume"]["id"]
    (claim,) = of_kind(documents, "PersistentVolumeClaim")
    assert claim["spec"]["volumeName"] == volume["metadata"]["name"]


def test_destroy_names_the_zone_to_choose_when_the_volume_is_elsewhere(
    project, standins, aws, claim
):
    settings = settings_with(project, {"cluster.zones": ["us-west-2b", "us-west-2a"]})
    result = himat(
        project,
        "destroy",
        "--yes",
        "-f",
        settings,
        **real(standins, aws, claim),
        cluster_exists="1",
    )
    assert result.returncode == 0, result.stderr
    assert f"jupyter.volume_id: {claim}\ncluster.zones[0]: us-west-2a" in result.stdout


def test_install_warns_that_a_recorded_volume_is_not_used(project, standins, aws, claim):
    destroy(project, standins, aws, claim)
    result = himat(project, "install", "-f", "default.yaml", **real(standins, aws, claim))
    assert result.returncode == 0, result.stderr
    assert f"records the kept notebooks' volume {claim} in us-west-2a" in result.stderr
    assert "new, empty home" in result.stderr
    assert f"jupyter.volume_id: {claim}" in result.stderr


def test_the_install_warning_names_the_zone_when_the_kept_volume_is_elsewhere(
    project, standins, aws, claim
):
    destroy(project, standins, aws, claim)
    settings = settings_with(project, {"cluster.zones": ["us-west-2b", "us-west-2a"]})
    result = himat(project, "install", "-f", settings, **real(standins, aws, claim))
    assert result.returncode == 0, result.stderr
    assert (
        f"jupyter.volume_id: {claim} and cluster.zones[0]: us-west-2a (now us-west-2b)"
    ) in result.stderr


def test_a_volume_in_another_zone_is_refused_with_the_zone_to_choose(project, standins, aws, claim):
    elsewhere = ebs_volume(aws, "us-west-2b")
    settings = settings_with(project, {"jupyter.volume_id": elsewhere})
    for verb in ("install", "cluster"):
        result = himat(project, verb, "-f", settings, **real(standins, aws))
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr
        (line,) = result.stderr.strip().splitlines()[-1:]
        assert re.match(rf"^{settings}:\d+ jupyter\.volume_id: ", line), line
        assert "set cluster.zones[0] to us-west-2b or restore a snapshot into us-west-2a" in line
    assert not [c for c in calls(project) if c.startswith(("helm", "eksctl create"))]


def test_a_volume_ec2_does_not_have_is_refused(project, standins, aws, claim):
    settings = settings_with(project, {"jupyter.volume_id": "vol-0123456789abcdef9"})
    result = himat(project, "install", "-f", settings, **real(standins, aws, claim))
    assert result.returncode == 2, result.stderr
    assert "jupyter.volume_id: volume vol-0123456789abcdef9 does not exist in us-west-2" in (
        result.stderr
    )


def test_destroy_delete_data_snapshots_and_waits_before_it_deletes(project, standins, aws, claim):
    args = ("destroy", "--yes", "--delete-data", "-f", "default.yaml")
    result = himat(project, *args, **real(standins, aws, claim), cluster_exists="1")
    assert result.returncode == 0, result.stderr
    done = calls(project)
    snapshot = next(i for i, c in enumerate(done) if c.startswith("aws ec2 create-snapshot"))
    wait = next(i for i, c in enumerate(done) if c.startswith("aws ec2 wait snapshot-completed"))
    delete = next(i for i, c in enumerate(done) if c.startswith("aws ec2 delete-volume"))
    cluster_gone = done.index("eksctl delete cluster --name himat --region us-west-2 --wait")
    assert cluster_gone < snapshot < wait < delete
    recorded = state(project)["snapshot"]
    assert recorded["volume"] == claim and recorded["reason"] == "final"
    assert done[wait].endswith(f"--snapshot-ids {recorded['id']} --region us-west-2")
    assert f"its final snapshot {recorded['id']} is kept" in result.stdout
    assert f"himat restore {recorded['id']}" in result.stdout


def test_destroy_delete_data_rerun_after_a_failed_wait_reuses_the_final_snapshot(
    project, standins, aws, claim
):
    args = ("destroy", "--yes", "--delete-data", "-f", "default.yaml")
    first = himat(
        project,
        *args,
        **real(standins, aws, claim),
        cluster_exists="1",
        fail="aws ec2 wait",
    )
    assert first.returncode == 3, first.stderr
    taken = state(project)["snapshot"]["id"]
    assert state(project)["volume"]["id"] == claim  # the volume is still recorded
    assert not [c for c in calls(project) if c.startswith("aws ec2 delete-volume")]
    again = himat(project, *args, **real(standins, aws, claim))
    assert again.returncode == 0, again.stderr
    assert len([c for c in calls(project) if c.startswith("aws ec2 create-snapshot")]) == 1
    assert f"its final snapshot {taken} is kept" in again.stdout


def test_restore_creates_an_encrypted_gp3_volume_in_the_first_zone(project, standins, aws, claim):
    ec2 = aws.client("ec2", "eu-west-1")
    kept = ec2.create_snapshot(VolumeId=ebs_volume(aws, "eu-west-1b", "eu-west-1"))["SnapshotId"]
    result = himat(project, "restore", kept, "-f", "eu.yaml", **real(standins, aws))
    assert result.returncode == 0, result.stderr
    (create,) = [c for c in calls(project) if c.startswith("aws ec2 create-volume")]
    assert f"--snapshot-id {kept} --availability-zone eu-west-1a --volume-type gp3 " in create
    assert "--encrypted" in create and "Key=himat/backup,Value=glaciers" in create
    volume_id = printed_volume_line(result.stdout)
    recorded = yaml.safe_load((project / "clusterconfig" / "glaciers" / "state.yaml").read_text())
    assert recorded["volume"] == {"id": volume_id, "zone": "eu-west-1a"}
    assert calls(project)[-1] == (
        f"aws ec2 wait volume-available --volume-ids {volume_id} --region eu-west-1"
    )


def test_restore_of_a_snapshot_ec2_does_not_have_is_one_clear_error(project, standins, aws, claim):
    result = himat(
        project, "restore", SNAPSHOT, "-f", "default.yaml", path=standins, extra_env=aws.env
    )
    assert result.returncode == 1
    assert f"snapshot {SNAPSHOT} does not exist in us-west-2" in result.stderr
    assert "Traceback" not in result.stderr and not (project / STATE).exists()


def test_restore_refuses_what_is_not_a_snapshot_id(project, standins, aws, claim):
    result = himat(
        project,
        "restore",
        "vol-0123456789abcdef0",
        "-f",
        "default.yaml",
        **real(standins, aws, claim),
    )
    assert result.returncode == 2
    assert "expected an EBS snapshot ID" in result.stderr
    assert calls(project) == []


def test_cluster_creates_the_backup_policy_then_updates_it_then_disables_it(
    project, standins, aws, claim
):
    first = himat(project, "cluster", "-f", "default.yaml", **real(standins, aws, claim))
    assert first.returncode == 0, first.stderr
    created = [c for c in calls(project) if c.startswith("aws dlm create-lifecycle-policy")]
    assert len(created) == 1
    role = "arn:aws:iam::123456789012:role/AWSDataLifecycleManagerDefaultRole"
    assert f"--execution-role-arn {role} " in created[0]
    assert '"TargetTags":[{"Key":"himat/backup","Value":"himat"}]' in created[0]
    assert '"RetainRule":{"Count":7}' in created[0]

    keep_30 = settings_with(project, {"jupyter.backup": {"schedule": "daily", "keep": 30}})
    second = himat(project, "cluster", "-f", keep_30, **real(standins, aws, claim))
    assert second.returncode == 0, second.stderr
    (updated,) = [c for c in calls(project) if c.startswith("aws dlm update-lifecycle-policy")]
    assert '"RetainRule":{"Count":30}' in updated and "--state ENABLED" in updated
    assert len([c for c in calls(project) if "create-lifecycle-policy" in c]) == 1

    off = settings_with(project, {"jupyter.backup": {"schedule": "off", "keep": 7}})
    third = himat(project, "cluster", "-f", off, **real(standins, aws, claim))
    assert third.returncode == 0, third.stderr
    disabled = [c for c in calls(project) if c.startswith("aws dlm update")][-1]
    assert disabled.endswith("--state DISABLED --region us-west-2")
    assert [policy["State"] for policy in aws.dlm.policies.values()] == ["DISABLED"]


def test_cluster_tags_a_volume_id_volume_for_the_backup_policy(project, standins, aws, claim):
    settings = settings_with(project, {"jupyter.volume_id": claim})
    result = himat(project, "cluster", "-f", settings, **real(standins, aws, claim))
    assert result.returncode == 0, result.stderr
    assert (
        f"aws ec2 create-tags --resources {claim} --tags Key=himat/backup,Value=himat "
        "Key=himat/cluster,Value=himat Key=himat/volume,Value=home --region us-west-2"
    ) in calls(project)


def test_backup_snapshots_the_claims_volume_records_it_and_status_shows_it(
    project, standins, aws, claim
):
    result = himat(
        project,
        "backup",
        "-f",
        "default.yaml",
        **real(standins, aws, claim),
        cluster_exists="1",
    )
    assert result.returncode == 0, result.stderr
    recorded = state(project)["snapshot"]
    assert recorded["volume"] == claim and recorded["reason"] == "backup"
    assert f"snapshot {recorded['id']} of {claim} is complete" in result.stdout
    status = himat(
        project,
        "status",
        "-f",
        "default.yaml",
        **real(standins, aws, claim),
        cluster_exists="1",
    )
    assert status.returncode == 0, status.stderr
    assert f"last snapshot: {recorded['id']} of {claim}, started " in status.stdout
    assert "completed (16 GiB volume)" in status.stdout


def test_status_without_a_cluster_still_lists_the_kept_volume(project, standins, aws, claim):
    destroy(project, standins, aws, claim)
    result = himat(project, "status", "-f", "default.yaml", **real(standins, aws, claim))
    assert result.returncode == 1
    assert f"kept notebooks' volume: {claim} in us-west-2a" in result.stdout
    assert "last snapshot: none yet" in result.stdout


def test_the_policy_keeps_as_many_snapshots_as_the_settings_and_dlm_allow():
    schema = json.loads((ROOT / "values.schema.json").read_text())
    keep = schema["properties"]["jupyter"]["properties"]["backup"]["properties"]["keep"]
    assert keep["maximum"] == render_backup.KEEP_MAX and keep["minimum"] == 1
    settings = load_settings(ROOT / "settings.yaml")
    (schedule,) = render_backup.policy_details(settings)["Schedules"]
    assert schedule["RetainRule"] == {"Count": settings.jupyter.backup.keep}
    assert schedule["CreateRule"]["Interval"] == 24 and schedule["CopyTags"] is True


def dlm_shape(name: str):
    """A shape of AWS's own DLM API model, as botocore ships it."""
    loader = pytest.importorskip("botocore.loaders").Loader()
    model = pytest.importorskip("botocore.model")
    service = model.ServiceModel(loader.load_service_model("dlm", "service-2"))
    return service.shape_for(name), service


@pytest.mark.parametrize("keep", [1, 7, render_backup.KEEP_MAX])
def test_the_rendered_policy_is_a_valid_create_lifecycle_policy_request(keep, tmp_path):
    validate = pytest.importorskip("botocore.validate")
    settings = load_settings(write_settings(tmp_path, {"jupyter.backup.keep": keep}))
    _, service = dlm_shape("PolicyDetails")
    request = {
        "ExecutionRoleArn": "arn:aws:iam::123456789012:role/AWSDataLifecycleManagerDefaultRole",
        "Description": render_backup.policy_description("himat"),
        "State": "ENABLED",
        "PolicyDetails": render_backup.policy_details(settings),
    }
    operation = service.operation_model("CreateLifecyclePolicy")
    validate.validate_parameters(request, operation.input_shape)  # raises when invalid
    count, _ = dlm_shape("StandardTierRetainRuleCount")
    assert count.metadata["min"] <= keep <= count.metadata["max"] == render_backup.KEEP_MAX
    description, _ = dlm_shape("PolicyDescription")
    assert re.fullmatch(description.metadata["pattern"], request["Description"])


def test_cluster_dry_run_with_a_volume_id_and_backups_off_prints_the_golden_commands(
    project, standins
):
    changes = {
        "jupyter.volume_id": "vol-0123456789abcdef0",
        "jupyter.backup": {"schedule": "off", "keep": 7},
    }
    settings = settings_with(project, changes)
    result = himat(project, "cluster", "-f", settings, "--dry-run", path=standins)
    assert result.returncode == 0, result.stderr
    golden = GOLDEN / "cluster-volume-id-backup-off.txt"
    if os.environ.get("HIMAT_UPDATE_GOLDEN"):
        golden.write_text(plan_only(result.stdout))
    assert plan_only(result.stdout) == golden.read_text()
    # A dry run of `cluster` reads the live cluster with eksctl and changes nothing.
    assert all(call.startswith("eksctl get ") for call in calls(project)), calls(project)


def test_a_bare_off_in_yaml_turns_backups_off(tmp_path):
    path = write_settings(tmp_path)
    text = path.read_text()
    path.write_text(text.replace("schedule: daily", "schedule: off"))
    assert "schedule: off" in path.read_text()
    settings = load_settings(path)
    assert settings.jupyter.backup.schedule is False  # YAML 1.1 reads off as false
    assert not render_backup.backup_enabled(settings)


def test_without_aws_credentials_nothing_runs_and_the_cli_says_why(project, standins, aws):
    env = {**aws.env, "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    result = himat(project, "backup", "-f", "default.yaml", path=standins, extra_env=env,
                   cluster_exists="1")  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "aws: no working AWS credentials (Unable to locate credentials." in result.stderr
    assert [c for c in calls(project) if not c.startswith("aws sts")] == []
