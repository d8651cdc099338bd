//! Conformance: autoscaling/v1 HorizontalPodAutoscalers are a view of the
//! autoscaling/v2 objects, converted as kube-apiserver converts them: the
//! CPU target and value in v1's fields, the rest in the round-trip
//! annotations, which never reach v2; a v2 object read and written back
//! through v1 loses nothing; v2 is the preferred version.

mod util;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::autoscaling::{v1, v2};
use kube::Api;
use kube::api::{PostParams, WatchEvent, WatchParams};
use serde_json::{Value, json};
use util::{raw, start};

const METRICS: &str = "autoscaling.alpha.kubernetes.io/metrics";

fn v2_hpa() -> v2::HorizontalPodAutoscaler {
    serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
            "minReplicas": 2, "maxReplicas": 10,
            "metrics": [
                {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "2"}}},
                {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}
            ],
            "behavior": {"scaleDown": {"stabilizationWindowSeconds": 60, "policies": [{"type": "Pods", "value": 1, "periodSeconds": 30}]}}
        }
    }))
    .unwrap()
}

#[tokio::test]
async fn a_v1_hpa_is_stored_as_v2_with_its_cpu_target() {
    let (_s, c) = start().await;
    let old: Api<v1::HorizontalPodAutoscaler> = Api::default_namespaced(c.clone());
    let new: Api<v2::HorizontalPodAutoscaler> = Api::default_namespaced(c.clone());
    let h: v1::HorizontalPodAutoscaler = serde_json::from_value(json!({
        "metadata": {"name": "a"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "a"}, "maxReplicas": 5, "targetCPUUtilizationPercentage": 60}
    }))
    .unwrap();
    let made = old.create(&PostParams::default(), &h).await.unwrap();
    assert_eq!(made.spec.min_replicas, Some(1), "v1 defaulting");
    assert_eq!(made.spec.target_cpu_utilization_percentage, Some(60));
    let got = new.get("a").await.unwrap();
    assert_eq!(got.metadata.resource_version, made.metadata.resource_version, "one object");
    let m = &got.spec.metrics.unwrap()[0];
    let r = m.resource.as_ref().unwrap();
    assert_eq!(
        (m.type_.as_str(), r.name.as_str(), r.target.type_.as_str(), r.target.average_utilization),
        ("Resource", "cpu", "Utilization", Some(60))
    );
    assert!(got.metadata.annotations.unwrap_or_default().is_empty());

    // No target at all: the old implicit 80%.
    let mut bare = h.clone();
    bare.metadata.name = Some("b".into());
    bare.spec.target_cpu_utilization_percentage = None;
    old.create(&PostParams::default(), &bare).await.unwrap();
    let b = new.get("b").await.unwrap();
    assert_eq!(b.spec.metrics.unwrap()[0].resource.as_ref().unwrap().target.average_utilization, Some(80));
    assert_eq!(old.get("b").await.unwrap().spec.target_cpu_utilization_percentage, Some(80));
}

#[tokio::test]
async fn a_v2_hpa_read_and_written_back_through_v1_loses_nothing() {
    let (_s, c) = start().await;
    let old: Api<v1::HorizontalPodAutoscaler> = Api::default_namespaced(c.clone());
    let new: Api<v2::HorizontalPodAutoscaler> = Api::default_namespaced(c.clone());
    let made = new.create(&PostParams::default(), &v2_hpa()).await.unwrap();

    let mut through_v1 = old.get("web").await.unwrap();
    assert_eq!(through_v1.spec.target_cpu_utilization_percentage, Some(50));
    let annotations = through_v1.metadata.annotations.clone().unwrap();
    let others: Value = serde_json::from_str(&annotations[METRICS]).unwrap();
    assert_eq!(others, json!([{"type": "Pods", "pods": {"metricName": "qps", "targetAverageValue": "2"}}]));
    assert!(annotations.contains_key("autoscaling.alpha.kubernetes.io/behavior"));

    // An old client changes maxReplicas and puts the object back.
    through_v1.spec.max_replicas = 12;
    old.replace("web", &PostParams::default(), &through_v1).await.unwrap();
    let after = new.get("web").await.unwrap();
    assert_eq!(after.spec.max_replicas, 12);
    let mut want = made.spec.clone();
    want.max_replicas = 12;
    assert_eq!(after.spec, want, "metrics (the CPU one last) and behavior survive");
    assert!(after.metadata.annotations.unwrap_or_default().is_empty(), "no round-trip annotation reaches v2");
}

#[tokio::test]
async fn status_written_through_v2_reads_through_v1() {
    let (_s, c) = start().await;
    let old: Api<v1::HorizontalPodAutoscaler> = Api::default_namespaced(c.clone());
    let new: Api<v2::HorizontalPodAutoscaler> = Api::default_namespaced(c.clone());
    let mut h = new.create(&PostParams::default(), &v2_hpa()).await.unwrap();
    h.status = Some(
        serde_json::from_value(json!({
            "currentReplicas": 2, "desiredReplicas": 4,
            "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 90, "averageValue": "450m"}}}],
            "conditions": [{"type": "AbleToScale", "status": "True", "reason": "SucceededRescale", "message": "ok", "lastTransitionTime": "2026-12-07T00:00:00Z"}]
        }))
        .unwrap(),
    );
    new.replace_status("web", &PostParams::default(), &h).await.unwrap();
    let v = old.get("web").await.unwrap();
    let st = v.status.unwrap();
    assert_eq!((st.current_replicas, st.desired_replicas, st.current_cpu_utilization_percentage), (2, 4, Some(90)));
    let a = v.metadata.annotations.unwrap();
    assert!(a["autoscaling.alpha.kubernetes.io/conditions"].contains("SucceededRescale"), "{a:?}");
    assert!(a["autoscaling.alpha.kubernetes.io/current-metrics"].contains("450m"), "{a:?}");

    // A watch through v1 sees the converted object.
    let mut w = old.watch(&WatchParams::default(), "0").await.unwrap().boxed();
    match w.try_next().await.unwrap() {
        Some(WatchEvent::Added(h)) => assert_eq!(h.spec.target_cpu_utilization_percentage, Some(50)),
        other => panic!("expected ADDED, got {other:?}"),
    }
}

#[tokio::test]
async fn discovery_lists_v2_first_and_preferred() {
    let (_s, c) = start().await;
    let (code, body) = raw(&c, "GET", "/apis/autoscaling", "", "").await;
    assert_eq!(code, 200);
    assert_eq!(body["preferredVersion"]["version"], "v2");
    let versions: Vec<&str> = body["versions"].as_array().unwrap().iter().filter_map(|v| v["version"].as_str()).collect();
    assert_eq!(versions, vec!["v2", "v1"]);
    let (code, body) = raw(&c, "GET", "/apis/autoscaling/v1", "", "").await;
    assert_eq!(code, 200);
    let names: Vec<&str> = body["resources"].as_array().unwrap().iter().filter_map(|r| r["name"].as_str()).collect();
    assert!(names.contains(&"horizontalpodautoscalers") && names.contains(&"horizontalpodautoscalers/status"), "{names:?}");
}

#[tokio::test]
async fn a_v1_hpa_whose_round_trip_annotation_does_not_decode_is_a_bad_request() {
    let (_s, c) = start().await;
    let body = json!({
        "apiVersion": "autoscaling/v1", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "bad", "annotations": {METRICS: "not json"}},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "a"}, "maxReplicas": 3}
    });
    let path = "/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers";
    let (code, status) = raw(&c, "POST", path, "application/json", &body.to_string()).await;
    assert_eq!((code, status["reason"].as_str()), (400, Some("BadRequest")), "{status}");
    assert!(status["message"].as_str().unwrap().contains(METRICS), "{status}");
    let (code, _) = raw(&c, "GET", &format!("{path}/bad"), "", "").await;
    assert_eq!(code, 404, "nothing stored");
}
