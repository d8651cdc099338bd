//! `hpa-sync`: what one sync of H HorizontalPodAutoscalers costs. On the
//! sandbox with simulated nodes: H ReplicaSets of one pod each (objects
//! only: no ReplicaSet controller), their pods bound to the nodes and
//! reporting 50% of their CPU request through the sandbox's metrics API, so
//! that every HPA (target 50%) stays where it is; then
//! rudder-hpa-controller starts and is timed until every HPA has its first
//! status, and its CPU time is read over the next sync periods. The
//! ceiling: one status write per HPA. Sandbox only: on a real cluster the
//! pods' CPU would have to be real.

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::{Value, json};

use crate::cluster::{Cluster, Target, create_all};
use crate::record::Record;

pub struct Params {
    pub hpas: usize,
    pub nodes: usize,
    pub sync_period: u64,
    pub periods: u64,
}

const CONTROLLER: &str = "rudder-hpa-controller";

fn objects(i: usize, nodes: usize) -> (Value, Value, Value) {
    let name = format!("app-{i}");
    let template = json!({"metadata": {"labels": {"app": name}},
        "spec": {"containers": [{"name": "app", "image": "app:1", "resources": {"requests": {"cpu": "500m"}}}]}});
    let rs = json!({"metadata": {"name": name}, "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}}, "template": template}});
    let pod = json!({"metadata": {"name": format!("{name}-0"), "labels": {"app": name}, "annotations": {"sim.rudder.dev/cpu": "250m"}},
        "spec": {"nodeName": format!("sim-node-{}", i % nodes.max(1)), "containers": [{"name": "app", "image": "app:1", "resources": {"requests": {"cpu": "500m"}}}]}});
    let hpa = json!({"metadata": {"name": name},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name}, "minReplicas": 1, "maxReplicas": 10,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}});
    (rs, pod, hpa)
}

/// How many HPAs have a status with their metric.
async fn observed(api: Api<HorizontalPodAutoscaler>, n: usize) -> anyhow::Result<(u64, bool)> {
    let list = api.list(&ListParams::default()).await?;
    let synced =
        list.items.iter().filter(|h| h.status.as_ref().and_then(|s| s.current_metrics.as_ref()).is_some_and(|m| !m.is_empty())).count();
    Ok((synced as u64, synced == n))
}

pub async fn run(p: Params, target: &Target) -> anyhow::Result<Record> {
    anyhow::ensure!(target.is_sandbox(), "hpa-sync runs on the sandbox only: its pods' CPU comes from the simulated nodes");
    let size = [("hpas", p.hpas.to_string()), ("nodes", p.nodes.to_string()), ("syncPeriod", format!("{}s", p.sync_period))];
    let mut record = Record::new("hpa-sync", None, &size, &target.label());
    let mut cluster = Cluster::start(target, p.nodes).await?;
    let (mut rss, mut pods, mut hpas) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..p.hpas {
        let (a, b, h) = objects(i, p.nodes);
        rss.push(a);
        pods.push(b);
        hpas.push(h);
    }
    create_all(&cluster.api::<ReplicaSet>(), rss).await?;
    let pod_api: Api<Pod> = cluster.api();
    create_all(&pod_api, pods).await?;
    let n = p.hpas;
    let running = cluster
        .converge("pods Running", n as u64, Instant::now(), None, |_| {
            let api = pod_api.clone();
            async move {
                let pods = api.list(&ListParams::default()).await?;
                let running = pods.items.iter().filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")).count();
                Ok((running as u64, running == n))
            }
        })
        .await?;
    anyhow::ensure!(running.is_some(), "the HPAs' pods never ran");
    let api: Api<HorizontalPodAutoscaler> = cluster.api();
    create_all(&api, hpas).await?;

    // The ceiling: a status write per HPA (what a first sync cannot do without).
    let started = Instant::now();
    stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            let status = json!({"status": {"currentReplicas": 1, "desiredReplicas": 1}});
            async move { api.patch_status(&format!("app-{i}"), &PatchParams::default(), &Patch::Merge(status)).await.map(|_| ()) }
        })
        .buffer_unordered(64)
        .try_collect::<Vec<_>>()
        .await?;
    let ceiling = started.elapsed().as_secs_f64();

    let started = Instant::now();
    cluster.start_component(CONTROLLER, &[format!("--horizontal-pod-autoscaler-sync-period={}s", p.sync_period)]).await?;
    cluster.mark().await;
    let first = cluster.converge("HPAs synced", n as u64, started, Some("HPAs synced"), |_| observed(api.clone(), n)).await?;
    record.phase("controller start → every HPA synced once", first);
    let cpu_before = cluster.cpu_seconds().await;
    tokio::time::sleep(Duration::from_secs(p.sync_period * p.periods)).await;
    cluster.check_running()?;
    let per_pass = (cluster.cpu_seconds().await - cpu_before) / p.periods.max(1) as f64;
    record.figure("controller CPU per sync of all HPAs", per_pass, "s", false);
    record.figure("CPU per HPA sync", per_pass * 1e6 / n.max(1) as f64, "µs", true);
    record.set_ceiling(format!("{n} HPA status writes"), ceiling);
    cluster.finish(&mut record).await?;
    Ok(record)
}
