"""Work that every pytest-xdist worker needs but only one should do (a rendered corpus, a built
wheel): the first worker to ask does it, the others wait for its pickled result. The run's own id
names the file, so no run reads another's."""

from __future__ import annotations

import fcntl
import os
import pickle
from collections.abc import Callable
from typing import TypeVar

import pytest

T = TypeVar("T")


def once_per_run(factory: pytest.TempPathFactory, name: str, make: Callable[[], T]) -> T:
    """make()'s result, made once per test run whatever the number of workers."""
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run is None:
        return make()
    shared = factory.getbasetemp().parent / f"{name}-{run}.pickle"
    with shared.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if shared.exists():
            loaded: T = pickle.loads(shared.read_bytes())
            return loaded
        made = make()
        shared.write_bytes(pickle.dumps(made))
        return made
