"""The controller loop: one JSON-ready record per step, idle sleep once, failures logged."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import pytest

from pangeo_himat.controller.decide import Config, JupyterSample, SchedulerSample, WorkerInfo
from pangeo_himat.controller.loop import Controller

CONFIG = Config(
    mode="static", static_count=2, workers_after_s=60, hibernate_after_s=600, cooldown_s=0
)


@dataclass
class Quiet:
    """A scheduler with no client and no task since the start; fails while `down`."""

    down: bool = False

    def sample(self) -> SchedulerSample:
        if self.down:
            raise ConnectionRefusedError(111, "Connection refused")
        return SchedulerSample(0, 0.0, 0, 0, (WorkerInfo("tcp://a:1"), WorkerInfo("tcp://b:1")))


@dataclass
class Jupyter:
    busy_kernels: int = 0

    def sample(self) -> JupyterSample:
        return JupyterSample(last_activity_s=0.0, busy_kernels=self.busy_kernels)


@dataclass
class Workers:
    count: int = 2
    calls: list[tuple[int, int]] = field(default_factory=list)

    def replicas(self) -> int:
        return self.count

    def scale(self, replicas: int, retire: tuple[WorkerInfo, ...]) -> list[str]:
        self.calls.append((replicas, len(retire)))
        self.count = replicas
        return [f"replicas {replicas}"]


class Clock:
    def __init__(self, step_s: float) -> None:
        self.now_s, self.step_s = 1_000.0, step_s

    def __call__(self) -> float:
        self.now_s += self.step_s
        return self.now_s


@pytest.mark.timeout(30)
def test_the_loop_hibernates_once_and_stops() -> None:
    slept: list[str] = []
    log: list[dict[str, object]] = []

    def hibernate(reason: str) -> list[str]:
        slept.append(reason)
        return ["spot group to 0", "stable nodegroup to 0"]

    controller = Controller(
        CONFIG, Quiet(), Workers(), Jupyter(), hibernate, clock=Clock(60), log=log.append
    )
    controller.run(0.0, threading.Event())
    assert len(slept) == 1
    assert controller.asleep
    assert log[-1]["hibernate"] is True
    assert log[-1]["steps"] == ["spot group to 0", "stable nodegroup to 0"]
    assert all("reason" in record for record in log)


def test_a_busy_kernel_keeps_the_loop_awake() -> None:
    slept: list[str] = []
    log: list[dict[str, object]] = []

    def hibernate(reason: str) -> list[str]:
        slept.append(reason)
        return []

    controller = Controller(
        CONFIG, Quiet(), Workers(), Jupyter(busy_kernels=1), hibernate, Clock(60), log.append
    )
    for _ in range(30):
        controller.step()
    assert slept == []
    assert log[-1]["sleep"] == "awake: 1 kernel(s) busy"


def test_an_unreachable_scheduler_is_logged_and_changes_nothing() -> None:
    workers = Workers()
    log: list[dict[str, object]] = []
    scheduler = Quiet(down=True)
    controller = Controller(CONFIG, scheduler, workers, clock=Clock(60), log=log.append)
    assert controller.step() is None
    assert "cannot read the scheduler" in str(log[-1]["error"])
    assert workers.calls == []
