//! The manage step and the status counts, in the situations of upstream's
//! daemon_controller_test.go (each case in its own words).

use super::*;
use serde_json::{Value, json};

const NOW: &str = "2026-01-01T00:10:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

fn ds(strategy: Value, template_spec: Value) -> DaemonSet {
    let mut spec = json!({"containers": [{"name": "a", "image": "agent"}]});
    if let (Some(b), Some(e)) = (spec.as_object_mut(), template_spec.as_object()) {
        b.extend(e.clone());
    }
    serde_json::from_value(json!({"metadata": {"name": "agent", "namespace": "ns", "uid": "ds-uid", "generation": 2},
        "spec": {"selector": {"matchLabels": {"app": "agent"}}, "updateStrategy": strategy, "minReadySeconds": 0,
                 "template": {"metadata": {"labels": {"app": "agent"}}, "spec": spec}},
        "status": {"observedGeneration": 1}}))
    .unwrap()
}

fn rolling() -> Value {
    json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
}

fn node(name: &str, labels: Value, taints: Value) -> Node {
    serde_json::from_value(json!({"metadata": {"name": name, "labels": labels}, "spec": {"taints": taints}})).unwrap()
}

fn nodes(n: usize) -> Vec<Node> {
    (0..n).map(|i| node(&format!("n{i}"), json!({}), json!([]))).collect()
}

/// A pod on `node` (bound, or pinned by affinity when `bound` is false).
fn pod(name: &str, node: &str, hash: &str, phase: &str, ready: bool, created: &str, bound: bool) -> Pod {
    let mut spec = json!({"containers": []});
    if bound {
        spec["nodeName"] = json!(node);
    } else {
        spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
            {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}}});
    }
    serde_json::from_value(json!({"metadata": {"name": name, "namespace": "ns", "creationTimestamp": created,
                                               "labels": {"app": "agent", "controller-revision-hash": hash}},
        "spec": spec,
        "status": {"phase": phase, "conditions": [{"type": "Ready", "status": if ready {"True"} else {"False"},
                                                   "lastTransitionTime": "2026-01-01T00:00:00Z"}]}}))
    .unwrap()
}

fn running(name: &str, node: &str, created: &str) -> Pod {
    pod(name, node, "h1", "Running", true, created, true)
}

fn run(d: &DaemonSet, n: &[Node], pods: &[Pod], backoff: &mut FailedPodsBackoff) -> Manage {
    let nodes: Vec<&Node> = n.iter().collect();
    let refs: Vec<&Pod> = pods.iter().collect();
    manage(d, &nodes, &pods_by_node(&refs, false), "h1", now(), backoff)
}

#[test]
fn a_pod_on_every_node_that_lacks_one() {
    let d = ds(rolling(), json!({}));
    let pods = [running("a", "n1", "2026-01-01T00:00:00Z")];
    let m = run(&d, &nodes(3), &pods, &mut FailedPodsBackoff::default());
    assert_eq!((m.create_on, m.delete), (vec!["n0".to_string(), "n2".to_string()], vec![]));
}

#[test]
fn node_selector_and_taints_decide_where() {
    let d = ds(rolling(), json!({"nodeSelector": {"role": "agent"}}));
    let n = [
        node("labelled", json!({"role": "agent"}), json!([])),
        node("plain", json!({}), json!([])),
        node("no-schedule", json!({"role": "agent"}), json!([{"key": "k", "effect": "NoSchedule"}])),
        node("no-execute", json!({"role": "agent"}), json!([{"key": "k", "effect": "NoExecute"}])),
    ];
    // A pod already on the NoSchedule node stays; the one on the NoExecute node and the unlabelled node go.
    let pods = [
        running("p-plain", "plain", "2026-01-01T00:00:00Z"),
        running("p-ns", "no-schedule", "2026-01-01T00:00:00Z"),
        running("p-ne", "no-execute", "2026-01-01T00:00:00Z"),
    ];
    let m = run(&d, &n, &pods, &mut FailedPodsBackoff::default());
    assert_eq!(m.create_on, ["labelled"]);
    assert_eq!(m.delete, ["p-plain", "p-ne"]);
}

#[test]
fn duplicates_keep_the_oldest_scheduled_pod() {
    let d = ds(rolling(), json!({}));
    let pods = [
        running("young", "n0", "2026-01-01T00:05:00Z"),
        running("old", "n0", "2026-01-01T00:00:00Z"),
        pod("unbound", "n0", "h1", "Pending", false, "2025-12-31T00:00:00Z", false),
    ];
    let m = run(&d, &nodes(1), &pods, &mut FailedPodsBackoff::default());
    assert_eq!(m.delete, ["young", "unbound"]);
    assert!(m.create_on.is_empty());
}

#[test]
fn failed_pods_are_deleted_with_back_off_and_succeeded_ones_at_once() {
    let d = ds(rolling(), json!({}));
    let mut backoff = FailedPodsBackoff::default();
    let failed = [pod("f", "n0", "h1", "Failed", false, "2026-01-01T00:00:00Z", true)];
    let m = run(&d, &nodes(1), &failed, &mut backoff);
    assert_eq!(m.delete, ["f"]);
    assert_eq!(
        m.events,
        [Event {
            warning: true,
            reason: "FailedDaemonPod",
            message: "Found failed daemon pod ns/f on node n0, will try to kill it".into()
        }]
    );
    // The next failure on that node within the back-off waits for it.
    let m = run(&d, &nodes(1), &failed, &mut backoff);
    assert!(m.delete.is_empty());
    assert_eq!(m.requeue_after, Some(Duration::from_secs(1)));
    let succeeded = [pod("s", "n0", "h1", "Succeeded", false, "2026-01-01T00:00:00Z", true)];
    let m = run(&d, &nodes(1), &succeeded, &mut FailedPodsBackoff::default());
    assert_eq!(m.delete, ["s"]);
    assert_eq!(m.events[0].reason, "SucceededDaemonPod");
    assert_eq!(m.events[0].message, "Found succeeded daemon pod ns/s on node n0, will try to delete it");
}

#[test]
fn the_failed_pod_back_off_doubles_to_fifteen_minutes_and_expires() {
    let mut b = FailedPodsBackoff::default();
    let t0 = now();
    let at = |s: i64| t0.checked_add(SignedDuration::from_secs(s)).unwrap();
    b.next("k", t0);
    assert!(b.in_backoff("k", at(0)) && !b.in_backoff("k", at(1)));
    b.next("k", at(1));
    assert_eq!(b.get("k"), Duration::from_secs(2));
    for i in 0..20 {
        b.next("k", at(2 + i));
    }
    assert_eq!(b.get("k"), FAILED_PODS_BACKOFF_MAX);
    // Idle for more than 30 minutes: starts over.
    b.next("k", at(22 + 31 * 60));
    assert_eq!(b.get("k"), Duration::from_secs(1));
    b.gc(at(22 + 62 * 60));
    assert_eq!(b.get("k"), Duration::ZERO);
}

#[test]
fn unscheduled_pods_of_vanished_nodes_are_removed() {
    let d = ds(rolling(), json!({}));
    let pods =
        [pod("ghost", "gone", "h1", "Pending", false, "2026-01-01T00:00:00Z", false), running("bound", "gone2", "2026-01-01T00:00:00Z")];
    let m = run(&d, &[], &pods, &mut FailedPodsBackoff::default());
    assert_eq!(m.delete, ["ghost"], "pods bound to a vanished node are left to the pod garbage collector");
}

#[test]
fn with_surge_the_old_pod_goes_once_the_new_one_is_available() {
    let d = ds(json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1}}), json!({}));
    let old = pod("old", "n0", "h0", "Running", true, "2026-01-01T00:00:00Z", true);
    let new_unready = pod("new", "n0", "h1", "Running", false, "2026-01-01T00:05:00Z", true);
    let new_ready = pod("new", "n0", "h1", "Running", true, "2026-01-01T00:05:00Z", true);
    let extra = pod("extra", "n0", "h1", "Running", true, "2026-01-01T00:06:00Z", true);
    assert!(run(&d, &nodes(1), &[old.clone(), new_unready], &mut FailedPodsBackoff::default()).delete.is_empty());
    assert_eq!(run(&d, &nodes(1), &[old.clone(), new_ready.clone()], &mut FailedPodsBackoff::default()).delete, ["old"]);
    assert_eq!(run(&d, &nodes(1), &[old, new_ready, extra], &mut FailedPodsBackoff::default()).delete, ["extra", "old"]);
    // A surging node whose only pod is being deleted gets a new one.
    let mut leaving = pod("leaving", "n0", "h0", "Running", true, "2026-01-01T00:00:00Z", true);
    leaving.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(now()));
    assert_eq!(run(&d, &nodes(1), &[leaving.clone()], &mut FailedPodsBackoff::default()).create_on, ["n0"]);
    // Without surge it waits for the pod to go.
    let no_surge = ds(rolling(), json!({}));
    assert!(run(&no_surge, &nodes(1), &[leaving], &mut FailedPodsBackoff::default()).create_on.is_empty());
}

#[test]
fn status_counts_as_upstream() {
    let mut d = ds(rolling(), json!({"nodeSelector": {"role": "agent"}}));
    d.spec.as_mut().unwrap().min_ready_seconds = Some(300);
    let n = [
        node("a", json!({"role": "agent"}), json!([])),
        node("b", json!({"role": "agent"}), json!([])),
        node("c", json!({"role": "agent"}), json!([])),
        node("x", json!({}), json!([])),
    ];
    let pods = [
        // Ready for 10 minutes: available; current revision.
        pod("pa", "a", "h1", "Running", true, "2026-01-01T00:00:00Z", true),
        // Ready but an old revision.
        pod("pb", "b", "h0", "Running", true, "2026-01-01T00:00:00Z", true),
        pod("px", "x", "h1", "Running", true, "2026-01-01T00:00:00Z", true),
    ];
    let refs: Vec<&Pod> = pods.iter().collect();
    let nodes: Vec<&Node> = n.iter().collect();
    let c = counts(&d, &nodes, &pods_by_node(&refs, false), "h1", now());
    assert_eq!(
        c,
        Counts {
            desired_number_scheduled: 3,
            current_number_scheduled: 2,
            number_misscheduled: 1,
            number_ready: 2,
            updated_number_scheduled: 1,
            number_available: 2,
            number_unavailable: 1
        }
    );
    let s = status_update(&d, c, true).expect("a write");
    assert_eq!((s.observed_generation, s.number_unavailable), (Some(2), Some(1)));
    assert_eq!(status_update(&d, c, false).and_then(|s| s.observed_generation), Some(1), "pending expectations: generation not raised");
    let mut written = d.clone();
    written.status = Some(s);
    assert_eq!(status_update(&written, c, true), None, "nothing changed: no write");
    // With minReadySeconds, ready pods not yet available bring a sync later.
    let young = [pod("pa", "a", "h1", "Running", true, "2026-01-01T00:09:00Z", true)];
    let mut young_ready = young[0].clone();
    young_ready.status.as_mut().unwrap().conditions.as_mut().unwrap()[0].last_transition_time =
        Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time("2026-01-01T00:09:00Z".parse().unwrap()));
    let refs = vec![&young_ready];
    let c = counts(&d, &nodes, &pods_by_node(&refs, false), "h1", now());
    assert_eq!((c.number_ready, c.number_available), (1, 0));
    assert_eq!(status_requeue(&d, c), Some(Duration::from_secs(300)));
}

#[test]
fn target_nodes_and_the_selecting_all_event() {
    let unbound = pod("u", "n7", "h1", "Pending", false, "2026-01-01T00:00:00Z", false);
    assert_eq!(target_node(&unbound), Some("n7"));
    let mut d = ds(rolling(), json!({}));
    assert!(selecting_all(&d).is_none());
    d.spec.as_mut().unwrap().selector = Default::default();
    assert_eq!(selecting_all(&d).unwrap().message, "This daemon set is selecting all pods. A non-empty selector is required.");
}
