"""Stand-ins for the two third-party charts `himat install` pulls from the internet.

`himat install` installs aws-node-termination-handler (an OCI chart on public.ecr.aws) and the
cluster-autoscaler (kubernetes.github.io/autoscaler) before our chart; neither can be fetched
offline. The `helm` put first on PATH here is the real helm with one change: those two chart
references (and their --repo/--version) become a local stand-in chart that creates the one
workload the real chart would (the termination handler's DaemonSet, the autoscaler's Deployment
under its fullnameOverride) from the same rendered values file: name, nodeSelector,
tolerations and requests, running a pause image. Everything else reaches the real helm as is.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

from pangeo_himat.render import cluster_autoscaler, termination_handler

TEMPLATE = """\
apiVersion: apps/v1
kind: {{ .Values.standinKind }}
metadata:
  name: {{ .Values.fullnameOverride | default .Release.Name }}
  namespace: {{ .Release.Namespace }}
  labels: {app.kubernetes.io/name: {{ .Release.Name }}}
spec:
  {{- if eq .Values.standinKind "Deployment" }}
  replicas: 1
  {{- end }}
  selector:
    matchLabels: {app.kubernetes.io/name: {{ .Release.Name }}}
  template:
    metadata:
      labels: {app.kubernetes.io/name: {{ .Release.Name }}}
    spec:
      nodeSelector: {{ toJson .Values.nodeSelector }}
      tolerations: {{ toJson .Values.tolerations }}
      terminationGracePeriodSeconds: 0
      containers:
        - name: main
          image: registry.k8s.io/pause:3.10
          resources: {{ toJson .Values.resources }}
"""

WRAPPER = """\
#!{python}
# Stand-in helm: the real helm at {real}, with the third-party charts swapped for local ones
# (tests/e2e/external_charts.py says why).
import os, sys
swaps = {swaps!r}
args = sys.argv[1:]
for remote, local in swaps.items():
    if remote in args:  # the chart is the last mention (the autoscaler's release shares its name)
        args[len(args) - 1 - args[::-1].index(remote)] = local
        for flag in ("--repo", "--version"):
            if flag in args:
                at = args.index(flag)
                del args[at:at + 2]
os.execv({real!r}, [{real!r}, *args])
"""


def standin_chart(folder: Path, name: str, kind: str) -> Path:
    chart = folder / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        yaml.safe_dump({"apiVersion": "v2", "name": name, "version": "0.0.0-standin"})
    )
    defaults = {"standinKind": kind, "nodeSelector": {}, "tolerations": [], "resources": {}}
    (chart / "values.yaml").write_text(yaml.safe_dump(defaults))
    (chart / "templates" / "workload.yaml").write_text(TEMPLATE)
    return chart


def helm_wrapper(folder: Path, real_helm: Path) -> Path:
    """`folder/helm`: the real helm with the two third-party charts swapped for stand-ins."""
    charts = folder / "standin-charts"
    swaps = {
        termination_handler.CHART: str(
            standin_chart(charts, "aws-node-termination-handler", "DaemonSet")
        ),
        cluster_autoscaler.CHART: str(standin_chart(charts, "cluster-autoscaler", "Deployment")),
    }
    path = folder / "helm"
    path.write_text(WRAPPER.format(python=sys.executable, real=str(real_helm), swaps=swaps))
    path.chmod(0o755)
    return path
