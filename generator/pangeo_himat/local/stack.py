"""The processes of one local stack, each supervised like a pod: restarted when it dies.

Every process is started with setsid (a terminal's Ctrl-C reaches himat first, which then
stops them in order) and dies with himat: on Linux PR_SET_PDEATHSIG sends it SIGKILL when himat
ends, even by `kill -9`. Their own children follow at once: a nanny's worker processes exit
when the pipe to their nanny closes (distributed/process.py, `_immediate_exit_when_closed`) and
a kernel exits within a second of its server (ipykernel/parentpoller.py, ParentPollerUnix).
"""

from __future__ import annotations

import contextlib
import ctypes
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

# After SIGTERM: how long the workers get to close before the scheduler is stopped, and how
# long anything gets before SIGKILL. Their sum stays under the 3 s stop target.
WORKERS_STOP_S = 1.2
STOP_GRACE_S = 1.0
# A process that keeps dying is restarted after a growing pause, as Kubernetes' CrashLoopBackOff.
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
# A process that ran this long is healthy again: its next restart is immediate.
HEALTHY_AFTER_S = 60.0
LOG_TAIL_CHARS = 2000


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when himat's thread that started us ends."""
    if sys.platform.startswith("linux"):
        PR_SET_PDEATHSIG = 1  # linux/prctl.h
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


@dataclass
class Member:
    """One supervised process: what it runs, its current process and its restart history."""

    name: str
    argv: list[str]
    log: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    next_start_at: float | None = None

    def exited(self) -> bool:
        return self.process is not None and self.process.poll() is not None

    def log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-LOG_TAIL_CHARS:]


def _running(processes: list[psutil.Process]) -> list[psutil.Process]:
    """Those not ended. A zombie has ended: an orphan's entry waits for pid 1 to reap it."""
    running = []
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
    return running


def wait_ended(processes: list[psutil.Process], timeout_s: float) -> list[psutil.Process]:
    """Wait up to `timeout_s` for every process to end; returns those still running."""
    deadline = time.monotonic() + timeout_s
    running = _running(processes)
    while running and time.monotonic() < deadline:
        time.sleep(0.05)
        running = _running(running)
    return running


def backoff_s(restarts_in_a_row: int) -> float:
    """0 for the first restart, then 1, 2, 4 ... 30 s."""
    if restarts_in_a_row == 0:
        return 0.0
    return min(BACKOFF_FIRST_S * float(2 ** (restarts_in_a_row - 1)), BACKOFF_MAX_S)


@dataclass
class LocalStack:
    """The stack's processes by the names they were started with.

    Each runs in `cwd`, except those named in `cwd_of`: Jupyter runs in the notebooks' folder
    and everything else elsewhere, so that, as on the cluster, a worker cannot rely on a path
    relative to a notebook.
    """

    logs: Path
    env: dict[str, str]
    cwd: Path
    cwd_of: dict[str, Path] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)

    def start(self, name: str, argv: list[str]) -> None:
        member = self.members.setdefault(name, Member(name, argv, self.logs / f"{name}.log"))
        with member.log.open("ab") as log:
            member.process = subprocess.Popen(
                member.argv,
                env=self.env,
                cwd=self.cwd_of.get(name, self.cwd),
                start_new_session=True,
                preexec_fn=_die_with_parent,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        member.started_at = time.monotonic()
        member.next_start_at = None

    def pid(self, name: str) -> int:
        process = self.members[name].process
        assert process is not None
        return process.pid

    def exited(self) -> list[Member]:
        """Members whose process has ended and that are not already waiting to restart."""
        return [m for m in self.members.values() if m.exited() and m.next_start_at is None]

    def failure(self) -> str | None:
        """The log tail of the first process that ended, if any (for start-up errors)."""
        for member in self.members.values():
            if member.exited():
                assert member.process is not None
                status = member.process.returncode
                return f"{member.name} exited with status {status}:\n{member.log_tail()}"
        return None

    def schedule_restart(self, member: Member, now: float) -> float:
        """Plan the restart of a dead member; returns the pause before it."""
        if now - member.started_at >= HEALTHY_AFTER_S:
            member.restarts = 0
        pause = backoff_s(member.restarts)
        member.restarts += 1
        member.next_start_at = now + pause
        return pause

    def restart_due(self, now: float) -> list[str]:
        """Start every member whose pause is over; returns their names."""
        due = [m.name for m in self.members.values() if m.next_start_at is not None]
        due = [name for name in due if (self.members[name].next_start_at or 0) <= now]
        for name in due:
            self.start(name, self.members[name].argv)
        return due

    def _tree(self, names: Iterable[str]) -> list[psutil.Process]:
        tree: list[psutil.Process] = []
        for name in names:
            process = self.members[name].process
            if process is None or process.poll() is not None:
                continue
            try:
                parent = psutil.Process(process.pid)
                tree += [parent, *parent.children(recursive=True)]
            except psutil.NoSuchProcess:
                continue
        return tree

    def _terminate(self, names: Iterable[str]) -> None:
        for name in names:
            process = self.members[name].process
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)

    def stop(self, last: str, first: Callable[[str], bool]) -> None:
        """SIGTERM everything but `last` (the scheduler), wait for `first` (the workers), then
        `last`.

        Workers stopped while their scheduler is still up close at once; stopped after it they
        would wait for it (about 10 s). Whatever is left after the grace period is killed.
        """
        for member in self.members.values():
            member.next_start_at = None
        others = [name for name in self.members if name != last]
        waited = [name for name in others if first(name)]
        tree = self._tree(self.members)
        self._terminate(others)
        wait_ended(self._tree(waited), WORKERS_STOP_S)
        self._terminate([last])
        for leftover in wait_ended(tree, STOP_GRACE_S):
            with contextlib.suppress(psutil.NoSuchProcess):
                leftover.kill()
        for member in self.members.values():
            if member.process is not None:
                member.process.wait()
