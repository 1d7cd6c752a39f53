"""The unit of every plan: a Step (one command and its title) and the Target (the names every
command of one cluster uses). Plans are data: nothing here runs a command."""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from pangeo_himat.render import names
from pangeo_himat.render.render import render_all
from pangeo_himat.settings.model import Settings


@dataclass(frozen=True)
class Step:
    """One command of a verb, with a title for the progress line.

    not_found: the text by which the tool says the object is absent (queries only); any other
    failure is an error, never "absent".
    """

    title: str
    argv: tuple[str, ...]
    not_found: str = ""

    def shell(self) -> str:
        return shlex.join(self.argv)

    @property
    def tool(self) -> str:
        return self.argv[0]


# Who runs himat: the credential check, the backup role's account and the budget's account all
# read it, and it does not change while a verb runs, so runner.observe asks AWS once per run.
IDENTITY_ARGV = ("aws", "sts", "get-caller-identity", "--output", "json")


def identity_query() -> Step:
    return Step("the AWS account", IDENTITY_ARGV)


@dataclass(frozen=True)
class Target:
    """The names every command of one cluster uses."""

    cluster: str
    region: str
    namespace: str
    release: str
    eksctl_file: str
    values_file: str
    nth_values_file: str
    autoscaler_values_file: str
    new_associations_file: str
    state_file: str
    chart: str
    stable_group: str
    spot_group: str

    @classmethod
    def of(cls, settings: Settings) -> Target:
        name = settings.cluster.name
        folder = Path(names.OUTPUT_DIR_NAME) / name
        config = render_all(settings).cluster_config
        return cls(
            cluster=name,
            region=settings.cluster.region,
            namespace=names.namespace(name),
            release=names.release_name(name),
            eksctl_file=str(folder / names.EKSCTL_FILE),
            values_file=str(folder / names.VALUES_FILE),
            nth_values_file=str(folder / names.TERMINATION_HANDLER_FILE),
            autoscaler_values_file=str(folder / names.AUTOSCALER_FILE),
            new_associations_file=str(folder / names.NEW_ASSOCIATIONS_FILE),
            state_file=str(folder / names.STATE_FILE),
            chart=names.CHART_DIR_NAME,
            stable_group=str(config["managedNodeGroups"][0]["name"]),
            spot_group=str(config["nodeGroups"][0]["name"]),
        )
