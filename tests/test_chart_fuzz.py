"""Values fuzz: the chart refuses what the Kubernetes API server would refuse.

A seeded generator mutates the chart's defaults with values Kubernetes rejects (out-of-range
replicas, requests above limits, quantities as numbers, broken toleration rules, bad label
syntax, names that are not DNS labels, impossible CIDRs, zero sizes) and with values it
accepts. Every bad case must make `helm template` fail and name the key; every accepted case
must pass kubernetes-validate --strict.
"""

from __future__ import annotations

import copy
import json
import random
import re
import shutil
import string
import subprocess
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from conftest import (
    CERTIFICATE_ARN,
    CHART,
    KUBERNETES_VERSIONS,
    YAML_LOADER,
    helm,
    yaml_documents,
)
from once_per_run import once_per_run

SEED = 20261201
CASES = 300
BATCH = 50
COMPONENTS = ["scheduler", "worker", "jupyter"]

Values = dict[str, Any]
Mutation = Callable[[random.Random, Values], str | None]


@dataclass
class Case:
    """One values file: the mutations applied and, when bad, the keys helm must name."""

    values: Values
    applied: list[str] = field(default_factory=list)
    expect_in_error: list[str] = field(default_factory=list)
    wild: bool = False

    @property
    def bad(self) -> bool:
        return bool(self.expect_in_error)


def _label(rng: random.Random, length: int) -> str:
    first = rng.choice(string.ascii_lowercase)
    middle = "".join(
        rng.choice(string.ascii_lowercase + string.digits + "-") for _ in range(length)
    )
    return (first + middle).rstrip("-") or first


def _cpu(rng: random.Random) -> tuple[str, float]:
    millicores = rng.randint(1, 8000)
    if millicores % 1000 == 0:
        return str(millicores // 1000), millicores
    if rng.random() < 0.5:
        return f"{millicores}m", millicores
    return f"{millicores / 1000:g}", round(millicores / 1000, 3) * 1000


def _memory(rng: random.Random) -> str:
    return rng.choice(
        [f"{rng.randint(1, 64000)}Mi", f"{rng.randint(1, 64)}Gi", f"{rng.randint(1, 60)}G"]
    )


# --- accepted mutations: Kubernetes takes these ---------------------------------------------


def good_replicas(rng: random.Random, values: Values) -> None:
    values["worker"]["replicas"] = rng.choice([0, 1, rng.randint(2, 10**6), 2**31 - 1])


def good_resources(rng: random.Random, values: Values) -> None:
    component = rng.choice(COMPONENTS)
    limit, limit_m = _cpu(rng)
    request = rng.choice([limit, f"{max(1, int(limit_m) // 2)}m"])
    memory = _memory(rng)
    values[component]["resources"] = {
        "requests": {"cpu": request, "memory": memory},
        "limits": {"cpu": limit, "memory": memory},
    }


def good_toleration(rng: random.Random, values: Values) -> None:
    component = rng.choice(COMPONENTS[:2])  # jupyter must stay off the spot taint's key
    toleration = rng.choice(
        [
            {"key": "example.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
            {"operator": "Exists"},
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": rng.randint(0, 3600),
            },
            {"key": "team", "operator": "Equal", "value": _label(rng, 8), "effect": ""},
            {"key": "team", "value": "glaciers", "effect": "PreferNoSchedule"},
        ]
    )
    values[component]["tolerations"] = [*values[component]["tolerations"], toleration]


def good_node_selector(rng: random.Random, values: Values) -> None:
    component = rng.choice(COMPONENTS)
    key = rng.choice(["topology.kubernetes.io/zone", "example.com/" + _label(rng, 20), "Tier"])
    values[component]["nodeSelector"][key] = rng.choice(["", "a", _label(rng, 40), "v1.2_b-C"])


def good_max_unavailable(rng: random.Random, values: Values) -> None:
    values["worker"]["maxUnavailable"] = rng.choice(
        [rng.randint(0, 100), f"{rng.randint(0, 100)}%", 2**31 - 1]
    )


def good_fullname(rng: random.Random, values: Values) -> None:
    values["fullnameOverride"] = _label(rng, rng.randint(0, 49))[:50].rstrip("-")


def good_load_balancer(rng: random.Random, values: Values) -> None:
    # A network address: the API server refuses bits set beyond the prefix length.
    prefix = rng.randint(0, 32)
    address = rng.getrandbits(32) >> (32 - prefix) << (32 - prefix) if prefix else 0
    octets = ".".join(str(address >> shift & 255) for shift in (24, 16, 8, 0))
    values["jupyter"]["service"] = {
        "type": "LoadBalancer",
        "loadBalancerSourceRanges": [f"{octets}/{prefix}"],
        "tls": {"certificateArn": CERTIFICATE_ARN},
    }


def good_sizes(rng: random.Random, values: Values) -> None:
    values["worker"]["spillSizeLimit"] = _memory(rng)
    values["jupyter"]["storage"]["size"] = f"{rng.randint(1, 16384)}Gi"


GOOD: list[Mutation] = [
    good_replicas,
    good_resources,
    good_toleration,
    good_node_selector,
    good_max_unavailable,
    good_fullname,
    good_load_balancer,
    good_sizes,
]


# --- refused mutations: each returns the key fragment helm's error must name ------------------


def bad_replicas(rng: random.Random, values: Values) -> str:
    values["worker"]["replicas"] = rng.choice([2**31, 2**31 + rng.randint(1, 10**9), -1, 1.5, "3"])
    return "replicas"


def bad_request_above_limit(rng: random.Random, values: Values) -> str:
    component = rng.choice(COMPONENTS)
    resource = rng.choice(["cpu", "memory"])
    resources = values[component]["resources"]
    if resource == "cpu":
        resources["limits"]["cpu"] = "500m"
        resources["requests"]["cpu"] = rng.choice(["501m", "0.6", "1", "2"])
    else:
        resources["limits"]["memory"] = "1Gi"
        resources["requests"]["memory"] = rng.choice(["1025Mi", "2Gi", "1.1Gi", "1074000000"])
    return f"{component}.resources.requests.{resource}"


def bad_quantity(rng: random.Random, values: Values) -> str:
    component = rng.choice(COMPONENTS)
    side = rng.choice(["requests", "limits"])
    resource = rng.choice(["cpu", "memory"])
    values[component]["resources"][side][resource] = rng.choice(
        [-1, 0.5, 2, "-1", "0", "0m", "0.0", "1x", "", "1.5Xi", "12 Gi", "0Mi", ".0", "9" * 400]
    )
    return resource


def bad_toleration(rng: random.Random, values: Values) -> str:
    component = rng.choice(COMPONENTS)
    toleration, where = rng.choice(
        [
            ({"key": "a", "operator": "Exists", "value": "b", "effect": "NoSchedule"}, "value"),
            (
                {"key": "a", "value": "b", "effect": "NoSchedule", "tolerationSeconds": 30},
                "tolerationSeconds",
            ),
            ({"key": "a", "operator": "Exists", "tolerationSeconds": 5}, "tolerationSeconds"),
            ({"key": "a", "operator": "Equal", "value": "b", "effect": "Sometimes"}, "effect"),
            ({"operator": "Equal", "value": "b"}, "operator"),
            ({"key": "", "operator": "Equal"}, "operator"),
            ({"key": "bad key!", "operator": "Exists"}, "key"),
            ({"key": "a", "operator": "In", "value": "b"}, "operator"),
            ({"key": "a", "value": "x" * 64}, "value"),
            ({"key": "a", "value": "-b"}, "value"),
        ]
    )
    values[component]["tolerations"] = [toleration]
    return where


def bad_node_selector(rng: random.Random, values: Values) -> str:
    component = rng.choice(COMPONENTS)
    key, value = rng.choice(
        [
            ("-bad", "x"),
            ("example.com/", "x"),
            ("UPPER.example.com/x", "x"),
            ("a/b/c", "x"),
            ("x" * 64, "x"),
            ("ok", "a b"),
            ("ok", "x" * 64),
            ("ok", "-x"),
            ("ok", "x."),
        ]
    )
    values[component]["nodeSelector"] = {key: value}
    return key  # Helm 4 reports a bad property name at '', naming only the name itself


def bad_max_unavailable(rng: random.Random, values: Values) -> str:
    values["worker"]["maxUnavailable"] = rng.choice(
        ["2", "150%", "101%", -1, 2**31, 1.5, "50 %", ""]
    )
    return "maxUnavailable"


def bad_fullname(rng: random.Random, values: Values) -> str:
    values["fullnameOverride"] = rng.choice(
        ["9lives", "Upper", "ends-", "a_b", "a.b", "a" * 51, "-lead", "x y"]
    )
    return "fullnameOverride"


def bad_name_override(rng: random.Random, values: Values) -> str:
    values["nameOverride"] = rng.choice(["bad name", "-x", "x" * 64, "x/"])
    return "nameOverride"


def bad_source_range(rng: random.Random, values: Values) -> str:
    values["jupyter"]["service"] = {
        "type": "LoadBalancer",
        "loadBalancerSourceRanges": [
            rng.choice(
                [
                    *("999.1.1.1/8", "10.0.0.0/33", "10.0.0/8", "256.0.0.0/8", "10.0.0.0"),
                    *("::/0", "10.0.0.1/8", "192.0.2.7/24"),
                ]
            )
        ],
        "tls": {"certificateArn": CERTIFICATE_ARN},
    }
    return "loadBalancerSourceRanges"


def bad_load_balancer_tls(rng: random.Random, values: Values) -> str:
    service: Values = {"type": "LoadBalancer", "loadBalancerSourceRanges": ["192.0.2.0/24"]}
    arn = rng.choice([None, "", "arn:aws:iam::123456789012:server-certificate/x", "my-cert"])
    if arn is not None:
        service["tls"] = {"certificateArn": arn}
    values["jupyter"]["service"] = service
    return "certificateArn" if arn else "tls"


def bad_size(rng: random.Random, values: Values) -> str:
    where, value = rng.choice(
        [
            (("worker", "spillSizeLimit"), rng.choice(["0", "0Gi", "0.0Mi", 4, "-1Gi", "4GB"])),
            (("jupyter", "storage", "size"), rng.choice(["0", "0Gi", 16, "16 Gi", "16gi"])),
            (("worker", "memoryLimit"), rng.choice(["0MiB", "1440", "1440Mi", 1440])),
        ]
    )
    node = values
    for key in where[:-1]:
        node = node[key]
    node[where[-1]] = value
    return where[-1]


def bad_counts(rng: random.Random, values: Values) -> str:
    key, value = rng.choice(
        [
            ("processes", 0),
            ("threads", 0),
            ("processes", 65),
            ("terminationGracePeriodSeconds", -1),
            ("terminationGracePeriodSeconds", 121),
        ]
    )
    values["worker"][key] = value
    return key


def bad_object_names(rng: random.Random, values: Values) -> str:
    choice = rng.randrange(3)
    if choice == 0:
        values["jupyter"]["storage"]["storageClass"]["name"] = rng.choice(
            ["Bad_Name", "-x", "a..b"]
        )
        return "name"
    if choice == 1:
        values["jupyter"]["token"]["existingSecret"] = rng.choice(["Token", "a_b", "x" * 254])
        return "existingSecret"
    key = rng.choice(["bad key", "-a", "a/b/c"])
    values["serviceAccount"]["annotations"] = {key: "v"}
    return key


def bad_image(rng: random.Random, values: Values) -> str:
    key, value = rng.choice(
        [
            ("tag", "latest"),
            ("tag", ""),
            ("tag", "a b"),
            ("repository", "pangeo notebook"),
            ("repository", ""),
        ]
    )
    values["image"][key] = value
    return key


def bad_unknown_key(rng: random.Random, values: Values) -> str:
    component = rng.choice(COMPONENTS)
    values[component][rng.choice(["replica", "colour", "resource"])] = 1
    return component


BAD: list[Mutation] = [
    bad_replicas,
    bad_request_above_limit,
    bad_quantity,
    bad_toleration,
    bad_node_selector,
    bad_max_unavailable,
    bad_fullname,
    bad_name_override,
    bad_source_range,
    bad_load_balancer_tls,
    bad_size,
    bad_counts,
    bad_object_names,
    bad_image,
    bad_unknown_key,
]


WILD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 2**31, 2**63, 1.5, -0.5, 1e300, "", " ", "0", "-1", "1e3",
    "0x10", "+1", "NaN", "ünïcödé", "a" * 300, "a b", "A", "latest", "100%", "1Gi", "1m",
    "10.0.0.0/8", "Exists", "NoExecute", [], {}, ["x"], {"a": 1},
    # strings that YAML 1.1 readers take for numbers, booleans or null when left unquoted
    "123", "0x10", "0o17", "1_000", "1:20", "yes", "on", "null", "~", "1e3", ".5",
]  # fmt: skip


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict) and node:
        return [leaf for key, child in node.items() for leaf in _leaves(child, (*path, key))]
    if isinstance(node, list) and node:
        return [leaf for i, child in enumerate(node) for leaf in _leaves(child, (*path, i))]
    return [path]


def wild(rng: random.Random, values: Values) -> str:
    """Any value anywhere: helm may refuse it, but what it accepts must be valid."""
    path = rng.choice(_leaves(values))
    node: Any = values
    for key in path[:-1]:
        node = node[key]
    if isinstance(node, dict) and rng.random() < 0.15:
        del node[path[-1]]
        return f"wild: delete {'.'.join(map(str, path))}"
    node[path[-1]] = copy.deepcopy(rng.choice(WILD_VALUES))
    return f"wild: {'.'.join(map(str, path))} = {node[path[-1]]!r:.40}"


def generate_cases(seed: int, count: int) -> list[Case]:
    """A third of the cases hold only accepted mutations, a third add one that Kubernetes
    refuses, a third add one or two wild values with no expectation but validity."""
    rng = random.Random(seed)
    base = yaml.safe_load((CHART / "values.yaml").read_text())
    cases = []
    for index in range(count):
        case = Case(copy.deepcopy(base))
        for mutation in rng.sample(GOOD, rng.randint(1, 3)):
            mutation(rng, case.values)
            case.applied.append(mutation.__name__)
        if index % 3 == 1:
            mutation = BAD[index // 3 % len(BAD)]
            expected = mutation(rng, case.values)
            case.applied.append(mutation.__name__)
            case.expect_in_error.append(str(expected))
        elif index % 3 == 2:
            case.wild = True
            case.applied += [wild(rng, case.values) for _ in range(rng.randint(1, 2))]
        cases.append(case)
    return cases


@dataclass
class Outcome:
    """What helm made of one case: refused (with its error) or the documents it rendered."""

    refused: bool
    error: str = ""
    documents: list[Values] = field(default_factory=list)


def render_one(helm_path: Path, values_file: Path) -> Outcome:
    result = subprocess.run(
        [str(helm_path), "template", "himat", str(CHART), "-n", "himat", "-f", str(values_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    documents = yaml_documents(result.stdout) if not result.returncode else []
    return Outcome(result.returncode != 0, result.stderr, documents)


def render_together(helm_path: Path, folder: Path, cases: dict[str, Case]) -> tuple[int, str, str]:
    """One `helm template` of an umbrella chart holding the chart once per case (named after
    it, with the case's values): Helm checks every subchart's values against the schema in
    one run and lists the failures per chart."""
    umbrella = folder / "umbrella"
    shutil.rmtree(umbrella, ignore_errors=True)
    (umbrella / "charts").mkdir(parents=True)
    (umbrella / "Chart.yaml").write_text("apiVersion: v2\nname: fuzz\nversion: 0.1.0\n")
    (umbrella / "values.yaml").write_text(
        yaml.safe_dump({name: case.values for name, case in cases.items()})
    )
    chart_yaml = (CHART / "Chart.yaml").read_text()
    for name in cases:
        copy = umbrella / "charts" / name
        shutil.copytree(CHART, copy)
        (copy / "Chart.yaml").write_text(chart_yaml.replace("name: pangeo-himat", f"name: {name}"))
    result = subprocess.run(
        [str(helm_path), "template", "himat", str(umbrella), "-n", "himat"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return result.returncode, result.stdout, result.stderr


def schema_failures(stderr: str) -> dict[str, str]:
    """`case-007:` sections of Helm's "values don't meet the specifications" error."""
    sections: dict[str, str] = {}
    current = None
    for line in stderr.splitlines():
        if re.fullmatch(r"case-\d{3}:", line):
            current = line[:-1]
            sections[current] = ""
        elif current:
            sections[current] += line + "\n"
    return sections


def documents_by_case(stdout: str) -> dict[str, list[Values]]:
    found: dict[str, list[Values]] = {}
    for text in stdout.split("\n---\n"):
        source = re.search(r"^# Source: fuzz/charts/(case-\d{3})/", text, re.MULTILINE)
        doc = yaml.load(text, Loader=YAML_LOADER)
        if source and doc:
            found.setdefault(source[1], []).append(doc)
    return found


def render_cases(helm_path: Path, folder: Path, cases: dict[str, Case]) -> dict[str, Outcome]:
    """Few helm runs for many cases: one for every schema check, one for the cases that pass
    the schema and should render, and one per remaining case (a template's `fail` stops a run)."""
    results: dict[str, Outcome] = {}
    code, _, stderr = render_together(helm_path, folder, cases)
    if code:
        results = {name: Outcome(True, error) for name, error in schema_failures(stderr).items()}
        assert results, stderr
    rest = {name: case for name, case in cases.items() if name not in results}
    together = {name: case for name, case in rest.items() if not case.bad and not case.wild}
    alone = [name for name in rest if name not in together]
    code, stdout, _ = render_together(helm_path, folder, together)
    if code:
        alone = list(rest)  # something refused a case that should render: find which
    else:
        for name, documents in documents_by_case(stdout).items():
            results[name] = Outcome(False, "", documents)
    for name in alone:
        path = folder / f"{name}.yaml"
        path.write_text(yaml.safe_dump(cases[name].values))
        results[name] = render_one(helm_path, path)
    return results


def render_corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """All cases, in batches of BATCH (Helm slows down past ~50 subcharts), two at a time."""
    helm4 = helm("helm4")
    cases = {f"case-{index:03d}": case for index, case in enumerate(generate_cases(SEED, CASES))}
    names = list(cases)
    batches = [
        {name: cases[name] for name in names[start : start + BATCH]}
        for start in range(0, len(names), BATCH)
    ]
    folders = [tmp_path_factory.mktemp(f"fuzz-{index}") for index in range(len(batches))]
    results: dict[str, Outcome] = {}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for found in pool.map(
            lambda job: render_cases(helm4, *job), zip(folders, batches, strict=True)
        ):
            results.update(found)
    return results


def rendered_corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """The corpus rendered once per test run: this module's checks and the e2e test against the
    API server read the same outcomes."""
    return once_per_run(tmp_path_factory, "chart-fuzz", lambda: render_corpus(tmp_path_factory))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Case, Outcome]]:
    results = rendered_corpus(tmp_path_factory)
    cases = {f"case-{index:03d}": case for index, case in enumerate(generate_cases(SEED, CASES))}
    return [(case, results[name]) for name, case in cases.items()]


def test_generator_is_seeded_and_covers_every_mutation():
    first, second = generate_cases(SEED, CASES), generate_cases(SEED, CASES)
    assert [c.values for c in first] == [c.values for c in second]
    applied = {name for case in first for name in case.applied if not name.startswith("wild")}
    assert applied == {m.__name__ for m in GOOD + BAD}
    assert sum(case.bad for case in first) == sum(case.wild for case in first) == CASES // 3


def test_every_bad_value_is_refused_and_named(outcomes):
    accepted = [case.applied for case, result in outcomes if case.bad and not result.refused]
    assert not accepted, f"{len(accepted)} bad values files rendered: {accepted[:5]}"
    for case, result in outcomes:
        if case.bad:
            assert "panic" not in result.error
            for fragment in case.expect_in_error:
                assert fragment in result.error, (case.applied, result.error)


def test_every_accepted_values_file_is_valid_kubernetes(outcomes, cached_schema_files):
    refused = [
        (case.applied, r.error)
        for case, r in outcomes
        if not case.bad and not case.wild and r.refused
    ]
    assert not refused, refused[:5]
    wild = [r for case, r in outcomes if case.wild]
    assert 0 < sum(not r.refused for r in wild) < len(wild)  # wild values both pass and fail
    checked: set[tuple[str, str]] = set()
    for index, (case, result) in enumerate(outcomes):
        if case.bad or result.refused:
            continue
        version = KUBERNETES_VERSIONS[index // 2 % len(KUBERNETES_VERSIONS)]
        assert result.documents, case.applied
        for doc in result.documents:
            if doc["kind"] == "Secret":  # a fresh random token in every render
                doc["data"] = {name: "dG9rZW4=" for name in doc["data"]}
            key = (version, json.dumps(doc, sort_keys=True))
            if key in checked:
                continue
            checked.add(key)
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as error:
                pytest.fail(f"{case.applied}: {doc['kind']} invalid for {version}: {error}")


def test_helm3_refuses_the_same_bad_values(outcomes, tmp_path):
    """A sample on Helm 3, whose schema validator is a different library."""
    helm3 = helm("helm3")
    sample = [case for case, _ in outcomes if case.bad][:: len(BAD) // 3 or 1][:40]
    for index, case in enumerate(sample):
        path = tmp_path / f"case-{index}.yaml"
        path.write_text(yaml.safe_dump(case.values))
        assert render_one(helm3, path).refused, case.applied
