"""Files himat ships beside its code: the settings schema and template, and the Helm chart.

A wheel carries them inside the package (pyproject.toml's hatch force-include); a checkout (an
editable install) keeps them at the repository's root. Either way they are found from the
installed package, never from the working directory, so himat works from any folder.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

SETTINGS_TEMPLATE = "settings.yaml"
# The settings schema and the chart as a checkout lays them out (render/names.py re-exports
# them beside the other shared names).
SCHEMA_FILE = "values.schema.json"
CHART_DIR_NAME = "charts/pangeo-himat"


def package_dir() -> Path:
    return Path(str(resources.files("pangeo_himat")))


def _candidates(relative: str) -> tuple[Path, Path]:
    """Inside the package (a wheel), then the checkout's root (package at generator/<name>)."""
    return package_dir() / relative, package_dir().parent.parent / relative


def shipped_path(relative: str) -> Path:
    """Where a shipped file or folder is; FileNotFoundError names it when neither place has it."""
    for candidate in _candidates(relative):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{relative} is missing from the installation of pangeo_himat")


def schema_path() -> Path:
    return shipped_path(SCHEMA_FILE)


def settings_template() -> str:
    """The shipped settings.yaml: every key with its comment (what `himat init` writes)."""
    return shipped_path(SETTINGS_TEMPLATE).read_text(encoding="utf-8")


def chart_dir() -> str:
    """The chart as helm is given it: `charts/pangeo-himat` when the working directory holds
    this very chart (a checkout, as the printed plans show it), else its absolute path."""
    chart = shipped_path(CHART_DIR_NAME).resolve()
    here = Path.cwd() / CHART_DIR_NAME
    if here.is_dir() and here.resolve() == chart:
        return CHART_DIR_NAME
    return os.fspath(chart)
