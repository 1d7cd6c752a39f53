"""Start and stop the real Kubernetes control plane of ../shared/k8s for one test run.

`up.sh STATE_DIR` starts etcd, kube-apiserver, kube-controller-manager and kube-scheduler on
loopback ports PORT_BASE+379/+380/+443/+257/+259 and prints the admin kubeconfig once /readyz
answers; `down.sh STATE_DIR` stops them by the PIDs it recorded (../shared/k8s/README.md).
The folder is found in HIMAT_KUBE_BIN, else `shared/k8s` beside the checkout or beside any of
its parents (a git worktree sits one level deeper than a clone).
"""

from __future__ import annotations

import atexit
import os
import random
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

# up.sh's port offsets from PORT_BASE: etcd client and peer, API, controller-manager, scheduler.
PORT_OFFSETS = (379, 380, 443, 257, 259)
PORT_BASE_RANGE = (20000, 60000)
ENV_BIN = "HIMAT_KUBE_BIN"
ENV_KUBECONFIG = "HIMAT_E2E_KUBECONFIG"
HOW_TO_ENABLE = (
    f"e2e: no Kubernetes to test against; set {ENV_BIN} to the folder holding up.sh (the "
    f"shared/k8s control plane) or {ENV_KUBECONFIG} to a disposable cluster's kubeconfig"
)


def control_plane_folder(root: Path) -> Path | None:
    """The folder with up.sh and down.sh, or None."""
    if os.environ.get(ENV_BIN):
        folder = Path(os.environ[ENV_BIN])
        return folder if (folder / "up.sh").is_file() else None
    for parent in [root.parent, *root.parent.parents]:
        folder = parent / "shared" / "k8s"
        if (folder / "up.sh").is_file():
            return folder
    return None


def ports_free(base: int) -> bool:
    """True when every port up.sh would take from this base can be bound on 127.0.0.1 now."""
    for offset in PORT_OFFSETS:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", base + offset))
            except OSError:
                return False
    return True


def free_port_base(attempts: int = 50) -> int:
    for _ in range(attempts):
        base = random.randrange(*PORT_BASE_RANGE, 1000)
        if ports_free(base):
            return base
    raise RuntimeError("no free loopback port base for the control plane")


@dataclass
class ControlPlane:
    """A running control plane: its state folder, admin kubeconfig and start time."""

    folder: Path
    state_dir: Path
    kubeconfig: Path
    port_base: int
    start_s: float
    stopped: bool = False

    def stop(self) -> None:
        """down.sh: the four processes by PID (SIGKILL after their grace time). Idempotent."""
        if self.stopped:
            return
        self.stopped = True
        subprocess.run(
            ["bash", str(self.folder / "down.sh"), str(self.state_dir)],
            capture_output=True,
            timeout=60,
            check=False,
        )


def start(folder: Path, state_dir: Path, tries: int = 3) -> ControlPlane:
    """up.sh on a free port base; another base when a port is taken between probe and bind."""
    error = ""
    for _ in range(tries):
        base = free_port_base()
        began = time.monotonic()
        result = subprocess.run(
            ["bash", str(folder / "up.sh"), str(state_dir)],
            env={**os.environ, "PORT_BASE": str(base)},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        plane = ControlPlane(
            folder, state_dir, state_dir / "kubeconfig", base, time.monotonic() - began
        )
        if result.returncode == 0:
            atexit.register(plane.stop)
            return plane
        plane.stop()
        error = result.stderr[-2000:]
    raise RuntimeError(f"up.sh failed {tries} times; the API server's log ends:\n{error}")
