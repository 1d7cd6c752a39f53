"""Stand-in answers of `aws ec2` (volumes, snapshots, tags) and `aws dlm` for standin.py.

NOT AWS: a small world of volumes, snapshots and lifecycle policies kept in the stand-in's
world file. The answers have the shapes of the AWS CLI's `--output json` (EC2 API
DescribeVolumes, DescribeSnapshots; DLM API
GetLifecyclePolicies, CreateLifecyclePolicy), and service errors exit 254 with the CLI's
"An error occurred (Code) when calling the Operation operation: message" line (AWS CLI
"Command line return codes": 254, the service returned an error).

Only what tests without moto's server still reach (the e2e verbs, the `cluster` runs of the
lifecycle tests) is answered here; snapshots, their waiters, volume creation and deletion run the
real AWS CLI against moto's server. The volume the claim uses (standin.VOLUME_ID) always exists;
its zone is $STANDIN_VOLUME_ZONE (default us-west-2a).
"""

import hashlib
import json
import os
import sys

NOW = "2026-12-01T09:00:00.000Z"


def _hex(seed: str) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:17]


def service_error(code: str, operation: str, message: str) -> int:
    print(
        f"An error occurred ({code}) when calling the {operation} operation: {message}",
        file=sys.stderr,
    )
    return 254


def option(args: list, name: str) -> str:
    return args[args.index(name) + 1]


def values_after(args: list, name: str) -> list:
    """The values of a list option: everything after it up to the next --option."""
    start = args.index(name) + 1
    end = next((i for i in range(start, len(args)) if args[i].startswith("--")), len(args))
    return args[start:end]


def known_volumes(world: dict, claim_volume: str) -> dict:
    zone = os.environ.get("STANDIN_VOLUME_ZONE", "us-west-2a")
    return {claim_volume: {"zone": zone, "size": 16, "snapshot": ""}}


def describe_volumes(args: list, world: dict, claim_volume: str) -> int:
    wanted = option(args, "--volume-ids")
    volume = known_volumes(world, claim_volume).get(wanted)
    if volume is None:
        return service_error(
            "InvalidVolume.NotFound", "DescribeVolumes", f"The volume '{wanted}' does not exist."
        )
    state = "in-use" if wanted == claim_volume and world["claim"] else "available"
    attachments = [
        {
            "AttachTime": NOW,
            "Device": "/dev/xvdaa",
            "InstanceId": "i-0123456789abcdef0",
            "State": "attached",
            "VolumeId": wanted,
            "DeleteOnTermination": False,
        }
    ]
    print(
        json.dumps(
            {
                "Volumes": [
                    {
                        "Attachments": attachments if state == "in-use" else [],
                        "AvailabilityZone": volume["zone"],
                        "CreateTime": NOW,
                        "Encrypted": True,
                        "Size": volume["size"],
                        "SnapshotId": volume["snapshot"],
                        "State": state,
                        "VolumeId": wanted,
                        "Iops": 3000,
                        "VolumeType": "gp3",
                        "MultiAttachEnabled": False,
                        "Throughput": 125,
                    }
                ]
            },
            indent=4,
        )
    )
    return 0


def describe_snapshots() -> int:
    # No backups exist in the stand-in's world: the tests that make and list snapshots run the
    # real AWS CLI against moto's server (tests/aws_endpoints.py).
    print(json.dumps({"Snapshots": []}, indent=4))
    return 0


def dlm(args: list, world: dict) -> int:
    policies = world.setdefault("policies", [])
    if args[1] == "get-lifecycle-policies":
        key, value = option(args, "--target-tags").split("=", 1)
        found = [
            {key_: policy[key_] for key_ in ("PolicyId", "Description", "State", "PolicyType")}
            | {"Tags": {}, "DefaultPolicy": False}
            for policy in policies
            if {"Key": key, "Value": value} in policy["PolicyDetails"]["TargetTags"]
        ]
        print(json.dumps({"Policies": found}, indent=4))
        return 0
    if args[1] == "create-default-role":
        return 0  # prints the role when it creates it, nothing when it exists
    if args[1] == "create-lifecycle-policy":
        policy_id = f"policy-{_hex(str(len(policies)))}"
        policies.append(
            {
                "PolicyId": policy_id,
                "Description": option(args, "--description"),
                "State": option(args, "--state"),
                "PolicyType": "EBS_SNAPSHOT_MANAGEMENT",
                "PolicyDetails": json.loads(option(args, "--policy-details")),
            }
        )
        print(json.dumps({"PolicyId": policy_id}, indent=4))
        return 0
    if args[1] == "update-lifecycle-policy":
        policy_id = option(args, "--policy-id")
        (policy,) = [p for p in policies if p["PolicyId"] == policy_id] or [None]
        if policy is None:
            return service_error(
                "ResourceNotFoundException",
                "UpdateLifecyclePolicy",
                f"Lifecycle policy with ID {policy_id} not found.",
            )
        policy["State"] = option(args, "--state")
        if "--policy-details" in args:
            policy["PolicyDetails"] = json.loads(option(args, "--policy-details"))
        return 0
    print(f"stand-in aws: nothing known about dlm {args[1]}", file=sys.stderr)
    return 252


def answer(args: list, world: dict, claim_volume: str) -> int | None:
    """The exit status for the calls handled here; None for the others."""
    if args[0] == "dlm":
        return dlm(args, world)
    if args[0] != "ec2":
        return None
    if args[1] == "describe-volumes":
        return describe_volumes(args, world, claim_volume)
    if args[1] == "describe-snapshots":
        return describe_snapshots()
    if args[1] == "create-tags":
        wanted = values_after(args, "--resources")[0]
        if wanted not in known_volumes(world, claim_volume):
            return service_error(
                "InvalidVolume.NotFound", "CreateTags", f"The volume '{wanted}' does not exist."
            )
        return 0
    return None
