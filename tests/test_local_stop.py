"""Stopping `himat local`: more Ctrl-C while it stops change nothing, and nothing is left."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import psutil
import pytest

from conftest import command_line, write_settings
from pangeo_himat.local.argv import JUPYTER, SCHEDULER
from pangeo_himat.local.ports import LocalPorts
from pangeo_himat.local.run import STOP_SIGNALS, run_stack
from pangeo_himat.local.stack import LocalStack
from test_local import free_port, start_himat, start_kernel, still_running

pytestmark = pytest.mark.timeout(300)

# What Jupyter writes into its runtime directory (jupyter_server/serverapp.py: info_file,
# browser_open_file; jupyter_client/multikernelmanager.py: kernel-<id>.json connection files).
RUNTIME_FILES = ("jpserver-*.json", "jpserver-*-open.html", "kernel-*.json")


def leftovers(*folders: Path) -> list[str]:
    """Runtime files and himat state folders anywhere under the given folders."""
    found = []
    for folder in folders:
        for pattern in (*RUNTIME_FILES, "himat-local-*"):
            found += [str(path.relative_to(folder)) for path in folder.rglob(pattern)]
    return found


# Seconds from one Ctrl-C to the next: a second one at once, a third while it stops. (The
# window right after the first is pinned down deterministically by the in-process test below.)
LATER_S = (0.0, 0.4)


def test_more_ctrl_c_while_stopping_are_ignored_and_nothing_is_left(tmp_path):
    home, tmp = tmp_path / "home", tmp_path / "tmp"
    home.mkdir()
    tmp.mkdir()
    # Jupyter's default runtime directory is under HOME; himat's state folder under TMPDIR.
    env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmp)}
    env.pop("JUPYTER_RUNTIME_DIR", None)
    write_settings(tmp_path, {"idle.workers_after": None})
    process, printed = start_himat(tmp_path, 1, "-f", "settings.yaml", env=env)
    start_kernel({**printed, "process": process})  # a notebook is open: a kernel file exists
    # While it runs, Jupyter's runtime files are in the stack's own folder, not under HOME.
    (state,) = tmp.glob("himat-local-*")
    runtime = {path.name.split("-")[0] for path in (state / "jupyter-runtime").iterdir()}
    assert {"jpserver", "kernel"} <= runtime
    assert leftovers(home) == []
    tree = psutil.Process(process.pid).children(recursive=True)
    assert len(tree) >= 5  # the scheduler, a worker pod and its process, Jupyter, a kernel

    process.send_signal(signal.SIGINT)
    for delay_s in LATER_S:
        time.sleep(delay_s)
        process.send_signal(signal.SIGINT)
    status = process.wait(timeout=60)

    stderr = printed["stderr"].read_text()
    alive = still_running(tree, timeout_s=2)
    for child in alive:
        child.kill()
    assert "Traceback" not in stderr
    assert stderr.count("stopping the local stack") == 1
    assert status == 0
    assert [" ".join(command_line(p)[:4]) for p in alive] == []
    assert leftovers(home, tmp) == []


@pytest.fixture
def own_signals():
    """run_stack handles this process's SIGINT and SIGTERM: give pytest its own back after."""
    saved = {signum: signal.getsignal(signum) for signum in STOP_SIGNALS}
    yield
    for signum in STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)  # drops a blocked, pending one
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.parametrize("more", [1, 2], ids=["second", "second-and-third"])
def test_ctrl_c_while_the_stopping_message_prints_still_stops_everything(
    tmp_path, own_signals, more
):
    """The window the first Ctrl-C opens: more arrive while himat says it is stopping."""
    # Stand-ins for Jupyter and the scheduler's dashboard: static files at the two URLs that
    # run_stack waits for (/api, and /json/counts.json, distributed/http/scheduler/json.py).
    site = tmp_path / "site"
    (site / "json").mkdir(parents=True)
    (site / "api").write_text("{}")
    (site / "json" / "counts.json").write_text('{"workers": 0}')
    ports = LocalPorts(jupyter=free_port(), scheduler=free_port(), dashboard=free_port())
    serve = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(site)]
    commands = {SCHEDULER: [*serve, str(ports.dashboard)], JUPYTER: [*serve, str(ports.jupyter)]}
    stack = LocalStack(tmp_path, dict(os.environ), tmp_path)
    said: list[str] = []

    def ready(*_: float) -> None:
        os.kill(os.getpid(), signal.SIGINT)  # the first Ctrl-C, once the stack is up

    def echo(message: str) -> None:
        said.append(message)
        if message.startswith("stopping"):
            for _ in range(more):
                os.kill(os.getpid(), signal.SIGINT)

    status = run_stack(stack, commands, ports, 0, lambda: None, ready, echo)
    assert status == 0
    assert said == ["stopping the local stack (a few seconds; another Ctrl-C is not needed)"]
    assert all(member.process.poll() is not None for member in stack.members.values())
