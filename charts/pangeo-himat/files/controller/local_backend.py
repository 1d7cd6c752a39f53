"""The local backend: one `dask worker` per "pod", on 127.0.0.1, with its nanny.

With a nanny, as the chart's workers and `himat local`'s fixed ones run: the nanny enforces the
memory limit (it terminates and restarts a worker process past
`distributed.worker.memory.terminate`, 95 % of --memory-limit: distributed/worker_memory.py,
NannyMemoryManager), and restarts a worker process that dies. Without it (`--no-nanny`) a
worker could grow past its limit until the operating system kills it, and its pod would not
have the cluster's shape.

A scale-down retires the chosen workers through the scheduler's HTTP API (their data moves),
then stops their processes; a stopped process is never restarted, a scale-up starts new ones.
Each worker dies with the controller (Linux PR_SET_PDEATHSIG), as himat local's own processes
die with himat (pangeo_himat.local.stack), so a killed controller leaves no worker behind.
"""

from __future__ import annotations

import ctypes
import signal
import subprocess
import sys
from dataclasses import dataclass, field

from .decide import WorkerInfo
from .kube import Retirer

STOP_TIMEOUT_S = 20.0


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL when the controller's thread that started it ends."""
    if sys.platform.startswith("linux"):
        pr_set_pdeathsig = 1  # linux/prctl.h
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)


@dataclass
class LocalWorkers:
    """Starts `dask worker` processes against a scheduler, and stops the retired ones."""

    scheduler_address: str
    scheduler: Retirer
    nthreads: int = 1
    memory_limit: str = "auto"
    extra_args: tuple[str, ...] = ()
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    started: int = 0

    def replicas(self) -> int:
        return sum(1 for p in self.processes.values() if p.poll() is None)

    def _start(self) -> None:
        self.started += 1
        name = f"local-{self.started}"
        argv = [
            sys.executable,
            "-m",
            "distributed.cli.dask_worker",
            self.scheduler_address,
            "--name",
            name,
            "--host",
            "127.0.0.1",
            "--nthreads",
            str(self.nthreads),
            "--memory-limit",
            self.memory_limit,
            *self.extra_args,
        ]
        self.processes[name] = subprocess.Popen(
            argv,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 (no threads start workers)
        )

    def _stop(self, name: str) -> None:
        process = self.processes.pop(name)
        if process.poll() is None:
            process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def scale(self, replicas: int, retire: tuple[WorkerInfo, ...]) -> list[str]:
        steps: list[str] = []
        for name in [n for n, p in self.processes.items() if p.poll() is not None]:
            self._stop(name)
        if retire:
            retired = self.scheduler.retire(sorted(w.address for w in retire))
            steps.append(f"retired {len(retired)} worker(s)")
            for worker in retire:
                name = worker.name
                # A worker the scheduler did not retire still holds data: it keeps running.
                if name in self.processes and worker.address in retired:
                    self._stop(name)
                    steps.append(f"stopped {name}")
        while self.replicas() < replicas:
            self._start()
            steps.append(f"started local-{self.started}")
        return steps

    def close(self) -> None:
        for name in list(self.processes):
            self._stop(name)
