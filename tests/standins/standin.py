"""Stand-in for eksctl, helm, kubectl and aws in the lifecycle contract tests.

NOT the real tools: AWS and a live cluster cannot exist in the test environment. Installed
under each tool's name, it appends its argv as a JSON line to $STANDIN_LOG and answers the
way the real tool does for the calls himat makes, so the tests check our logic (order of
steps, idempotent re-runs, stopping on failure), not AWS.

Knobs (environment): STANDIN_CLUSTER_EXISTS=1, STANDIN_LOAD_BALANCER=1,
STANDIN_NO_CREDENTIALS=1, STANDIN_FAIL="<command prefix>" (exits STANDIN_FAIL_STATUS, default 3),
STANDIN_<TOOL>_VERSION=x.y.z.
"""

import json
import os
import sys

VERSIONS = {"eksctl": "0.215.0", "helm": "3.18.0", "kubectl": "1.34.1", "aws": "2.31.0"}


def version(tool: str) -> str:
    return os.environ.get(f"STANDIN_{tool.upper()}_VERSION", VERSIONS[tool])


def answer(tool: str, args: list[str]) -> int:
    line = " ".join([tool, *args])
    failing = os.environ.get("STANDIN_FAIL")
    if failing and line.startswith(failing):
        print(f"Error: stand-in {tool} failing as asked: {line}", file=sys.stderr)
        return int(os.environ.get("STANDIN_FAIL_STATUS", "3"))
    if args[:1] == ["version"] or args[:1] == ["--version"]:
        if tool == "kubectl":
            print(json.dumps({"clientVersion": {"gitVersion": f"v{version(tool)}"}}))
        elif tool == "aws":
            print(f"aws-cli/{version(tool)} Python/3.13.7 Linux/6.1 exe/x86_64")
        elif tool == "helm":
            print(f"v{version(tool)}+gstandin")
        else:
            print(version(tool))
        return 0
    if tool == "aws" and args[:2] == ["sts", "get-caller-identity"]:
        if os.environ.get("STANDIN_NO_CREDENTIALS"):
            print(
                "Unable to locate credentials. You can configure credentials by running "
                '"aws configure".',
                file=sys.stderr,
            )
            return 253
        print(json.dumps({"Account": "123456789012", "Arn": "arn:aws:iam::123456789012:user/a"}))
        return 0
    if tool == "eksctl" and args[:2] == ["get", "cluster"]:
        if os.environ.get("STANDIN_CLUSTER_EXISTS"):
            print(json.dumps([{"Name": "himat", "Status": "ACTIVE"}]))
            return 0
        print(
            "Error: unable to describe cluster control plane: ResourceNotFoundException",
            file=sys.stderr,
        )
        return 1
    if tool == "eksctl" and args[:2] == ["get", "nodegroup"]:
        print(
            json.dumps(
                [{"Name": "stable", "DesiredCapacity": 1}, {"Name": "spot", "DesiredCapacity": 3}]
            )
        )
        return 0
    if tool == "kubectl" and args[:2] == ["get", "pvc"]:
        print("pvc-0d4b6a1e", end="")
        return 0
    if tool == "kubectl" and args[:2] == ["get", "pv"]:
        print("vol-0123456789abcdef0", end="")
        return 0
    if tool == "kubectl" and args[:2] == ["get", "services"]:
        items = [{"metadata": {"name": "himat-scheduler"}, "spec": {"type": "ClusterIP"}}]
        if os.environ.get("STANDIN_LOAD_BALANCER"):
            items.append({"metadata": {"name": "himat-jupyter"}, "spec": {"type": "LoadBalancer"}})
        print(json.dumps({"items": items}))
        return 0
    if tool == "kubectl" and args[:2] == ["get", "pods"]:
        pod = {
            "metadata": {"labels": {"app.kubernetes.io/component": "worker"}},
            "status": {"phase": "Running"},
        }
        print(json.dumps({"items": [pod, pod]}))
        return 0
    print(f"stand-in {tool}: ok")
    return 0


def main() -> int:
    tool = os.path.basename(sys.argv[0])
    with open(os.environ["STANDIN_LOG"], "a") as log:
        log.write(json.dumps([tool, *sys.argv[1:]]) + "\n")
    return answer(tool, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
