"""Preflight: the command-line tools a verb needs, new enough, found before anything runs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pangeo_himat.lifecycle.output import Answer, ToolError, parsed
from pangeo_himat.lifecycle.runner import observe
from pangeo_himat.lifecycle.steps import Step, identity_query
from pangeo_himat.settings.errors import InputError, Problem

PROBE_TIMEOUT_S = 60


@dataclass(frozen=True)
class Tool:
    """A tool, the oldest version we accept, how to ask its version, and where to get it."""

    name: str
    minimum: tuple[int, ...]
    version_argv: tuple[str, ...]
    install_hint: str
    why: str


TOOLS = {
    # eksctl 0.200 knows AL2023 nodegroups and podIdentityAssociations with inline policies.
    "eksctl": Tool(
        "eksctl",
        (0, 200),
        ("version",),
        "https://eksctl.io/installation/",
        "creates and scales the cluster",
    ),
    "helm": Tool(
        "helm",
        (3, 14),
        ("version", "--short"),
        "https://helm.sh/docs/intro/install/",
        "installs the chart",
    ),
    "kubectl": Tool(
        "kubectl",
        (1, 31),
        ("version", "--client", "-o", "json"),
        "https://kubernetes.io/docs/tasks/tools/",
        "talks to the cluster",
    ),
    # AWS CLI v1 from 1.46 (what the tests run against moto's server: every `aws` command himat
    # uses exists in its service models and customizations, awscli/botocore/data/{ec2,sts,dlm,
    # budgets}/*/service-2.json and awscli/customizations/dlm for create-default-role
    # --resource-type); every v2 passes this check, v2 is not run by the tests.
    "aws": Tool(
        "aws",
        (1, 46),
        ("--version",),
        "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html",
        "checks credentials and deletes kept volumes",
    ),
}


def version_parser(name: str) -> Callable[[str], tuple[int, ...]]:
    """How to read the version a tool prints (kubectl prints JSON, the others text)."""

    def parse(output: str) -> tuple[int, ...]:
        text = json.loads(output)["clientVersion"]["gitVersion"] if name == "kubectl" else output
        match = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
        if match is None:
            raise ValueError("no version number")
        return tuple(int(part) for part in match.groups() if part is not None)

    return parse


def _probe(step: Step) -> Answer:
    result = subprocess.run(step.argv, capture_output=True, timeout=PROBE_TIMEOUT_S)
    # Some tools print their version on stderr; both streams are read as one answer.
    return Answer(step, result.returncode, result.stdout + result.stderr, result.stderr)


def check_tools(names: list[str]) -> list[Problem]:
    """One problem per tool that is missing or too old, each with where to get it. The tools are
    asked at the same time: `aws --version` alone takes about half a second."""
    found = {name: shutil.which(name) for name in names}
    probes = {
        name: Step(f"{name} version", (path, *TOOLS[name].version_argv))
        for name, path in found.items()
        if path is not None
    }
    with ThreadPoolExecutor(max_workers=max(1, len(probes))) as pool:
        answers = dict(zip(probes, pool.map(_probe, probes.values()), strict=True))
    problems = []
    for name in names:
        tool = TOOLS[name]
        if name not in answers:
            problems.append(
                Problem(
                    name,
                    None,
                    "",
                    f"not found on PATH; it {tool.why}. Install it: {tool.install_hint}",
                )
            )
            continue
        try:
            version = parsed(answers[name], version_parser(name), "a version number")
        except ToolError as error:
            problems.append(Problem(name, None, "", f"cannot read its version: {error}"))
            continue
        if version is None or version < tool.minimum:
            shown = ".".join(map(str, version)) if version else "unknown"
            wanted = ".".join(map(str, tool.minimum))
            problems.append(
                Problem(
                    name,
                    None,
                    "",
                    f"version {shown} is older than {wanted}; update it: {tool.install_hint}",
                )
            )
    return problems


def check_credentials() -> list[Problem]:
    """AWS credentials must work before anything is created or deleted."""
    answer = observe(identity_query())
    if answer.status != 0:
        detail = (answer.stderr_text().strip().splitlines() or ["no answer"])[-1]
        return [
            Problem(
                "aws",
                None,
                "",
                f"no working AWS credentials ({detail}); run `aws configure` or set AWS_PROFILE",
            )
        ]
    return []


def preflight(names: list[str], credentials: bool) -> None:
    """Raise InputError (exit 2) listing every missing tool, old version or credential."""
    problems = check_tools(names)
    if not problems and credentials:
        problems = check_credentials()
    if problems:
        raise InputError(problems)
