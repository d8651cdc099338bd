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
# Every binary first: the e2e and benchmark tests start the components as
# child processes from the target directory, and `cargo test` alone builds
# the binaries of only the packages that have integration tests.
cargo build --workspace --bins
cargo test --workspace --all-targets "$@"
if [ "$#" -eq 0 ]; then
  # The components' e2e scenarios again, each component as its chart
  # ServiceAccount under the sandbox's RBAC authorizer with the chart's
  # rules loaded: any 403 fails (e2e/src/lib.rs, E2E_RBAC).
  E2E_RBAC=1 cargo test -p rudder-e2e --test replicaset --test deployment --test daemonset --test job \
    --test hpa --test scheduler --test dra --test admission --test namespace
fi
