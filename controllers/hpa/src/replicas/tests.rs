//! The replica calculator on upstream's situations (the worked examples of
//! `UPSTREAM.md` §3.9, and the cases of replica_calculator_test.go they
//! come from, each in its own words).

use super::*;
use serde_json::{Value, json};

const NOW: &str = "2026-01-01T01:00:00Z";

fn now() -> Timestamp {
    NOW.parse().unwrap()
}

/// A running pod started an hour ago, ready for 50 minutes, requesting `cpu`.
fn pod(name: &str, cpu: &str, extra: Value) -> Pod {
    let mut p = json!({
        "metadata": {"name": name},
        "spec": {"containers": [{"name": "app", "image": "app", "resources": {"requests": {"cpu": cpu, "memory": "100Mi"}}}]},
        "status": {"phase": "Running", "startTime": "2026-01-01T00:00:00Z",
                   "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:10:00Z"}]}
    });
    if let (Some(b), Some(e)) = (p.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            if let (Some(bo), Some(eo)) = (b.get_mut(k).and_then(Value::as_object_mut), v.as_object()) {
                bo.extend(eo.clone());
            } else {
                b.insert(k.clone(), v.clone());
            }
        }
    }
    serde_json::from_value(p).unwrap()
}

fn metrics(values: &[(&str, i64)]) -> PodMetrics {
    values.iter().map(|(n, v)| (n.to_string(), PodMetric { timestamp: now(), window: Duration::from_secs(60), value: *v })).collect()
}

fn samples<'a>(pods: &'a [&'a Pod], m: PodMetrics) -> PodSamples<'a> {
    PodSamples { pods, metrics: m, readiness: Readiness::default(), now: now() }
}

#[test]
fn tolerance_bounds_are_inclusive() {
    let t = Tolerances::default();
    assert!(t.is_within(0.9) && t.is_within(1.1) && !t.is_within(1.11) && !t.is_within(0.89));
    let custom = Tolerances { scale_down: 0.1, scale_up: 0.05 };
    assert!(!custom.is_within(1.08));
}

#[test]
fn cpu_utilization_scales_up_by_the_ratio() {
    // Four ready pods requesting 500m using 400m, 450m, 500m, 550m; target 50%.
    let p: Vec<Pod> = (0..4).map(|i| pod(&format!("p{i}"), "500m", json!({}))).collect();
    let refs: Vec<&Pod> = p.iter().collect();
    let m = metrics(&[("p0", 400), ("p1", 450), ("p2", 500), ("p3", 550)]);
    let got = resource_replicas(4, 50, "cpu", "", Tolerances::default(), samples(&refs, m)).unwrap();
    assert_eq!(got, Proposal { replicas: 8, utilization: 95, average: 475 });
}

#[test]
fn a_missing_pod_counts_at_its_request_when_scaling_down() {
    // Three at 100m of 1000m, one without metrics; target 50%.
    let p: Vec<Pod> = (0..4).map(|i| pod(&format!("p{i}"), "1", json!({}))).collect();
    let refs: Vec<&Pod> = p.iter().collect();
    let m = metrics(&[("p0", 100), ("p1", 100), ("p2", 100)]);
    let got = resource_replicas(4, 50, "cpu", "", Tolerances::default(), samples(&refs, m)).unwrap();
    assert_eq!(got, Proposal { replicas: 3, utilization: 10, average: 100 }, "the status reports the pods with metrics");
}

#[test]
fn an_unready_pod_counts_at_zero_when_scaling_up() {
    // One pod still initializing and not ready; three ready at 900m of 1000m; target 50%.
    let young = json!({"status": {"startTime": "2026-01-01T00:58:00Z",
        "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": "2026-01-01T00:58:00Z"}]}});
    let p = [pod("p0", "1", json!({})), pod("p1", "1", json!({})), pod("p2", "1", json!({})), pod("p3", "1", young)];
    let refs: Vec<&Pod> = p.iter().collect();
    let m = metrics(&[("p0", 900), ("p1", 900), ("p2", 900), ("p3", 50)]);
    let got = resource_replicas(4, 50, "cpu", "", Tolerances::default(), samples(&refs, m)).unwrap();
    assert_eq!(got.replicas, 6);
    assert_eq!(got.utilization, 90);
}

#[test]
fn within_tolerance_nothing_changes_unless_the_per_hpa_tolerance_is_tighter() {
    let p: Vec<Pod> = (0..4).map(|i| pod(&format!("p{i}"), "1", json!({}))).collect();
    let refs: Vec<&Pod> = p.iter().collect();
    let m = || metrics(&[("p0", 540), ("p1", 540), ("p2", 540), ("p3", 540)]);
    assert_eq!(resource_replicas(4, 50, "cpu", "", Tolerances::default(), samples(&refs, m())).unwrap().replicas, 4);
    let tight = Tolerances { scale_down: 0.1, scale_up: 0.05 };
    assert_eq!(resource_replicas(4, 50, "cpu", "", tight, samples(&refs, m())).unwrap().replicas, 5);
}

#[test]
fn ignored_pending_and_failed_pods_and_errors() {
    let deleting = json!({"metadata": {"deletionTimestamp": "2026-01-01T00:59:00Z"}});
    let failed = json!({"status": {"phase": "Failed"}});
    let pending = json!({"status": {"phase": "Pending"}});
    let p = [pod("a", "1", deleting), pod("b", "1", failed), pod("c", "1", pending), pod("d", "1", json!({}))];
    let refs: Vec<&Pod> = p.iter().collect();
    let g = group_pods(&refs, &metrics(&[("a", 1), ("b", 1), ("c", 1), ("d", 1)]), "cpu", Readiness::default(), now());
    assert_eq!(g.ignored, BTreeSet::from(["a".to_string(), "b".to_string()]));
    assert_eq!(g.unready, BTreeSet::from(["c".to_string()]));
    assert_eq!(g.ready, 1);
    // Every error as upstream words it.
    let none: Vec<&Pod> = vec![];
    assert_eq!(
        resource_replicas(1, 50, "cpu", "", Tolerances::default(), samples(&none, metrics(&[]))).unwrap_err(),
        "no pods returned by selector while calculating replica count"
    );
    assert_eq!(
        resource_replicas(1, 50, "cpu", "", Tolerances::default(), samples(&refs[..3], metrics(&[]))).unwrap_err(),
        "did not receive metrics for targeted pods (pods might be unready)"
    );
    let no_request = [pod("x", "1", json!({"spec": {"containers": [{"name": "app", "image": "app"}]}}))];
    let refs: Vec<&Pod> = no_request.iter().collect();
    assert_eq!(
        resource_replicas(1, 50, "cpu", "", Tolerances::default(), samples(&refs, metrics(&[("x", 5)]))).unwrap_err(),
        "missing request for cpu in container app of Pod x"
    );
    assert_eq!(pod_requests(&refs, "sidecar", "cpu").unwrap_err(), "container sidecar not found in Pod x");
}

#[test]
fn a_pods_metric_scales_by_its_average() {
    // Values 10, 20, 30 against an average target of 10.
    let p: Vec<Pod> = (0..3).map(|i| pod(&format!("p{i}"), "1", json!({}))).collect();
    let refs: Vec<&Pod> = p.iter().collect();
    let m = metrics(&[("p0", 10_000), ("p1", 20_000), ("p2", 30_000)]);
    assert_eq!(
        plain_metric_replicas(3, 10_000, "", Tolerances::default(), samples(&refs, m)).unwrap(),
        Proposal { replicas: 6, utilization: 0, average: 20_000 }
    );
}

#[test]
fn object_and_external_targets() {
    // Object Value: usage 150 against 50 with two ready pods.
    let p: Vec<Pod> = (0..2).map(|i| pod(&format!("p{i}"), "1", json!({}))).collect();
    let refs: Vec<&Pod> = p.iter().collect();
    assert_eq!(usage_ratio_replicas(2, 150.0 / 50.0, Tolerances::default(), Some(&refs)), Ok(6));
    assert_eq!(usage_ratio_replicas(2, 1.05, Tolerances::default(), Some(&refs)), Ok(2));
    // From zero: the ratio alone.
    assert_eq!(usage_ratio_replicas(0, 2.2, Tolerances::default(), None), Ok(3));
    // External AverageValue: 95 against 10 per pod with 4 replicas.
    assert_eq!(per_pod_replicas(4, 95_000, 10_000, Tolerances::default()), (10, 23_750));
    assert_eq!(external_total(&[i64::MAX, 1]), i64::MAX);
    assert_eq!(external_total(&[40, 55]), 95);
}
