//! The HorizontalPodAutoscaler controller with the Deployment and ReplicaSet
//! controllers and the scheduler, on simulated nodes whose pods report the
//! CPU usage their `sim.rudder.dev/cpu` annotation asks for (the sandbox's
//! metrics.k8s.io). The controller syncs every second here (upstream's
//! period is 15 s). Each scenario of issue 17 covered so far is a test.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::{HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition};
use kube::Api;
use kube::api::{ListParams, PostParams};
use rudder_e2e::{World, eventually};
use serde_json::{Value, json};

async fn world() -> World {
    let fast: &[&str] = &["--horizontal-pod-autoscaler-sync-period=1s"];
    World::start_with_args(&[
        ("rudder-hpa-controller", fast),
        ("rudder-deployment-controller", &[]),
        ("rudder-replicaset-controller", &[]),
        ("rudder-scheduler", &[]),
    ])
    .await
    .expect("world")
}

/// A Deployment of `replicas` pods requesting 500m CPU, using what the annotations say.
fn deployment(name: &str, replicas: i32, annotations: Value, image: &str) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                 "template": {"metadata": {"labels": {"app": name}, "annotations": annotations},
                              "spec": {"terminationGracePeriodSeconds": 0,
                                       "containers": [{"name": "app", "image": image, "resources": {"requests": {"cpu": "500m"}}}]}}}
    }))
    .expect("a Deployment")
}

fn hpa(name: &str, min: i32, max: i32, target: i32) -> HorizontalPodAutoscaler {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                 "minReplicas": min, "maxReplicas": max,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}}]}
    }))
    .expect("an HPA")
}

fn condition(h: &HorizontalPodAutoscaler, type_: &str) -> Option<HorizontalPodAutoscalerCondition> {
    h.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == type_).cloned()
}

#[tokio::test]
async fn a_deployment_at_90_percent_cpu_with_target_50_scales_up_to_the_computed_count_and_stops_at_max() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let deployments: Api<Deployment> = Api::namespaced(world.client.clone(), &ns);
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(world.client.clone(), &ns);
    // 450m of 500m: 90%.
    deployments.create(&PostParams::default(), &deployment("web", 2, json!({"sim.rudder.dev/cpu": "450m"}), "nginx")).await.unwrap();
    eventually(60, "two pods running", || async {
        let d = deployments.get("web").await.ok()?;
        (d.status?.available_replicas == Some(2)).then_some(())
    })
    .await;
    hpas.create(&PostParams::default(), &hpa("web", 1, 10, 50)).await.unwrap();
    // ceil(90/50 × 2) = 4: the first rescale, with upstream's event.
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(world.client.clone(), &ns);
    let first = eventually(60, "the first SuccessfulRescale", || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        let mut notes: Vec<(String, String)> = list
            .items
            .into_iter()
            .filter(|e| e.reason.as_deref() == Some("SuccessfulRescale"))
            .map(|e| (e.metadata.creation_timestamp.map(|t| t.0.to_string()).unwrap_or_default(), e.note.unwrap_or_default()))
            .collect();
        notes.sort();
        notes.into_iter().next().map(|(_, n)| n)
    })
    .await;
    assert_eq!(first, "New size: 4; reason: cpu resource utilization (percentage of request) above target");
    // Every pod keeps using 90%: up to maxReplicas, and ScalingLimited says why it stops.
    let h = eventually(90, "10 replicas, limited by maxReplicas", || async {
        let h = hpas.get("web").await.ok()?;
        let limited = condition(&h, "ScalingLimited")?;
        (h.status.as_ref()?.current_replicas == Some(10)
            && limited.status == "True"
            && limited.reason.as_deref() == Some("TooManyReplicas"))
        .then_some(h)
    })
    .await;
    let st = h.status.clone().unwrap();
    assert_eq!(st.desired_replicas, 10);
    let current = &st.current_metrics.as_ref().unwrap()[0].resource.as_ref().unwrap().current;
    assert_eq!(current.average_utilization, Some(90));
    let active = condition(&h, "ScalingActive").unwrap();
    assert_eq!((active.status.as_str(), active.reason.as_deref()), ("True", Some("ValidMetricFound")));
    assert_eq!(
        condition(&h, "ScalingLimited").unwrap().message.as_deref(),
        Some("the desired replica count is more than the maximum replica count")
    );
    assert_eq!(deployments.get("web").await.unwrap().spec.unwrap().replicas, Some(10));
    // kubectl get hpa shows the target and the usage.
    let (ok, out) = world.kubectl(&["get", "hpa", "web", "-n", &ns]).await.unwrap();
    assert!(ok.success(), "{out}");
    assert!(out.contains("Deployment/web") && out.contains("cpu: 90%/50%"), "{out}");
}

#[tokio::test]
async fn a_target_without_metrics_is_not_scaling_active() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let deployments: Api<Deployment> = Api::namespaced(world.client.clone(), &ns);
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(world.client.clone(), &ns);
    // Its pods never start (the image cannot be pulled): no metrics.
    deployments.create(&PostParams::default(), &deployment("dark", 2, json!({}), "registry.invalid/app:1")).await.unwrap();
    hpas.create(&PostParams::default(), &hpa("dark", 1, 10, 50)).await.unwrap();
    let h = eventually(60, "ScalingActive False", || async {
        let h = hpas.get("dark").await.ok()?;
        condition(&h, "ScalingActive").filter(|c| c.status == "False").map(|c| (h, c))
    })
    .await;
    let (h, c) = h;
    assert_eq!(c.reason.as_deref(), Some("FailedGetResourceMetric"));
    assert!(
        c.message
            .as_deref()
            .unwrap_or_default()
            .starts_with("the HPA was unable to compute the replica count: failed to get cpu resource metric value: "),
        "{c:?}"
    );
    assert_eq!(h.status.unwrap().current_replicas, Some(2));
    assert_eq!(deployments.get("dark").await.unwrap().spec.unwrap().replicas, Some(2), "no rescale without metrics");
}
