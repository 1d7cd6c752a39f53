"""Settings -> the two rendered documents, and writing them to clusterconfig/<name>/."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pangeo_himat.fit.fit import FitReport, checked_fit
from pangeo_himat.render import names
from pangeo_himat.render.cluster_autoscaler import autoscaler_values
from pangeo_himat.render.render_cluster import render_cluster_config
from pangeo_himat.render.render_values import render_values
from pangeo_himat.render.termination_handler import termination_handler_values
from pangeo_himat.render.writer import WriteResult, to_yaml, write_all
from pangeo_himat.settings.model import Settings


@dataclass(frozen=True)
class Rendered:
    """Both documents for one cluster, and the fit they were sized from."""

    cluster_config: dict[str, Any]
    values: dict[str, Any]
    fit: FitReport


def render_all(settings: Settings) -> Rendered:
    """Check the fit, then render both documents (raises InputError if nothing fits)."""
    fit = checked_fit(settings)
    return Rendered(render_cluster_config(settings, fit), render_values(settings, fit), fit)


def output_dir(settings: Settings, root: Path) -> Path:
    """clusterconfig/<name>/ under the project root."""
    return root / names.OUTPUT_DIR_NAME / str(settings.cluster.name)


def header(settings: Settings) -> str:
    return f"# Rendered by `himat render` from {settings.file}; edit the settings, not this file.\n"


def write_rendered(settings: Settings, rendered: Rendered, root: Path) -> list[WriteResult]:
    """Serialise every file `cluster` and `install` use, then replace all of them or none."""
    folder = output_dir(settings, root)
    texts = {
        folder / names.EKSCTL_FILE: to_yaml(rendered.cluster_config, header(settings)),
        folder / names.VALUES_FILE: to_yaml(rendered.values, header(settings)),
        folder / names.TERMINATION_HANDLER_FILE: to_yaml(
            termination_handler_values(), header(settings)
        ),
        folder / names.AUTOSCALER_FILE: to_yaml(autoscaler_values(settings), header(settings)),
    }
    return write_all(list(texts.items()))
