"""Manual verbs and the worker controller agree: hibernate pauses it, resume restores it and
says why a cluster that slept by itself went to sleep, status shows a sleeping cluster."""

from __future__ import annotations

from conftest import calls, himat
from pangeo_himat.lifecycle import answers


def test_hibernate_pauses_the_controller_before_the_workers(project, standins):
    result = himat(project, "hibernate", "-f", "default.yaml", path=standins)
    assert result.returncode == 0, result.stderr
    made = calls(project)
    controller = made.index("kubectl scale deployment/himat-controller --replicas 0 -n himat")
    workers = made.index("kubectl scale deployment/himat-worker --replicas 0 -n himat")
    assert controller < workers


def test_resume_restores_the_controller_after_the_workers(project, standins):
    result = himat(project, "resume", "-f", "default.yaml", path=standins, cluster_exists="1")
    assert result.returncode == 0, result.stderr
    made = calls(project)
    workers = made.index("kubectl scale deployment/himat-worker --replicas 24 -n himat")
    controller = made.index("kubectl scale deployment/himat-controller --replicas 1 -n himat")
    assert workers < controller
    assert "kubectl delete configmap himat-sleep -n himat --ignore-not-found" in made
    assert "waking" not in result.stdout  # nothing recorded: a manual hibernate


def test_resume_says_when_and_why_the_cluster_slept_by_itself(project, standins):
    result = himat(
        project, "resume", "-f", "default.yaml", path=standins, cluster_exists="1", slept="1"
    )
    assert result.returncode == 0, result.stderr
    assert (
        "waking: asleep since 2026-12-01T02:00:00Z (put to sleep by the worker controller: idle 8h)"
    ) in result.stdout


def test_status_of_a_sleeping_cluster_says_so(project, standins, aws):
    # `aws ec2 describe-snapshots` (the backups status lists) is the real CLI against moto.
    result = himat(project, "status", "-f", "default.yaml", path=standins,
                   extra_env=aws.env, cluster_exists="1", slept="1")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "asleep since 2026-12-01T02:00:00Z" in result.stdout
    assert "`himat resume` wakes it" in result.stdout


def test_status_of_an_awake_cluster_shows_no_sleep(project, standins, aws):
    result = himat(project, "status", "-f", "default.yaml", path=standins,
                   extra_env=aws.env, cluster_exists="1")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "asleep" not in result.stdout


def test_scale_in_adaptive_mode_sets_the_bounds_not_a_count(project, standins):
    settings = project / "default.yaml"
    text = settings.read_text()
    assert "  adaptive: null" in text
    settings.write_text(text.replace("  adaptive: null", "  adaptive: {min: 2, max: auto}"))
    result = himat(project, "scale", "2", "-f", "default.yaml", path=standins, cluster_exists="1")
    assert result.returncode == 0, result.stderr
    made = calls(project)
    assert (
        "kubectl set env deployment/himat-controller HIMAT_CONTROLLER_MIN=2 "
        "HIMAT_CONTROLLER_MAX=16 -n himat"
    ) in made
    assert not any(call.startswith("kubectl scale deployment/himat-worker") for call in made)
    assert "adaptive workers up to 16" in result.stdout


def test_scale_in_static_mode_still_sets_the_count(project, standins):
    result = himat(project, "scale", "2", "-f", "default.yaml", path=standins, cluster_exists="1")
    assert result.returncode == 0, result.stderr
    assert "kubectl scale deployment/himat-worker --replicas 16 -n himat" in calls(project)


def test_status_shows_the_controllers_last_decisions(project, standins, aws):
    result = himat(project, "status", "-f", "default.yaml", path=standins,
                   extra_env=aws.env, cluster_exists="1")  # fmt: skip
    assert result.returncode == 0, result.stderr
    shown = [line for line in result.stdout.splitlines() if line.startswith("controller: ")]
    assert shown == [
        "controller: 2026-12-01T10:00:00Z hold 3 (wanted 3)",
        "controller: 2026-12-01T10:00:00Z scale down 3 -> 2 (idle 30m)",
    ]
    assert "kubectl logs himat-controller-c -n himat --tail 5" in calls(project)


def test_decisions_skip_what_is_not_a_logged_decision():
    text = 'starting\n{"at": "t", "reason": "scale up 0 -> 2"}\n[1]\n{"at": "u", "error": "x"}\n'
    assert answers.decisions(text) == ["t scale up 0 -> 2", "u x"]
