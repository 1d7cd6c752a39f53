"""Shared test fixtures: project paths, settings variants and eksctl's own schema."""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import botocore.session  # type: ignore[import-untyped]
import kubernetes_validate.utils
import psutil
import pytest
import yaml

from aws_endpoints import (
    CREDENTIALS,
    DLMState,
    aws_fork_server,
    dlm_endpoint,
    moto_server,
    reset_moto,
)
from aws_endpoints import REGION as AWS_REGION
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.lifecycle.drift import policy_hash
from pangeo_himat.lifecycle.state import State, save_state
from pangeo_himat.render.cluster_autoscaler import autoscaler_association
from pangeo_himat.render.names import volume_tags
from pangeo_himat.render.render import render_all
from pangeo_himat.settings.errors import InputError
from pangeo_himat.settings.versions import load_calendar, today

ROOT = Path(__file__).resolve().parent.parent
# The e2e tests' session hooks: their marker, one xdist worker for them all, or one line when
# there is no Kubernetes.
pytest_plugins = ["e2e.session"]
SHARED_SCHEMA = ROOT.parent / "shared" / "schemas" / "eksctl-clusterconfig-v1alpha5.schema.json"


def command_line(process: psutil.Process) -> list[str]:
    """A process's argv; none for one that exited while listed (a zombie included)."""
    try:
        return list(process.cmdline())
    except psutil.NoSuchProcess:  # psutil.ZombieProcess is one
        return []


def run_himat(*args: str, cwd: Path | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Run the real CLI in a subprocess, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "pangeo_himat", *args],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


# The bill a plan prints below its commands (plan_cost.py): priced on today's EKS calendar, so
# the golden plans leave it out and tests/test_plan_cost.py checks it against `himat cost`.
PLAN_COST_PREFIXES = ("# cost before ", "# cost after ", "# still billing after ")


def plan_only(stdout: str) -> str:
    """A dry run's output without its cost lines."""
    return "".join(
        line for line in stdout.splitlines(keepends=True) if not line.startswith(PLAN_COST_PREFIXES)
    )


def write_settings(folder: Path, changes: dict | None = None, name: str = "settings.yaml") -> Path:
    """The default settings.yaml with `changes` merged in (dotted keys allowed)."""
    data = yaml.safe_load((ROOT / "settings.yaml").read_text())
    for dotted_key, value in (changes or {}).items():
        node = data
        *parents, last = dotted_key.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def eksctl_schema() -> dict:
    """eksctl's ClusterConfig JSON Schema: ../shared/schemas, else `eksctl utils schema`."""
    if SHARED_SCHEMA.is_file():
        return json.loads(SHARED_SCHEMA.read_text())
    if shutil.which("eksctl"):
        output = subprocess.run(
            ["eksctl", "utils", "schema"], capture_output=True, text=True, check=True
        ).stdout
        return json.loads(output)
    pytest.skip(
        f"eksctl's ClusterConfig schema is unavailable: {SHARED_SCHEMA} does not exist and "
        "eksctl is not installed (install eksctl to run `eksctl utils schema`)"
    )


# --- Kubernetes versions by support phase on the shipped EKS calendar, as of today ---------


def kubernetes_versions(phase: str) -> list[str]:
    """Versions of the calendar in `standard`, `extended` or `retired` support today."""
    calendar = load_calendar()
    return [v for v, info in calendar.versions.items() if info.phase(today()) == phase]


# --- Chart rendering: helm paths, settings variants and pod specs shared by the chart tests ---

CHART = ROOT / "charts" / "pangeo-himat"
HELMS = {
    "helm4": Path(os.environ.get("HIMAT_HELM4", ROOT / ".tools" / "bin" / "helm")),
    "helm3": Path(os.environ.get("HIMAT_HELM3", ROOT / ".tools" / "helm3" / "helm")),
}
CHECKOV = Path(os.environ.get("HIMAT_CHECKOV", ROOT / ".tools" / "checkov" / "bin" / "checkov"))
KUBERNETES_VERSIONS = ["1.32", "1.33", "1.34", "1.35"]
# An ACM certificate ARN in AWS's documented form (the account is AWS's example account).
CERTIFICATE_ARN = (
    "arn:aws:acm:us-west-2:123456789012:certificate/0a1b2c3d-4e5f-6789-abcd-ef0123456789"
)

# Settings changes (dotted keys) that together reach every branch of the renderers.
VARIANTS = {
    "defaults": {},
    "hibernating": {"hibernate": True},
    "one-spot-type": {"spot.instance_types": ["m5.xlarge"]},
    "no-max-price": {"spot.max_price": None},
    "eu-west-1-spread": {
        "cluster.region": "eu-west-1",
        "cluster.zones": ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
        "spot.spread_zones": True,
    },
    "us-east-1-big-stable": {
        "cluster.region": "us-east-1",
        "cluster.zones": ["us-east-1c", "us-east-1d"],
        "stable.instance_type": "m5.2xlarge",
        "cluster.kubernetes_version": "1.35",
    },
    "auto-split": {"workers.cpu": "auto", "workers.memory": "auto", "workers.per_node": 4},
    "memory-heavy": {
        "spot.instance_types": ["r5.2xlarge", "r6i.2xlarge"],
        "workers.count": 10,
        "workers.memory": "12Gi",
        "workers.cpu": "1",
    },
    "one-bucket": {"data.buckets": [{"name": "himat-scratch", "access": "readwrite"}]},
    "three-buckets": {
        "data.buckets": [
            {"name": "himat-scratch", "access": "readwrite"},
            {"name": "its-live-data", "access": "read"},
            {"name": "himat.results.2026", "access": "readwrite"},
        ]
    },
    "load-balancer": {
        "jupyter.expose": "loadbalancer",
        "jupyter.allowed_cidrs": ["192.0.2.0/24"],
        "jupyter.tls_certificate_arn": CERTIFICATE_ARN,
    },
    "compute-heavy": {
        "spot.instance_types": ["c5.2xlarge", "c6i.2xlarge"],
        "workers.processes": 2,
        "workers.threads": 2,
        "workers.memory": "3000Mi",
        "workers.cpu": "1",
    },
    "no-spot-nodes-oldest-version": {
        "spot.nodes": 0,
        "cluster.kubernetes_version": (kubernetes_versions("extended") or ["1.35"])[0],
        "cluster.support": "extended",
    },
    "kept-volume": {
        "jupyter.volume_id": "vol-0123456789abcdef0",
        "jupyter.backup": {"schedule": "off", "keep": 1},
    },
    "custom-type": {
        "stable.instance_type": "m8g.xlarge",
        "custom_instance_types": {
            "m8g.xlarge": {"vcpu": 4, "memory": "16Gi", "max_enis": 4, "ipv4_per_eni": 15}
        },
    },
}


# libyaml's parser (PyYAML's wheels carry it): the same documents as yaml.safe_load_all, parsed
# about ten times faster; the tests parse thousands of rendered manifests.
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def yaml_documents(text: str) -> list[Any]:
    """The non-empty documents of a multi-document YAML stream (helm's output)."""
    return [doc for doc in yaml.load_all(text, Loader=YAML_LOADER) if doc]


# kubernetes-validate re-reads and re-parses its schema files (a 1.5 MB _definitions.json) for
# every document it validates; the tests validate thousands. Read each file once per process.
KUBERNETES_SCHEMAS = functools.lru_cache(maxsize=None)(kubernetes_validate.utils.schema_contents)


@pytest.fixture
def cached_schema_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """kubernetes_validate.validate as it is, reading each schema file once (the same checks)."""
    monkeypatch.setattr(kubernetes_validate.utils, "schema_contents", KUBERNETES_SCHEMAS)


def helm(version: str = "helm4") -> Path:
    """The helm binary of that major version; skip when `make tools` has not installed it."""
    path = HELMS[version]
    if not path.exists():
        pytest.skip(f"{version} is not installed at {path}; `make tools` installs it")
    return path


def helm_template(
    values: Path | None, version: str = "helm4", release: str = "himat", namespace: str = "himat"
) -> list[dict]:
    """`helm template` of the chart with a values file (None: the chart's defaults)."""
    argv = [str(helm(version)), "template", release, str(CHART), "-n", namespace]
    if values is not None:
        argv += ["-f", str(values)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return yaml_documents(result.stdout)


def pod_specs(documents: list[dict]) -> dict[str, dict]:
    """`Kind/name` -> pod spec, for bare Pods and for everything with a pod template."""
    specs = {}
    for doc in documents:
        if doc["kind"] == "Pod":
            specs[f"Pod/{doc['metadata']['name']}"] = doc["spec"]
        elif "template" in doc.get("spec", {}):
            specs[f"{doc['kind']}/{doc['metadata']['name']}"] = doc["spec"]["template"]["spec"]
    return specs


def of_kind(documents: list[dict], kind: str) -> list[dict]:
    return [doc for doc in documents if doc["kind"] == kind]


# --- The chart rendered from the values `himat render` writes ---------------------------------

HELM4 = HELMS["helm4"]
CHART_DIR = CHART


def render_chart_from_settings(
    folder: Path, changes: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """`helm template` of the chart with the values rendered from settings.yaml + `changes`."""
    if not HELM4.exists():
        pytest.skip(f"helm 4 is not installed at {HELM4}; `make tools` installs it")
    values = render_all(load_settings(write_settings(folder, changes))).values
    values_file = folder / "values.yaml"
    values_file.write_text(yaml.safe_dump(values))
    argv = [str(HELM4), "template", "himat", str(CHART_DIR), "-n", "himat", "-f", str(values_file)]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return yaml_documents(result.stdout)


def deployment_pod_spec(documents: list[dict[str, Any]], suffix: str) -> dict[str, Any]:
    """The pod spec of the one Deployment whose name ends with `suffix`."""
    (deployment,) = [
        d for d in documents if d["kind"] == "Deployment" and d["metadata"]["name"].endswith(suffix)
    ]
    return dict(deployment["spec"]["template"]["spec"])


# --- lifecycle stand-ins: a checkout-like project and eksctl/helm/kubectl/aws stand-ins -------

STANDIN = Path(__file__).parent / "standins" / "standin.py"
# Recorded live states of running clusters, one <cluster>.json each (the stand-ins' $STANDIN_LIVE).
LIVE_STATES = Path(__file__).parent / "fixtures" / "live"
LIFECYCLE_SETTINGS = {
    "default": ROOT / "settings.yaml",
    "eu": Path(__file__).parent / "fixtures" / "settings-eu.yaml",
}
STANDIN_TOOLS = ("eksctl", "helm", "kubectl", "aws")
# Beside the stand-ins: the environment that points the real AWS CLI at moto's server.
AWS_ENV_FILE = "aws-endpoints.json"
PREFLIGHT_PROBES = {
    "eksctl version",
    "helm version --short",
    "kubectl version --client -o json",
    "aws --version",
    "aws sts get-caller-identity --output json",
}


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A working directory like a checkout: the chart, and room for clusterconfig/."""
    (tmp_path / "charts").symlink_to(ROOT / "charts")
    for name, path in LIFECYCLE_SETTINGS.items():
        shutil.copy(path, tmp_path / f"{name}.yaml")
    return tmp_path


@pytest.fixture
def standins(tmp_path: Path, aws_servers: AWSEndpoints) -> Path:
    """eksctl, helm, kubectl and aws under their names; `aws` runs the real AWS CLI against
    moto's server and the DLM endpoint (AWS_ENV_FILE beside them), after logging the call."""
    folder = tmp_path / "standin-bin"
    folder.mkdir()
    (folder / AWS_ENV_FILE).write_text(json.dumps(aws_servers.env))
    # Each tool is a small script that runs the stand-in module (and its standin_live module).
    source = (
        f"#!{sys.executable}\nimport sys\nsys.path.insert(0, {str(STANDIN.parent)!r})\n"
        "import standin\nsys.exit(standin.main())\n"
    )
    for tool in STANDIN_TOOLS:
        path = folder / tool
        path.write_text(source)
        path.chmod(0o755)
    return folder


def himat_env(
    project: Path, path: Path | None, extra_env: dict[str, str] | None, knobs: dict[str, str]
) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("STANDIN_") and key != "DRY_RUN"
    }
    env["PATH"] = str(path) if path else "/nonexistent"
    if path and (path / AWS_ENV_FILE).exists():
        env.update(json.loads((path / AWS_ENV_FILE).read_text()))
    if knobs.pop("no_credentials", None):
        # What the real CLI meets without credentials: none in the environment or in a file.
        env = {key: value for key, value in env.items() if not key.startswith("AWS_ACCESS")}
        env = {key: value for key, value in env.items() if not key.startswith("AWS_SECRET")}
    env["STANDIN_LOG"] = str(project / "calls.jsonl")
    env["STANDIN_LIVE"] = str(LIVE_STATES)
    env["STANDIN_REAL_HELM"] = str(HELM4)
    env.update({f"STANDIN_{key.upper()}": value for key, value in knobs.items()})
    env.update(extra_env or {})
    return env


def himat(
    project: Path,
    *args: str,
    path: Path | None = None,
    stdin: str = "",
    extra_env: dict[str, str] | None = None,
    **knobs: str,
) -> subprocess.CompletedProcess:
    env = himat_env(project, path, extra_env, knobs)
    if knobs.get("cluster_exists") and "-f" in args:
        record_autoscaler_policy(project, project / args[args.index("-f") + 1])
    return subprocess.run(
        [sys.executable, "-m", "pangeo_himat", *args],
        cwd=project,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


def record_autoscaler_policy(project: Path, settings_path: Path) -> None:
    """An existing cluster in the stand-ins' world was made by himat, whose `cluster` recorded
    the autoscaler's pod identity policy in state.yaml; do the same unless a state exists."""
    try:
        settings = load_settings(settings_path)
    except InputError:
        return
    state_path = project / "clusterconfig" / settings.cluster.name / "state.yaml"
    if state_path.exists():
        return
    association = autoscaler_association(settings, {})
    key = f"{association['namespace']}/{association['serviceAccountName']}"
    save_state(state_path, State().with_policy_hashes({key: policy_hash(association)}))


def calls(project: Path) -> list[str]:
    """The commands the stand-ins received, leaving out version and credential probes."""
    log = project / "calls.jsonl"
    if not log.exists():
        return []
    lines = [" ".join(json.loads(line)) for line in log.read_text().splitlines()]
    return [line for line in lines if line not in PREFLIGHT_PROBES]


# --- The worker controller: settings variants for its modes and idle sleep --------------------

CONTROLLER_VARIANTS: dict[str, dict[str, Any]] = {
    "controller-static": {"idle.workers_after": "45m"},
    "controller-adaptive": {"workers.adaptive": {"min": 0, "max": "auto"}},
    "controller-idle-sleep": {
        "workers.adaptive": {"min": 1, "max": 40},
        "idle.workers_after": "10m",
        "idle.hibernate_after": "8h",
    },
}
VARIANTS.update(CONTROLLER_VARIANTS)


# --- AWS: the real `aws` CLI and botocore against moto's server and the DLM endpoint ----------

# The real AWS CLI: `make tools` puts it in a virtualenv of its own (.tools/awscli).
REAL_AWS = Path(os.environ.get("HIMAT_AWS") or ROOT / ".tools" / "awscli" / "bin" / "aws")


@dataclass(frozen=True)
class AWSEndpoints:
    """Where the AWS clients of one test send their calls, and what they need to reach it."""

    moto_url: str
    dlm_url: str
    dlm: DLMState
    # The socket of the fork server that runs the real CLI for the stand-in (none: exec it).
    fork_server: str | None = None

    @property
    def env(self) -> dict[str, str]:
        """For the real `aws` (and the stand-in `aws`, which then runs the real one)."""
        env = {
            **CREDENTIALS,
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ENDPOINT_URL_DLM": self.dlm_url,
            "STANDIN_REAL_AWS": str(REAL_AWS),
        }
        if self.fork_server:
            env["STANDIN_AWS_SERVER"] = self.fork_server
        return env

    def forwarding_source(self) -> str:
        """Python source of an `aws` that runs the real CLI through the fork server."""
        assert self.fork_server
        return (
            f"import sys\nsys.path.insert(0, {str(STANDIN.parent)!r})\nimport aws_fork_server\n"
            f"sys.exit(aws_fork_server.run_through({self.fork_server!r}, {str(REAL_AWS)!r}, "
            "sys.argv[1:]))\n"
        )

    def client(self, service: str, region: str = AWS_REGION) -> Any:
        """A botocore client of moto's server."""
        return botocore_session().create_client(
            service,
            region_name=region,
            endpoint_url=self.moto_url,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )


@functools.cache
def botocore_session() -> Any:
    """One botocore session per test process: it parses each service's model once (EC2's takes
    0.13 s), where a session per client parsed it for every client."""
    return botocore.session.get_session()


@pytest.fixture(scope="session")
def aws_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AWSEndpoints]:
    """moto's server, the DLM endpoint and the real CLI's fork server, for the whole run."""
    # moto's werkzeug logs every request on stderr; the tests read the CLI's stderr, not its.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    folder = tmp_path_factory.mktemp("aws-cli")
    with (
        moto_server() as moto_url,
        dlm_endpoint() as (dlm_url, dlm),
        aws_fork_server(REAL_AWS, folder / "aws.sock") as fork_server,
    ):
        yield AWSEndpoints(moto_url, dlm_url, dlm, fork_server)


@pytest.fixture
def aws(aws_servers: AWSEndpoints) -> AWSEndpoints:
    """moto's server and the DLM endpoint, emptied for this test."""
    if not REAL_AWS.exists():
        pytest.skip(f"the AWS CLI is not installed at {REAL_AWS}; `make tools` installs it")
    reset_moto(aws_servers.moto_url)
    aws_servers.dlm.reset()
    return aws_servers


def claim_volume(aws: AWSEndpoints, cluster: str = "himat", zone: str = "us-west-2a") -> str:
    """The claim's EBS volume made in moto as the EBS CSI driver makes it: gp3, 16 GiB, encrypted,
    with the tags the chart's StorageClass puts on it (tagSpecification_N)."""
    tags = [{"Key": key, "Value": value} for key, value in volume_tags(cluster).items()]
    created = aws.client("ec2").create_volume(
        AvailabilityZone=zone,
        Size=16,
        VolumeType="gp3",
        Encrypted=True,
        TagSpecifications=[{"ResourceType": "volume", "Tags": tags}],
    )
    return str(created["VolumeId"])
