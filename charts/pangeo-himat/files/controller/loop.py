"""The controller loop: read, decide, act, log one JSON line per decision."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from .aws import CloudCallFailed
from .decide import (
    Config,
    Decision,
    JupyterSample,
    SchedulerSample,
    State,
    decide_hibernate,
    decide_workers,
)
from .kube import WorkerBackend

Clock = Callable[[], float]
Log = Callable[[dict[str, object]], None]
# What a failed read or call raises: unreachable, refused, an HTTP error, a bad answer.
READ_ERRORS = (OSError, ValueError, KeyError, urllib.error.URLError)
# A failed sleep (AWS throttled or denied the call, or no spot group matched) is tried again
# after a wait that doubles from the first to the last, never in a tight loop.
SLEEP_RETRY_FIRST_S = 60.0
SLEEP_RETRY_MAX_S = 900.0


class SchedulerReader(Protocol):
    def sample(self) -> SchedulerSample: ...


class JupyterReader(Protocol):
    def sample(self) -> JupyterSample: ...


def json_line(record: dict[str, object]) -> None:
    print(json.dumps(record, sort_keys=True), file=sys.stdout, flush=True)


def iso(now_s: float) -> str:
    return datetime.fromtimestamp(now_s, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Controller:
    """One decision per step(); hibernate (when given) is called once, then the loop ends."""

    config: Config
    scheduler: SchedulerReader
    backend: WorkerBackend
    jupyter: JupyterReader | None = None
    hibernate: Callable[[str], list[str]] | None = None
    clock: Clock = time.time
    log: Log = json_line
    state: State = field(default_factory=State)
    asleep: bool = False
    last: Decision | None = None
    sleep_failures: int = 0
    sleep_retry_at_s: float = 0.0

    def step(self) -> Decision | None:
        now_s = self.clock()
        try:
            sample = self.scheduler.sample()
            current = self.backend.replicas()
        except READ_ERRORS as error:
            self.log({"at": iso(now_s), "error": f"cannot read the scheduler: {error}"})
            return None
        decision, self.state = decide_workers(self.config, self.state, sample, current, now_s)
        jupyter = None
        if self.jupyter is not None and self.config.hibernate_after_s is not None:
            try:
                jupyter = self.jupyter.sample()
            except READ_ERRORS as error:
                self.log({"at": iso(now_s), "error": f"cannot read Jupyter: {error}"})
        sleep, why = decide_hibernate(self.config, self.state, sample, jupyter, now_s)
        steps: list[str] = []
        slept = self._sleep(why, now_s) if sleep and self.hibernate is not None else None
        if slept is not None:
            decision = Decision(0, hibernate=True, reason=why, desired=0)
            steps = slept
            self.asleep = True
        elif decision.replicas != current:
            by_address = {w.address: w for w in sample.workers}
            retire = tuple(by_address[a] for a in decision.retire if a in by_address)
            try:
                steps = self.backend.scale(decision.replicas, retire)
            except READ_ERRORS as error:
                steps = [f"failed: {error}"]
        record: dict[str, object] = {"at": iso(now_s), "current": current, **decision.as_log()}
        record.update(clients=sample.clients, processing=sample.processing, steps=steps)
        if self.config.hibernate_after_s is not None and not sleep:
            record["sleep"] = why
        self.log(record)
        self.last = decision
        return decision

    def _sleep(self, why: str, now_s: float) -> list[str] | None:
        """The hibernate steps; None (logged, retried later with backoff) when it failed."""
        if now_s < self.sleep_retry_at_s or self.hibernate is None:
            return None
        try:
            return self.hibernate(why)
        except (CloudCallFailed, *READ_ERRORS) as error:
            self.sleep_failures += 1
            wait_s = min(SLEEP_RETRY_MAX_S, SLEEP_RETRY_FIRST_S * 2 ** (self.sleep_failures - 1))
            self.sleep_retry_at_s = now_s + wait_s
            message = f"cannot sleep: {error}; trying again in {wait_s:.0f} s"
            self.log({"at": iso(now_s), "error": message})
            return None

    def run(self, interval_s: float, stop: threading.Event, heartbeat: Path | None = None) -> None:
        """Step every interval_s until stop is set or the cluster went to sleep.

        heartbeat (when given) is touched after every step: the liveness probe restarts a
        controller whose loop stopped turning.
        """
        while not stop.is_set() and not self.asleep:
            self.step()
            if heartbeat is not None:
                heartbeat.touch()
            stop.wait(interval_s)
