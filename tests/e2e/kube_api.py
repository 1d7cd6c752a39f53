"""A small REST client for the Kubernetes API, read from a kubeconfig (the tests' own view).

It speaks to whatever the kubeconfig names: the control plane of ../shared/k8s, kind, k3d or
an EKS test cluster. Credentials: a client certificate (file or inline data), a bearer token,
or an exec plugin (`aws eks get-token` writes an ExecCredential with status.token; Kubernetes
staging/src/k8s.io/client-go/pkg/apis/clientauthentication/v1/types.go).
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import requests
import yaml

MERGE_PATCH = "application/merge-patch+json"
T = TypeVar("T")


class ApiError(Exception):
    """A status other than 2xx; `code` and `reason` as the API server's Status object says."""

    def __init__(self, code: int, body: dict[str, Any] | str) -> None:
        self.code = code
        self.body = body
        self.reason = body.get("reason", "") if isinstance(body, dict) else ""
        message = body.get("message", "") if isinstance(body, dict) else body
        super().__init__(f"{code} {self.reason}: {message}")


def _inline_file(folder: Path, name: str, data: str) -> str:
    path = folder / name
    path.write_bytes(base64.b64decode(data))
    return str(path)


class KubeApi:
    """GET/POST/PATCH/DELETE against one API server with one identity."""

    def __init__(
        self, server: str, ca_file: str | bool, cert: tuple[str, str] | None, token: str = ""
    ) -> None:
        self.server = server.rstrip("/")
        self.ca_file = ca_file
        self.session = requests.Session()
        # Not REQUESTS_CA_BUNDLE nor a proxy from the environment: this server, this CA.
        self.session.trust_env = False
        self.session.verify = ca_file
        if cert:
            self.session.cert = cert
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"
        self.session.headers["Accept"] = "application/json"
        # The API server's Warning header of the last call (admission warnings, PodSecurity's).
        self.warnings = ""
        self._discovery: dict[str, dict[str, tuple[str, bool]]] = {}

    @classmethod
    def from_kubeconfig(cls, path: Path) -> KubeApi:
        config = yaml.safe_load(path.read_text())
        context_name = config["current-context"]
        (context,) = [c["context"] for c in config["contexts"] if c["name"] == context_name]
        (cluster,) = [c["cluster"] for c in config["clusters"] if c["name"] == context["cluster"]]
        (user,) = [u.get("user") or {} for u in config["users"] if u["name"] == context["user"]]
        folder = Path(tempfile.mkdtemp(prefix="himat-kubeconfig-"))
        ca: str | bool = True
        if "certificate-authority-data" in cluster:
            ca = _inline_file(folder, "ca.crt", cluster["certificate-authority-data"])
        elif "certificate-authority" in cluster:
            ca = cluster["certificate-authority"]
        elif cluster.get("insecure-skip-tls-verify"):
            ca = False
        cert = None
        if "client-certificate-data" in user:
            cert = (
                _inline_file(folder, "client.crt", user["client-certificate-data"]),
                _inline_file(folder, "client.key", user["client-key-data"]),
            )
        elif "client-certificate" in user:
            cert = (user["client-certificate"], user["client-key"])
        token = user.get("token", "")
        if "exec" in user:
            exec_ = user["exec"]
            env = {item["name"]: item["value"] for item in exec_.get("env") or []}
            output = subprocess.run(
                [exec_["command"], *(exec_.get("args") or [])],
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, **env},
            ).stdout
            token = json.loads(output)["status"]["token"]
        return cls(cluster["server"], ca, cert, token)

    def with_token(self, token: str) -> KubeApi:
        """The same server, as another identity (a ServiceAccount's token)."""
        return KubeApi(self.server, self.ca_file, None, token)

    def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        content_type: str = "application/json",
        params: dict[str, Any] | None = None,
    ) -> Any:
        headers = {"Content-Type": content_type} if body is not None else {}
        response = self.session.request(
            method,
            self.server + path,
            data=None if body is None else json.dumps(body),
            headers=headers,
            params=params,
            timeout=30,
        )
        self.warnings = response.headers.get("Warning", "")
        if response.status_code >= 300:
            try:
                raise ApiError(response.status_code, response.json())
            except ValueError:
                raise ApiError(response.status_code, response.text) from None
        return response.json() if response.content else None

    def collection_path(self, api_version: str, kind: str, namespace: str) -> str:
        """Where objects of this kind are created, from the API server's discovery."""
        base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        if base not in self._discovery:
            self._discovery[base] = {
                r["kind"]: (r["name"], r["namespaced"])
                for r in self.get(base)["resources"]
                if "/" not in r["name"]
            }
        plural, namespaced = self._discovery[base][kind]
        return f"{base}/namespaces/{namespace}/{plural}" if namespaced else f"{base}/{plural}"

    def get(self, path: str, **params: Any) -> Any:
        return self.call("GET", path, params=params or None)

    def items(self, path: str, **params: Any) -> list[dict[str, Any]]:
        return list(self.get(path, **params)["items"])

    def create(self, path: str, body: dict[str, Any]) -> Any:
        return self.call("POST", path, body)

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.call("PATCH", path, body, MERGE_PATCH)

    def delete(self, path: str, body: dict[str, Any] | None = None, missing_ok: bool = True) -> Any:
        try:
            return self.call("DELETE", path, body)
        except ApiError as error:
            if error.code == 404 and missing_ok:
                return None
            raise

    def exists(self, path: str) -> bool:
        try:
            self.get(path)
        except ApiError as error:
            if error.code == 404:
                return False
            raise
        return True

    def ready(self) -> bool:
        try:
            response = self.session.get(self.server + "/readyz", timeout=5)
        except requests.RequestException:
            return False
        return response.status_code == 200


def wait_for(
    probe: Callable[[], T | None], timeout_s: float = 60.0, interval_s: float = 0.25, what: str = ""
) -> T:
    """Call `probe` until it returns something truthy; fail with `what` after the timeout."""
    deadline = time.monotonic() + timeout_s
    last: T | None = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what} (last: {last!r})")


def pods(api: KubeApi, namespace: str, selector: str = "") -> Iterator[dict[str, Any]]:
    params = {"labelSelector": selector} if selector else {}
    yield from api.items(f"/api/v1/namespaces/{namespace}/pods", **params)
