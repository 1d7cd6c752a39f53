"""What a local stack will be, decided and checked before any process starts."""

from __future__ import annotations

import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from pangeo_himat.local.argv import write_lab_settings
from pangeo_himat.local.ports import LocalPorts
from pangeo_himat.local.shape import LocalShape, local_shape, spill_problem
from pangeo_himat.settings.errors import InputError, Problem
from pangeo_himat.settings.model import Settings

# What local mode runs, from the `local` extra.
LOCAL_MODULES = ("distributed", "psutil", "jupyterlab", "jupyter_server_proxy", "dask_labextension")
INSTALL_HINT = (
    "not installed; local mode needs pip install 'pangeo-himat[local]' (make local does it)"
)


def check_local_extra() -> None:
    """A missing package of the `local` extra is named, not a traceback."""
    missing = [name for name in LOCAL_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise InputError([Problem(name, None, "", INSTALL_HINT) for name in missing])


def free_mib(folder: Path) -> int:
    """Free disk where `folder` is or will be (its nearest existing parent)."""
    existing = folder.resolve()
    while not existing.exists():
        existing = existing.parent
    return shutil.disk_usage(existing).free // 2**20


@dataclass(frozen=True)
class LocalPlan:
    """Everything decided before a process starts; `spill_dir` None = inside the state folder."""

    shape: LocalShape
    ports: LocalPorts
    notebooks: Path
    spill_dir: Path | None
    token: str

    def spill_parent(self) -> Path:
        return self.spill_dir or Path(tempfile.gettempdir())

    def env(self) -> dict[str, str]:
        """What every process sees: kernels find the scheduler as on the cluster."""
        return {
            **os.environ,
            "DASK_SCHEDULER_ADDRESS": self.ports.scheduler_address,
            "JUPYTER_TOKEN": self.token,
            "DASK_DISTRIBUTED__DASHBOARD__LINK": f"/proxy/{self.ports.dashboard}/status",
        }


def plan_local(
    settings: Settings,
    ports: LocalPorts,
    pods: int | None,
    machine: tuple[int, int],
    notebooks: Path,
    spill_dir: Path | None,
    token: str,
) -> LocalPlan:
    """The shape for this machine (cores, memory MiB); refused when its spill has no room."""
    cpu_count, total_mib = machine
    plan = LocalPlan(
        shape=local_shape(settings, cpu_count, total_mib, pods),
        ports=ports,
        notebooks=notebooks.resolve(),
        spill_dir=spill_dir.resolve() if spill_dir else None,
        token=token,
    )
    problem = spill_problem(plan.spill_parent(), free_mib(plan.spill_parent()), plan.shape)
    if problem is not None:
        raise InputError([problem])
    return plan


@dataclass(frozen=True)
class Folders:
    """Where this run keeps its logs and lab settings (removed on exit) and where it spills."""

    state: Path
    spill: Path
    lab_settings: Path


def make_folders(plan: LocalPlan) -> Folders:
    """Create the notebooks, state and spill folders and write the lab settings."""
    plan.notebooks.mkdir(parents=True, exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix="himat-local-"))
    spill = plan.spill_dir or state / "dask"
    spill.mkdir(parents=True, exist_ok=True)
    lab = write_lab_settings(state / "lab", plan.ports.dashboard)
    return Folders(state=state, spill=spill, lab_settings=lab)
