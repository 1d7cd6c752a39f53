"""The real AWS CLI without its start-up: a server that imports it once, then forks per call.

NOT a stand-in: each call runs the real `aws` script (runpy of the file the tests' `aws`
points at) in a child forked from a process that has already imported awscli and its plugins,
with the caller's argv, environment, working directory and standard streams (passed over a
Unix socket with SCM_RIGHTS). `aws --version` costs 0.65 s as a fresh process, most of it
importing awscli; a forked call skips that, and the lifecycle tests make hundreds of calls.

    python aws_fork_server.py SOCKET AWS_SCRIPT   # runs until its standard input closes
    run_through(SOCKET, AWS_SCRIPT, argv)        # in the caller: returns aws's exit status

The server prints one line, `ready`, once it listens. The caller forwards SIGINT, SIGTERM and
SIGHUP to the child, and a child whose caller went away is killed. Linux only (pidfd_open);
elsewhere `usable()` is false and the stand-in execs the CLI as before.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import struct
import sys

# The server's own modules (runpy, select, threading) are imported in its functions:
# the caller's side runs once per `aws` call and needs none of them.

# What the imports of one call cost, done once: awscli's driver, botocore, and the plugins
# that awscli.plugin.load_plugins imports (awscli/handlers.py) on every call.
PRELOADED = ("awscli.clidriver", "awscli.handlers", "awscli.formatter", "awscli.paramfile")
# The data whose parsing is most of what a forked call still costs (0.05 s for the
# endpoints, 0.135 s for EC2's model, of about 0.2 s): parsed once, before any fork. Each child
# reads its own copy-on-write copy, once, as a fresh process would parse them once.
PREPARSED_DATA = "endpoints"
PREPARSED_MODELS = ("ec2",)
FORWARDED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
LENGTH = struct.Struct("!I")
STATUS = struct.Struct("!i")


def usable() -> bool:
    return hasattr(os, "pidfd_open") and hasattr(socket, "send_fds")


def _read_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise EOFError("the caller closed the connection")
        data += chunk
    return data


# --- the caller's side --------------------------------------------------------------------


def run_through(socket_path: str, script: str, args: list[str]) -> int:
    """Run `script args` in the server; return its exit status as a process's would be."""
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.connect(socket_path)
    request = json.dumps(
        {"argv": [script, *args], "env": dict(os.environ), "cwd": os.getcwd()}
    ).encode()
    socket.send_fds(conn, [LENGTH.pack(len(request))], [0, 1, 2])
    conn.sendall(request)
    (child,) = STATUS.unpack(_read_exactly(conn, STATUS.size))

    def forward(received: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(child, received)

    for number in FORWARDED_SIGNALS:
        signal.signal(number, forward)
    (status,) = STATUS.unpack(_read_exactly(conn, STATUS.size))
    if status < 0:
        # Killed by a signal: end the same way, so the caller's parent sees what it would.
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    return status


# --- the server's side --------------------------------------------------------------------


def _run_child(script: str, request: dict, streams: list[int]) -> None:
    """In the forked child: become `aws` as the caller started it; never returns."""
    import runpy

    for target, fd in enumerate(streams):
        os.dup2(fd, target)
    # Nothing of the server's (its socket, other calls' connections) stays open in `aws`.
    os.closerange(3, os.sysconf("SC_OPEN_MAX"))
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    # What awscli/__init__.py does at import, done for this environment: its data folder after
    # the caller's AWS_DATA_PATH entries.
    data_paths = [
        os.path.expanduser(os.path.expandvars(path))
        for path in request["env"].get("AWS_DATA_PATH", "").split(os.pathsep)
        if path
    ]
    import awscli

    data_paths.append(os.path.join(os.path.dirname(os.path.abspath(awscli.__file__)), "data"))
    os.environ["AWS_DATA_PATH"] = os.pathsep.join(data_paths)
    sys.argv = list(request["argv"])
    status = 0
    try:
        runpy.run_path(script, run_name="__main__")
    except SystemExit as exit_:
        if exit_.code is None:
            status = 0
        elif isinstance(exit_.code, int):
            status = exit_.code
        else:
            print(exit_.code, file=sys.stderr)
            status = 1
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
    except BaseException:
        import traceback

        traceback.print_exc()
        status = 1
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(status & 0xFF)


def _serve_one(conn: socket.socket, script: str) -> None:
    import threading

    header, streams, _, _ = socket.recv_fds(conn, LENGTH.size, 3)
    (size,) = LENGTH.unpack(header)
    request = json.loads(_read_exactly(conn, size))
    child = os.fork()
    if child == 0:
        _run_child(script, request, streams)
    for fd in streams:
        os.close(fd)
    threading.Thread(target=_report, args=(conn, child), daemon=True).start()


def _report(conn: socket.socket, child: int) -> None:
    """Send the child's pid, then its exit status; kill it if the caller goes away first."""
    import select

    pidfd = os.pidfd_open(child)
    try:
        conn.sendall(STATUS.pack(child))
        while True:
            ready, _, _ = select.select([pidfd, conn], [], [])
            if pidfd in ready:
                break
            if not conn.recv(1):
                os.kill(child, signal.SIGKILL)
                break
        _, wait_status = os.waitpid(child, 0)
        conn.sendall(STATUS.pack(os.waitstatus_to_exitcode(wait_status)))
    except OSError:
        pass
    finally:
        os.close(pidfd)
        conn.close()


def _preparse() -> None:
    """Parse PREPARSED now, and have botocore's JSON loader answer those paths from memory."""
    # awscli registers its own botocore under this name (awscli/botocore, see sys.modules).
    import botocore.loaders as loaders

    original = loaders.JSONFileLoader._load_file
    parsed: dict[str, object] = {}

    def load_file(self: object, full_path: str, open_method: object) -> object:
        if full_path in parsed:
            return parsed[full_path]
        data = original(self, full_path, open_method)
        if warming:
            parsed[full_path] = data
        return data

    loaders.JSONFileLoader._load_file = load_file
    loader = loaders.create_loader(os.environ.get("AWS_DATA_PATH"))
    warming = True
    loader.load_data_with_path(PREPARSED_DATA)
    for service in PREPARSED_MODELS:
        version = loader.determine_latest_version(service, "service-2")
        loader.load_data_with_path(f"{service}/{version}/service-2")
    warming = False


def serve(socket_path: str, script: str) -> None:
    import select

    # The script's own folder first on sys.path, as when `aws` is run.
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    for module in PRELOADED:
        __import__(module)
    _preparse()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(64)
    print("ready", flush=True)
    while True:
        ready, _, _ = select.select([listener, sys.stdin], [], [])
        if sys.stdin in ready and not os.read(sys.stdin.fileno(), 1):
            return
        if listener in ready:
            conn, _ = listener.accept()
            try:
                _serve_one(conn, script)
            except (OSError, EOFError, ValueError):
                conn.close()  # the caller went away before its request was whole


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
