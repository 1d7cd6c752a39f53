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
from conftest import calls, himat

GOLDEN = Path(__file__).parent / "golden" / "dry-run"
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
        golden.write_text(result.stdout)
    assert result.stdout == golden.read_text()
    assert not (project / "calls.jsonl").exists(), "a dry run called a tool"


@pytest.mark.parametrize("verb", ["status", "connect", "hibernate"])
def test_dry_run_env_variable_runs_nothing(verb, project, standins):
    env_dry = {"DRY_RUN": "1"}
    result = himat(project, verb, "-f", "default.yaml", path=standins, extra_env=env_dry)
    assert result.returncode == 0, result.stderr
    assert not (project / "calls.jsonl").exists()


def test_cluster_creates_when_absent(project, standins):
    result = himat(project, "cluster", "-f", "default.yaml", path=standins)
    assert result.returncode == 0, result.stderr
    assert calls(project) == [
        "eksctl get cluster --name himat --region us-west-2 -o json",
        "eksctl create cluster -f clusterconfig/himat/eksctl.yaml",
        "eksctl utils write-kubeconfig --cluster himat --region us-west-2",
    ]
    assert "[2/2] write the kubeconfig entry" in result.stdout


def test_cluster_run_again_updates_nodegroups(project, standins):
    result = himat(project, "cluster", "-f", "default.yaml", path=standins, cluster_exists="1")
    assert result.returncode == 0, result.stderr
    assert calls(project)[1:] == [
        "eksctl create nodegroup -f clusterconfig/himat/eksctl.yaml",
        "eksctl scale nodegroup --cluster himat --region us-west-2 --name stable --nodes 1 "
        "--nodes-min 0 --nodes-max 1",
        "eksctl scale nodegroup --cluster himat --region us-west-2 --name spot --nodes 3 "
        "--nodes-min 0 --nodes-max 10",
        "eksctl utils write-kubeconfig --cluster himat --region us-west-2",
    ]


def test_install_twice_is_the_same_upgrade(project, standins):
    first = himat(project, "install", "-f", "default.yaml", path=standins)
    once = calls(project)
    second = himat(project, "install", "-f", "default.yaml", path=standins)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert calls(project) == once + once
    assert once[1].startswith("helm upgrade --install himat charts/pangeo-himat --namespace himat")
    assert "--wait" in once[1]
    assert "jupyter_url: " in first.stdout and "dask_url: " in first.stdout
    assert "kubectl get secret himat-jupyter-token" in first.stdout


@pytest.mark.parametrize("settings", sorted(SETTINGS))
def test_install_puts_the_pinned_termination_handler_before_the_chart(project, standins, settings):
    result = himat(project, "install", "-f", f"{settings}.yaml", path=standins, cluster_exists="1")
    assert result.returncode == 0, result.stderr
    handler, chart = calls(project)[:2]
    assert handler.startswith(
        "helm upgrade --install aws-node-termination-handler "
        "oci://public.ecr.aws/aws-ec2/helm/aws-node-termination-handler --version 0.27.6 "
    )
    assert chart.startswith("helm upgrade --install ")
    assert " charts/pangeo-himat " in chart


def test_load_balancer_urls_are_https(project, standins):
    knobs = {"cluster_exists": "1", "load_balancer": "1"}
    result = himat(project, "status", "-f", "eu.yaml", path=standins, **knobs)
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
    assert "step 3/4 failed with exit status 7" in result.stderr
    assert "run `himat hibernate` again" in result.stderr
    assert not any("--name stable" in call for call in calls(project))


def test_hibernate_says_what_still_bills(project, standins):
    result = himat(project, "hibernate", "-f", "default.yaml", path=standins)
    assert result.returncode == 0, result.stderr
    assert "still billing while hibernated: USD" in result.stdout
    assert "EKS control plane" in result.stdout


@pytest.mark.parametrize("typed", ["", "wrong-name\n"])
def test_destroy_without_confirmation_does_nothing(project, standins, typed):
    result = himat(project, "destroy", "-f", "default.yaml", path=standins, stdin=typed)
    assert result.returncode == 1
    assert "not confirmed" in result.stderr
    assert not any(word in call for call in calls(project) for word in ("delete", "uninstall"))


def test_destroy_keeps_the_notebooks_volume_and_deletes_load_balancers_first(project, standins):
    result = himat(
        project,
        "destroy",
        "-f",
        "default.yaml",
        path=standins,
        stdin="himat\n",
        load_balancer="1",
        cluster_exists="1",
    )
    assert result.returncode == 0, result.stderr
    actions = [c for c in calls(project) if not c.startswith(("kubectl get", "eksctl get"))]
    assert actions == [
        "kubectl delete service himat-jupyter -n himat --wait",
        "helm uninstall himat --namespace himat --ignore-not-found --wait",
        "eksctl delete cluster --name himat --region us-west-2 --wait",
    ]
    assert "kept the notebooks' EBS volume vol-0123456789abcdef0" in result.stdout


def test_destroy_deletes_data_only_when_asked_by_name(project, standins):
    result = himat(
        project,
        "destroy",
        "--yes",
        "--delete-data",
        "-f",
        "default.yaml",
        path=standins,
        cluster_exists="1",
    )
    assert result.returncode == 0, result.stderr
    actions = [c for c in calls(project) if not c.startswith(("kubectl get", "eksctl get"))]
    assert actions[-3:] == [
        "kubectl delete pvc himat-jupyter-home -n himat --ignore-not-found --wait",
        "eksctl delete cluster --name himat --region us-west-2 --wait",
        "aws ec2 delete-volume --volume-id vol-0123456789abcdef0 --region us-west-2",
    ]


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
        "eksctl scale nodegroup --cluster himat --region us-west-2 --name spot --nodes 5 "
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


def test_status_reports_nodegroups_pods_and_urls(project, standins):
    result = himat(project, "status", "-f", "default.yaml", path=standins, cluster_exists="1")
    assert result.returncode == 0, result.stderr
    assert "nodegroup spot: 3 nodes" in result.stdout
    assert "pods worker: 2 Running" in result.stdout
    assert "hibernated: no" in result.stdout
    assert "jupyter_url: http://127.0.0.1:8888/lab" in result.stdout
