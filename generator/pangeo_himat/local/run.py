"""Run a local stack: start it, wait until it answers, supervise it, stop it in order."""

from __future__ import annotations

import json
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

from pangeo_himat.local.argv import JUPYTER, SCHEDULER, is_worker
from pangeo_himat.local.ports import LOOPBACK, LocalPorts
from pangeo_himat.local.stack import LocalStack, Member

READY_TIMEOUT_S = 120
POLL_S = 0.3
SPILL_CHECK_S = 5.0

Echo = Callable[[str], None]


# Ctrl-C (from a terminal or `make local`) and SIGTERM (from a service manager) both stop.
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class StopRequested(Exception):
    """Ctrl-C or SIGTERM: leave whatever we are waiting for and stop the stack."""


class StopOnSignal:
    """The handler of SIGINT and SIGTERM: the first raises StopRequested, every later one does
    nothing, so that a second or third Ctrl-C (or a held-down key) can interrupt neither the
    stop nor the clean-up after it. The signals are blocked too: they stay pending and are
    dropped when himat exits; no process is started after the first."""

    def __init__(self) -> None:
        self.requested = False

    def __call__(self, signum: int, frame: object) -> None:
        if self.requested:
            return
        self.requested = True
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        raise StopRequested


def wait_for_http(url: str, deadline: float, stack: LocalStack) -> None:
    """Until `url` answers 200; a process that ends meanwhile is a start-up failure."""
    while time.monotonic() < deadline:
        failure = stack.failure()
        if failure is not None:
            raise RuntimeError(failure)
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {READY_TIMEOUT_S} s")


def _json(url: str) -> Any:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.load(response)
    except (urllib.error.URLError, OSError, ValueError):
        return None


def wait_for_workers(dashboard_port: int, count: int, deadline: float, stack: LocalStack) -> None:
    """Until the scheduler counts `count` workers. Its JSON route, not a Dask client: himat
    stays light and exits at once (distributed/http/scheduler/json.py, CountsJSON)."""
    url = f"http://{LOOPBACK}:{dashboard_port}/json/counts.json"
    while time.monotonic() < deadline:
        failure = stack.failure()
        if failure is not None:
            raise RuntimeError(failure)
        counts = _json(url)
        if isinstance(counts, dict) and counts.get("workers", 0) >= count:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{count} workers did not connect within {READY_TIMEOUT_S} s")


def restart_message(member: Member, pause_s: float, ports: LocalPorts) -> str:
    """What a user reads when a process died: what happens next and what it costs them."""
    assert member.process is not None
    when = f"in {pause_s:.0f} s" if pause_s else "now"
    died = f"himat local: {member.name} exited with status {member.process.returncode}"
    if member.name == SCHEDULER:
        return (
            f"{died}; restarting it {when} on {ports.scheduler_address}. Workers reconnect and "
            "Jupyter and its kernels keep running, but the scheduler's tasks and the data its "
            "workers held are gone: compute them again."
        )
    if member.name == JUPYTER:
        return f"{died}; restarting it {when} with the same token (its kernels have ended)."
    if member.process.returncode == 0:  # a Dask worker ends by itself when its scheduler goes
        return f"{died} (its scheduler went away); restarting it {when}, as a ReplicaSet would."
    return f"{died}; restarting it {when}, as a ReplicaSet would (its tasks are recomputed)."


def supervise(
    stack: LocalStack, ports: LocalPorts, spill_check: Callable[[], str | None], echo: Echo
) -> None:
    """Restart every process that dies, and say once when the spill disk runs low, until
    Ctrl-C or SIGTERM."""
    warned = False
    next_spill_check = 0.0
    while True:
        now = time.monotonic()
        for member in stack.exited():
            echo(restart_message(member, stack.schedule_restart(member, now), ports))
        for name in stack.restart_due(now):
            echo(f"himat local: {name} started again (pid {stack.pid(name)})")
        if now >= next_spill_check:
            next_spill_check = now + SPILL_CHECK_S
            warning = spill_check()
            if warning and not warned:
                echo(warning)
            warned = warning is not None
        time.sleep(POLL_S)


def run_stack(
    stack: LocalStack,
    commands: dict[str, list[str]],
    ports: LocalPorts,
    worker_processes: int,
    spill_check: Callable[[], str | None],
    on_ready: Callable[[float, float], None],
    echo: Echo,
) -> int:
    """Start, wait for Jupyter and every worker, supervise; always stop. Returns the status."""
    on_signal = StopOnSignal()
    status = 0
    try:
        for signum in STOP_SIGNALS:
            signal.signal(signum, on_signal)
        started = time.monotonic()
        for name, argv in commands.items():
            stack.start(name, argv)
        deadline = started + READY_TIMEOUT_S
        wait_for_http(f"http://{LOOPBACK}:{ports.jupyter}/api", deadline, stack)
        jupyter_s = time.monotonic() - started
        wait_for_workers(ports.dashboard, worker_processes, deadline, stack)
        on_ready(jupyter_s, time.monotonic() - started)
        supervise(stack, ports, spill_check, echo)
    except StopRequested:
        echo("stopping the local stack (a few seconds; another Ctrl-C is not needed)")
    except (OSError, RuntimeError) as error:  # TimeoutError is an OSError
        on_signal.requested = True  # a Ctrl-C now changes nothing: the stack stops anyway
        echo(f"himat local: {error}")
        status = 1
    finally:
        on_signal.requested = True
        stack.stop(last=SCHEDULER, first=is_worker)
    return status
