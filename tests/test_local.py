"""`himat local` with real processes: a Dask scheduler, workers and JupyterLab on 127.0.0.1."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psutil
import pytest

from conftest import ROOT, write_settings
from pangeo_himat.loader import load_settings
from pangeo_himat.local import local_shape

pytestmark = pytest.mark.timeout(300)
WORKERS = 2


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str, token: str | None = None) -> int:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"token {token}")
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def stop_cleanly(process: subprocess.Popen) -> None:
    """SIGTERM, as a user's Ctrl-C would; kill whatever is left so no test leaks processes."""
    children = psutil.Process(process.pid).children(recursive=True)
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=60)
    finally:
        for child in psutil.wait_procs(children, timeout=10)[1]:
            child.kill()


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """One local stack for the module, started as a user would: `himat local`."""
    folder = tmp_path_factory.mktemp("local")
    settings = write_settings(folder, {"workers.memory": "1000Mi", "workers.threads": 2})
    ports = {"jupyter": free_port(), "scheduler": free_port(), "dashboard": free_port()}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pangeo_himat",
            "local",
            "-f",
            str(settings),
            "--workers",
            str(WORKERS),
            "--port",
            str(ports["jupyter"]),
            "--scheduler-port",
            str(ports["scheduler"]),
            "--dashboard-port",
            str(ports["dashboard"]),
        ],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    urls = {}
    deadline = time.monotonic() + 180
    while len(urls) < 3 and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        key, _, value = line.partition(": ")
        if key in ("jupyter_url", "dask_url", "scheduler"):
            urls[key] = value.strip()
    if len(urls) < 3:
        stop_cleanly(process)
        pytest.fail(f"himat local did not become ready: {process.stderr.read()}")
    token = urls["jupyter_url"].split("token=")[1]
    yield {
        **urls,
        "process": process,
        "ports": ports,
        "token": token,
        "folder": folder,
        "scheduler": f"tcp://127.0.0.1:{ports['scheduler']}",
    }
    if process.poll() is None:  # a run that skipped the SIGTERM test
        stop_cleanly(process)


def test_prints_urls_bound_to_loopback(stack):
    assert stack["jupyter_url"].startswith(f"http://127.0.0.1:{stack['ports']['jupyter']}/lab?")
    assert stack["dask_url"] == f"http://127.0.0.1:{stack['ports']['dashboard']}/status"
    assert (stack["folder"] / "notebooks").is_dir()


def test_jupyter_requires_the_token(stack):
    base = f"http://127.0.0.1:{stack['ports']['jupyter']}/api/status"
    assert get(base, stack["token"]) == 200
    assert get(base) in (401, 403)
    assert get(base, "not-the-token") in (401, 403)


def test_workers_have_the_settings_shape(stack):
    from distributed import Client

    with Client(stack["scheduler"], timeout=30) as client:
        workers = client.scheduler_info(n_workers=-1)["workers"].values()
        assert len(workers) == WORKERS
        for worker in workers:
            assert worker["nthreads"] == 2
            # 1000Mi pods keep the 178 MiB worker reserve outside Dask: 822 MiB per process
            assert worker["memory_limit"] == 822 * 2**20
            assert worker["host"] == "127.0.0.1"


def test_a_computation_gives_the_right_answer(stack):
    import dask.array as dsa
    from distributed import Client

    with Client(stack["scheduler"], timeout=30):
        total = dsa.arange(1_000_000, chunks=10_000).sum().compute()
    assert total == 999_999 * 1_000_000 // 2


def test_dashboard_answers_directly_and_through_jupyter(stack):
    assert get(stack["dask_url"]) == 200
    proxied = (
        f"http://127.0.0.1:{stack['ports']['jupyter']}/proxy/{stack['ports']['dashboard']}/status"
    )
    assert get(proxied, stack["token"]) == 200


def test_dask_labextension_points_at_the_dashboard(stack):
    url = f"http://127.0.0.1:{stack['ports']['jupyter']}/lab/api/settings/dask-labextension:plugin"
    request = urllib.request.Request(url, headers={"Authorization": f"token {stack['token']}"})
    with urllib.request.urlopen(request, timeout=20) as response:
        settings = json.load(response)
    dashboard = f"http://127.0.0.1:{stack['ports']['dashboard']}"
    # overrides.json becomes the setting's default
    assert settings["schema"]["properties"]["defaultURL"]["default"] == dashboard


def test_killing_a_worker_mid_computation_does_not_change_the_result(stack):
    import dask.array as dsa
    from distributed import Client

    with Client(stack["scheduler"], timeout=30) as client:
        pids = client.run(os.getpid)
        array = dsa.random.RandomState(0).random((4000, 4000), chunks=(250, 250))
        future = client.compute((array * 2).sum())
        time.sleep(0.5)
        os.kill(next(iter(pids.values())), signal.SIGKILL)
        result = future.result(timeout=120)
        expected = float((array * 2).sum().compute(scheduler="threads"))
        assert result == pytest.approx(expected)
        client.wait_for_workers(WORKERS, timeout=60)  # the nanny restarted it


def test_example_notebook_runs_headless_against_the_stack(stack, monkeypatch):
    import nbclient
    import nbformat

    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", stack["scheduler"])
    monkeypatch.delenv("HIMAT_SCRATCH_BUCKET", raising=False)
    notebook = nbformat.read(ROOT / "notebooks" / "example.ipynb", as_version=4)
    nbclient.NotebookClient(notebook, timeout=180, kernel_name="python3").execute()
    outputs = "".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert f"with {WORKERS} workers" in outputs
    assert "checked: 24 yearly means match" in outputs
    assert "skipped: HIMAT_SCRATCH_BUCKET is not set" in outputs


def test_port_in_use_is_named_not_a_traceback(stack, tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pangeo_himat",
            "local",
            "--port",
            str(stack["ports"]["jupyter"]),
            "--scheduler-port",
            str(free_port()),
            "--dashboard-port",
            str(free_port()),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"port {stack['ports']['jupyter']} is in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_sigterm_stops_every_started_process(stack):
    process = stack["process"]
    tree = psutil.Process(process.pid).children(recursive=True)
    assert len(tree) >= 3 + WORKERS  # scheduler, worker CLI + its processes, jupyter
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    gone, alive = psutil.wait_procs(tree, timeout=10)
    assert alive == [], [p.pid for p in alive]
    assert (stack["folder"] / "notebooks").is_dir()  # notebooks are never removed


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


def test_killing_himat_itself_leaves_no_orphans(tmp_path):
    ports = [str(free_port()) for _ in range(3)]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pangeo_himat",
            "local",
            "--workers",
            "1",
            "--port",
            ports[0],
            "--scheduler-port",
            ports[1],
            "--dashboard-port",
            ports[2],
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout.readline().startswith("jupyter_url: ")
    children = psutil.Process(process.pid).children(recursive=True)
    assert children
    process.kill()  # SIGKILL: himat gets no chance to clean up
    process.wait(timeout=30)
    gone, alive = psutil.wait_procs(children, timeout=30)
    for child in alive:
        child.kill()
    assert alive == []
