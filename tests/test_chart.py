"""charts/pangeo-himat rendered by real helm 4 and helm 3, checked by real validators."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from conftest import (
    CERTIFICATE_ARN,
    CHART,
    CHECKOV,
    HELMS,
    KUBERNETES_VERSIONS,
    helm,
    helm_template,
    of_kind,
    pod_specs,
    write_settings,
    yaml_documents,
)
from pangeo_himat.fit.loader import load_settings
from pangeo_himat.render import names
from pangeo_himat.render.render import render_all

VALUES = Path(__file__).parent / "values"
KEPT_VOLUME_ID = "vol-0123456789abcdef0"


def rendered_values_file(folder: Path, changes: dict) -> Path:
    values = render_all(load_settings(write_settings(folder, changes))).values
    path = folder / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    return path


@pytest.fixture(scope="module")
def values_files(tmp_path_factory) -> dict[str, Path | None]:
    """Chart defaults, an exhaustive file, and what `himat render` writes for three settings."""
    files: dict[str, Path | None] = {"defaults": None, "exhaustive": VALUES / "exhaustive.yaml"}
    for name, changes in {
        "rendered-default": {},
        "rendered-buckets-lb": {
            "data.buckets": [{"name": "its-live-data", "access": "read"}],
            "data.scratch": "himat-scratch",
            "jupyter.expose": "loadbalancer",
            "jupyter.allowed_cidrs": ["192.0.2.0/24"],
            "jupyter.tls_certificate_arn": CERTIFICATE_ARN,
        },
        "rendered-hibernating": {"hibernate": True, "workers.processes": 2},
        "rendered-volume-id": {"jupyter.volume_id": KEPT_VOLUME_ID, "cluster.name": "lab"},
    }.items():
        files[name] = rendered_values_file(tmp_path_factory.mktemp(name), changes)
    return files


_CACHE: dict[tuple[str, str], list[dict]] = {}


def template(version: str, values: Path | None, release: str = "himat") -> list[dict]:
    key = (version, f"{values}:{release}")
    if key not in _CACHE:
        _CACHE[key] = helm_template(values, version=version, release=release)
    return _CACHE[key]


VALUE_SETS = [
    "defaults",
    "exhaustive",
    "rendered-default",
    "rendered-buckets-lb",
    "rendered-hibernating",
    "rendered-volume-id",
]


@pytest.mark.parametrize("version", sorted(HELMS))
@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_helm_lint_strict_passes(version, value_set, values_files):
    argv = [str(helm(version)), "lint", "--strict", str(CHART)]
    if values_files[value_set] is not None:
        argv += ["-f", str(values_files[value_set])]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("version", sorted(HELMS))
@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_manifests_are_valid_kubernetes(version, value_set, values_files, cached_schema_files):
    documents = template(version, values_files[value_set])
    assert {doc["kind"] for doc in documents} >= {"Deployment", "Service", "Secret"}
    for kubernetes_version in KUBERNETES_VERSIONS:
        for doc in documents:
            kubernetes_validate.validate(doc, kubernetes_version, strict=True)


@pytest.mark.parametrize("value_set", ["defaults", "exhaustive", "rendered-volume-id"])
def test_checkov_finds_nothing_and_every_skip_has_a_reason(value_set, values_files, tmp_path):
    if not CHECKOV.exists():
        pytest.skip(f"checkov is not installed at {CHECKOV}; `make tools` installs it")
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    documents = template("helm4", values_files[value_set])
    (manifests / "chart.yaml").write_text(yaml.safe_dump_all(documents))
    result = subprocess.run(
        [
            str(CHECKOV),
            "-d",
            str(manifests),
            "--framework",
            "kubernetes",
            "--skip-download",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = json.loads(result.stdout)
    summary = report["summary"]
    assert summary["resource_count"] >= len(documents)  # containers count as resources too
    assert summary["passed"] > 100, summary
    assert summary["failed"] == 0, [
        (c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]
    ]
    for skipped in report["results"]["skipped_checks"]:
        assert len(skipped["check_result"].get("suppress_comment", "")) > 20, skipped


@pytest.mark.parametrize(
    ("values", "where"),
    [
        ({"colour": "blue"}, "colour"),
        ({"worker": {"replicas": "many"}}, "worker.replicas"),
        ({"worker": {"replicas": -1}}, "worker.replicas"),
        ({"jupyter": {"service": {"type": "LoadBalancer"}}}, "jupyter.service"),
        ({"jupyter": {"service": {"type": "NodePort"}}}, "jupyter.service.type"),
        ({"image": {"tag": "latest"}}, "image.tag"),
    ],
    ids=[
        "unknown-key",
        "wrong-type",
        "negative-replicas",
        "lb-without-ranges",
        "nodeport",
        "latest-tag",
    ],
)
@pytest.mark.parametrize("version", sorted(HELMS))
def test_bad_values_fail_with_the_schemas_message(version, values, where, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(values))
    result = subprocess.run(
        [str(helm(version)), "template", "himat", str(CHART), "-f", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "values don't meet the specifications of the schema" in result.stderr
    # helm 3 names the key as jupyter.service.type, helm 4 as '/jupyter/service/type'
    assert where in result.stderr or "/" + where.replace(".", "/") in result.stderr, result.stderr


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_scheduler_port_never_leaves_the_cluster(value_set, values_files):
    for service in of_kind(template("helm4", values_files[value_set]), "Service"):
        ports = {port["port"] for port in service["spec"]["ports"]}
        if service["spec"].get("type", "ClusterIP") in ("LoadBalancer", "NodePort"):
            assert names.SCHEDULER_PORT not in ports
            assert service["spec"]["loadBalancerSourceRanges"]
            assert service["metadata"]["name"].endswith("-jupyter")


def test_notebooks_survive_uninstall(values_files):
    documents = template("helm4", values_files["exhaustive"])
    (claim,) = of_kind(documents, "PersistentVolumeClaim")
    assert claim["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    (storage_class,) = of_kind(documents, "StorageClass")
    assert storage_class["reclaimPolicy"] == "Retain"
    assert storage_class["provisioner"] == "ebs.csi.aws.com"
    assert storage_class["parameters"] == {
        "type": "gp3",
        "encrypted": "true",
        "tagSpecification_1": "himat/cluster=lab",
        "tagSpecification_2": "himat/volume=home",
        "tagSpecification_3": "team=ocean sciences",
    }
    assert of_kind(documents, "PersistentVolume") == []
    assert "volumeName" not in claim["spec"]
    assert storage_class["volumeBindingMode"] == "WaitForFirstConsumer"
    assert storage_class["allowVolumeExpansion"] is True
    expression = storage_class["allowedTopologies"][0]["matchLabelExpressions"][0]
    assert expression["values"] == ["eu-west-1b"]
    assert claim["spec"]["storageClassName"] == storage_class["metadata"]["name"]
    (jupyter,) = [d for d in of_kind(documents, "Deployment") if "jupyter" in d["metadata"]["name"]]
    assert jupyter["spec"]["strategy"]["type"] == "Recreate"


def test_a_volume_id_binds_the_home_claim_to_that_ebs_volume_in_the_first_zone(values_files):
    documents = template("helm4", values_files["rendered-volume-id"])
    (volume,) = of_kind(documents, "PersistentVolume")
    (claim,) = of_kind(documents, "PersistentVolumeClaim")
    (storage_class,) = of_kind(documents, "StorageClass")
    spec = volume["spec"]
    assert spec["csi"] == {
        "driver": "ebs.csi.aws.com",
        "volumeHandle": KEPT_VOLUME_ID,
        "fsType": "ext4",
    }
    assert spec["persistentVolumeReclaimPolicy"] == "Retain"
    assert spec["capacity"] == {"storage": "16Gi"}
    assert spec["storageClassName"] == claim["spec"]["storageClassName"]
    assert claim["spec"]["storageClassName"] == storage_class["metadata"]["name"]
    assert claim["spec"]["volumeName"] == volume["metadata"]["name"]
    assert claim["spec"]["accessModes"] == spec["accessModes"] == ["ReadWriteOnce"]
    terms = spec["nodeAffinity"]["required"]["nodeSelectorTerms"]
    zones = {
        (expression["key"], tuple(expression["values"]))
        for term in terms
        for expression in term["matchExpressions"]
    }
    assert zones == {
        ("topology.ebs.csi.aws.com/zone", ("us-west-2a",)),
        ("topology.kubernetes.io/zone", ("us-west-2a",)),
    }
    assert volume["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    tags = {k: v for k, v in storage_class["parameters"].items() if k.startswith("tag")}
    assert tags == {
        "tagSpecification_1": "himat/backup=lab",
        "tagSpecification_2": "himat/cluster=lab",
        "tagSpecification_3": "himat/volume=home",
    }


def test_without_a_volume_id_the_claim_is_provisioned_as_before(values_files):
    documents = template("helm4", values_files["rendered-default"])
    assert of_kind(documents, "PersistentVolume") == []
    (claim,) = of_kind(documents, "PersistentVolumeClaim")
    assert "volumeName" not in claim["spec"]


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_placement_follows_the_nodegroup_labels_and_taint(value_set, values_files):
    worker_key, worker_value = names.WORKER_LABEL
    for name, spec in pod_specs(template("helm4", values_files[value_set])).items():
        tolerates_spot = any(
            t["key"] == names.WORKER_TAINT["key"] for t in spec.get("tolerations", [])
        )
        if name.endswith("-worker"):
            assert spec["nodeSelector"] == {worker_key: worker_value}
            assert tolerates_spot
        else:
            assert not tolerates_spot, name
            assert (
                worker_key not in spec["nodeSelector"]
                or name.endswith(("-scheduler", "-controller"))
                or (name.startswith("Pod/"))
            )
            expected = (
                dict([names.CORE_LABEL]) if "jupyter" in name else dict([names.SCHEDULER_LABEL])
            )
            assert spec["nodeSelector"] == expected, name


def test_jupyter_token_comes_from_a_secret_and_is_kept(values_files):
    documents = template("helm4", values_files["defaults"])
    (secret,) = of_kind(documents, "Secret")
    assert secret["metadata"]["name"] == names.token_secret("himat")
    assert len(secret["data"]["token"]) >= 48
    (jupyter,) = [
        d
        for d in of_kind(documents, "Deployment")
        if d["metadata"]["name"] == names.jupyter_service("himat")
    ]
    spec = jupyter["spec"]["template"]["spec"]
    assert {
        "name": "token",
        "secret": {
            "secretName": secret["metadata"]["name"],
            "items": [{"key": "token", "path": "token"}],
        },
    } in spec["volumes"]
    container = spec["containers"][0]
    for env in container["env"]:
        assert "token" not in env["name"].lower() or "valueFrom" in env
    (config,) = [
        c for c in of_kind(documents, "ConfigMap") if c["metadata"]["name"].endswith("-config")
    ]
    script = config["data"]["jupyter_server_config.py"]
    assert "IdentityProvider.token" in script and secret["data"]["token"] not in script


def test_jupyter_finds_the_scheduler_and_its_dashboard(values_files):
    documents = template("helm4", values_files["rendered-default"])
    (jupyter,) = [
        d
        for d in of_kind(documents, "Deployment")
        if d["metadata"]["name"] == names.jupyter_service("himat")
    ]
    env = {
        e["name"]: e.get("value")
        for e in jupyter["spec"]["template"]["spec"]["containers"][0]["env"]
    }
    scheduler = names.scheduler_service("himat")
    assert env["DASK_SCHEDULER_ADDRESS"] == f"tcp://{scheduler}:8786"
    assert env["DASK_DISTRIBUTED__DASHBOARD__LINK"] == f"/proxy/{scheduler}:8787/status"
    (config,) = [
        c for c in of_kind(documents, "ConfigMap") if c["metadata"]["name"].endswith("-config")
    ]
    assert f'"{scheduler}"' in config["data"]["jupyter_server_config.py"]


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_every_pod_and_container_is_locked_down(value_set, values_files):
    for name, spec in pod_specs(template("helm4", values_files[value_set])).items():
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
        # Only the controller calls the API server (with its namespaced Role).
        assert spec["automountServiceAccountToken"] is name.endswith("-controller"), name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert context["readOnlyRootFilesystem"] is True
            assert container["resources"]["requests"] == container["resources"]["limits"]
            if not name.startswith("Pod/"):
                assert "livenessProbe" in container and "readinessProbe" in container, name


def test_user_service_account_for_jupyter_and_workers_only(values_files):
    documents = template("helm4", values_files["rendered-buckets-lb"])
    user = names.user_service_account("himat")
    for name, spec in pod_specs(documents).items():
        uses_user = spec["serviceAccountName"] == user
        assert uses_user == (name.endswith("-jupyter") or name.endswith("-worker")), name


def test_jupyter_and_workers_see_the_scratch_bucket_under_the_pangeo_name(values_files):
    documents = template("helm4", values_files["rendered-buckets-lb"])
    for suffix in ("-jupyter", "-worker"):
        spec = next(s for n, s in pod_specs(documents).items() if n.endswith(suffix))
        env = {e["name"]: e.get("value") for e in spec["containers"][0]["env"]}
        assert env["SCRATCH_BUCKET"] == "s3://himat-scratch/himat", suffix
    without = template("helm4", values_files["rendered-default"])
    for spec in pod_specs(without).values():
        assert "SCRATCH_BUCKET" not in {e["name"] for e in spec["containers"][0].get("env", [])}


def test_workers_stay_under_their_limit_and_retire_on_eviction(values_files):
    documents = template("helm4", values_files["rendered-hibernating"])
    (worker,) = [
        d for d in of_kind(documents, "Deployment") if d["metadata"]["name"].endswith("-worker")
    ]
    assert worker["spec"]["replicas"] == 0
    spec = worker["spec"]["template"]["spec"]
    container = spec["containers"][0]
    args = container["args"]
    processes = int(args[args.index("--nworkers") + 1])
    assert processes == 2
    limit_mib = int(args[args.index("--memory-limit") + 1].removesuffix("MiB"))
    container_mib = int(container["resources"]["limits"]["memory"].removesuffix("Mi"))
    assert processes * limit_mib < container_mib
    assert spec["terminationGracePeriodSeconds"] < 120
    assert "retire_workers" in container["lifecycle"]["preStop"]["exec"]["command"][-1]
    scratch = next(v for v in spec["volumes"] if v["name"] == "scratch")
    assert scratch["emptyDir"]["sizeLimit"]


def test_two_releases_in_one_namespace_do_not_collide(values_files):
    first = template("helm4", values_files["defaults"], release="alpha")
    second = template("helm4", values_files["defaults"], release="beta")
    for doc in first:
        twin = {(d["kind"], d["metadata"]["name"]) for d in second}
        assert (doc["kind"], doc["metadata"]["name"]) not in twin


def test_install_dry_run_with_rendered_values(values_files):
    result = subprocess.run(
        [
            str(helm("helm4")),
            "install",
            "himat",
            str(CHART),
            "-n",
            "himat",
            "--dry-run=client",
            "-f",
            str(values_files["rendered-default"]),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "kubectl port-forward" in result.stdout  # NOTES.txt


def test_helm_is_real():
    assert shutil.which(str(helm("helm4")))
    output = subprocess.run(
        [str(helm("helm4")), "version", "--short"], capture_output=True, text=True
    ).stdout
    assert output.startswith("v4.")


@pytest.mark.parametrize("value_set", VALUE_SETS)
def test_no_container_of_the_pangeo_image_replaces_its_entrypoint(value_set, values_files):
    """/srv/start activates conda (PROJ_DATA, GDAL_DATA...); `command:` would skip it."""
    documents = template("helm4", values_files[value_set])
    (jupyter,) = [d for d in of_kind(documents, "Deployment") if "jupyter" in d["metadata"]["name"]]
    image = jupyter["spec"]["template"]["spec"]["containers"][0]["image"]
    checked = set()
    for name, spec in pod_specs(documents).items():
        for container in spec["containers"] + spec.get("initContainers", []):
            if container["image"] == image:
                assert "command" not in container, name
                assert container["args"], name
                checked.add(name.split("/")[1].rsplit("-", 1)[1])
    assert checked >= {"jupyter", "scheduler", "worker", "test"}


def test_load_balancer_listens_on_443_only_with_the_certificate(values_files):
    exhaustive = yaml.safe_load((VALUES / "exhaustive.yaml").read_text())
    for value_set, arn in [
        ("rendered-buckets-lb", CERTIFICATE_ARN),
        ("exhaustive", exhaustive["jupyter"]["service"]["tls"]["certificateArn"]),
    ]:
        (exposed,) = [
            s
            for s in of_kind(template("helm4", values_files[value_set]), "Service")
            if s["spec"]["type"] == "LoadBalancer"
        ]
        assert [(p["port"], p["targetPort"]) for p in exposed["spec"]["ports"]] == [(443, "http")]
        annotations = exposed["metadata"]["annotations"]
        prefix = "service.beta.kubernetes.io/aws-load-balancer-"
        assert annotations[prefix + "ssl-cert"] == arn
        assert annotations[prefix + "backend-protocol"] == "http"
        assert annotations[prefix + "ssl-ports"] == "443"


@pytest.mark.parametrize("version", sorted(HELMS))
def test_load_balancer_without_a_certificate_is_refused(version, tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text(
        yaml.safe_dump(
            {
                "jupyter": {
                    "service": {
                        "type": "LoadBalancer",
                        "loadBalancerSourceRanges": ["192.0.2.0/24"],
                    }
                }
            }
        )
    )
    result = subprocess.run(
        [str(helm(version)), "template", "himat", str(CHART), "-f", str(values)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "certificateArn" in result.stderr, result.stderr


def test_the_generated_token_is_random_kept_and_48_characters():
    """Without a cluster `lookup` finds nothing: each render draws a new random token, and the
    Secret carries the keep policy that lets an upgrade (which finds it) keep the old one."""
    tokens = []
    for _ in range(2):
        (secret,) = of_kind(helm_template(None), "Secret")
        assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
        token = base64.b64decode(secret["data"]["token"]).decode()
        assert len(token) == 48 and token.isalnum()
        tokens.append(token)
    assert tokens[0] != tokens[1]


def test_an_existing_token_secret_replaces_the_generated_one(tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"jupyter": {"token": {"existingSecret": "lab-token"}}}))
    documents = helm_template(values)
    assert of_kind(documents, "Secret") == []
    volumes = [v for spec in pod_specs(documents).values() for v in spec.get("volumes", [])]
    assert {v["secret"]["secretName"] for v in volumes if "secret" in v} == {"lab-token"}


@pytest.mark.parametrize("release", ["9lives", "x" * 49 + "-9"])
def test_a_release_name_that_cannot_name_a_service_is_refused(release):
    """Services are DNS-1035 labels: `9lives-jupyter` would be refused by the API server."""
    result = subprocess.run(
        [str(helm("helm4")), "template", release, str(CHART)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if release[0].isdigit():
        assert result.returncode != 0
        assert "must start with a letter" in result.stderr, result.stderr
    else:  # truncated to 50 characters, the trailing "-" trimmed: still a valid name
        assert result.returncode == 0, result.stderr
        for service in of_kind(yaml_documents(result.stdout), "Service"):
            assert len(service["metadata"]["name"]) <= 63


@pytest.mark.parametrize(
    ("resource", "wanted", "limit", "refused"),
    [
        ("cpu", "600m", "0.6", False),
        ("cpu", "0.6", "600m", False),
        ("cpu", ".5", "500m", False),
        ("cpu", "601m", "0.6", True),
        ("cpu", "1501m", "1.5", True),
        ("memory", "1024Mi", "1Gi", False),
        ("memory", "1.5Gi", "1536Mi", False),
        ("memory", "1073741824", "1Gi", False),
        ("memory", "1G", "1000M", False),
        ("memory", "1025Mi", "1Gi", True),
        ("memory", "1073741825", "1Gi", True),
        ("memory", "1000001k", "1G", True),
    ],
)
@pytest.mark.parametrize("version", sorted(HELMS))
def test_a_request_above_its_limit_is_refused_in_any_spelling(
    version, resource, wanted, limit, refused, tmp_path
):
    amounts = {"cpu": "1", "memory": "1Gi"}
    resources = {"requests": {**amounts, resource: wanted}, "limits": {**amounts, resource: limit}}
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump({"scheduler": {"resources": resources}}))
    result = subprocess.run(
        [str(helm(version)), "template", "himat", str(CHART), "-f", str(values)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode != 0) == refused, result.stderr
    if refused:
        assert f"scheduler.resources.requests.{resource}: {wanted} is above" in result.stderr
