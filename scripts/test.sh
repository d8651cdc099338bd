#!/usr/bin/env bash
# Runs every test of the workspace: unit tests, the sandbox conformance
# suite and the end-to-end suite (on the sandbox unless E2E_KUBECONFIG is set).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
PATH="$(bash scripts/tools.sh):$PATH"
export PATH
export RUDDER_KUBECTL="$(command -v kubectl)"
export RUDDER_HELM="$(command -v helm)"
cargo test --workspace --all-targets "$@"
