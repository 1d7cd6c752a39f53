"""The chart-values fuzz corpus against the real API server: every values file helm renders must
be accepted by the API server too (the chart's schema or templates must refuse it first).

`helm install --dry-run=server` renders with the cluster's lookups but sends nothing to the API
server for validation (helm/helm#12510, #31505), so each rendered object is created here with
`dryRun=All` and `fieldValidation=Strict`, as `kubectl create --dry-run=server` does: admission
(PodSecurity `restricted` of the test namespace included) and validation run, nothing is stored.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from conftest import helm
from e2e.kube_api import ApiError, KubeApi
from test_chart_fuzz import SEED, generate_cases, render_cases

# A subset of test_chart_fuzz's corpus (same seed, its first 120 of 300 cases): 48 of them
# render (the accepted third and the wild values helm lets through); helm refuses the rest.
E2E_CASES = 120


@pytest.fixture(scope="module")
def rendered_corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    cases = {f"case-{i:03d}": case for i, case in enumerate(generate_cases(SEED, E2E_CASES))}
    outcomes = render_cases(helm("helm4"), tmp_path_factory.mktemp("fuzz-e2e"), cases)
    return {name: out.documents for name, out in outcomes.items() if not out.refused}


def refusals(kube: KubeApi, namespace: str, documents: list[dict[str, Any]]) -> list[str]:
    found = []
    # Pods are admitted only when their ServiceAccount exists (the ServiceAccount admission
    # plugin), which a dry run does not store: those are created for real, first.
    documents = sorted(documents, key=lambda d: d["kind"] != "ServiceAccount")
    for document in documents:
        document = {**document, "metadata": {**document["metadata"], "namespace": namespace}}
        path = kube.collection_path(document["apiVersion"], document["kind"], namespace)
        where = f"{document['kind']}/{document['metadata']['name']}"
        params = {"fieldValidation": "Strict"}
        if document["kind"] != "ServiceAccount":
            params["dryRun"] = "All"
        try:
            kube.call("POST", path, document, params=params)
        except ApiError as error:
            if error.code != 409:  # AlreadyExists: an earlier case's ServiceAccount
                found.append(f"{where}: {error}")
        if "PodSecurity" in kube.warnings:
            found.append(f"{where}: {kube.warnings}")
    return found


def test_every_values_file_helm_renders_is_accepted_by_the_api_server(
    rendered_corpus: dict[str, list[dict[str, Any]]], kube: KubeApi, namespace: str
) -> None:
    assert len(rendered_corpus) >= E2E_CASES // 3  # at least the accepted-only third
    refused = {
        name: problems
        for name, documents in rendered_corpus.items()
        if (problems := refusals(kube, namespace, documents))
    }
    assert refused == {}, json.dumps(refused, indent=1)
