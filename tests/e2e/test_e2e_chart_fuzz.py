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

from e2e.kube_api import ApiError, KubeApi
from test_chart_fuzz import CASES, rendered_corpus

# test_chart_fuzz's whole corpus (same seed, all its cases, rendered once per run): about 40 %
# of them render (the accepted third and the wild values helm lets through); helm refuses the
# rest.


@pytest.fixture(scope="module")
def accepted_corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    outcomes = rendered_corpus(tmp_path_factory)
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
    accepted_corpus: dict[str, list[dict[str, Any]]], kube: KubeApi, namespace: str
) -> None:
    assert len(accepted_corpus) >= CASES // 3  # at least the accepted-only third
    refused = {
        name: problems
        for name, documents in accepted_corpus.items()
        if (problems := refusals(kube, namespace, documents))
    }
    assert refused == {}, json.dumps(refused, indent=1)
