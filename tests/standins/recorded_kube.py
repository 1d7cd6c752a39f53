"""Replays of what the real kubectl printed against a real API server (v1.36, ../shared/k8s),
recorded by scripts/record_kube.py into tests/fixtures/recorded/kubectl.json (`make
recordings` refreshes it). The stand-in kubectl answers injected failures with these words,
exit codes and streams, the names in them replaced by the ones asked for."""

import json
import sys
from pathlib import Path

RECORDING = Path(__file__).resolve().parent.parent / "fixtures" / "recorded" / "kubectl.json"
RECORDED_NAME = "recorded-name"
RECORDED_HOST = "recorded-host.invalid"
# kubectl's short names as the recording asked them, by the resource kubectl prints.
SHORT_NAMES = {
    "persistentvolumeclaims": "pvc",
    "persistentvolumes": "pv",
    "configmaps": "configmap",
}


def recording() -> dict:
    with open(RECORDING) as handle:
        return json.load(handle)


def replay(answer: dict, replacements: dict[str, str]) -> int:
    """Print the recorded stdout and stderr with the placeholders replaced; return its exit."""
    stdout, stderr = answer["stdout"], answer["stderr"]
    for placeholder, value in replacements.items():
        stdout, stderr = stdout.replace(placeholder, value), stderr.replace(placeholder, value)
    sys.stdout.write(stdout)
    sys.stderr.write(stderr)
    return int(answer["exit"])


def not_found(kind: str, name: str) -> int:
    """`kubectl get KIND NAME -o json` of an absent object."""
    return replay(recording()["not_found"][SHORT_NAMES[kind]], {RECORDED_NAME: name})


def no_context() -> int:
    return replay(recording()["no_context"], {})


def unauthorized() -> int:
    return replay(recording()["unauthorized"], {})


def unreachable(host: str) -> int:
    return replay(recording()["unreachable"], {RECORDED_HOST: host})
