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
from pangeo_himat.render.data_access import scratch_url
from pangeo_himat.settings.errors import InputError, Problem
from pangeo_himat.settings.model import Settings

# The Pangeo hubs' variable for scratch data (2i2c-org/infrastructure
# docs/howto/features/buckets.md); without data.scratch, local mode points it at this folder
# inside the notebooks' folder: one machine, so Jupyter and the workers share it.
SCRATCH_VARIABLE = "SCRATCH_BUCKET"
LOCAL_SCRATCH = "scratch"
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
    # SCRATCH_BUCKET: data.scratch's s3:// URL, as on the cluster, or else a local folder.
    scratch: str

    def spill_parent(self) -> Path:
        return self.spill_dir or Path(tempfile.gettempdir())

    def env(self) -> dict[str, str]:
        """What every process sees: kernels find the scheduler as on the cluster."""
        return {
            **os.environ,
            "DASK_SCHEDULER_ADDRESS": self.ports.scheduler_address,
            "JUPYTER_TOKEN": self.token,
            "DASK_DISTRIBUTED__DASHBOARD__LINK": f"/proxy/{self.ports.dashboard}/status",
            SCRATCH_VARIABLE: self.scratch,
        }

    def local_scratch(self) -> Path | None:
        """The folder SCRATCH_BUCKET names when data.scratch is null."""
        return None if self.scratch.startswith("s3://") else Path(self.scratch)


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
        scratch=scratch_url(settings) or str(notebooks.resolve() / LOCAL_SCRATCH),
    )
    problem = spill_problem(plan.spill_parent(), free_mib(plan.spill_parent()), plan.shape)
    if problem is not None:
        raise InputError([problem])
    return plan


@dataclass(frozen=True)
class Folders:
    """Where this run keeps its logs, lab settings, Jupyter's runtime files and the working
    directory of every process but Jupyter (all inside `state`, removed on exit), and where it
    spills."""

    state: Path
    spill: Path
    lab_settings: Path

    @property
    def jupyter_runtime(self) -> Path:
        """JUPYTER_RUNTIME_DIR: jpserver-<pid>.json (with the token), its -open.html and the
        kernels' connection files land here, not in ~/.local/share/jupyter/runtime, and go
        with the state folder even when a process had to be killed
        (jupyter_core/paths.py, jupyter_runtime_dir)."""
        return self.state / "jupyter-runtime"

    @property
    def work(self) -> Path:
        """The working directory of the scheduler, the workers and the controller."""
        return self.state / "work"


def make_folders(plan: LocalPlan) -> Folders:
    """Create the notebooks, state and spill folders and write the lab settings."""
    plan.notebooks.mkdir(parents=True, exist_ok=True)
    local_scratch = plan.local_scratch()
    if local_scratch is not None:
        local_scratch.mkdir(exist_ok=True)
    state = Path(tempfile.mkdtemp(prefix="himat-local-"))
    spill = plan.spill_dir or state / "dask"
    spill.mkdir(parents=True, exist_ok=True)
    lab = write_lab_settings(state / "lab", plan.ports.dashboard)
    folders = Folders(state=state, spill=spill, lab_settings=lab)
    folders.work.mkdir()
    # 0700, as Jupyter makes it itself: the files in it hold the token.
    folders.jupyter_runtime.mkdir(mode=0o700)
    return folders
