"""The AWS CLI run by its fork server (tests/standins/aws_fork_server.py) answers exactly as the
same `aws` run as a process of its own: output, errors and exit status."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from conftest import REAL_AWS, AWSEndpoints

# Each call and the exit status the CLI gives it (v1's clidriver.py exits 255 for every error;
# v2 tells usage errors, 252, from the service's, 254).
CALLS = {
    "version": (["--version"], 0),
    "usage-error": (["ec2", "describe-volumes", "--no-such-option"], 255),
    "answered": (["sts", "get-caller-identity", "--output", "json"], 0),
    "service-error": (["ec2", "describe-volumes", "--volume-ids", "vol-0123456789abcdef0"], 255),
}


def run(argv: list[str], aws: AWSEndpoints) -> tuple[int, str, str]:
    env = {**os.environ, **aws.env}
    result = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_forked_call_answers_as_the_cli_run_on_its_own(call: str, aws: AWSEndpoints) -> None:
    if not aws.fork_server:
        pytest.skip("the fork server cannot run here (not Linux, or aws is not a Python script)")
    args, status = CALLS[call]
    through_server = [sys.executable, "-c", aws.forwarding_source(), *args]
    on_its_own = run([str(REAL_AWS), *args], aws)
    assert on_its_own[0] == status, on_its_own
    assert run(through_server, aws) == on_its_own
