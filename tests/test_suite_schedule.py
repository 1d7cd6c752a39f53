"""The suite's own scheduling under pytest-xdist (tests/e2e/session.py)."""

from __future__ import annotations

from conftest import ROOT
from e2e.session import E2E_DIR, E2E_SCOPE, LONGEST_UNITS_S


def test_every_unit_named_longest_is_a_test_file_or_the_e2e_tests() -> None:
    # A renamed file would silently lose its place at the front of the queue.
    files = [name for name in LONGEST_UNITS_S if name != E2E_SCOPE]
    assert [name for name in files if not (ROOT / name).is_file()] == []
    assert E2E_SCOPE in LONGEST_UNITS_S and E2E_DIR.is_dir()
