"""Stand-in for eksctl, helm, kubectl and aws in the lifecycle contract tests.

NOT the real tools: AWS and a live cluster cannot exist in the test environment. Installed
under each tool's name, it appends its argv as a JSON line to $STANDIN_LOG and answers the
way the real tool does for the calls himat makes (the same -o json shapes, exit codes and
error messages), so the tests check our logic (order of steps, idempotent re-runs, stopping on
failure, telling "not found" from other failures), not AWS.

It keeps a small world in $STANDIN_LOG.world.json (standin_world.py): whether the cluster and
the claim exist; `eksctl create cluster`, `kubectl delete pvc` and `eksctl delete cluster` change
it, so a re-run sees what the first run left.

eksctl's answers cite its source: in standin_world.py, standin_live.py (get -o json shapes,
describe-addon-versions, pod identity associations), standin_eksctl.py (changing verbs and their
failures, with the knobs STANDIN_EKSCTL_*) and standin_asg.py (the tags of an unmanaged group's
ASG).

Knobs (environment): STANDIN_CLUSTER_EXISTS=1, STANDIN_LOAD_BALANCER=1,
STANDIN_FAIL="<command prefix>" (exits STANDIN_FAIL_STATUS, default 3),
STANDIN_SLEPT=1 (the worker controller left its sleep record),
STANDIN_GET_CLUSTER_ERROR=1 (eksctl get cluster fails with expired credentials),
STANDIN_MALFORMED="<command prefix>" (prints output that is not what the tool prints),
STANDIN_SLEEP="<command prefix>" (sleeps STANDIN_SLEEP_S seconds, default 60, first writing
$STANDIN_LOG.sleeping), STANDIN_TOKEN_HEX (the token's bytes), STANDIN_NO_CONTEXT=1,
STANDIN_UNAUTHORIZED=1, STANDIN_<TOOL>_VERSION=x.y.z, STANDIN_REAL_AWS=<path> (`aws` is the
real AWS CLI at that path, after the call is logged: tests/aws_endpoints.py points it at moto's
server and the DLM endpoint; with STANDIN_AWS_SERVER=<socket>, through aws_fork_server.py).
The stand-in's own `aws` answers only its version (with STANDIN_AWS_VERSION), the knobs'
failures and the Budgets calls; any other call is refused.
STANDIN_BUDGETS=1 keeps the Budgets calls here when the rest runs the real CLI: the tests of
UpdateBudget, which moto's server does not implement.
STANDIN_BUDGET_EXISTS=1 (a budget named for the default settings exists, with no alerts),
STANDIN_VOLUME_ID (the EBS volume the claim's PersistentVolume names).

The running clusters' recorded live states (what `eksctl get cluster|nodegroup|addon|
podidentityassociation -o json` print) come from $STANDIN_LIVE, a folder of <cluster>.json
files ({"cluster": [...], "nodegroups": [...], "addons": [...], "podidentityassociations":
[...]}, eksctl's JSON shapes); eksctl create/delete/scale/upgrade of nodegroups and clusters,
update addon and create/delete podidentityassociation change them in the world.
`helm template` is local work, not AWS: it runs the real helm at $STANDIN_REAL_HELM.
"""

import json
import os
import sys
import time

VERSIONS = {"eksctl": "0.215.0", "helm": "3.18.0", "kubectl": "1.34.1", "aws": "2.31.0"}


def version(tool: str) -> str:
    return os.environ.get(f"STANDIN_{tool.upper()}_VERSION", VERSIONS[tool])


def version_answer(tool: str) -> int:
    if tool == "kubectl":
        print(json.dumps({"clientVersion": {"gitVersion": f"v{version(tool)}"}}))
    elif tool == "aws":
        print(f"aws-cli/{version(tool)} Python/3.13.7 Linux/6.1 exe/x86_64")
    elif tool == "helm":
        print(f"v{version(tool)}+gstandin")
    else:
        print(version(tool))
    return 0


def answer(tool: str, args: list[str]) -> int:
    line = " ".join([tool, *args])
    failing = os.environ.get("STANDIN_FAIL")
    if failing and line.startswith(failing):
        print(f"Error: stand-in {tool} failing as asked: {line}", file=sys.stderr)
        return int(os.environ.get("STANDIN_FAIL_STATUS", "3"))
    malformed = os.environ.get("STANDIN_MALFORMED")
    if malformed and line.startswith(malformed):
        print("<html><body>502 Bad Gateway</body></html>")
        return 0
    sleeping = os.environ.get("STANDIN_SLEEP")
    if sleeping and line.startswith(sleeping):
        with open(os.environ["STANDIN_LOG"] + ".sleeping", "w") as marker:
            marker.write(line)
        time.sleep(float(os.environ.get("STANDIN_SLEEP_S", "60")))
    real_aws = os.environ.get("STANDIN_REAL_AWS")
    if (
        tool == "aws"
        and real_aws
        and not (args == ["--version"] and "STANDIN_AWS_VERSION" in os.environ)
        and not (args[:1] == ["budgets"] and os.environ.get("STANDIN_BUDGETS"))
    ):
        # The real AWS CLI, against moto's server and the DLM endpoint (tests/aws_endpoints.py):
        # run by the fork server that has it imported (aws_fork_server.py), else exec'd.
        server = os.environ.get("STANDIN_AWS_SERVER")
        if server:
            import aws_fork_server

            return aws_fork_server.run_through(server, real_aws, args)
        os.execv(real_aws, [real_aws, *args])
    if args[:1] == ["version"] or args[:1] == ["--version"]:
        return version_answer(tool)
    # The rest needs the world and eksctl's shapes; imported only now, as most calls are the
    # real aws's or version probes (standin_world.py and the modules it imports cost a third
    # of the stand-in's start).
    import standin_world

    return standin_world.answer(tool, args)


def main() -> int:
    tool = os.path.basename(sys.argv[0])
    with open(os.environ["STANDIN_LOG"], "a") as log:
        log.write(json.dumps([tool, *sys.argv[1:]]) + "\n")
    return answer(tool, sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
