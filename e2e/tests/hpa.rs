//! The HorizontalPodAutoscaler controller with the Deployment and ReplicaSet
//! controllers and the scheduler, on simulated nodes whose pods report the
//! CPU usage their `sim.rudder.dev/cpu` annotation asks for (the sandbox's
//! metrics.k8s.io). The controller syncs every second here (upstream's
//! period is 15 s). Each scenario of issue 17 is a test, and so is the
//! ambiguous-selector check and a missing target.

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::autoscaling::v2::{HorizontalPodAutoscaler, HorizontalPodAutoscalerCondition};
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
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

/// A world, a namespace, and its Deployments and HPAs.
async fn setup() -> (World, String, Api<Deployment>, Api<HorizontalPodAutoscaler>) {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let deployments = Api::namespaced(world.client.clone(), &ns);
    let hpas = Api::namespaced(world.client.clone(), &ns);
    (world, ns, deployments, hpas)
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

/// The SuccessfulRescale notes of the namespace, oldest first.
async fn rescales(world: &World, ns: &str) -> Vec<String> {
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(world.client.clone(), ns);
    let mut notes: Vec<(Option<String>, String)> = events
        .list(&ListParams::default())
        .await
        .map(|l| l.items)
        .unwrap_or_default()
        .into_iter()
        .filter(|e| e.reason.as_deref() == Some("SuccessfulRescale"))
        .map(|e| {
            (e.event_time.map(|t| t.0.to_string()).or(e.metadata.creation_timestamp.map(|t| t.0.to_string())), e.note.unwrap_or_default())
        })
        .collect();
    notes.sort();
    notes.into_iter().map(|(_, n)| n).collect()
}

/// Waits until the SuccessfulRescale notes of the namespace are `want`
/// (events are written after the rescale they tell of).
async fn rescaled(world: &World, ns: &str, want: &[&str]) {
    eventually(30, &format!("the rescale events {want:?}"), || async { (rescales(world, ns).await == want).then_some(()) }).await;
}

/// Waits until the Deployment has `n` available replicas.
async fn available(deployments: &Api<Deployment>, name: &str, n: i32) {
    eventually(90, &format!("{name} at {n} available"), || async {
        let d = deployments.get(name).await.ok()?;
        (d.spec?.replicas == Some(n) && d.status?.available_replicas == Some(n)).then_some(())
    })
    .await;
}

fn condition(h: &HorizontalPodAutoscaler, type_: &str) -> Option<HorizontalPodAutoscalerCondition> {
    h.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == type_).cloned()
}

#[tokio::test]
async fn a_deployment_at_90_percent_cpu_with_target_50_scales_up_to_the_computed_count_and_stops_at_max() {
    let (world, ns, deployments, hpas) = setup().await;
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
    assert_eq!(st.observed_generation, h.metadata.generation, "the status is about the current spec");
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
    // Upstream's controller metrics.
    if !world.external() {
        let metrics = world.metrics("rudder-hpa-controller").await.expect("metrics");
        for line in [
            r#"horizontal_pod_autoscaler_controller_reconciliations_total{action="scale_up",error="none"} "#,
            "horizontal_pod_autoscaler_controller_num_horizontal_pod_autoscalers 1",
            &format!(r#"horizontal_pod_autoscaler_controller_desired_replicas{{namespace="{ns}",hpa_name="web"}} 10"#),
            "horizontal_pod_autoscaler_controller_reconciliation_duration_seconds_bucket",
            r#"horizontal_pod_autoscaler_controller_metric_computation_total{action="scale_up",error="none",metric_type="Resource"} "#,
            "horizontal_pod_autoscaler_controller_metric_computation_duration_seconds_bucket",
        ] {
            assert!(metrics.contains(line), "{line} missing:\n{metrics}");
        }
    }
}

#[tokio::test]
async fn a_target_without_metrics_is_not_scaling_active() {
    let (_world, _ns, deployments, hpas) = setup().await;
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

#[tokio::test]
async fn a_pods_policy_limits_the_scale_up_step() {
    let (world, ns, deployments, hpas) = setup().await;
    deployments.create(&PostParams::default(), &deployment("web", 2, json!({"sim.rudder.dev/cpu": "450m"}), "nginx")).await.unwrap();
    available(&deployments, "web", 2).await;
    // At most one more pod a minute.
    let mut h = hpa("web", 1, 10, 50);
    h.spec.behavior =
        Some(serde_json::from_value(json!({"scaleUp": {"policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}]}})).unwrap());
    hpas.create(&PostParams::default(), &h).await.unwrap();
    let h = eventually(60, "the limited step", || async {
        let h = hpas.get("web").await.ok()?;
        let limited = condition(&h, "ScalingLimited")?;
        (limited.status == "True" && limited.reason.as_deref() == Some("ScaleUpLimit")).then_some(h)
    })
    .await;
    assert_eq!(
        condition(&h, "ScalingLimited").unwrap().message.as_deref(),
        Some("the desired replica count is increasing faster than the maximum scale rate")
    );
    let notes = eventually(30, "the rescale event", || async { Some(rescales(&world, &ns).await).filter(|n| !n.is_empty()) }).await;
    assert_eq!(notes[0], "New size: 3; reason: cpu resource utilization (percentage of request) above target", "one pod, not two");
    assert_eq!(deployments.get("web").await.unwrap().spec.unwrap().replicas, Some(3));
}

#[tokio::test]
async fn a_usage_drop_scales_down_only_after_the_stabilization_window() {
    let (world, ns, deployments, hpas) = setup().await;
    let pods: Api<Pod> = Api::namespaced(world.client.clone(), &ns);
    deployments.create(&PostParams::default(), &deployment("web", 4, json!({"sim.rudder.dev/cpu": "250m"}), "nginx")).await.unwrap();
    available(&deployments, "web", 4).await;
    // 50% of 50%: nothing to do. A 10 s scale-down window.
    let mut h = hpa("web", 1, 10, 50);
    h.spec.behavior = Some(serde_json::from_value(json!({"scaleDown": {"stabilizationWindowSeconds": 10}})).unwrap());
    hpas.create(&PostParams::default(), &h).await.unwrap();
    eventually(60, "the HPA at rest", || async {
        let h = hpas.get("web").await.ok()?;
        (h.status.as_ref()?.desired_replicas == 4 && condition(&h, "AbleToScale")?.reason.as_deref() == Some("ReadyForNewScale"))
            .then_some(())
    })
    .await;
    // The usage drops to 50m (10%): 1 pod would do, but the window holds the count first.
    for p in pods.list(&ListParams::default().labels("app=web")).await.unwrap().items {
        let patch = json!({"metadata": {"annotations": {"sim.rudder.dev/cpu": "50m"}}});
        pods.patch(&p.metadata.name.unwrap(), &PatchParams::default(), &Patch::Merge(patch)).await.unwrap();
    }
    let held = eventually(30, "ScaleDownStabilized", || async {
        let h = hpas.get("web").await.ok()?;
        let c = condition(&h, "AbleToScale")?;
        (c.reason.as_deref() == Some("ScaleDownStabilized")).then_some(h)
    })
    .await;
    assert_eq!(held.status.unwrap().desired_replicas, 4, "held at the highest recent recommendation");
    assert_eq!(deployments.get("web").await.unwrap().spec.unwrap().replicas, Some(4));
    eventually(60, "the scale-down once the window passed", || async {
        let d = deployments.get("web").await.ok()?;
        (d.spec?.replicas == Some(1)).then_some(())
    })
    .await;
    // The event is written after the rescale: wait for it too.
    eventually(30, "the scale-down event", || async {
        let notes = rescales(&world, &ns).await;
        (notes.last().map(String::as_str) == Some("New size: 1; reason: All metrics below target")).then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_external_metric_drives_scaling() {
    let (world, ns, deployments, hpas) = setup().await;
    let configmaps: Api<ConfigMap> = Api::namespaced(world.client.clone(), &ns);
    deployments.create(&PostParams::default(), &deployment("worker", 1, json!({}), "worker")).await.unwrap();
    available(&deployments, "worker", 1).await;
    // The queue holds 30 messages; each worker handles 10.
    let cm: ConfigMap =
        serde_json::from_value(json!({"metadata": {"name": "rudder-sandbox-external-metrics"}, "data": {"queue-depth": "30"}})).unwrap();
    configmaps.create(&PostParams::default(), &cm).await.unwrap();
    let h: HorizontalPodAutoscaler = serde_json::from_value(json!({
        "metadata": {"name": "worker"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "worker"}, "minReplicas": 1, "maxReplicas": 10,
                 "metrics": [{"type": "External", "external": {"metric": {"name": "queue-depth"}, "target": {"type": "AverageValue", "averageValue": "10"}}}]}
    }))
    .unwrap();
    hpas.create(&PostParams::default(), &h).await.unwrap();
    available(&deployments, "worker", 3).await;
    // Three workers now: 10 each, on target.
    eventually(30, "the status at 10 per pod", || async {
        let h = hpas.get("worker").await.ok()?;
        let current = h.status?.current_metrics?.first()?.external.clone()?.current;
        (current.average_value.map(|q| q.0).as_deref() == Some("10")).then_some(())
    })
    .await;
    let notes = eventually(30, "the rescale event", || async { Some(rescales(&world, &ns).await).filter(|n| !n.is_empty()) }).await;
    assert_eq!(notes[0], "New size: 3; reason: external metric queue-depth(nil) above target");
}

#[tokio::test]
async fn a_replicaset_is_scaled_through_its_scale_subresource() {
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let rss: Api<ReplicaSet> = Api::namespaced(world.client.clone(), &ns);
    let hpas: Api<HorizontalPodAutoscaler> = Api::namespaced(world.client.clone(), &ns);
    let rs: ReplicaSet = serde_json::from_value(json!({
        "metadata": {"name": "batch"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "batch"}},
                 "template": {"metadata": {"labels": {"app": "batch"}, "annotations": {"sim.rudder.dev/cpu": "500m"}},
                              "spec": {"containers": [{"name": "app", "image": "app", "resources": {"requests": {"cpu": "500m"}}}]}}}
    }))
    .unwrap();
    rss.create(&PostParams::default(), &rs).await.unwrap();
    let mut h = hpa("batch", 1, 2, 50);
    h.spec.scale_target_ref = serde_json::from_value(json!({"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "batch"})).unwrap();
    hpas.create(&PostParams::default(), &h).await.unwrap();
    // 100% of 50%: two replicas (maxReplicas).
    eventually(90, "the ReplicaSet at 2", || async {
        let r = rss.get("batch").await.ok()?;
        (r.spec?.replicas == Some(2) && r.status?.ready_replicas == Some(2)).then_some(())
    })
    .await;
    let h = hpas.get("batch").await.unwrap();
    assert_eq!(h.status.as_ref().unwrap().current_replicas, Some(2));
    assert_eq!(condition(&h, "AbleToScale").unwrap().status, "True");
}

#[tokio::test]
async fn two_hpas_on_the_same_pods_are_ambiguous_and_neither_scales() {
    let (world, ns, deployments, hpas) = setup().await;
    // 90% of the request: alone, either HPA would scale up.
    deployments.create(&PostParams::default(), &deployment("web", 2, json!({"sim.rudder.dev/cpu": "450m"}), "nginx")).await.unwrap();
    available(&deployments, "web", 2).await;
    let mut second = hpa("web", 1, 10, 50);
    second.metadata.name = Some("web-too".into());
    hpas.create(&PostParams::default(), &second).await.unwrap();
    hpas.create(&PostParams::default(), &hpa("web", 1, 10, 50)).await.unwrap();
    let expected = format!("pods by selector app=web are controlled by multiple HPAs: [{ns}/web {ns}/web-too]");
    for name in ["web", "web-too"] {
        let c = eventually(60, &format!("{name} AmbiguousSelector"), || async {
            let h = hpas.get(name).await.ok()?;
            condition(&h, "ScalingActive").filter(|c| c.reason.as_deref() == Some("AmbiguousSelector"))
        })
        .await;
        assert_eq!((c.status.as_str(), c.message.as_deref()), ("False", Some(expected.as_str())));
    }
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(world.client.clone(), &ns);
    eventually(30, "the AmbiguousSelector warning", || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items
            .into_iter()
            .find(|e| e.reason.as_deref() == Some("AmbiguousSelector") && e.type_.as_deref() == Some("Warning"))
            .filter(|e| e.note.as_deref() == Some(expected.as_str()))
    })
    .await;
    assert_eq!(deployments.get("web").await.unwrap().spec.unwrap().replicas, Some(2), "no rescale while ambiguous");
    assert!(rescales(&world, &ns).await.is_empty());
    // With the second one gone, the first scales: ceil(90/50 × 2) = 4.
    hpas.delete("web-too", &Default::default()).await.unwrap();
    eventually(60, "web rescaled to 4", || async { (deployments.get("web").await.ok()?.spec?.replicas == Some(4)).then_some(()) }).await;
    let c = condition(&hpas.get("web").await.unwrap(), "ScalingActive").unwrap();
    assert_eq!(c.status, "True", "{c:?}");
}

/// An HPA of `name` (1 to `max` replicas) on one metric.
fn hpa_on(name: &str, max: i32, metric: Value) -> HorizontalPodAutoscaler {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                 "minReplicas": 1, "maxReplicas": max, "metrics": [metric]}
    }))
    .expect("an HPA")
}

#[tokio::test]
async fn a_pods_metric_of_the_custom_metrics_api_drives_scaling() {
    let (world, ns, deployments, hpas) = setup().await;
    // Every pod reports 3 packets per second; the target is 2 on average.
    let annotations = json!({"sim.rudder.dev/metric.packets-per-second": "3"});
    deployments.create(&PostParams::default(), &deployment("web", 2, annotations, "nginx")).await.unwrap();
    available(&deployments, "web", 2).await;
    let metric = json!({"type": "Pods", "pods": {"metric": {"name": "packets-per-second"}, "target": {"type": "AverageValue", "averageValue": "2"}}});
    hpas.create(&PostParams::default(), &hpa_on("web", 3, metric)).await.unwrap();
    // ceil(2 × 3 / 2) = 3, the maximum.
    available(&deployments, "web", 3).await;
    let h = eventually(60, "the pods metric in the status", || async {
        let h = hpas.get("web").await.ok()?;
        let current = h.status.as_ref()?.current_metrics.as_ref()?.first()?.pods.as_ref()?.current.average_value.clone()?;
        (current.0 == "3").then_some(h)
    })
    .await;
    rescaled(&world, &ns, &["New size: 3; reason: pods metric packets-per-second above target"]).await;
    let c = condition(&h, "ScalingActive").unwrap();
    assert_eq!((c.status.as_str(), c.reason.as_deref()), ("True", Some("ValidMetricFound")), "{c:?}");
}

#[tokio::test]
async fn an_object_metric_of_the_custom_metrics_api_drives_scaling() {
    let (world, ns, deployments, hpas) = setup().await;
    let services: Api<k8s_openapi::api::core::v1::Service> = Api::namespaced(world.client.clone(), &ns);
    let service = json!({"metadata": {"name": "front", "annotations": {"sim.rudder.dev/metric.requests-per-second": "10"}},
                         "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}});
    services.create(&PostParams::default(), &serde_json::from_value(service).unwrap()).await.unwrap();
    deployments.create(&PostParams::default(), &deployment("web", 2, json!({}), "nginx")).await.unwrap();
    available(&deployments, "web", 2).await;
    let metric = json!({"type": "Object", "object": {"describedObject": {"apiVersion": "v1", "kind": "Service", "name": "front"},
                        "metric": {"name": "requests-per-second"}, "target": {"type": "Value", "value": "5"}}});
    hpas.create(&PostParams::default(), &hpa_on("web", 4, metric)).await.unwrap();
    // 10 of 5: twice the target, ceil(2 × 2 ready pods) = 4, the maximum.
    available(&deployments, "web", 4).await;
    eventually(60, "the object metric in the status", || async {
        let h = hpas.get("web").await.ok()?;
        let current = h.status.as_ref()?.current_metrics.as_ref()?.first()?.object.as_ref()?.current.value.clone()?;
        (current.0 == "10").then_some(())
    })
    .await;
    rescaled(&world, &ns, &["New size: 4; reason: Service metric requests-per-second above target"]).await;
}

#[tokio::test]
async fn a_container_resource_metric_counts_only_its_container() {
    let (world, ns, deployments, hpas) = setup().await;
    // app: 450m of 500m (90%); the idle sidecar brings the whole pod to 30%.
    let d = json!({
        "metadata": {"name": "web"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"metadata": {"labels": {"app": "web"},
                                           "annotations": {"sim.rudder.dev/cpu.app": "450m", "sim.rudder.dev/cpu.sidecar": "0"}},
                              "spec": {"terminationGracePeriodSeconds": 0, "containers": [
                                  {"name": "app", "image": "nginx", "resources": {"requests": {"cpu": "500m"}}},
                                  {"name": "sidecar", "image": "proxy", "resources": {"requests": {"cpu": "1"}}}]}}}
    });
    deployments.create(&PostParams::default(), &serde_json::from_value(d).unwrap()).await.unwrap();
    available(&deployments, "web", 2).await;
    let metric = json!({"type": "ContainerResource", "containerResource": {"name": "cpu", "container": "app",
                        "target": {"type": "Utilization", "averageUtilization": 50}}});
    hpas.create(&PostParams::default(), &hpa_on("web", 4, metric)).await.unwrap();
    // ceil(90 / 50 × 2) = 4; the whole pod (30%) would have scaled down.
    available(&deployments, "web", 4).await;
    eventually(60, "the container metric in the status", || async {
        let h = hpas.get("web").await.ok()?;
        let m = h.status.as_ref()?.current_metrics.as_ref()?.first()?.container_resource.clone()?;
        (m.container == "app" && m.current.average_utilization == Some(90)).then_some(())
    })
    .await;
    rescaled(&world, &ns, &["New size: 4; reason: cpu container resource utilization (percentage of request) above target"]).await;
}

#[tokio::test]
async fn an_autoscaling_v1_hpa_scales_and_shows_its_cpu_through_v1() {
    use k8s_openapi::api::autoscaling::v1;
    let world = world().await;
    let ns = world.namespace().await.unwrap();
    let deployments: Api<Deployment> = Api::namespaced(world.client.clone(), &ns);
    let old: Api<v1::HorizontalPodAutoscaler> = Api::namespaced(world.client.clone(), &ns);
    deployments.create(&PostParams::default(), &deployment("web", 2, json!({"sim.rudder.dev/cpu": "450m"}), "nginx")).await.unwrap();
    available(&deployments, "web", 2).await;
    let h: v1::HorizontalPodAutoscaler = serde_json::from_value(json!({
        "metadata": {"name": "web"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                 "minReplicas": 1, "maxReplicas": 4, "targetCPUUtilizationPercentage": 50}
    }))
    .unwrap();
    old.create(&PostParams::default(), &h).await.unwrap();
    // 90% of the request against 50%: ceil(1.8 × 2) = 4, the maximum.
    available(&deployments, "web", 4).await;
    let seen = eventually(60, "the CPU utilization through v1", || async {
        let h = old.get("web").await.ok()?;
        let st = h.status.clone()?;
        (st.current_cpu_utilization_percentage == Some(90) && st.desired_replicas == 4).then_some(h)
    })
    .await;
    let conditions = seen.metadata.annotations.unwrap_or_default().remove("autoscaling.alpha.kubernetes.io/conditions").unwrap_or_default();
    assert!(conditions.contains("\"ScalingLimited\""), "the conditions travel in the annotation: {conditions}");
}

#[tokio::test]
async fn a_missing_target_is_failed_get_scale() {
    let (world, ns, _deployments, hpas) = setup().await;
    hpas.create(&PostParams::default(), &hpa("nowhere", 1, 5, 50)).await.unwrap();
    let c = eventually(60, "AbleToScale False", || async {
        condition(&hpas.get("nowhere").await.ok()?, "AbleToScale").filter(|c| c.status == "False")
    })
    .await;
    let cause = format!(r#"failed to query scale subresource for Deployment/{ns}/nowhere: deployments.apps "nowhere" not found"#);
    assert_eq!(c.reason.as_deref(), Some("FailedGetScale"));
    assert_eq!(c.message, Some(format!("the HPA controller was unable to get the target's current scale: {cause}")));
    let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(world.client.clone(), &ns);
    eventually(30, "the FailedGetScale warning", || async {
        let list = events.list(&ListParams::default()).await.ok()?;
        list.items.into_iter().find(|e| e.reason.as_deref() == Some("FailedGetScale") && e.note.as_deref() == Some(cause.as_str()))
    })
    .await;
}
