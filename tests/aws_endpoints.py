"""Real AWS clients' counterparts on loopback: moto's server, and a small DLM endpoint.

moto's server (moto[server]) answers EC2, STS, Budgets, Auto Scaling, EKS and IAM from one
port; botocore and the real `aws` CLI reach it through AWS_ENDPOINT_URL. Amazon Data Lifecycle
Manager is not in moto, so `DLMEndpoint` answers the four calls himat makes, with the request
routes, status codes and bodies of the DLM API reference
(https://docs.aws.amazon.com/dlm/latest/APIReference/, and the CLI's own service model,
awscli/botocore/data/dlm/2018-01-12/service-2.json: protocol rest-json). The real CLI still
validates every parameter before it sends anything. Both bind 127.0.0.1 on a free port and
stop when the tests end. `aws_fork_server` starts standins/aws_fork_server.py, which runs the
real CLI for the stand-in `aws` without paying its start-up on every call.
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import threading
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from moto.server import ThreadedMotoServer

REGION = "us-west-2"
# moto's default account (moto/core/models.py DEFAULT_ACCOUNT_ID), as STS reports it.
ACCOUNT = "123456789012"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": REGION,
    # No profile, config or credentials file of the machine's may leak into a test.
    "AWS_CONFIG_FILE": "/nonexistent/aws-config",
    "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/aws-credentials",
    "AWS_EC2_METADATA_DISABLED": "true",
    # One attempt: a throttled or failed call fails the test at once instead of retrying.
    "AWS_MAX_ATTEMPTS": "1",
}


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's server on 127.0.0.1 and a free port; yields its URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def reset_moto(url: str) -> None:
    """Forget every resource (moto's own reset route, moto/moto_api/_internal/urls.py)."""
    request = urllib.request.Request(f"{url}/moto-api/reset", method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=30) as answer:
        answer.read()


class DLMState:
    """The lifecycle policies of one account and region."""

    def __init__(self) -> None:
        self.policies: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    def reset(self) -> None:
        self.policies.clear()
        self.requests.clear()


def _policy_id(number: int) -> str:
    # PolicyId: "policy-" and 17 or more hex digits (API reference, LifecyclePolicy.PolicyId).
    return "policy-" + hashlib.sha256(str(number).encode()).hexdigest()[:17]


def _handler(state: DLMState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            return json.loads(self.rfile.read(length) or b"{}")

        def _answer(self, status: int, document: dict[str, Any], error: str = "") -> None:
            body = json.dumps(document).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if error:
                # rest-json errors carry their code in this header (botocore parsers.py).
                self.send_header("x-amzn-ErrorType", error)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _not_found(self, policy_id: str) -> None:
            # ResourceNotFoundException: HTTP 404, with ResourceType and ResourceIds.
            self._answer(
                404,
                {
                    "Message": f"Lifecycle policy with ID {policy_id} not found.",
                    "Code": "ResourceNotFoundException",
                    "ResourceType": "LifecyclePolicy",
                    "ResourceIds": [policy_id],
                },
                "ResourceNotFoundException",
            )

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            url = urllib.parse.urlsplit(self.path)
            query = urllib.parse.parse_qs(url.query)
            state.requests.append(("GET", url.path, {k: v for k, v in query.items()}))
            match = re.fullmatch(r"/policies/([^/]+)/?", url.path)
            if match:
                policy = state.policies.get(match.group(1))
                if policy is None:
                    self._not_found(match.group(1))
                    return
                self._answer(200, {"Policy": policy})
                return
            # GetLifecyclePolicies: targetTags as key=value, any one of them matches.
            wanted = [tuple(tag.split("=", 1)) for tag in query.get("targetTags", [])]
            found = [
                {
                    "PolicyId": policy["PolicyId"],
                    "Description": policy["Description"],
                    "State": policy["State"],
                    "Tags": policy.get("Tags", {}),
                    "PolicyType": policy["PolicyDetails"].get(
                        "PolicyType", "EBS_SNAPSHOT_MANAGEMENT"
                    ),
                    "DefaultPolicy": False,
                }
                for policy in state.policies.values()
                if not wanted
                or any(
                    {"Key": key, "Value": value} in policy["PolicyDetails"].get("TargetTags", [])
                    for key, value in wanted
                )
            ]
            self._answer(200, {"Policies": found})

        def do_POST(self) -> None:  # noqa: N802
            body = self._body()
            state.requests.append(("POST", self.path, body))
            policy_id = _policy_id(len(state.policies))
            state.policies[policy_id] = {
                "PolicyId": policy_id,
                "Description": body["Description"],
                "State": body["State"],
                "ExecutionRoleArn": body["ExecutionRoleArn"],
                "PolicyDetails": body.get("PolicyDetails", {}),
                "Tags": body.get("Tags", {}),
                "DateCreated": "2026-12-07T14:00:00.000Z",
                "DateModified": "2026-12-07T14:00:00.000Z",
                "StatusMessage": "ENABLED",
            }
            self._answer(200, {"PolicyId": policy_id})

        def do_PATCH(self) -> None:  # noqa: N802
            body = self._body()
            state.requests.append(("PATCH", self.path, body))
            policy_id = urllib.parse.unquote(self.path.rsplit("/", 1)[-1])
            policy = state.policies.get(policy_id)
            if policy is None:
                self._not_found(policy_id)
                return
            for key in ("Description", "State", "ExecutionRoleArn", "PolicyDetails"):
                if key in body:
                    policy[key] = body[key]
            self._answer(200, {})

    return Handler


@contextmanager
def dlm_endpoint() -> Iterator[tuple[str, DLMState]]:
    """The DLM endpoint on 127.0.0.1 and a free port; yields its URL and its state."""
    state = DLMState()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


FORK_SERVER = Path(__file__).parent / "standins" / "aws_fork_server.py"


def _script_interpreter(script: Path) -> str | None:
    """The Python a pip-installed `aws` script names on its #! line; None for anything else."""
    try:
        with script.open("rb") as file:
            first = file.readline().decode(errors="replace")
    except OSError:
        return None
    if not first.startswith("#!") or "python" not in first:
        return None
    return first[2:].strip()


@contextmanager
def aws_fork_server(aws: Path, socket_path: Path) -> Iterator[str | None]:
    """The fork server for the `aws` script at `aws`; yields its socket, or None where it cannot
    run (no such script, not a Python script, not Linux), and the stand-in execs `aws` instead."""
    sys.path.insert(0, str(FORK_SERVER.parent))
    try:
        import aws_fork_server as fork_server
    finally:
        sys.path.pop(0)
    interpreter = _script_interpreter(aws)
    if interpreter is None or not fork_server.usable():
        yield None
        return
    server = subprocess.Popen(
        [interpreter, str(FORK_SERVER), str(socket_path), str(aws)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    try:
        line = server.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError(f"the AWS CLI's fork server did not start (printed {line!r})")
        yield str(socket_path)
    finally:
        server.stdin.close()  # its end: it stops accepting and exits
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
