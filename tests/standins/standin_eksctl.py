"""The stand-in eksctl's answers to its changing verbs, and the failures its source shows.

NOT eksctl: part of the stand-in (standin.py). eksctl writes its log lines on standard output
(cmd/eksctl/logger.go) and an error as "Error: <text>" on standard error, exiting 1 (cobra's
error print; cmd/eksctl/main.go exits 1 when the command returns an error). Each answer cites
where its text comes from (eksctl commit 99984adb). Knobs (environment):

- STANDIN_EKSCTL_ADDON_VERSION_MISSING=1: `update addon --version V` finds no such version;
- STANDIN_EKSCTL_NODEGROUP_MISSING=<name>: `scale nodegroup --name <name>` finds no group;
- STANDIN_EKSCTL_ROLLBACK=1: `create nodegroup` ends with its stack rolled back.
"""

from __future__ import annotations

import os
import sys

from standin_live import flag, log_line

REQUEST_ID = "4c1e2a9e-0000-4000-8000-000000000000"


def error(text: str) -> int:
    print(f"Error: {text}", file=sys.stderr)
    return 1


def changing_verb(args: list[str]) -> int | None:
    """The exit status of a changing verb, after its log lines; None: not one answered here."""
    verb = args[:2]
    if verb == ["update", "addon"] and os.environ.get("STANDIN_EKSCTL_ADDON_VERSION_MISSING"):
        # pkg/actions/addon/update.go: "failed to fetch addon version: %w" around addon.go's
        # versionNotFoundError, `no version(s) found matching %q for %q`.
        name, version = flag(args, "--name"), flag(args, "--version")
        return error(
            f'failed to fetch addon version: no version(s) found matching "{version}" for "{name}"'
        )
    if verb == ["scale", "nodegroup"]:
        name = flag(args, "--name")
        cluster = flag(args, "--cluster")
        # pkg/actions/nodegroup/scale.go Scale: the first info line, then either group's path.
        log_line(args, f'scaling nodegroup "{name}" in cluster {cluster}')
        if os.environ.get("STANDIN_EKSCTL_NODEGROUP_MISSING") == name:
            # No nodegroup stack of that name, so eksctl takes it for a managed group and EKS
            # UpdateNodegroupConfig answers 404 ResourceNotFoundException; Scale wraps it as
            # "failed to scale nodegroup %q for cluster %q, error: %v".
            return error(
                f'failed to scale nodegroup "{name}" for cluster "{cluster}", error: operation '
                "error EKS: UpdateNodegroupConfig, https response error StatusCode: 404, "
                f"RequestID: {REQUEST_ID}, ResourceNotFoundException: No node group found for "
                f"name: {name}."
            )
        log_line(args, "initiated scaling of nodegroup")  # scale.go, both paths
        return 0
    if verb == ["create", "nodegroup"] and os.environ.get("STANDIN_EKSCTL_ROLLBACK"):
        # pkg/actions/nodegroup/create.go nodeCreationTasks: on task errors, two info lines and
        # one critical line per error (all on stdout), then the error "failed to create
        # nodegroups for cluster %q". The task's error is the CloudFormation create-complete
        # waiter's (pkg/cfn/manager/waiters.go DoWaitUntilStackIsCreated; aws-sdk-go-v2
        # waiters fail with "waiter state transitioned to Failure") for a stack that rolled back.
        config_name = flag(args, "--include")
        region = "us-west-2"
        log_line(
            args,
            "1 error(s) occurred and nodegroups haven't been created properly, you may wish to "
            "check CloudFormation console",
        )
        log_line(
            args,
            f"to cleanup resources, run 'eksctl delete nodegroup --region={region} "
            "--cluster=<cluster> --name=<name>' for each of the failed nodegroups",
        )
        print(
            "2026-12-07 14:00:00 [✖]  exceeded max wait time for StackCreateComplete waiter: "
            f"waiter state transitioned to Failure (nodegroup {config_name}: ROLLBACK_COMPLETE)"
        )
        return error('failed to create nodegroups for cluster "himat"')
    if verb == ["utils", "write-kubeconfig"]:
        # pkg/ctl/utils/write_kubeconfig.go: logger.Success("saved kubeconfig as %q", filename);
        # success lines print at every verbosity (cmd/eksctl/logger.go initLogger).
        home = os.environ.get("HOME", "/root")
        print(f'2026-12-07 14:00:00 [✔]  saved kubeconfig as "{home}/.kube/config"')
        return 0
    return None
