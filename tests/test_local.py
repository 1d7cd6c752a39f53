"""`himat local` with real processes: a Dask scheduler, worker pods and JupyterLab on 127.0.0.1."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import click
import psutil
import pytest

from conftest import ROOT, command_line, write_settings
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.local import local_shape
from pangeo_himat.local.shape import LocalShape, low_spill_warning, spill_problem

pytestmark = pytest.mark.timeout(300)
WORKERS = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def request(url: str, token: str | None = None, method: str = "GET") -> tuple[int, bytes]:
    headers = {"Authorization": f"token {token}"} if token else {}
    req = urllib.request.Request(url, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, b""
    except OSError:  # refused or reset: nothing answers on that port (yet)
        return 0, b""


def get(url: str, token: str | None = None) -> int:
    return request(url, token)[0]


def start_himat(
    folder: Path, pods: int, *extra: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, dict]:
    """`himat local` as a user starts it; returns the process and what it printed."""
    ports = {"jupyter": free_port(), "scheduler": free_port(), "dashboard": free_port()}
    log = folder / "himat-stderr.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "pangeo_himat", "local", "--workers", str(pods)]
        + ["--port", str(ports["jupyter"]), "--scheduler-port", str(ports["scheduler"])]
        + ["--dashboard-port", str(ports["dashboard"]), *extra],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=log.open("w"),
        text=True,
        env=env,
    )
    printed = {}
    deadline = time.monotonic() + 180
    while len(printed) < 3 and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        key, _, value = line.partition(": ")
        if key in ("jupyter_url", "dask_url", "scheduler"):
            printed[key] = value.strip()
    if len(printed) < 3:
        stop_cleanly(process)
        pytest.fail(f"himat local did not become ready: {log.read_text()}")
    return process, {
        **printed,
        "ports": ports,
        "token": printed["jupyter_url"].split("token=")[1],
        "folder": folder,
        "stderr": log,
        "address": f"tcp://127.0.0.1:{ports['scheduler']}",
        "jupyter": f"http://127.0.0.1:{ports['jupyter']}",
    }


def stop_cleanly(process: subprocess.Popen) -> None:
    """SIGTERM, as a user's Ctrl-C would; kill whatever is left so no test leaks processes."""
    with_children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    finally:
        for child in psutil.wait_procs(with_children, timeout=10)[1]:
            child.kill()


def still_running(processes: list[psutil.Process], timeout_s: float) -> list[psutil.Process]:
    """Those still running after `timeout_s`. A zombie has ended: only its entry waits for
    the reaper (an orphan's is pid 1, which may reap late)."""
    deadline = time.monotonic() + timeout_s
    while True:
        running = []
        for process in processes:
            try:
                if process.is_running() and process.status() != psutil.STATUS_ZOMBIE:
                    running.append(process)
            except psutil.NoSuchProcess:
                continue
        if not running or time.monotonic() >= deadline:
            return running
        time.sleep(0.05)


def child_with(process: subprocess.Popen, *words: str) -> psutil.Process:
    """The one descendant of himat whose command line holds every word (not a child of it that
    a fork left with the same command line)."""
    matches = [
        child
        for child in psutil.Process(process.pid).children(recursive=True)
        if all(word in command_line(child) for word in words)
    ]
    (top,) = [m for m in matches if m.ppid() not in {other.pid for other in matches}]
    return top


def start_kernel(stack: dict) -> str:
    """A kernel as a notebook would start it; returns once its five ZMQ ports listen."""
    status, body = request(f"{stack['jupyter']}/api/kernels", stack["token"], method="POST")
    assert status == 201
    kernel = json.loads(body)["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            process = kernel_process(stack["process"], kernel)
            if len(listening(process)) >= 5:  # shell, iopub, stdin, control, heartbeat
                return kernel
        except (ValueError, psutil.Error):
            pass
        time.sleep(0.3)
    pytest.fail(f"kernel {kernel} did not listen within 60 s")


def listening(process: psutil.Process) -> list[tuple[str, int]]:
    """Every address the process listens on (TCP) or receives on (unconnected UDP); none for a
    short-lived child that exited since it was listed."""
    try:
        connections = process.net_connections(kind="inet")
    except psutil.NoSuchProcess:
        return []
    return [
        (c.laddr.ip, c.laddr.port)
        for c in connections
        if c.status == psutil.CONN_LISTEN or (c.type == socket.SOCK_DGRAM and not c.raddr)
    ]


def kernel_process(process: subprocess.Popen, kernel_id: str) -> psutil.Process:
    """The kernel's own process (not a child it may have started)."""
    matches = [
        child
        for child in psutil.Process(process.pid).children(recursive=True)
        if any(kernel_id in word for word in command_line(child))
    ]
    (top,) = [m for m in matches if m.ppid() not in {other.pid for other in matches}]
    return top


def wait_for_scheduler_workers(stack: dict, count: int, timeout_s: float = 90) -> None:
    """Until the scheduler behind the dashboard port counts `count` workers."""
    url = f"http://127.0.0.1:{stack['ports']['dashboard']}/json/counts.json"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if json.load(response)["workers"] == count:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    pytest.fail(f"the scheduler did not count {count} workers within {timeout_s} s")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """One local stack for the module, started as a user would: `himat local`."""
    folder = tmp_path_factory.mktemp("local")
    # Fixed workers, supervised by himat itself (no idle timer, so no controller).
    changes = {"workers.memory": "1000Mi", "workers.threads": 2, "idle.workers_after": None}
    write_settings(folder, changes)
    process, printed = start_himat(folder, WORKERS, "-f", "settings.yaml")
    yield {**printed, "process": process}
    if process.poll() is None:  # a run that skipped the SIGTERM test
        stop_cleanly(process)


def test_prints_urls_bound_to_loopback(stack):
    assert stack["jupyter_url"].startswith(f"http://127.0.0.1:{stack['ports']['jupyter']}/lab?")
    assert stack["dask_url"] == f"http://127.0.0.1:{stack['ports']['dashboard']}/status"
    assert stack["scheduler"].endswith(f"({WORKERS} workers x 2 threads, 822 MiB each)")
    assert (stack["folder"] / "notebooks").is_dir()


def test_says_where_workers_spill_and_how_to_move_it(stack):
    (line,) = [x for x in stack["stderr"].read_text().splitlines() if x.startswith("spill: ")]
    assert "change it with --spill-dir" in line
    assert "may spill up to 3.9 GiB" in line  # 2 pods x 2 x 1000 MiB, the cluster's rule


def test_jupyter_requires_the_token(stack):
    base = f"{stack['jupyter']}/api/status"
    assert get(base, stack["token"]) == 200
    assert get(base) in (401, 403)
    assert get(base, "not-the-token") in (401, 403)


def test_every_listener_of_every_started_process_is_on_loopback(stack):
    kernel = start_kernel(stack)  # kernels open ZMQ ports of their own
    kernel_pid = kernel_process(stack["process"], kernel).pid
    listeners = {}
    for process in psutil.Process(stack["process"].pid).children(recursive=True):
        if found := listening(process):
            listeners[process.pid] = found
    # scheduler, each pod's CLI (nanny), each worker process, Jupyter and the kernel listen
    assert len(listeners) >= 3 + 2 * WORKERS and kernel_pid in listeners
    elsewhere = {pid: x for pid, x in listeners.items() if any(ip != "127.0.0.1" for ip, _ in x)}
    assert elsewhere == {}
    request(f"{stack['jupyter']}/api/kernels/{kernel}", stack["token"], method="DELETE")


def test_workers_have_the_settings_shape(stack):
    from distributed import Client

    with Client(stack["address"], timeout=30) as client:
        workers = client.scheduler_info(n_workers=-1)["workers"].values()
        assert sorted(w["name"] for w in workers) == ["worker-0", "worker-1"]
        for worker in workers:
            assert worker["nthreads"] == 2
            # 1000Mi pods keep the 178 MiB worker reserve outside Dask: 822 MiB per process
            assert worker["memory_limit"] == 822 * 2**20
            assert worker["host"] == "127.0.0.1"


def test_a_computation_gives_the_right_answer(stack):
    import dask.array as dsa
    from distributed import Client

    with Client(stack["address"], timeout=30):
        total = dsa.arange(1_000_000, chunks=10_000).sum().compute()
    assert total == 999_999 * 1_000_000 // 2


def test_dashboard_answers_directly_and_through_jupyter(stack):
    assert get(stack["dask_url"]) == 200
    proxied = f"{stack['jupyter']}/proxy/{stack['ports']['dashboard']}/status"
    assert get(proxied, stack["token"]) == 200


def test_dask_labextension_points_at_the_dashboard(stack):
    url = f"{stack['jupyter']}/lab/api/settings/dask-labextension:plugin"
    status, body = request(url, stack["token"])
    assert status == 200
    dashboard = f"http://127.0.0.1:{stack['ports']['dashboard']}"
    # overrides.json becomes the setting's default
    assert json.loads(body)["schema"]["properties"]["defaultURL"]["default"] == dashboard


def run_example_notebook(stack: dict) -> tuple[str, list[dict]]:
    """Every code cell of notebooks/example.ipynb, unchanged, in a kernel of himat's own
    JupyterLab (so with the environment and working directory himat gives it), as a user
    running all cells would. Returns the printed text and the rich outputs."""
    import nbformat
    from jupyter_client import BlockingKernelClient

    kernel_id = start_kernel(stack)
    jupyter = child_with(stack["process"], "-m", "jupyterlab")
    runtime = Path(jupyter.environ()["JUPYTER_RUNTIME_DIR"])
    client = BlockingKernelClient()
    client.load_connection_file(str(runtime / f"kernel-{kernel_id}.json"))
    client.start_channels()
    text: list[str] = []
    rich: list[dict] = []

    def collect(message: dict) -> None:
        content = message["content"]
        if message["msg_type"] == "stream":
            text.append(content["text"])
        elif message["msg_type"] in ("display_data", "execute_result"):
            rich.append(content["data"])
        elif message["msg_type"] == "error":
            text.append("\n".join(content["traceback"]))

    try:
        client.wait_for_ready(timeout=60)
        notebook = nbformat.read(ROOT / "notebooks" / "example.ipynb", as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                reply = client.execute_interactive(cell.source, output_hook=collect, timeout=240)
                assert reply["content"]["status"] == "ok", "".join(text)
    finally:
        client.stop_channels()
        request(f"{stack['jupyter']}/api/kernels/{kernel_id}", stack["token"], method="DELETE")
    return "".join(text), rich


def test_example_notebook_plots_and_writes_zarr_to_the_local_scratch_folder(stack):
    text, rich = run_example_notebook(stack)
    assert f"with {WORKERS} workers" in text
    assert "checked: 24 yearly means match" in text
    assert any("image/png" in data for data in rich)  # the figure
    # Without data.scratch, SCRATCH_BUCKET is a folder the workers share, beside the notebooks.
    store = stack["folder"] / "notebooks" / "scratch" / "himat-example" / "dh.zarr"
    assert f"wrote and read back {store}: {{'year': 24, 'y': 600, 'x': 600}}" in text
    assert (store / "zarr.json").is_file()


def test_killing_a_worker_process_mid_computation_does_not_change_the_result(stack):
    import dask.array as dsa
    from distributed import Client

    with Client(stack["address"], timeout=30) as client:
        pids = client.run(os.getpid)
        array = dsa.random.RandomState(0).random((4000, 4000), chunks=(250, 250))
        future = client.compute((array * 2).sum())
        time.sleep(0.5)
        os.kill(next(iter(pids.values())), signal.SIGKILL)
        result = future.result(timeout=120)
        expected = float((array * 2).sum().compute(scheduler="threads"))
        assert result == pytest.approx(expected)
        client.wait_for_workers(WORKERS, timeout=60)  # the nanny restarted it


def test_a_killed_worker_pod_is_restarted_and_the_result_still_computed(stack):
    import dask.array as dsa
    from distributed import Client

    pod = child_with(stack["process"], "--name", "worker-0")
    with Client(stack["address"], timeout=30) as client:
        array = dsa.random.RandomState(1).random((4000, 4000), chunks=(250, 250))
        future = client.compute((array + 1).sum())
        time.sleep(0.5)
        pod.kill()  # the pod's `dask worker` parent; its worker process follows it
        result = future.result(timeout=120)
        assert result == pytest.approx(float((array + 1).sum().compute(scheduler="threads")))
        client.wait_for_workers(WORKERS, timeout=60)
    restarted = child_with(stack["process"], "--name", "worker-0")
    assert restarted.pid != pod.pid
    assert "worker-0 exited with status -9; restarting it" in stack["stderr"].read_text()


def test_a_killed_scheduler_is_restarted_and_jupyter_and_its_kernels_keep_running(stack):
    from distributed import Client

    jupyter = child_with(stack["process"], "jupyterlab")
    kernel = start_kernel(stack)
    kernel_pid = kernel_process(stack["process"], kernel).pid
    child_with(stack["process"], "distributed.cli.dask_scheduler").kill()
    time.sleep(1)
    wait_for_scheduler_workers(stack, WORKERS)  # a new scheduler; the worker pods came back
    with Client(stack["address"], timeout=30) as client:
        assert client.submit(sum, [1, 2, 3]).result(timeout=60) == 6
    assert child_with(stack["process"], "jupyterlab").pid == jupyter.pid
    assert kernel_process(stack["process"], kernel).pid == kernel_pid
    assert get(f"{stack['jupyter']}/api/kernels/{kernel}", stack["token"]) == 200
    messages = stack["stderr"].read_text()
    assert "scheduler exited with status -9; restarting it now on " + stack["address"] in messages
    assert "Jupyter and its kernels keep running" in messages


def test_a_killed_jupyter_is_restarted_with_the_same_token(stack):
    jupyter = child_with(stack["process"], "jupyterlab")
    jupyter.kill()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if get(f"{stack['jupyter']}/api/status", stack["token"]) == 200:
            break
        time.sleep(0.3)
    assert get(f"{stack['jupyter']}/api/status", stack["token"]) == 200
    assert child_with(stack["process"], "jupyterlab").pid != jupyter.pid
    assert "jupyter exited with status -9; restarting it now with the same token" in (
        stack["stderr"].read_text()
    )


def test_port_in_use_is_named_not_a_traceback(stack, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pangeo_himat", "local", "--port", str(stack["ports"]["jupyter"])]
        + ["--scheduler-port", str(free_port()), "--dashboard-port", str(free_port())],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    port = stack["ports"]["jupyter"]
    assert f"port {port} is in use; choose another with --port (make local PORT=N)" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_sigterm_stops_every_started_process(stack):
    process = stack["process"]
    tree = psutil.Process(process.pid).children(recursive=True)
    assert len(tree) >= 3 + 2 * WORKERS  # scheduler, each pod and its process, jupyter
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert still_running(tree, timeout_s=10) == []
    assert (stack["folder"] / "notebooks").is_dir()  # notebooks are never removed


def test_killing_himat_itself_ends_every_child_within_2_s(tmp_path):
    # Killed, himat cannot remove its state folder: keep it under tmp_path, not in /tmp.
    process, printed = start_himat(tmp_path, 1, env={**os.environ, "TMPDIR": str(tmp_path)})
    # singular where it is one; the default settings' idle timer: the controller starts it
    assert "(1 worker x 1 thread, " in printed["scheduler"]
    assert "started on demand: by the controller now" in printed["scheduler"]
    assert "none after 30m without either)" in printed["scheduler"]
    start_kernel({**printed, "process": process})
    # The default settings' idle timer: the controller starts the worker at its first step.
    wait_for_scheduler_workers(printed, 1)
    children = psutil.Process(process.pid).children(recursive=True)
    # the scheduler, the controller and its worker, Jupyter and its kernel
    assert len(children) >= 5
    process.kill()  # SIGKILL: himat gets no chance to clean up
    process.wait(timeout=30)
    alive = still_running(children, timeout_s=2)
    names = [" ".join(command_line(p)[:4]) for p in alive]
    for child in alive:
        child.kill()
    assert names == []


def test_a_spill_dir_without_room_is_refused_before_anything_starts(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pangeo_himat", "local", "--workers", "100000"]
        + ["--spill-dir", str(tmp_path / "spill")]
        + ["--port", str(free_port()), "--scheduler-port", str(free_port())]
        + ["--dashboard-port", str(free_port())],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()[-1:]
    assert line.startswith(f"{tmp_path / 'spill'}: ")
    assert "100000 worker pods may spill" in line and "--spill-dir" in line
    assert not (tmp_path / "spill").exists() and not (tmp_path / "notebooks").exists()


def test_spill_room_follows_the_clusters_rule():
    shape = LocalShape(pods=3, processes=1, threads=1, pod_memory_mib=1024)
    assert shape.spill_mib == 6 * 1024  # each pod may spill twice its memory
    assert spill_problem(Path("/spill"), 6 * 1024, shape) is None
    problem = spill_problem(Path("/spill"), 6 * 1024 - 1, shape)
    assert problem is not None and "3 worker pods may spill 6 GiB" in str(problem)


def test_a_spill_disk_running_low_is_said_while_running():
    shape = LocalShape(pods=2, processes=1, threads=1, pod_memory_mib=1600)
    assert low_spill_warning(Path("/spill"), 1600, shape) is None
    warning = low_spill_warning(Path("/spill"), 1599, shape)
    assert warning is not None and "/spill has 1599 MiB free" in warning
    assert "--spill-dir" in warning


def test_local_shape_fits_the_machine(tmp_path):
    settings = load_settings(write_settings(tmp_path))
    assert local_shape(settings, cpu_count=2, total_mib=24_000, pods=None).pods == 2
    assert local_shape(settings, cpu_count=64, total_mib=8_000, pods=None).pods == 3
    assert local_shape(settings, cpu_count=2, total_mib=8_000, pods=7).pods == 7
    auto = load_settings(
        write_settings(
            tmp_path, {"workers.memory": "auto", "workers.cpu": "auto", "workers.per_node": 2}
        )
    )
    shape = local_shape(auto, cpu_count=4, total_mib=10_240, pods=None)
    assert (shape.pods, shape.pod_memory_mib) == (4, 2048)


def test_make_local_passes_the_ports_the_error_suggests():
    from pangeo_himat.local.ports import MAKE_VARIABLES

    assert set(MAKE_VARIABLES.values()) == {"PORT", "SCHEDULER_PORT", "DASHBOARD_PORT"}
    result = subprocess.run(
        ["make", "-n", "local", "PORT=9001", "SCHEDULER_PORT=9002", "DASHBOARD_PORT=9003"]
        + ["NOTEBOOK_DIR=../work"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    (line,) = [x for x in result.stdout.splitlines() if " local " in x and "himat" in x]
    assert "--port 9001 --scheduler-port 9002 --dashboard-port 9003" in line
    assert line.endswith(" --notebook-dir ../work")


def test_first_make_local_says_what_it_installs_and_shows_pips_progress(tmp_path):
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    # A stand-in for pip that says how it was called: the recipe, not PyPI, is under test.
    pip = venv / "bin" / "pip"
    pip.write_text('#!/bin/sh\necho "pip $*"\n')
    pip.chmod(0o755)
    result = subprocess.run(
        ["make", "--no-print-directory", f"VENV={venv}", f"PYTHON={sys.executable}"]
        + [f"{venv}/.local"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        # as a user runs it, not as a sub-make of `make test`
        env={k: v for k, v in os.environ.items() if not k.startswith("MAKE")},
    )
    assert result.returncode == 0, result.stderr
    said, called, done = result.stdout.splitlines()
    assert said.startswith(
        f"make local: installing JupyterLab, Dask and the science stack into {venv}"
    )
    assert re.search(r"first run only: about \d+ MiB of packages, [\d.]+ GiB installed", said)
    assert called.startswith("pip install ") and "--quiet" not in called
    assert called.endswith(" -e .[local]")
    assert re.fullmatch(r"make local: installed in \d+ s", done)


def test_a_process_that_keeps_dying_is_restarted_after_a_growing_pause():
    from pangeo_himat.local.stack import backoff_s

    assert [backoff_s(n) for n in range(8)] == [0, 1, 2, 4, 8, 16, 30, 30]


def test_every_option_of_himat_local_says_what_it_does_in_its_help():
    from pangeo_himat.local import local_command

    shown = [p for p in local_command.params if isinstance(p, click.Option) and not p.hidden]
    assert {p.opts[0] for p in shown} >= {"--scheduler-port", "--dashboard-port", "--notebook-dir"}
    assert [p.opts[0] for p in shown if not p.help] == []
    result = subprocess.run(
        [sys.executable, "-m", "pangeo_himat", "local", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    text = " ".join(result.stdout.split())  # click wraps the help text
    assert "--scheduler-port INTEGER RANGE Dask scheduler port" in text
    assert "--dashboard-port INTEGER RANGE Dask dashboard port" in text
    assert "[default: 8786;" in text and "[default: notebooks]" in text
