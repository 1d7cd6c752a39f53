"""Record what the real kubectl prints against a real API server, for the stand-ins to replay.

The lifecycle contract tests' kubectl stand-in (tests/standins/standin.py) answers failures a
test injects (an absent claim, no kube context, expired credentials, an unreachable server);
its words come from this recording, not from memory. `make recordings` runs this script: it
starts the control plane of ../shared/k8s (tests/e2e/control_plane.py), runs each command with
the real kubectl, stops the control plane and writes OUT/kubectl.json. Names in the commands are
placeholders the stand-in substitutes (RECORDED_NAME, RECORDED_HOST).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from e2e.control_plane import HOW_TO_ENABLE, control_plane_folder, start  # noqa: E402

RECORDED_NAME = "recorded-name"
RECORDED_HOST = "recorded-host.invalid"
NAMESPACE = "default"


def run(kubectl: str, kubeconfig: Path, *args: str) -> dict[str, Any]:
    result = subprocess.run(
        [kubectl, *args],
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    return {
        "argv": ["kubectl", *args],
        "exit": result.returncode,
        "stdout": result.stdout,
        "stderr": result.stderr,
    }


def edited_kubeconfig(kubeconfig: Path, folder: Path, name: str, **changes: Any) -> Path:
    """The admin kubeconfig with the cluster's server or the user's credentials replaced."""
    text = kubeconfig.read_text()
    if "server" in changes:
        start_at = text.index("server: ")
        end_at = text.index(",", start_at)
        text = text[:start_at] + f'server: "{changes["server"]}"' + text[end_at:]
    if "user" in changes:
        start_at = text.index("users: ")
        end_at = text.index("\n", start_at)
        text = (
            text[:start_at] + f"users: [{{name: admin, user: {changes['user']}}}]" + text[end_at:]
        )
    path = folder / name
    path.write_text(text)
    return path


def record(kubectl: str, kubeconfig: Path, folder: Path) -> dict[str, Any]:
    not_found = {
        kind: run(kubectl, kubeconfig, "get", kind, RECORDED_NAME, "-n", NAMESPACE, "-o", "json")
        for kind in ("pvc", "pv", "configmap")
    }
    empty_context = folder / "no-context"
    empty_context.write_text("apiVersion: v1\nkind: Config\n")
    bad_token = edited_kubeconfig(kubeconfig, folder, "bad-token", user="{token: not-a-token}")
    unreachable = edited_kubeconfig(
        kubeconfig, folder, "unreachable", server=f"https://{RECORDED_HOST}"
    )
    return {
        "recorded_by": "scripts/record_kube.py (make recordings)",
        "kubectl_version": run(kubectl, kubeconfig, "version", "--client", "-o", "json")["stdout"],
        "server_version": run(kubectl, kubeconfig, "version", "-o", "json")["stdout"],
        "not_found": not_found,
        "no_context": run(kubectl, empty_context, "config", "current-context"),
        "unauthorized": run(kubectl, bad_token, "get", "pods", "-n", NAMESPACE, "-o", "json"),
        "unreachable": run(
            kubectl,
            unreachable,
            "get",
            "pods",
            "-n",
            NAMESPACE,
            "-o",
            "json",
            "--request-timeout",
            "5s",
        ),
        "empty_list": run(kubectl, kubeconfig, "get", "pods", "-n", NAMESPACE, "-o", "json"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for kubectl.json")
    args = parser.parse_args()
    kubectl = os.environ.get("HIMAT_KUBECTL", str(ROOT / ".tools" / "bin" / "kubectl"))
    folder = control_plane_folder(ROOT)
    if folder is None:
        print(HOW_TO_ENABLE, file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="himat-record-") as temp:
        plane = start(folder, Path(temp) / "state")
        try:
            recording = record(kubectl, plane.kubeconfig, Path(temp))
        finally:
            plane.stop()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "kubectl.json").write_text(json.dumps(recording, indent=1, sort_keys=True) + "\n")
    print(f"wrote {args.out / 'kubectl.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
