"""Session hooks of the e2e tests, loaded by tests/conftest.py (`pytest_plugins`) so that the
xdist controller, which collects nothing, still prints the one line below.

With a control plane (../shared/k8s or HIMAT_KUBE_BIN) or HIMAT_E2E_KUBECONFIG, every test
under tests/e2e is marked `e2e`; without, they are deselected and the run ends with one line
saying what to set. Under pytest-xdist each worker process that runs e2e tests starts its own
control plane on its own ports (the session fixture is per process), so no worker ever sees
another's nodes or namespaces. (xdist's `--dist loadgroup` cannot group them with pytest 9:
it renames `item._nodeid`, which pytest 9 no longer reads.)
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from e2e.control_plane import ENV_KUBECONFIG, HOW_TO_ENABLE, control_plane_folder

E2E_DIR = Path(__file__).parent
ROOT = E2E_DIR.parent.parent


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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not kubernetes_available():
        terminalreporter.write_line(HOW_TO_ENABLE)
