//! `rudder-bench hpa`: what one sync of N HorizontalPodAutoscalers costs.
//! The sandbox (a child process) and simulated nodes (in this process);
//! N ReplicaSets of one pod each (objects only: no ReplicaSet controller),
//! their pods bound to the nodes and reporting 50% of their CPU request, so
//! that every HPA (target 50%) stays where it is; then rudder-hpa-controller
//! (a child process, client rate limits lifted) is started and timed until
//! every HPA has its first status, and its CPU time is read over the next
//! sync periods.

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{ListParams, PostParams};
use serde_json::{Value, json};

use crate::cluster::{Cluster, secs};

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
        "spec": {"nodeName": format!("sim-node-{}", i % nodes), "containers": [{"name": "app", "image": "app:1", "resources": {"requests": {"cpu": "500m"}}}]}});
    let hpa = json!({"metadata": {"name": name},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": name}, "minReplicas": 1, "maxReplicas": 10,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]}});
    (rs, pod, hpa)
}

async fn create_all<K>(api: &Api<K>, objects: Vec<Value>) -> anyhow::Result<()>
where
    K: kube::Resource + Clone + std::fmt::Debug + k8s_openapi::serde::Serialize + k8s_openapi::serde::de::DeserializeOwned,
{
    stream::iter(objects)
        .map(|o| {
            let api = api.clone();
            async move {
                let obj: K = serde_json::from_value(o)?;
                api.create(&PostParams::default(), &obj).await?;
                Ok::<_, anyhow::Error>(())
            }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .map(|_| ())
}

/// How many HPAs have a status with their metric.
async fn observed(client: kube::Client) -> anyhow::Result<usize> {
    let list = Api::<HorizontalPodAutoscaler>::default_namespaced(client).list(&ListParams::default()).await?;
    Ok(list.items.iter().filter(|h| h.status.as_ref().and_then(|s| s.current_metrics.as_ref()).is_some_and(|m| !m.is_empty())).count())
}

pub async fn run(p: Params) -> anyhow::Result<String> {
    let mut cluster = Cluster::nodes(p.nodes).await?;
    let c = cluster.client.clone();
    let (rss, pods, hpas): (Vec<Value>, Vec<Value>, Vec<Value>) = {
        let mut v = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..p.hpas {
            let (a, b, h) = objects(i, p.nodes);
            v.0.push(a);
            v.1.push(b);
            v.2.push(h);
        }
        v
    };
    create_all(&Api::<ReplicaSet>::default_namespaced(c.clone()), rss).await?;
    create_all(&Api::<Pod>::default_namespaced(c.clone()), pods).await?;
    let n = p.hpas;
    cluster
        .wait_until(|c| async move {
            let pods = Api::<Pod>::default_namespaced(c).list(&ListParams::default()).await?;
            Ok(pods.items.iter().filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")).count() == n)
        })
        .await?;
    create_all(&Api::<HorizontalPodAutoscaler>::default_namespaced(c.clone()), hpas).await?;
    let started = Instant::now();
    cluster.start_component(CONTROLLER, &[format!("--horizontal-pod-autoscaler-sync-period={}s", p.sync_period)]).await?;
    let first = cluster.wait_until(|c| async move { Ok(observed(c).await? == n) }).await?.map(|_| started.elapsed());
    let pid = cluster.pid(CONTROLLER).unwrap_or(0);
    let cpu_before = crate::cpu_seconds(pid);
    tokio::time::sleep(Duration::from_secs(p.sync_period * p.periods)).await;
    cluster.check_running()?;
    let per_pass = (crate::cpu_seconds(pid) - cpu_before) / p.periods as f64;
    let figures = cluster.stop().await?;
    Ok(format!(
        "hpa: {} HPAs (cpu utilization, each over a ReplicaSet of one pod at target), {} simulated nodes, sync period {}s, client rate limits lifted\n  \
         controller start → every HPA synced once   {}\n  \
         controller CPU per sync of all HPAs        {per_pass:.3}s  ({:.0} µs per HPA, over {} periods)\n{figures}",
        p.hpas,
        p.nodes,
        p.sync_period,
        secs(first),
        per_pass * 1e6 / p.hpas.max(1) as f64,
        p.periods,
    ))
}
