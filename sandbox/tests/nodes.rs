//! The simulated nodes against the sandbox: registration with heartbeats
//! and Leases, the kubelet's pod lifecycle (running and ready, run to
//! completion, graceful deletion), and node faults (a stopped node turns
//! Unknown and unreachable, its pods not ready).

mod util;

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use rudder_sandbox::sim::{self, SimConfig};
use serde_json::json;
use util::{eventually, start};

fn fast() -> SimConfig {
    SimConfig { count: 2, heartbeat: Duration::from_millis(200), grace: Duration::from_secs(1), ..SimConfig::default() }
}

async fn simulate(client: kube::Client, cfg: SimConfig) -> tokio::sync::oneshot::Sender<()> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        sim::run(client, cfg, async move {
            let _ = rx.await;
        })
        .await
        .expect("simulator runs");
    });
    tx
}

fn pod(name: &str, node: &str, policy: &str, annotations: serde_json::Value) -> Pod {
    serde_json::from_value(json!({
        "metadata": {"name": name, "annotations": annotations},
        "spec": {"nodeName": node, "restartPolicy": policy, "containers": [{"name": "app", "image": "nginx"}]}
    }))
    .expect("pod")
}

fn phase(p: &Pod) -> Option<&str> {
    p.status.as_ref()?.phase.as_deref()
}

fn ready(p: &Pod) -> bool {
    p.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn node_ready(n: &Node) -> Option<String> {
    n.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == "Ready").map(|c| c.status.clone())
}

#[tokio::test]
async fn nodes_register_heartbeat_and_renew_their_leases() {
    let (_s, client) = start().await;
    let _stop = simulate(client.clone(), fast()).await;
    let nodes: Api<Node> = Api::all(client.clone());
    let n = eventually(10, "sim-node-1 ready", || async {
        nodes.get("sim-node-1").await.ok().filter(|n| node_ready(n).as_deref() == Some("True"))
    })
    .await;
    let labels = n.metadata.labels.clone().unwrap_or_default();
    assert_eq!(labels.get("topology.kubernetes.io/zone").map(String::as_str), Some("zone-b"));
    assert_eq!(labels.get("kubernetes.io/os").map(String::as_str), Some("linux"));
    assert_eq!(n.status.and_then(|s| s.allocatable).and_then(|a| a.get("cpu").cloned()).map(|q| q.0), Some("8".into()));
    let leases: Api<Lease> = Api::namespaced(client, "kube-node-lease");
    let first = eventually(10, "a lease", || async { leases.get_opt("sim-node-0").await.ok().flatten()?.spec?.renew_time }).await;
    eventually(10, "the lease renewed", || async { (leases.get("sim-node-0").await.ok()?.spec?.renew_time? != first).then_some(()) }).await;
}

#[tokio::test]
async fn bound_pods_run_get_an_ip_and_turn_ready_after_their_delay() {
    let (_s, client) = start().await;
    let _stop = simulate(client.clone(), fast()).await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    pods.create(&PostParams::default(), &pod("web", "sim-node-0", "Always", json!({"sim.rudder.dev/ready-after": "1s"})))
        .await
        .expect("created");
    let running = eventually(10, "running", || async { pods.get("web").await.ok().filter(|p| phase(p) == Some("Running")) }).await;
    let status = running.status.clone().expect("status");
    assert!(status.pod_ip.as_deref().is_some_and(|ip| ip.starts_with("10.244.0.")), "{status:?}");
    assert_eq!(status.host_ip.as_deref(), Some("172.18.0.2"));
    let cs = &status.container_statuses.expect("container statuses")[0];
    assert_eq!((cs.started, cs.restart_count), (Some(true), 0));
    eventually(10, "ready", || async { pods.get("web").await.ok().filter(ready) }).await;
}

#[tokio::test]
async fn run_to_completion_pods_succeed_or_fail_with_their_exit_code() {
    let (_s, client) = start().await;
    let _stop = simulate(client.clone(), fast()).await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    pods.create(&PostParams::default(), &pod("ok", "sim-node-0", "Never", json!({"sim.rudder.dev/exit-after": "500ms"})))
        .await
        .expect("created");
    let failing = json!({"sim.rudder.dev/exit-after": "500ms", "sim.rudder.dev/exit-code": "3"});
    pods.create(&PostParams::default(), &pod("bad", "sim-node-1", "Never", failing)).await.expect("created");
    eventually(10, "succeeded", || async { pods.get("ok").await.ok().filter(|p| phase(p) == Some("Succeeded")) }).await;
    let failed = eventually(10, "failed", || async { pods.get("bad").await.ok().filter(|p| phase(p) == Some("Failed")) }).await;
    let term =
        failed.status.and_then(|s| s.container_statuses).and_then(|c| c[0].state.clone()).and_then(|s| s.terminated).expect("terminated");
    assert_eq!((term.exit_code, term.reason.as_deref()), (3, Some("Error")));
}

#[tokio::test]
async fn deleted_pods_terminate_then_are_removed_by_the_kubelet() {
    let (_s, client) = start().await;
    let _stop = simulate(client.clone(), fast()).await;
    let pods: Api<Pod> = Api::default_namespaced(client);
    pods.create(&PostParams::default(), &pod("web", "sim-node-0", "Always", json!({"sim.rudder.dev/termination-delay": "500ms"})))
        .await
        .expect("created");
    eventually(10, "running", || async { pods.get("web").await.ok().filter(|p| phase(p) == Some("Running")) }).await;
    pods.delete("web", &DeleteParams::default()).await.expect("deleted");
    // Graceful: still there, being deleted, until the simulated kubelet finishes it.
    assert!(pods.get("web").await.expect("still there").metadata.deletion_timestamp.is_some());
    eventually(10, "gone", || async { pods.get_opt("web").await.ok().and_then(|p| p.is_none().then_some(())) }).await;
}

#[tokio::test]
async fn a_stopped_node_turns_unknown_and_unreachable_and_recovers_when_started() {
    let (_s, client) = start().await;
    let _stop = simulate(client.clone(), fast()).await;
    let nodes: Api<Node> = Api::all(client.clone());
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    eventually(10, "ready", || async { nodes.get("sim-node-0").await.ok().filter(|n| node_ready(n).as_deref() == Some("True")) }).await;
    pods.create(&PostParams::default(), &pod("on-0", "sim-node-0", "Always", json!({}))).await.expect("pod");
    pods.create(&PostParams::default(), &pod("on-1", "sim-node-1", "Always", json!({}))).await.expect("pod");
    for name in ["on-0", "on-1"] {
        eventually(10, "running and ready", || async { pods.get(name).await.ok().filter(ready) }).await;
    }
    sim::set_stopped(client.clone(), "sim-node-0", true).await.expect("stopped");
    let n =
        eventually(20, "unknown", || async { nodes.get("sim-node-0").await.ok().filter(|n| node_ready(n).as_deref() == Some("Unknown")) })
            .await;
    let unreachable = |n: &Node| {
        let taints = n.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
        taints.iter().filter(|t| t.key == "node.kubernetes.io/unreachable").map(|t| t.effect.clone()).collect::<Vec<_>>()
    };
    let n = if unreachable(&n).len() == 2 {
        n
    } else {
        eventually(10, "tainted", || async { nodes.get("sim-node-0").await.ok().filter(|n| unreachable(n).len() == 2) }).await
    };
    assert_eq!(unreachable(&n), ["NoSchedule", "NoExecute"]);
    // Its pods are marked not ready (the node lifecycle controller's
    // MarkPodsNotReady), and stay; the other node's keep going.
    let stranded = eventually(10, "the pod marked not ready", || async { pods.get("on-0").await.ok().filter(|p| !ready(p)) }).await;
    assert_eq!(phase(&stranded), Some("Running"));
    assert!(ready(&pods.get("on-1").await.expect("pod")));
    assert_eq!(node_ready(&nodes.get("sim-node-1").await.expect("node")).as_deref(), Some("True"));

    sim::set_stopped(client.clone(), "sim-node-0", false).await.expect("started");
    eventually(20, "ready again, untainted", || async {
        nodes.get("sim-node-0").await.ok().filter(|n| node_ready(n).as_deref() == Some("True") && unreachable(n).is_empty())
    })
    .await;
    eventually(20, "its pod ready again", || async { pods.get("on-0").await.ok().filter(ready) }).await;
    sim::taint(client, "sim-node-1", sim::node::parse_taint("dedicated=gpu:NoSchedule").expect("taint")).await.expect("tainted");
    let tainted = nodes.get("sim-node-1").await.expect("node").spec.and_then(|s| s.taints).unwrap_or_default();
    assert!(tainted.iter().any(|t| t.key == "dedicated" && t.value.as_deref() == Some("gpu")));
}
