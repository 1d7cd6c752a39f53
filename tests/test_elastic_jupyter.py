"""The Jupyter reader against a real Jupyter Server: its reads are not activity."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from jupyter_client.blocking.client import BlockingKernelClient

from pangeo_himat.controller.readers import JupyterAPI, http_json

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]
TOKEN = "elastic-test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def jupyter_runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the server writes its kernels' connection files."""
    return tmp_path_factory.mktemp("jupyter")


@pytest.fixture(scope="module")
def jupyter(jupyter_runtime: Path) -> Iterator[str]:
    folder = jupyter_runtime
    port = free_port()
    argv = [sys.executable, "-m", "jupyter_server", "--no-browser", "--ip=127.0.0.1"]
    argv += [f"--port={port}", f"--ServerApp.root_dir={folder}"]
    argv += [f"--IdentityProvider.token={TOKEN}"]
    # Kernels on Unix sockets: on a busy machine the TCP ports jupyter_client picks for a kernel
    # can be taken by another process before the kernel binds them.
    argv += ["--KernelManager.transport=ipc"]
    argv += ["--allow-root"] if os.geteuid() == 0 else []
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(folder)}
    log = (folder / "jupyter.log").open("wb")
    process = subprocess.Popen(argv, env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    end = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{base}/api", timeout=2).close()
            break
        except (urllib.error.URLError, OSError):
            assert process.poll() is None, (folder / "jupyter.log").read_text()
            assert time.monotonic() < end, "Jupyter Server did not start"
            time.sleep(0.3)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(30)


def test_reading_status_and_kernels_is_not_counted_as_activity(jupyter: str) -> None:
    reader = JupyterAPI(jupyter, TOKEN)
    first = reader.sample()
    time.sleep(1.2)
    for _ in range(3):
        again = reader.sample()
    assert again.last_activity_s == first.last_activity_s
    assert again.busy_kernels == 0


def test_a_request_from_the_user_is_activity(jupyter: str) -> None:
    reader = JupyterAPI(jupyter, TOKEN)
    before = reader.sample().last_activity_s
    time.sleep(1.2)
    headers = {"Authorization": f"token {TOKEN}"}
    http_json(f"{jupyter}/api/contents", headers=headers)
    assert reader.sample().last_activity_s > before


def test_a_kernel_running_code_is_busy_and_a_never_connected_one_is_not(
    jupyter: str, jupyter_runtime: Path
) -> None:
    headers = {"Authorization": f"token {TOKEN}"}
    kernel = http_json(f"{jupyter}/api/kernels", {"name": "python3"}, headers=headers)
    reader = JupyterAPI(jupyter, TOKEN)
    # Jupyter Server reports "starting" until a client connects to the kernel: not busy.
    assert reader.sample().busy_kernels == 0
    connection_file = jupyter_runtime / f"kernel-{kernel['id']}.json"
    client = BlockingKernelClient(connection_file=str(connection_file))
    client.load_connection_file()
    # The heartbeat's default 1 s without an answer reads a kernel as dead; on a loaded 2-core
    # machine a live kernel can take longer (jupyter_client channels.py, HBChannel.time_to_dead).
    client.hb_channel.time_to_dead = 30.0
    client.start_channels()
    try:
        client.wait_for_ready(timeout=120)
        client.execute("import time; time.sleep(6)")
        end = time.monotonic() + 30
        while reader.sample().busy_kernels != 1:
            assert time.monotonic() < end, "the running kernel never showed as busy"
            time.sleep(0.2)
        busy_at = reader.sample().last_activity_s
        while reader.sample().busy_kernels != 0:
            assert time.monotonic() < end + 30, "the kernel stayed busy"
            time.sleep(0.2)
        # The end of the kernel's work is Jupyter activity: the idle-sleep timer restarts.
        assert reader.sample().last_activity_s > busy_at
    finally:
        client.stop_channels()
        request = urllib.request.Request(
            f"{jupyter}/api/kernels/{kernel['id']}", method="DELETE", headers=headers
        )
        urllib.request.urlopen(request, timeout=30).close()
