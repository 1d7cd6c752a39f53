"""The worker controller's decisions: pure functions of samples, a config and an injected clock.

Standard library only, and no import from the rest of pangeo_himat: the chart ships a copy of
this module (scripts/sync_controller.py). The safeguards follow the dask-kubernetes operator's
autoscaler (dask_kubernetes/operator/controller/controller.py: scale up at once, scale down
by retiring chosen workers first) and dask-gateway's adaptive loop (scheduler_preload.py),
plus what their lost-work reports asked for: at most 25 % a step, a cooldown after every
change and a window of samples that must all agree before anything is taken away.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

Mode = Literal["static", "adaptive"]


@dataclass(frozen=True)
class Config:
    """What the settings decide; durations in seconds, None = never."""

    mode: Mode = "static"
    static_count: int = 0
    minimum: int = 0
    maximum: int = 0
    workers_after_s: float | None = 1800.0
    hibernate_after_s: float | None = None
    cooldown_s: float = 60.0
    step_fraction: float = 0.25
    window: int = 3
    # Dask workers per replica (`dask worker --nworkers`): counts are in replicas (pods),
    # Dask's adaptive target is in workers.
    workers_per_replica: int = 1


@dataclass(frozen=True)
class WorkerInfo:
    """One Dask worker as the scheduler sees it; managed_bytes is the data it holds.

    replica names the pod (or local process group) it runs in; workers of one replica leave
    together, since deleting the pod stops them all.
    """

    address: str
    name: str = ""
    managed_bytes: int = 0
    replica: str = ""

    @property
    def replica_key(self) -> str:
        return self.replica or self.address


@dataclass(frozen=True)
class SchedulerSample:
    """One reading of the scheduler's HTTP API.

    idle_since_s is check_idle's answer (None while tasks run or the graph just changed);
    processing counts tasks on workers plus those queued or unrunnable.
    """

    adaptive_target: int
    idle_since_s: float | None
    clients: int
    processing: int
    workers: tuple[WorkerInfo, ...] = ()

    @property
    def has_work(self) -> bool:
        return self.idle_since_s is None or self.processing > 0

    @property
    def quiet(self) -> bool:
        """No task and no client: what the idle timers count."""
        return not self.has_work and self.clients == 0


@dataclass(frozen=True)
class JupyterSample:
    """Jupyter's /api/status last_activity (epoch seconds) and its kernels' states."""

    last_activity_s: float
    busy_kernels: int


@dataclass(frozen=True)
class State:
    """What the controller remembers between samples."""

    desired_window: tuple[int, ...] = ()
    last_change_s: float | None = None
    quiet_since_s: float | None = None
    started: bool = False


@dataclass(frozen=True)
class Decision:
    """Where the replicas go, which workers leave first, and why (one log line)."""

    replicas: int
    retire: tuple[str, ...] = ()
    hibernate: bool = False
    reason: str = ""
    desired: int = 0
    window: tuple[int, ...] = ()
    quiet_s: float = 0.0

    def as_log(self) -> dict[str, object]:
        """The decision as one JSON-ready record."""
        return {
            "replicas": self.replicas,
            "retire": list(self.retire),
            "hibernate": self.hibernate,
            "reason": self.reason,
            "desired": self.desired,
            "window": list(self.window),
            "quiet_s": round(self.quiet_s, 1),
        }


def clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


def observe_quiet(state: State, sample: SchedulerSample, now_s: float) -> State:
    """Start, keep or reset the idle timer; the first quiet sample may use check_idle's time."""
    first, state = not state.started, replace(state, started=True)
    if not sample.quiet:
        return replace(state, quiet_since_s=None)
    if state.quiet_since_s is not None:
        return state
    since = now_s
    if first and sample.idle_since_s is not None:
        # A restarted controller keeps the scheduler's own idle time rather than starting over.
        since = min(now_s, sample.idle_since_s)
    return replace(state, quiet_since_s=since)


def quiet_for_s(state: State, now_s: float) -> float:
    return 0.0 if state.quiet_since_s is None else max(0.0, now_s - state.quiet_since_s)


def desired_workers(config: Config, state: State, sample: SchedulerSample, now_s: float) -> int:
    """The count the current sample asks for, before the safeguards."""
    idle_expired = (
        config.workers_after_s is not None
        and state.quiet_since_s is not None
        and quiet_for_s(state, now_s) >= config.workers_after_s
    )
    if config.mode == "static":
        return 0 if idle_expired else config.static_count
    wanted = (
        config.minimum
        if idle_expired
        else math.ceil(sample.adaptive_target / max(1, config.workers_per_replica))
    )
    target = clamp(wanted, config.minimum, config.maximum)
    if target == 0 and sample.clients > 0 and any(w.managed_bytes > 0 for w in sample.workers):
        # Results a client still holds need one worker to live on: retiring the last one
        # would have nowhere to move them.
        target = min(1, config.maximum)
    return target


def step_down(current: int, fraction: float) -> int:
    """How many replicas one scale-down step may remove: the fraction, at least one."""
    return max(1, math.floor(current * fraction))


def choose_retirees(workers: tuple[WorkerInfo, ...], count: int) -> tuple[str, ...]:
    """Every worker of the `count` replicas holding the least data, so the least moves."""
    replicas: dict[str, list[WorkerInfo]] = {}
    for worker in workers:
        replicas.setdefault(worker.replica_key, []).append(worker)
    ranked = sorted(replicas.items(), key=lambda kv: (sum(w.managed_bytes for w in kv[1]), kv[0]))
    return tuple(sorted(w.address for _, group in ranked[:count] for w in group))


def decide_workers(
    config: Config, state: State, sample: SchedulerSample, current: int, now_s: float
) -> tuple[Decision, State]:
    """Replicas for the worker Deployment (or the local processes) after this sample."""
    state = observe_quiet(state, sample, now_s)
    desired = desired_workers(config, state, sample, now_s)
    window = (*state.desired_window, desired)[-config.window :]
    state = replace(state, desired_window=window)
    seen = Decision(current, desired=desired, window=window, quiet_s=quiet_for_s(state, now_s))
    if desired > current:
        state = replace(state, last_change_s=now_s)
        return replace(seen, replicas=desired, reason=f"scale up {current} -> {desired}"), state
    if desired == current:
        return replace(seen, reason=f"steady at {current}"), state
    if len(window) < config.window or max(window) >= current:
        reason = f"hold {current}: the last {config.window} samples do not all ask for fewer"
        return replace(seen, reason=reason), state
    if state.last_change_s is not None and now_s - state.last_change_s < config.cooldown_s:
        left = config.cooldown_s - (now_s - state.last_change_s)
        return replace(seen, reason=f"hold {current}: cooldown, {left:.0f} s left"), state
    # The window's largest wish is the one every sample agrees with.
    target = max(max(window), current - step_down(current, config.step_fraction))
    retire = choose_retirees(sample.workers, current - target)
    state = replace(state, last_change_s=now_s, desired_window=())
    reason = f"scale down {current} -> {target} (wanted {max(window)})"
    return replace(seen, replicas=target, retire=retire, reason=reason), state


def decide_hibernate(
    config: Config,
    state: State,
    sample: SchedulerSample,
    jupyter: JupyterSample | None,
    now_s: float,
) -> tuple[bool, str]:
    """Whether the whole cluster should sleep now, and why (or what keeps it awake).

    State must already have seen this sample (decide_workers does that).
    """
    if config.hibernate_after_s is None:
        return False, "idle sleep is off"
    if sample.clients > 0:
        return False, f"awake: {sample.clients} Dask client(s) connected"
    if sample.has_work:
        return False, "awake: Dask has tasks"
    if jupyter is None:
        return False, "awake: Jupyter's activity is unknown"
    if jupyter.busy_kernels > 0:
        return False, f"awake: {jupyter.busy_kernels} kernel(s) busy"
    quiet_since = state.quiet_since_s if state.quiet_since_s is not None else now_s
    since = max(quiet_since, jupyter.last_activity_s)
    idle_s = now_s - since
    if idle_s < config.hibernate_after_s:
        return False, f"awake: idle {idle_s:.0f} s of {config.hibernate_after_s:.0f} s"
    return True, (
        f"hibernate: no Dask client or task, no busy kernel, no Jupyter activity for "
        f"{idle_s:.0f} s (limit {config.hibernate_after_s:.0f} s)"
    )
