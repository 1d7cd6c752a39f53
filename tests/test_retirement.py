"""Worker retirement: the rendered preStop hook, run for real against a local Dask cluster.

The scheduler runs with the HTTP routes the chart sets; one `dask worker` stands for a pod that
stays (127.0.0.1), another with two processes for the pod being evicted (127.0.0.2, its POD_IP).
The exact preStop command from `helm template` must move the evicted pod's data to the worker
that stays and retire both its processes, without recomputing anything.
"""

from __future__ import annotations

import ast
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask.config
import distributed
import psutil
import pytest
import yaml
from distributed import Client

from conftest import command_line, deployment_pod_spec, render_chart_from_settings
from pangeo_himat.render import names
from pangeo_himat.render.render_values import (
    WORKER_MEMORY_RESERVE_HOOK_MIB,
    WORKER_MEMORY_RESERVE_PARENT_MIB,
    WORKER_MEMORY_RESERVE_PER_NANNY_MIB,
    WORKER_MEMORY_RESERVE_TRACKER_MIB,
    worker_memory_reserve_mib,
)
from pangeo_himat.settings.quantities import memory_mib

pytestmark = pytest.mark.slow

ROUTES_VARIABLE = "DASK_DISTRIBUTED__SCHEDULER__HTTP__ROUTES"
STAYING_HOST, LEAVING_HOST = "127.0.0.1", "127.0.0.2"
LEAVING_PROCESSES = 2
BLOCKS = 6
MIB = 2**20
Chart = dict[str, dict[str, Any]]
# Runs a command as the kubelet would and reports its peak RSS (KiB) on the last stderr line.
PEAK_RSS_PROBE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
    "print(f'peak_rss_kib={peak}', file=sys.stderr)\n"
    "sys.exit(code)\n"
)


@pytest.fixture(scope="module")
def chart(tmp_path_factory: pytest.TempPathFactory) -> Chart:
    documents = render_chart_from_settings(tmp_path_factory.mktemp("chart"))
    return {
        "worker": deployment_pod_spec(documents, "-worker"),
        "scheduler": deployment_pod_spec(documents, "-scheduler"),
    }


def container_env(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in spec["containers"][0]["env"]}


def prestop_command(chart: Chart) -> list[str]:
    return list(chart["worker"]["containers"][0]["lifecycle"]["preStop"]["exec"]["command"])


def rendered_routes(chart: Chart) -> str:
    return str(container_env(chart["scheduler"])[ROUTES_VARIABLE]["value"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pod_environment(chart: Chart, local: dict[str, str]) -> dict[str, str]:
    """The worker container's environment, every variable set to its local counterpart."""
    declared = set(container_env(chart["worker"]))
    assert declared <= set(local), f"the test does not know how to set {declared - set(local)}"
    bin_dir = Path(sys.executable).parent
    return {"PATH": f"{bin_dir}:/usr/bin:/bin", **{name: local[name] for name in declared}}


def pod_env(chart: Chart, home: str, pod_ip: str, address: str, http_url: str) -> dict[str, str]:
    """What the pod sets, pointed at the local scheduler and standing at `pod_ip`."""
    local = {"HOME": home, "POD_NAME": "himat-worker-0", "POD_IP": pod_ip}
    return pod_environment(
        chart, {**local, "DASK_SCHEDULER_ADDRESS": address, "HIMAT_SCHEDULER_HTTP": http_url}
    )


def run_hook(chart: Chart, env: dict[str, str]) -> tuple[int, str, float]:
    """The exact preStop command: exit code, output and its peak RSS in MiB.

    The kubelet kills a hook still running when the grace period ends; here the test fails.
    """
    grace_s = chart["worker"]["terminationGracePeriodSeconds"]
    result = subprocess.run(
        [sys.executable, "-c", PEAK_RSS_PROBE, *prestop_command(chart)],
        env=env,
        capture_output=True,
        text=True,
        timeout=grace_s,
    )
    *errors, peak = result.stderr.strip().splitlines()
    peak_mib = int(peak.removeprefix("peak_rss_kib=")) / 1024
    return result.returncode, result.stdout + "\n".join(errors), peak_mib


def wait_until(condition: Any, what: str, timeout_s: float = 60) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.2)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def hosts_of_workers(client: Client) -> list[str]:
    workers = client.scheduler_info(n_workers=-1)["workers"].values()
    return sorted(str(w["host"]) for w in workers)


@pytest.fixture(scope="module")
def cluster(chart: Chart, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A real scheduler with the chart's routes, a staying worker and a leaving two-process one."""
    try:
        with socket.socket() as sock:
            sock.bind((LEAVING_HOST, 0))
    except OSError as error:
        pytest.skip(f"{LEAVING_HOST} cannot be bound here ({error}); the hook matches by IP")
    folder = tmp_path_factory.mktemp("cluster")
    port, dashboard_port = free_port(), free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask_bin = str(Path(sys.executable).parent / "dask")
    scheduler_env = {**os.environ, ROUTES_VARIABLE: rendered_routes(chart)}
    processes = [
        subprocess.Popen(
            [dask_bin, "scheduler", "--host", "127.0.0.1", "--port", str(port)]
            + ["--dashboard-address", f"127.0.0.1:{dashboard_port}"],
            env=scheduler_env,
            stdout=subprocess.DEVNULL,
            stderr=(folder / "scheduler.log").open("wb"),
        )
    ]
    try:
        with Client(address, timeout=60) as client:
            for host, count in ((STAYING_HOST, 1), (LEAVING_HOST, LEAVING_PROCESSES)):
                processes.append(
                    subprocess.Popen(
                        [dask_bin, "worker", address, "--host", host, "--nworkers", str(count)]
                        + ["--nthreads", "1", "--memory-limit", "400MiB"]
                        + ["--local-directory", str(folder / host)],
                        stdout=subprocess.DEVNULL,
                        stderr=(folder / f"worker-{host}.log").open("wb"),
                    )
                )
            client.wait_for_workers(1 + LEAVING_PROCESSES, timeout=60)
            yield {
                "client": client,
                "address": address,
                "http": f"http://127.0.0.1:{dashboard_port}",
                "staying": processes[1],
                "leaving": processes[2],
                "folder": folder,
            }
    finally:
        for process in reversed(processes):
            stop(process)


def test_scheduler_serves_the_http_api_besides_the_default_routes(chart: Chart) -> None:
    routes = dask.config.collect_env({ROUTES_VARIABLE: rendered_routes(chart)})
    served = routes["distributed"]["scheduler"]["http"]["routes"]
    defaults_file = Path(distributed.__file__).parent / "distributed.yaml"
    defaults = yaml.safe_load(defaults_file.read_text())["distributed"]["scheduler"]["http"]
    assert "distributed.http.scheduler.api" in served
    assert set(defaults["routes"]) <= set(served)


def test_prestop_hook_imports_the_standard_library_only(chart: Chart) -> None:
    command = prestop_command(chart)
    # -S: no site-packages on sys.path, so not even an indirect import of Dask can succeed.
    assert command[:-1] == ["python", "-I", "-S", "-c"]
    tree = ast.parse(command[-1])
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert imported and {m.split(".")[0] for m in imported} <= sys.stdlib_module_names
    assert not any(
        isinstance(n, ast.Call) and getattr(n.func, "id", "") in {"__import__"}
        for n in ast.walk(tree)
    )


def test_prestop_hook_reads_only_variables_the_pod_sets(chart: Chart) -> None:
    tree = ast.parse(prestop_command(chart)[-1])
    read = {
        n.slice.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Subscript)
        and ast.unparse(n.value) == "os.environ"
        and isinstance(n.slice, ast.Constant)
    }
    env = container_env(chart["worker"])
    assert read == {"POD_IP", "HIMAT_SCHEDULER_HTTP"}
    assert env["POD_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.podIP"
    scheduler = names.scheduler_service("himat")
    assert env["HIMAT_SCHEDULER_HTTP"]["value"] == f"http://{scheduler}:{names.DASHBOARD_PORT}"


def test_prestop_hook_lets_the_pod_stop_when_the_scheduler_is_unreachable(
    chart: Chart, tmp_path: Path
) -> None:
    env = pod_env(
        chart,
        str(tmp_path),
        LEAVING_HOST,
        f"tcp://127.0.0.1:{free_port()}",
        f"http://127.0.0.1:{free_port()}",
    )
    code, output, _ = run_hook(chart, env)
    assert code == 0, output
    assert "scheduler unreachable" in output


def test_prestop_hook_gives_up_in_time_on_a_scheduler_that_never_answers(
    chart: Chart, tmp_path: Path
) -> None:
    # The kernel completes the handshake on a listening socket nobody reads: a hung scheduler.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        http_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        env = pod_env(chart, str(tmp_path), LEAVING_HOST, "tcp://127.0.0.1:1", http_url)
        code, output, _ = run_hook(chart, env)
    assert code == 0, output
    assert "scheduler unreachable (timed out)" in output


def test_prestop_hook_names_a_scheduler_that_does_not_serve_the_api(
    chart: Chart, cluster: dict[str, Any]
) -> None:
    # Under another path prefix the dashboard answers 404, as a scheduler without the route does.
    env = pod_env(
        chart,
        str(cluster["folder"]),
        LEAVING_HOST,
        cluster["address"],
        f"{cluster['http']}/no-such-prefix",
    )
    code, output, _ = run_hook(chart, env)
    assert code == 1
    assert "HTTP API answered HTTP Error 404" in output
    assert LEAVING_HOST in hosts_of_workers(cluster["client"])


def test_prestop_moves_the_pods_data_and_retires_its_workers_without_recomputing(
    chart: Chart, cluster: dict[str, Any]
) -> None:
    client: Client = cluster["client"]
    counter = cluster["folder"] / "runs"
    counter.mkdir()
    leaving = [
        address
        for address, info in client.scheduler_info(n_workers=-1)["workers"].items()
        if info["host"] == LEAVING_HOST
    ]
    assert len(leaving) == LEAVING_PROCESSES

    def block(index: int, runs: str) -> bytes:
        # One file per execution: a recomputation would leave a second one.
        Path(runs, f"{index}-{time.monotonic_ns()}").touch()
        return bytes([index]) * MIB

    futures = [
        client.submit(
            block,
            index,
            str(counter),
            key=f"block-{index}",
            workers=[leaving[index % LEAVING_PROCESSES]],
            allow_other_workers=False,
            pure=False,
        )
        for index in range(BLOCKS)
    ]
    distributed.wait(futures, timeout=60)
    before = client.who_has(futures)
    assert all(set(holders) <= set(leaving) for holders in before.values()), before
    assert len(list(counter.iterdir())) == BLOCKS

    env = pod_env(chart, str(cluster["folder"]), LEAVING_HOST, cluster["address"], cluster["http"])
    code, output, peak_mib = run_hook(chart, env)
    assert code == 0, output
    assert f"preStop: retired {sorted(leaving)}" in output

    assert hosts_of_workers(client) == [STAYING_HOST]
    (staying,) = client.scheduler_info(n_workers=-1)["workers"]
    after = client.who_has(futures)
    assert all(list(holders) == [staying] for holders in after.values()), after
    assert client.gather(futures) == [bytes([i]) * MIB for i in range(BLOCKS)]
    assert len(list(counter.iterdir())) == BLOCKS, "a block was computed again"
    # The evicted pod's `dask worker` ends by itself once retired: the pod stops before SIGTERM.
    cluster["leaving"].wait(timeout=60)
    assert cluster["staying"].poll() is None
    cluster["hook_peak_mib"] = peak_mib


def test_prestop_reports_the_last_workers_whose_data_has_nowhere_to_go(
    chart: Chart, cluster: dict[str, Any]
) -> None:
    client: Client = cluster["client"]
    if hosts_of_workers(client) != [STAYING_HOST]:
        pytest.skip("needs the cluster as the retirement test leaves it: one worker, with data")
    held = client.scatter([b"only here"] * 3)
    distributed.wait(held, timeout=60)
    env = pod_env(chart, str(cluster["folder"]), STAYING_HOST, cluster["address"], cluster["http"])
    code, output, _ = run_hook(chart, env)
    assert code == 1
    assert "still registered" in output
    assert hosts_of_workers(client) == [STAYING_HOST]
    assert client.gather(held) == [b"only here"] * 3
    assert cluster["staying"].poll() is None


def test_what_runs_beside_the_workers_fits_in_the_reserve(
    chart: Chart, cluster: dict[str, Any]
) -> None:
    """The parent with its nannies, the resource tracker and the hook stay within the reserve."""
    parent = psutil.Process(cluster["staying"].pid)
    tracker_mib = sum(
        child.memory_info().rss / MIB
        for child in parent.children(recursive=True)
        if "resource_tracker" in " ".join(command_line(child))
    )
    hook_mib = cluster.get("hook_peak_mib")
    if hook_mib is None:
        _, _, hook_mib = run_hook(
            chart,
            pod_env(
                chart, str(cluster["folder"]), "127.0.0.9", cluster["address"], cluster["http"]
            ),
        )
    measured_mib = parent.memory_info().rss / MIB + tracker_mib + hook_mib
    assert hook_mib <= WORKER_MEMORY_RESERVE_HOOK_MIB
    assert measured_mib <= worker_memory_reserve_mib(1)


@pytest.mark.parametrize(("memory", "processes"), [("1600Mi", 1), ("1600Mi", 4), ("6Gi", 2)])
def test_rendered_memory_limit_leaves_the_measured_reserve(
    memory: str, processes: int, tmp_path: Path
) -> None:
    documents = render_chart_from_settings(
        tmp_path, {"workers.memory": memory, "workers.processes": processes}
    )
    container = deployment_pod_spec(documents, "-worker")["containers"][0]
    argv = container.get("args") or container["command"]
    assert int(argv[argv.index("--nworkers") + 1]) == processes
    limit_mib = int(argv[argv.index("--memory-limit") + 1].removesuffix("MiB"))
    container_mib = memory_mib(container["resources"]["limits"]["memory"])
    measured_mib = (
        WORKER_MEMORY_RESERVE_PARENT_MIB
        + WORKER_MEMORY_RESERVE_PER_NANNY_MIB * (processes - 1)
        + WORKER_MEMORY_RESERVE_TRACKER_MIB
        + WORKER_MEMORY_RESERVE_HOOK_MIB
    )
    assert container_mib - processes * limit_mib >= worker_memory_reserve_mib(processes)
    assert worker_memory_reserve_mib(processes) >= measured_mib
