"""Session hooks of the e2e tests, loaded by tests/conftest.py (`pytest_plugins`) so that the
xdist controller, which collects nothing, still prints the one line below.

With a control plane (../shared/k8s or HIMAT_KUBE_BIN) or HIMAT_E2E_KUBECONFIG, every test
under tests/e2e is marked `e2e`; without, they are deselected and the run ends with one line
saying what to set. Under pytest-xdist all of them go to one worker (`OneWorkerForE2E`), the
only one that starts a control plane: its nodes are cluster-wide, so no other test's pods may
see them, and an idle control plane still costs a twentieth of a core. (xdist's own
`--dist loadgroup` cannot group them with pytest 9: it renames `item._nodeid`, which pytest 9
no longer reads; a scheduler of our own groups them by path instead.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from e2e.control_plane import ENV_KUBECONFIG, HOW_TO_ENABLE, control_plane_folder

E2E_DIR = Path(__file__).parent
ROOT = E2E_DIR.parent.parent
E2E_SCOPE = "e2e"
# The longest units of work, handed out first so that none starts last and runs alone: worker
# seconds of each, from `make test PYTEST_ARGS=--durations=0` on 2 cores with 3 workers. The
# rest follow by their number of tests (xdist's order). Only the order depends on this list.
LONGEST_UNITS_S = {
    E2E_SCOPE: 325,
    "tests/test_elastic_local.py": 159,
    "tests/test_lifecycle_faults.py": 115,
    "tests/test_local.py": 100,
    "tests/test_drift.py": 100,
    "tests/test_volume_lifecycle.py": 85,
    "tests/test_chart.py": 57,
    "tests/test_lifecycle.py": 54,
    "tests/test_local_scratch.py": 45,
    "tests/test_local_elastic.py": 41,
    "tests/test_budget.py": 33,
    "tests/test_docs.py": 27,
}


def kubernetes_available() -> bool:
    return bool(os.environ.get(ENV_KUBECONFIG)) or control_plane_folder(ROOT) is not None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    e2e = [item for item in items if E2E_DIR in Path(item.path).parents]
    if not kubernetes_available():
        config.hook.pytest_deselected(items=e2e)
        items[:] = [item for item in items if item not in e2e]
        return
    for item in e2e:
        item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    from xdist.scheduler import LoadScopeScheduling

    # Node ids are paths relative to the rootdir.
    e2e_prefix = f"{E2E_DIR.relative_to(config.rootpath).as_posix()}/"

    class OneWorkerForE2E(LoadScopeScheduling):
        """Each test file is one unit of work, handed out as workers free up (its module-scoped
        fixtures, such as a running local stack, are set up once), and all the e2e tests are
        one unit: one worker runs them, in order."""

        longest_first = False

        def _split_scope(self, nodeid: str) -> str:
            return E2E_SCOPE if nodeid.startswith(e2e_prefix) else nodeid.split("::", 1)[0]

        def _assign_work_unit(self, node: Any) -> None:
            # The queue is complete before the first unit is handed out: put the longest first.
            if not self.longest_first:
                for scope in sorted(LONGEST_UNITS_S, key=LONGEST_UNITS_S.__getitem__):
                    if scope in self.workqueue:
                        self.workqueue.move_to_end(scope, last=False)
                self.longest_first = True
            super()._assign_work_unit(node)

    return OneWorkerForE2E(config, log)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not kubernetes_available():
        terminalreporter.write_line(HOW_TO_ENABLE)
