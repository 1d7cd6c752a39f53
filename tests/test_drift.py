"""A running cluster follows the settings (`cluster`), and Kubernetes upgrades (`upgrade`).

Contract tests against the stand-ins (tests/standins/standin.py), which answer `eksctl get
cluster|nodegroup|addon|podidentityassociation -o json` from recorded live states
(tests/fixtures/live*/<cluster>.json, eksctl's JSON shapes) and change them as eksctl would.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import (
    LIVE_STATES,
    ROOT,
    AWSEndpoints,
    calls,
    himat,
    himat_env,
    plan_only,
    write_settings,
)
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.lifecycle.drift import association_key, associations_config, policy_hashes
from pangeo_himat.lifecycle.live import (
    LiveCluster,
    LiveGroup,
    associations,
    default_addon_version,
)
from pangeo_himat.lifecycle.plans import install_steps
from pangeo_himat.lifecycle.state import State, save_state
from pangeo_himat.lifecycle.steps import Target
from pangeo_himat.lifecycle.upgrade import (
    addon_names,
    chain,
    invalid_manifests,
    minor,
    refusal,
    upgrade_steps,
)
from pangeo_himat.render import names
from pangeo_himat.render.render import render_all
from pangeo_himat.settings.versions import load_calendar
from standins.standin_live import association_summary

GOLDEN = Path(__file__).parent / "golden" / "dry-run" / "drift"
LIVE_1_33 = Path(__file__).parent / "fixtures" / "live-1.33"
BUCKET = [{"name": "himat-scratch", "access": "readwrite"}]
QUERIES = 4  # get cluster, nodegroup, addon, podidentityassociation
KUBECONFIG = "eksctl utils write-kubeconfig --cluster himat --region us-west-2"
BACKUP_CALLS = ("aws dlm ", "aws sts ", "aws budgets ")
BACKUP_DRY_RUN = "# asks first: aws dlm "
VARIANTS = {
    "unchanged": ({}, LIVE_STATES, "cluster"),
    "bucket-added": ({"data.buckets": BUCKET}, LIVE_STATES, "cluster"),
    "spot-types-changed": ({"spot.instance_types": ["m6i.2xlarge"]}, LIVE_STATES, "cluster"),
    "sizes-changed": ({"spot.nodes": 5, "spot.max_nodes": 12}, LIVE_STATES, "cluster"),
    "stable-type-changed": ({"stable.instance_type": "m5.2xlarge"}, LIVE_STATES, "cluster"),
    "live-1.33": ({}, LIVE_1_33, "cluster"),
    "upgrade-1.33-to-1.35": ({}, LIVE_1_33, "upgrade"),
}


def settings_file(project: Path, changes: dict) -> str:
    write_settings(project, changes, name="changed.yaml")
    return "changed.yaml"


def actions(project: Path) -> list[str]:
    """The calls after the live-state queries, leaving out the backup policy's and the
    budget's, which tests/test_volume_lifecycle.py and tests/test_budget*.py pin."""
    return [
        call
        for call in calls(project)
        if " get " not in f" {call} " and not call.startswith(BACKUP_CALLS)
    ]


def cluster_part(stdout: str) -> list[str]:
    """The dry-run lines of the cluster itself: what comes before the backup policy's part."""
    lines = stdout.splitlines()
    backup = [i for i, line in enumerate(lines) if line.startswith(BACKUP_DRY_RUN)]
    return lines[: backup[0]] if backup else lines


def cluster_on_running(
    project: Path, settings: str, standins: Path, aws: AWSEndpoints, live: Path = LIVE_STATES
) -> subprocess.CompletedProcess:
    """`himat cluster -f settings` on a running cluster (recorded in `live`), the real CLI
    against moto."""
    return himat(project, "cluster", "-f", settings, path=standins, extra_env=aws.env,
                 cluster_exists="1", live=str(live))  # fmt: skip


def spot_name(project: Path, settings: str) -> str:
    return str(
        render_all(load_settings(project / settings)).cluster_config["nodeGroups"][0]["name"]
    )


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_dry_run_prints_the_golden_difference_and_commands(variant, project, standins):
    changes, live, verb = VARIANTS[variant]
    settings = settings_file(project, changes)
    result = himat(project, verb, "-f", settings, "--dry-run", path=standins,
                   cluster_exists="1", live=str(live))  # fmt: skip
    assert result.returncode == 0, result.stderr
    golden = GOLDEN / f"{variant}.txt"
    if os.environ.get("HIMAT_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(plan_only(result.stdout))
    assert plan_only(result.stdout) == golden.read_text()
    assert actions(project) == [] or all(
        "template" in a or "describe-addon" in a for a in actions(project)
    ), "a dry run changed something"


def test_dry_run_on_an_absent_cluster_prints_the_create_plan(project, standins):
    result = himat(project, "cluster", "-f", "default.yaml", "--dry-run", path=standins)
    assert result.returncode == 0, result.stderr
    assert cluster_part(result.stdout)[1:] == [
        "eksctl create cluster -f clusterconfig/himat/eksctl.yaml",
        KUBECONFIG,
    ]


def test_an_unchanged_cluster_plans_nothing(project, standins, aws):
    result = cluster_on_running(project, "default.yaml", standins, aws)
    assert result.returncode == 0, result.stderr
    assert actions(project) == [KUBECONFIG]


def test_adding_a_bucket_creates_only_the_missing_association_and_restarts_its_pods(
    project, standins, aws
):
    # The live cluster has the autoscaler's association; eksctl fails on an existing one.
    settings = settings_file(project, {"data.buckets": BUCKET})
    result = cluster_on_running(project, settings, standins, aws)
    assert result.returncode == 0, result.stderr
    assert actions(project) == [
        KUBECONFIG,
        "eksctl create podidentityassociation -f clusterconfig/himat/podidentity-new.yaml",
        "kubectl rollout restart deployment/himat-jupyter deployment/himat-worker -n himat",
    ]
    created = yaml.safe_load((project / "clusterconfig/himat/podidentity-new.yaml").read_text())
    assert created["metadata"] == {"name": "himat", "region": "us-west-2"}
    assert [a["serviceAccountName"] for a in created["iam"]["podIdentityAssociations"]] == [
        "himat-user"
    ]
    state = yaml.safe_load((project / "clusterconfig/himat/state.yaml").read_text())
    assert sorted(state["pod_identity_policies"]) == [
        "himat/himat-user",
        "kube-system/cluster-autoscaler",
    ]
    (project / "calls.jsonl").unlink()
    again = cluster_on_running(project, settings, standins, aws)
    assert again.returncode == 0, again.stderr
    assert actions(project) == [KUBECONFIG], "a second run plans the association again"


def test_a_changed_bucket_policy_updates_the_association(project, standins, aws):
    first = settings_file(project, {"data.buckets": BUCKET})
    assert cluster_on_running(project, first, standins, aws).returncode == 0
    (project / "calls.jsonl").unlink()
    read_too = [*BUCKET, {"name": "its-live-data", "access": "read"}]
    settings = settings_file(project, {"data.buckets": read_too})
    result = cluster_on_running(project, settings, standins, aws)
    assert result.returncode == 0, result.stderr
    assert actions(project)[1:3] == [
        "eksctl update podidentityassociation -f clusterconfig/himat/eksctl.yaml",
        "kubectl rollout restart deployment/himat-jupyter deployment/himat-worker -n himat",
    ]


def test_removing_every_bucket_deletes_the_association(project, standins, aws):
    first = settings_file(project, {"data.buckets": BUCKET})
    assert cluster_on_running(project, first, standins, aws).returncode == 0
    (project / "calls.jsonl").unlink()
    result = cluster_on_running(project, "default.yaml", standins, aws)
    assert result.returncode == 0, result.stderr
    assert actions(project)[1] == (
        "eksctl delete podidentityassociation --cluster himat --region us-west-2 "
        "--namespace himat --service-account-name himat-user"
    )


def test_changed_spot_types_plan_a_replacement_with_retirement_before_deletion(
    project, standins, aws
):
    settings = settings_file(project, {"spot.instance_types": ["m6i.2xlarge"]})
    new, old = spot_name(project, settings), spot_name(project, "default.yaml")
    assert new != old
    result = cluster_on_running(project, settings, standins, aws)
    assert result.returncode == 0, result.stderr
    assert actions(project) == [
        KUBECONFIG,
        f"eksctl create nodegroup -f clusterconfig/himat/eksctl.yaml --include={new}",
        f"kubectl cordon -l alpha.eksctl.io/nodegroup-name={old}",
        "kubectl rollout restart deployment/himat-worker -n himat",
        "kubectl rollout status deployment/himat-worker -n himat --timeout 15m",
        f"eksctl delete nodegroup --cluster himat --region us-west-2 --name {old} --drain "
        "--approve --wait",
        # Then what names the group: the autoscaler and the chart (--spot-nodegroup).
        *[" ".join(step.argv) for step in install_steps(load_settings(project / settings))[1:]],
    ]
    (project / "calls.jsonl").unlink()
    again = cluster_on_running(project, settings, standins, aws)
    assert again.returncode == 0, again.stderr
    assert actions(project) == [KUBECONFIG]


def test_changed_sizes_scale_in_place(project, standins, aws):
    settings = settings_file(project, {"spot.nodes": 5, "spot.max_nodes": 12})
    result = cluster_on_running(project, settings, standins, aws)
    assert result.returncode == 0, result.stderr
    spot = spot_name(project, settings)
    assert spot == spot_name(project, "default.yaml"), "a size changed the group's name"
    assert actions(project) == [
        KUBECONFIG,
        f"eksctl scale nodegroup --cluster himat --region us-west-2 --name {spot} --nodes 5 "
        "--nodes-min 0 --nodes-max 12",
    ]


@pytest.mark.parametrize(
    ("changes", "stable_changes", "spot_changes"),
    [
        ({"spot.max_price": 0.2}, False, True),
        ({"spot.nodes": 1}, False, False),
        ({"stable.instance_type": "m5.2xlarge"}, True, False),
        ({"cluster.tags": {"project": "other"}}, False, False),
        ({"cluster.kubernetes_version": "1.34"}, False, True),
    ],
)
def test_a_nodegroup_name_changes_exactly_with_its_fixed_fields(
    changes, stable_changes, spot_changes, tmp_path
):
    def groups(settings_changes: dict) -> tuple[str, str]:
        config = render_all(
            load_settings(write_settings(tmp_path, settings_changes))
        ).cluster_config
        return config["managedNodeGroups"][0]["name"], config["nodeGroups"][0]["name"]

    before, after = groups({}), groups(changes)
    assert (before[0] != after[0], before[1] != after[1]) == (stable_changes, spot_changes)
    assert [names.nodegroup_role(name) for name in after] == ["stable", "spot"]


def test_an_old_live_version_upgrades_one_minor_at_a_time_then_addons_and_nodegroups(
    project, standins
):
    result = himat(project, "upgrade", "-f", "default.yaml", path=standins,
                   cluster_exists="1", live=str(LIVE_1_33))  # fmt: skip
    assert result.returncode == 0, result.stderr
    done = actions(project)
    upgrades = [call for call in done if call.startswith("eksctl upgrade cluster")]
    assert upgrades == [
        f"eksctl upgrade cluster --name himat --region us-west-2 --version {v} --approve"
        for v in ("1.34", "1.35")
    ]
    assert KUBECONFIG in done[: done.index(upgrades[0])]
    for version in ("1.34", "1.35"):
        start = done.index(next(c for c in upgrades if f"--version {version}" in c))
        following = done[start + 1 : start + 7]
        assert [c.split()[:3] for c in following[:5]] == [["eksctl", "update", "addon"]] * 5
        assert all(f"v{version}." in c for c in following[:5]), following
        assert following[5].startswith("eksctl upgrade nodegroup --cluster himat")
        assert following[5].endswith(f"--kubernetes-version {version}")
    new = spot_name(project, "default.yaml")
    tail = done[done.index(upgrades[-1]) + 7 :]
    assert tail[0] == f"eksctl create nodegroup -f clusterconfig/himat/eksctl.yaml --include={new}"
    assert tail[-4].startswith("eksctl delete nodegroup") and "spot-" in tail[-4]
    installs = install_steps(load_settings(project / "default.yaml"))
    assert tail[-3:] == [" ".join(step.argv) for step in installs]
    (project / "calls.jsonl").unlink()
    again = himat(project, "upgrade", "-f", "default.yaml", path=standins, cluster_exists="1")
    assert again.returncode == 0, again.stderr
    assert "nothing to upgrade" in again.stdout
    assert [c for c in actions(project) if "template" not in c] == []


def test_a_downgrade_is_refused_with_the_settings_key(project, standins):
    settings = settings_file(
        project, {"cluster.kubernetes_version": "1.34", "cluster.support": "extended"}
    )
    result = himat(project, "upgrade", "-f", settings, path=standins, cluster_exists="1")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "cluster.kubernetes_version" in result.stderr and "cannot downgrade" in result.stderr
    assert "Traceback" not in result.stderr
    assert actions(project) == []


def test_an_absent_cluster_is_not_upgraded(project, standins):
    result = himat(project, "upgrade", "-f", "default.yaml", path=standins)
    assert result.returncode == 1
    assert "not found in us-west-2 (make cluster)" in result.stdout
    assert actions(project) == []


def test_the_chain_is_every_minor_version_in_order():
    assert chain("1.31", "1.35") == ["1.32", "1.33", "1.34", "1.35"]
    assert chain("1.35", "1.35") == []


def test_a_manifest_invalid_for_the_target_version_is_named():
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
           "spec": {"containers": [{"name": "c", "image": "i", "bogus": 1}]}}  # fmt: skip
    removed = {"apiVersion": "policy/v1beta1", "kind": "PodDisruptionBudget",
               "metadata": {"name": "b"}, "spec": {}}  # fmt: skip
    problems = invalid_manifests([pod, removed], "1.34")
    assert problems[0].startswith("Pod/p is not valid for Kubernetes 1.34: ")
    assert (
        problems[1]
        == "PodDisruptionBudget/b: Kubernetes 1.34 has no PodDisruptionBudget in policy/v1beta1"
    )


def test_creating_an_association_that_exists_fails_as_eksctl_fails(project, standins):
    # The whole rendered file holds the autoscaler's association, which the live cluster has.
    himat(project, "render", "-f", "default.yaml")
    env = himat_env(project, standins, None, {"cluster_exists": "1"})
    result = subprocess.run(
        [str(standins / "eksctl"), "create", "podidentityassociation", "-f",
         "clusterconfig/himat/eksctl.yaml"],
        cwd=project, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith(
        "Error: creating IAM role for pod identity association for service account "
        "cluster-autoscaler in namespace kube-system: creating CloudFormation stack "
        '"eksctl-himat-podidentityrole-kube-system-cluster-autoscaler"'
    )
    assert "AlreadyExistsException" in result.stderr


def test_status_shows_the_support_end_its_cost_and_the_difference(project, standins, aws):
    settings = settings_file(project, {"data.buckets": BUCKET})
    result = himat(project, "status", "-f", settings, path=standins, extra_env=aws.env,
                   cluster_exists="1", live=str(LIVE_1_33))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "kubernetes: 1.33, standard support ended 2026-07-29" in result.stdout
    assert "+USD 365/month" in result.stdout
    assert "follows the settings: no (Kubernetes version, pod identity himat/himat-user" in (
        result.stdout
    )
    assert "make upgrade, then make cluster" in result.stdout


def test_status_of_a_cluster_that_follows_the_settings(project, standins, aws):
    result = himat(project, "status", "-f", "default.yaml", path=standins,
                   extra_env=aws.env, cluster_exists="1")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "kubernetes: 1.35, standard support until 2027-03-27" in result.stdout
    assert "follows the settings: yes" in result.stdout


def test_recorded_live_states_match_the_rendered_settings():
    """The recorded default state is what `eksctl create cluster` of the default settings makes;
    regenerate it deliberately when the nodegroup names change."""
    config = render_all(load_settings(ROOT / "settings.yaml")).cluster_config
    recorded = yaml.safe_load((LIVE_STATES / "himat.json").read_text())
    # eksctl lists the unmanaged groups first (pkg/actions/nodegroup/get.go GetAll).
    wanted = [config["nodeGroups"][0]["name"], config["managedNodeGroups"][0]["name"]]
    assert [group["Name"] for group in recorded["nodegroups"]] == wanted
    spot, stable = recorded["nodegroups"]
    # As eksctl prints them: the spot group's version is its kubelets' (a patch version), its
    # instance type the first of the mixed list, its ASG the stack's "NodeGroup" resource.
    assert spot["Version"].startswith(config["metadata"]["version"] + ".")
    assert (
        spot["InstanceType"] == config["nodeGroups"][0]["instancesDistribution"]["instanceTypes"][0]
    )
    assert spot["AutoScalingGroupName"].startswith(f"{spot['StackName']}-NodeGroup-")
    assert stable["Version"] == config["metadata"]["version"]
    assert stable["ImageID"] == "AL2023_x86_64_STANDARD"


def test_dry_run_without_eksctl_prints_the_create_plan_and_says_why(project):
    result = himat(project, "cluster", "-f", "default.yaml", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert cluster_part(result.stdout) == [
        "# eksctl is not on PATH, so the live cluster cannot be read; a new one takes:",
        "eksctl create cluster -f clusterconfig/himat/eksctl.yaml",
        KUBECONFIG,
    ]


def test_a_replacement_stopped_before_the_old_group_was_deleted_is_finished(
    project, standins, tmp_path, aws
):
    recorded = json.loads((LIVE_STATES / "himat.json").read_text())
    old = {**recorded["nodegroups"][0], "Name": "spot-0a0a0a"}
    recorded["nodegroups"].append(old)
    live = tmp_path / "live"
    live.mkdir()
    (live / "himat.json").write_text(json.dumps(recorded))
    result = cluster_on_running(project, "default.yaml", standins, aws, live)
    assert result.returncode == 0, result.stderr
    assert actions(project) == [
        KUBECONFIG,
        "kubectl cordon -l alpha.eksctl.io/nodegroup-name=spot-0a0a0a",
        "kubectl rollout restart deployment/himat-worker -n himat",
        "kubectl rollout status deployment/himat-worker -n himat --timeout 15m",
        "eksctl delete nodegroup --cluster himat --region us-west-2 --name spot-0a0a0a --drain "
        "--approve --wait",
        *[
            " ".join(step.argv)
            for step in install_steps(load_settings(project / "default.yaml"))[1:]
        ],
    ]


def test_a_target_the_calendar_does_not_know_is_refused():
    calendar = load_calendar()
    newest = list(calendar.versions)[-1]
    beyond = f"1.{int(newest.split('.')[1]) + 2}"
    message = refusal(newest, beyond, calendar)
    assert message is not None and "does not know" in message
    assert refusal(newest, newest, calendar) is None
    assert "cannot downgrade" in (refusal(newest, list(calendar.versions)[-2], calendar) or "")


def test_an_upgrade_stopped_before_the_stable_group_resumes_with_its_addons_and_group(
    project, standins, tmp_path
):
    recorded = json.loads((LIVE_STATES / "himat.json").read_text())
    recorded["nodegroups"][1]["Version"] = "1.34"
    live = tmp_path / "live"
    live.mkdir()
    (live / "himat.json").write_text(json.dumps(recorded))
    result = himat(project, "upgrade", "-f", "default.yaml", path=standins,
                   cluster_exists="1", live=str(live))  # fmt: skip
    assert result.returncode == 0, result.stderr
    done = [c for c in actions(project) if "template" not in c and "describe-addon" not in c]
    assert done[0] == KUBECONFIG
    assert not any(call.startswith("eksctl upgrade cluster") for call in done)
    assert [call.split()[:3] for call in done[1:6]] == [["eksctl", "update", "addon"]] * 5
    assert done[6].startswith("eksctl upgrade nodegroup --cluster himat --region us-west-2 --name")
    assert done[6].endswith("--kubernetes-version 1.35")
    installs = install_steps(load_settings(project / "default.yaml"))
    assert done[7:] == [" ".join(step.argv) for step in installs]


def test_a_replacement_waits_for_the_upgrade_when_the_versions_differ(project, standins, aws):
    settings = settings_file(project, {"stable.instance_type": "m5.2xlarge"})
    result = cluster_on_running(project, settings, standins, aws, LIVE_1_33)
    assert result.returncode == 0, result.stderr
    assert "after himat upgrade: replace" in result.stdout
    assert actions(project) == [KUBECONFIG]
    status = himat(project, "status", "-f", settings, path=standins, extra_env=aws.env,
                   cluster_exists="1", live=str(LIVE_1_33))  # fmt: skip
    assert "make upgrade, then make cluster" in status.stdout


def test_addon_versions_are_read_after_the_log_line_eksctl_prints_on_stdout():
    # What eksctl 0.215 prints for `utils describe-addon-versions` at its default verbosity:
    # the info line on stdout, then the tab-indented JSON (pkg/actions/addon/describe_versions.go).
    versions = [
        {"AddonVersion": "v1.35.0-eksbuild.2", "Compatibilities": [{"DefaultVersion": False}]},
        {"AddonVersion": "v1.35.0-eksbuild.1", "Compatibilities": [{"DefaultVersion": True}]},
    ]
    document = json.dumps({"Addons": [{"AddonName": "vpc-cni", "AddonVersions": versions}]},
                          indent="\t")  # fmt: skip
    stdout = "2026-12-07 14:00:00 [ℹ]  describing addon versions for addon: vpc-cni\n" + document
    assert default_addon_version(stdout + "\n") == "v1.35.0-eksbuild.1"
    assert associations("null\n") == ()  # eksctl prints null for an empty list
    with pytest.raises(ValueError):
        default_addon_version("2026-12-07 14:00:00 [ℹ]  describing addon versions\n")


def test_an_upgrade_ends_by_pointing_associations_autoscaler_and_chart_at_the_new_spot_group(
    project, standins, tmp_path
):
    idle = {"idle.hibernate_after": "8h"}
    settings = settings_file(project, idle)
    # The cluster as himat left it at 1.33: the idle-sleep association's policy names the
    # spot group of 1.33 (its hash is recorded in state.yaml).
    old = write_settings(tmp_path, {**idle, "cluster.kubernetes_version": "1.33",
                                    "cluster.support": "extended"})  # fmt: skip
    old_config = render_all(load_settings(old)).cluster_config
    recorded = json.loads((LIVE_1_33 / "himat.json").read_text())
    controller = f"himat/{names.controller_service_account('himat')}"
    (association,) = [
        a for a in old_config["iam"]["podIdentityAssociations"]
        if association_key(a) == controller
    ]  # fmt: skip
    recorded["podidentityassociations"].append(association_summary("himat", association))
    live = tmp_path / "live"
    live.mkdir()
    (live / "himat.json").write_text(json.dumps(recorded))
    state = project / "clusterconfig" / "himat" / "state.yaml"
    save_state(state, State().with_policy_hashes(policy_hashes(old_config)))
    result = himat(project, "upgrade", "-f", settings, path=standins,
                   cluster_exists="1", live=str(live))  # fmt: skip
    assert result.returncode == 0, result.stderr
    done = [c for c in actions(project) if "template" not in c and "describe-addon" not in c]
    deleted = next(i for i, c in enumerate(done) if c.startswith("eksctl delete nodegroup"))
    assert "spot-2780df" in done[deleted]
    assert done[deleted + 1 :] == [
        "eksctl update podidentityassociation -f clusterconfig/himat/eksctl.yaml",
        "kubectl rollout restart deployment/himat-controller -n himat",
        *[" ".join(step.argv) for step in install_steps(load_settings(project / settings))],
    ]
    values = yaml.safe_load((project / "clusterconfig/himat/values.yaml").read_text())
    assert values["controller"]["spotNodegroup"] == spot_name(project, settings)
    hashes = yaml.safe_load(state.read_text())["pod_identity_policies"]
    assert hashes == policy_hashes(render_all(load_settings(project / settings)).cluster_config)


def control_plane_steps_with_spot_kubelets(steps, spot_minor: int, old: str):
    """Each control-plane step's version, with the minor of the spot kubelets running then
    (None once the old spot group was scaled to 0)."""
    running: int | None = spot_minor
    seen = []
    for step in steps:
        argv = list(step.argv)
        if argv[:3] == ["eksctl", "scale", "nodegroup"] and old in argv:
            running = None if argv[argv.index("--nodes") + 1] == "0" else running
        if argv[:3] == ["eksctl", "upgrade", "cluster"]:
            seen.append((argv[argv.index("--version") + 1], running))
    return seen


def test_no_control_plane_step_leaves_a_kubelet_more_than_three_minors_behind(tmp_path):
    settings = load_settings(write_settings(tmp_path))  # Kubernetes 1.35
    config = render_all(settings).cluster_config
    target = Target.of(settings)
    old_spot = "spot-0a1b2c"
    found = LiveCluster(
        "1.31",
        (
            LiveGroup("stable-22e223", 1, 0, 1, "1.31"),
            LiveGroup(old_spot, 3, 0, 10, "1.31.7"),  # eksctl: the nodes' kubelet version
        ),
        (),
        (),
    )
    defaults = {(a, v): "v1" for a in addon_names(config) for v in chain("1.31", "1.35")}
    steps = upgrade_steps(target, config, found, defaults, [])
    seen = control_plane_steps_with_spot_kubelets(steps, 31, old_spot)
    assert [version for version, _ in seen] == ["1.32", "1.33", "1.34", "1.35"]
    for version, kubelet in seen:
        assert kubelet is None or minor(version) - kubelet <= 3, (version, kubelet)
    shown = [step.shell() for step in steps]
    pause = shown.index("kubectl scale deployment/himat-controller --replicas 0 -n himat")
    assert pause < shown.index(
        "eksctl upgrade cluster --name himat --region us-west-2 --version 1.35 --approve"
    )
    assert shown[-2:] == [
        "kubectl scale deployment/cluster-autoscaler --replicas 1 -n kube-system",
        "kubectl scale deployment/himat-controller --replicas 1 -n himat",
    ]
    # Within the skew, the spot nodes keep running until their replacement.
    near = LiveCluster(
        "1.33", found.groups[:1] + (LiveGroup(old_spot, 3, 0, 10, "1.33.2"),), (), ()
    )
    assert not any("--replicas 0" in step.shell() for step in upgrade_steps(
        target, config, near, defaults, []))  # fmt: skip


def test_the_file_of_missing_associations_is_a_valid_cluster_config(eksctl_schema, tmp_path):
    settings = load_settings(write_settings(tmp_path, {"data.buckets": BUCKET}))
    config = render_all(settings).cluster_config
    missing = config["iam"]["podIdentityAssociations"][:1]
    document = associations_config(config, missing)
    assert list(jsonschema.Draft7Validator(eksctl_schema).iter_errors(document)) == []
    assert document["iam"]["podIdentityAssociations"] == missing


def test_associations_are_read_after_a_warning_eksctl_leaves_on_stdout():
    listed = [{"Namespace": "kube-system", "ServiceAccountName": "cluster-autoscaler",
               "RoleARN": "arn:aws:iam::123456789012:role/a"}]  # fmt: skip
    stdout = "2026-12-07 14:00:00 [!]  ignoring validation error: x\n" + json.dumps(
        listed, indent=4
    )
    (found,) = associations(stdout)
    assert found.key == "kube-system/cluster-autoscaler"
