#!/usr/bin/env bash
# Builds rudder-bench and every component it starts (release), then runs
# the benchmark suite on the sandbox at its default size into
# bench/results/ (JSON records, plots, README.md table). Arguments go to
# `rudder-bench suite` (for example --size large, --only replicaset-scale,
# or --target-kubeconfig PATH --component NAME=URL for a real cluster).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
cargo build --release -p rudder-bench -p rudder-scheduler -p rudder-replicaset-controller \
  -p rudder-deployment-controller -p rudder-daemonset-controller -p rudder-job-controller \
  -p rudder-hpa-controller -p rudder-admission-webhooks
exec "$target/release/rudder-bench" suite --out bench/results --readme README.md "$@"
