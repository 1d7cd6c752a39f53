"""The scheduler reader's answers to what distributed's HTTP API can say.

A stand-in scheduler on 127.0.0.1 answers retire_workers as distributed 2025.7.0 can: it
retires, then fails to encode its answer and replies 500 {"Error": "Internal Server Error"}
(distributed/http/scheduler/api.py RetireWorkersHandler; dask/distributed#8996).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pangeo_himat.controller.readers import SchedulerAPI

REGISTERED = {"tcp://10.0.0.1:4000", "tcp://10.0.0.2:4000", "tcp://10.0.0.3:4000"}


class BrokenRetireScheduler(BaseHTTPRequestHandler):
    registered: set[str] = set()

    def log_message(self, *args: object) -> None:
        pass

    def answer(self, code: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (the http.server name)
        workers = [{"name": a, "address": a} for a in sorted(self.registered)]
        self.answer(200, {"num_workers": len(workers), "workers": workers})

    def do_POST(self) -> None:  # noqa: N802
        asked = json.loads(self.rfile.read(int(self.headers["Content-Length"])))["workers"]
        # Retires all but the last one asked for (say its data had nowhere to go), then fails.
        for address in sorted(asked)[:-1]:
            self.registered.discard(address)
        self.answer(500, {"Error": "Internal Server Error"})


@pytest.fixture
def scheduler() -> Iterator[SchedulerAPI]:
    BrokenRetireScheduler.registered = set(REGISTERED)
    server = ThreadingHTTPServer(("127.0.0.1", 0), BrokenRetireScheduler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield SchedulerAPI(f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()


def test_a_500_after_retiring_reports_the_workers_that_are_gone(scheduler: SchedulerAPI) -> None:
    retired = scheduler.retire(["tcp://10.0.0.1:4000", "tcp://10.0.0.2:4000"])
    assert retired == ["tcp://10.0.0.1:4000"]
    assert scheduler.worker_addresses() == ["tcp://10.0.0.2:4000", "tcp://10.0.0.3:4000"]


def test_retiring_nobody_calls_nothing(scheduler: SchedulerAPI) -> None:
    assert scheduler.retire([]) == []
    assert len(scheduler.worker_addresses()) == 3
