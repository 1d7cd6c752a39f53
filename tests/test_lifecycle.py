"""Lifecycle verbs: golden --dry-run output, and contract tests against stand-in tools.

The stand-ins (tests/standins/standin.py, installed as eksctl, helm, kubectl and aws) are not
the real tools: AWS and a live cluster cannot exist here. They record their argv and answer as
the real tools do, so these tests check himat's logic: which commands, in which order, what
happens on failure and on a second run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import LIFECYCLE_SETTINGS as SETTINGS
from conftest import calls, claim_volume, himat, plan_only

GOLDEN = Path(__file__).parent / "golden" / "dry-run"
# What `cluster` and `destroy` ask about the budget (the default settings set none); calls()
# leaves out the preflight's `aws sts get-caller-identity`, which the budget's account reads too.
BUDGET_QUERIES = (
    "aws budgets describe-budget --account-id 123456789012 --budget-name himat-himat-us-west-2 "
    "--output json",
)
VERBS = {
    "cluster": [],
    "install": [],
    "hibernate": [],
    "hibernate-all": ["--all"],
    "resume": [],
    "scale": ["5"],
    "status": [],
    "connect": [],
    "destroy": [],
    "destroy-delete-data": ["--delete-data"],
    "backup": [],
    "restore": ["snap-0123456789abcdef0"],
}


@pytest.mark.parametrize("verb", sorted(VERBS))
@pytest.mark.parametrize("settings", sorted(SETTINGS))
def test_dry_run_prints_the_golden_commands_and_runs_nothing(settings, verb, project, standins):
    name = verb.split("-")[0]
    args = (name, "-f", f"{settings}.yaml", "--dry-run", *VERBS[verb])
    result = himat(project, *args, path=standins, cluster_exists="1")
    assert result.returncode == 0, result.stderr
    golden = GOLDEN / settings / f"{verb}.txt"
    if os.environ.get("HIMAT_UPDATE_GOLDEN"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(plan_only(result.stdout))
    assert plan_only(result.stdout) == golden.read_text()
    # cluster --dry-run reads the live cluster (read-only queries) to print the difference.
    asked = [call.split()[:2] for call in calls(project)]
    assert all(call == ["eksctl", "get"] for call in asked) if name == "cluster" else not asked


@pytest.mark.parametrize("verb", ["status", "connect", "hibernate"])
def test_dry_run_env_variable_runs_nothing(verb, project, standins):
    env_dry = {"DRY_RUN": "1"}
    result = himat(project, verb, "-f", "default.yaml", path=standins, extra_env=env_dry)
    assert result.returncode == 0, result.stderr
    assert not (project / "calls.jsonl").exists()


def cluster_calls(project: Path) -> list[str]:
    """What `cluster` ran for the cluster itself (the backup policy's calls left out)."""
    return [call for call in calls(project) if not call.startswith(("aws dlm ", "aws sts "))]


def test_cluster_creates_when_absent(project, standins, aws):
    # The backup policy (DLM endpoint) and budget (moto) calls are the real AWS CLI.
    result = himat(project, "cluster", "-f", "default.yaml", path=standins, extra_env=aws.env)
    assert result.returncode == 0, result.stderr
    assert cluster_calls(project) == [
        "eksctl get cluster --name himat --region us-west-2 -o json",
        "eksctl create cluster -f clusterconfig/himat/eksctl.yaml",
        "eksctl utils write-kubeconfig --cluster himat --region us-west-2",
        *BUDGET_QUERIES,
    ]
    assert "[2/2] write the kubeconfig entry" in result.stdout


def test_cluster_run_again_on_an_unchanged_cluster_only_writes_the_kubeconfig(
    project, standins, aws
):
    # The backup policy (DLM endpoint) and budget (moto) calls are the real AWS CLI.
    real = {"path": standins, "extra_env": aws.env, "cluster_exists": "1"}
    first = himat(project, "cluster", "-f", "default.yaml", **real)
    assert first.returncode == 0, first.stderr
    (project / "calls.jsonl").unlink()
    result = himat(project, "cluster", "-f", "default.yaml", **real)
    assert result.returncode == 0, result.stderr
    queries = (" get ", " get-lifecycle-policies ", " describe-budget ")
    changes = [call for call in calls(project) if not any(q in f" {call} " for q in queries)]
    # Nothing but the kubeconfig entry: the backup policy applied by the first run is recorded.
    assert changes == ["eksctl utils write-kubeconfig --cluster himat --region us-west-2"]
    assert "already follows the settings" in result.stdout


def test_install_twice_is_the_same_upgrade(project, standins):
    first = himat(project, "install", "-f", "default.yaml", path=standins)
    once = calls(project)
    second = himat(project, "install", "-f", "default.yaml", path=standins)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert calls(project) == once + once
    assert once[2].startswith("helm upgrade --install himat charts/pangeo-himat --namespace himat")
    assert "--wait" in once[2]
    assert "jupyter_url: " in first.stdout and "dask_url: " in first.stdout
    assert "kubectl get secret himat-jupyter-token" in first.stdout


@pytest.mark.parametrize("settings", sorted(SETTINGS))
def test_install_puts_the_pinned_termination_handler_and_autoscaler_before_the_chart(
    project, standins, settings
):
    result = himat(project, "install", "-f", f"{settings}.yaml", path=standins, cluster_exists="1")
    assert result.returncode == 0, result.stderr
    handler, autoscaler, chart = calls(project)[:3]
    assert handler.startswith(
        "helm upgrade --install aws-node-termination-handler "
        "oci://public.ecr.aws/aws-ec2/helm/aws-node-termination-handler --version 0.27.6 "
    )
    assert autoscaler.startswith(
        "helm upgrade --install cluster-autoscaler cluster-autoscaler "
        "--repo https://kubernetes.github.io/autoscaler --version 9.59.0 --namespace kube-system "
    )
    assert chart.startswith("helm upgrade --install ")
    assert " charts/pangeo-himat " in chart


def test_load_balancer_urls_are_https(project, standins, aws):
    knobs = {"cluster_exists": "1", "load_balancer": "1"}
    result = himat(project, "status", "-f", "eu.yaml", path=standins, extra_env=aws.env, **knobs)
    assert result.returncode == 0, result.stderr
    host = "a1b2c3-123456789.us-west-2.elb.amazonaws.com"
    assert f"jupyter_url: https://{host}/lab" in result.stdout
    assert f"dask_url: https://{host}/proxy/glaciers-scheduler:8787/status" in result.stdout


def test_failed_step_stops_the_chain_with_the_tools_status(project, standins):
    result = himat(
        project,
        "hibernate",
        "--all",
        "-f",
        "default.yaml",
        path=standins,
        fail="eksctl scale nodegroup --cluster himat --region us-west-2 --name spot",
        fail_status="7",
    )
    assert result.returncode == 7
    assert "step 4/5 failed with exit status 7" in result.stderr
    assert "run `himat hibernate` again" in result.stderr
    assert not any("--name stable" in call for call in calls(project))


def test_hibernate_says_what_still_bills(project, standins):
    result = himat(project, "hibernate", "-f", "default.yaml", path=standins)
    assert result.returncode == 0, result.stderr
    assert "still billing after hibernate: EKS control plane" in result.stdout


@pytest.mark.parametrize("typed", ["", "wrong-name\n"])
def test_destroy_without_confirmation_does_nothing(project, standins, typed):
    result = himat(project, "destroy", "-f", "default.yaml", path=standins, stdin=typed)
    assert result.returncode == 1
    assert "not confirmed" in result.stderr
    assert not any(word in call for call in calls(project) for word in ("delete", "uninstall"))


def test_destroy_keeps_the_notebooks_volume_and_deletes_load_balancers_first(
    project, standins, aws
):
    # The budget query is the real AWS CLI against moto's server (no budget: nothing to delete).
    result = himat(
        project,
        "destroy",
        "-f",
        "default.yaml",
        path=standins,
        extra_env=aws.env,
        stdin="himat\n",
        load_balancer="1",
        cluster_exists="1",
    )
    assert result.returncode == 0, result.stderr
    actions = [
        c
        for c in calls(project)
        if not c.startswith(("kubectl get", "eksctl get", *BUDGET_QUERIES))
    ]
    assert actions == [
        "kubectl delete service himat-jupyter -n himat --wait",
        "helm uninstall himat --namespace himat --ignore-not-found --wait",
        "eksctl delete cluster --name himat --region us-west-2 --wait",
    ]
    assert "kept the notebooks' EBS volume vol-0123456789abcdef0" in result.stdout


def test_destroy_deletes_data_only_when_asked_by_name(project, standins, aws):
    # The snapshot, its wait and the deletion are the real AWS CLI against moto's server.
    volume = claim_volume(aws)
    result = himat(
        project,
        "destroy",
        "--yes",
        "--delete-data",
        "-f",
        "default.yaml",
        path=standins,
        extra_env=aws.env,
        cluster_exists="1",
        volume_id=volume,
    )
    assert result.returncode == 0, result.stderr
    queries = ("kubectl get", "eksctl get", *BUDGET_QUERIES)
    actions = [c for c in calls(project) if not c.startswith(queries)]
    assert actions[-5:-3] == [
        "kubectl delete pvc himat-jupyter-home -n himat --ignore-not-found --wait",
        "eksctl delete cluster --name himat --region us-west-2 --wait",
    ]
    assert actions[-3].startswith(f"aws ec2 create-snapshot --volume-id {volume} ")
    assert actions[-2].startswith("aws ec2 wait snapshot-completed --snapshot-ids snap-")
    assert actions[-1] == f"aws ec2 delete-volume --volume-id {volume} --region us-west-2"
    volumes = aws.client("ec2").describe_volumes()["Volumes"]
    assert volume not in [v["VolumeId"] for v in volumes]


@pytest.mark.parametrize("nodes", ["11", "-1"])
def test_scale_outside_the_bounds_is_refused(project, standins, nodes):
    result = himat(project, "scale", "-f", "default.yaml", "--", nodes, path=standins)
    assert result.returncode == 2
    assert "spot.max_nodes" in result.stderr and f"cannot scale to {nodes} nodes" in result.stderr
    assert calls(project) == []


def test_scale_sets_nodes_and_the_workers_that_fit(project, standins):
    result = himat(project, "scale", "5", "-f", "default.yaml", path=standins)
    assert result.returncode == 0, result.stderr
    assert calls(project) == [
        "eksctl scale nodegroup --cluster himat --region us-west-2 --name spot-efaa5d --nodes 5 "
        "--nodes-min 0 --nodes-max 10",
        "kubectl scale deployment/himat-worker --replicas 40 -n himat",
    ]


def test_missing_tools_exit_2_with_an_install_hint(project, standins):
    (standins / "eksctl").unlink()
    result = himat(project, "cluster", "-f", "default.yaml", path=standins)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(
            "eksctl: not found on PATH; it creates and scales the cluster. Install it: https://"
        )
    )
    assert calls(project) == []


def test_old_tool_version_exits_2(project, standins):
    result = himat(
        project, "cluster", "-f", "default.yaml", path=standins, eksctl_version="0.150.0"
    )
    assert result.returncode == 2
    assert "eksctl: version 0.150.0 is older than 0.200" in result.stderr


def test_missing_credentials_exit_2_before_any_change(project, standins):
    result = himat(project, "cluster", "-f", "default.yaml", path=standins, no_credentials="1")
    assert result.returncode == 2
    assert "no working AWS credentials" in result.stderr
    assert calls(project) == []


def test_status_reports_nodegroups_pods_and_urls(project, standins, aws):
    # `aws ec2 describe-snapshots` (the backups status lists) is the real CLI against moto.
    result = himat(project, "status", "-f", "default.yaml", path=standins,
                   extra_env=aws.env, cluster_exists="1")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "nodegroup spot-efaa5d: 3 nodes" in result.stdout
    assert "pods worker: 2 Running" in result.stdout
    assert "hibernated: no" in result.stdout
    assert "jupyter_url: http://127.0.0.1:8888/lab" in result.stdout
