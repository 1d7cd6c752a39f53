"""The three local ports: all on 127.0.0.1, distinct, and free before anything starts."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from pangeo_himat.settings.errors import InputError, Problem

LOOPBACK = "127.0.0.1"
# The Makefile's `local` target passes these variables on as the options.
MAKE_VARIABLES = {
    "--port": "PORT",
    "--scheduler-port": "SCHEDULER_PORT",
    "--dashboard-port": "DASHBOARD_PORT",
}


@dataclass(frozen=True)
class LocalPorts:
    """Where Jupyter, the scheduler and its dashboard listen; each field names its option."""

    jupyter: int
    scheduler: int
    dashboard: int

    def options(self) -> dict[str, int]:
        """The option that moves each port, with its value (for messages)."""
        return {
            "--port": self.jupyter,
            "--scheduler-port": self.scheduler,
            "--dashboard-port": self.dashboard,
        }

    @property
    def scheduler_address(self) -> str:
        return f"tcp://{LOOPBACK}:{self.scheduler}"


def port_free(port: int) -> bool:
    """Whether a server could bind 127.0.0.1:port now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers themselves do: a port with closed connections in TIME_WAIT is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
    return True


def check_ports(ports: LocalPorts) -> None:
    """Equal or busy ports are bad input: name each and the option that moves it."""
    options = ports.options()
    if len(set(options.values())) != len(options):
        raise InputError([Problem("himat local", None, "", "the three ports must differ")])
    problems = [
        Problem(
            f"{LOOPBACK}:{port}",
            None,
            "",
            f"port {port} is in use; choose another with {opt} "
            f"(make local {MAKE_VARIABLES[opt]}=N)",
        )
        for opt, port in options.items()
        if not port_free(port)
    ]
    if problems:
        raise InputError(problems)
