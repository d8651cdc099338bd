#!/usr/bin/env bash
# The e2e suite on a kind cluster: create the cluster (kind-config/), install
# metrics-server, build the image and load it into kind, install the chart,
# wait for every component, run e2e/ against the cluster, collect logs on
# failure, delete the cluster. Needs docker, kind, kubectl, helm and cargo.
#
#   scripts/e2e-kind.sh                 # the whole suite
#   scripts/e2e-kind.sh --test job      # arguments go to cargo test
#
# Environment: KIND_CLUSTER (rudder-e2e), IMAGE (rudder:e2e),
# KEEP_CLUSTER=1 to leave the cluster up, LOGS (e2e-kind-logs).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
cluster="${KIND_CLUSTER:-rudder-e2e}"
image="${IMAGE:-rudder:e2e}"
logs="${LOGS:-$root/e2e-kind-logs}"
ns=rudder-system
metrics_server=v0.8.0
work="$(mktemp -d)"
kubeconfig="$work/kubeconfig"

collect() {
  mkdir -p "$logs"
  kubectl --kubeconfig "$kubeconfig" get pods -A -o wide > "$logs/pods.txt" 2>&1 || true
  kubectl --kubeconfig "$kubeconfig" get events -A --sort-by=.lastTimestamp > "$logs/events.txt" 2>&1 || true
  for d in $(kubectl --kubeconfig "$kubeconfig" -n "$ns" get deployments -o name 2>/dev/null); do
    kubectl --kubeconfig "$kubeconfig" -n "$ns" logs "$d" --all-containers --prefix --tail=-1 > "$logs/${d#deployment.apps/}.log" 2>&1 || true
  done
  echo "logs in $logs" >&2
}
finish() {
  status=$?
  if [ "$status" -ne 0 ]; then collect; fi
  if [ "${KEEP_CLUSTER:-}" != 1 ]; then kind delete cluster --name "$cluster" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
  exit "$status"
}
trap finish EXIT

kind create cluster --name "$cluster" --config kind-config/cluster.yaml --kubeconfig "$kubeconfig" --wait 180s
export KUBECONFIG="$kubeconfig"

kubectl apply -f "https://github.com/kubernetes-sigs/metrics-server/releases/download/$metrics_server/components.yaml"
kubectl -n kube-system patch deployment metrics-server --type=json \
  -p '[{"op": "add", "path": "/spec/template/spec/containers/0/args/-", "value": "--kubelet-insecure-tls"}]'

docker build -t "$image" .
kind load docker-image "$image" --name "$cluster"

helm install rudder charts/rudder --namespace "$ns" --create-namespace \
  --set image.repository="${image%:*}" --set image.tag="${image##*:}" --set image.pullPolicy=Never \
  --wait --timeout 5m
for d in $(kubectl -n "$ns" get deployments -o name); do
  kubectl -n "$ns" rollout status "$d" --timeout 3m
done
kubectl -n kube-system rollout status deployment/metrics-server --timeout 3m

E2E_KUBECONFIG="$kubeconfig" E2E_RUDDER_NAMESPACE="$ns" cargo test -p rudder-e2e --tests "$@"
