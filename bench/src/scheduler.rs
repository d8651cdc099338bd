//! `scheduler-throughput`: N Node objects (allocatable only: the scheduler
//! needs no kubelet) and P pending pods, plain, spread over zones or with
//! anti-affinity; timed until every pod is bound (pods/s). On the sandbox
//! the pods are created first and rudder-scheduler started after, so the
//! time is the scheduler's alone; on a real cluster the scheduler named by
//! `--scheduler-name` already runs and binds them as they come (the Node
//! objects are created there too, and deleted at the end). Bound pods are
//! counted with a watch: listing thousands of pods every few hundred
//! milliseconds would cost the API server as much as the scheduling. The
//! ceiling: posting as many bindings.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::DeleteParams;
use kube::runtime::watcher;
use serde_json::{Value, json};

use crate::ceiling::Writes;
use crate::cluster::{Cluster, Target, create_all};
use crate::record::Record;

/// What the pods ask of the scheduler beyond resources.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shape {
    /// Requests only.
    Plain,
    /// A zone topology spread constraint (maxSkew 1, DoNotSchedule) over
    /// each group of pods.
    Spread,
    /// Required anti-affinity by hostname within each group of pods.
    AntiAffinity,
}

impl Shape {
    pub fn name(self) -> &'static str {
        match self {
            Shape::Plain => "plain",
            Shape::Spread => "spread",
            Shape::AntiAffinity => "anti-affinity",
        }
    }
}

pub struct Params {
    pub nodes: usize,
    pub pods: usize,
    pub shape: Shape,
    /// Pods per group (Spread and AntiAffinity constrain pods of one group).
    pub group: usize,
    /// The pods' `schedulerName`.
    pub scheduler_name: String,
}

const NODE_PREFIX: &str = "rudder-bench-node";

fn node(i: usize) -> Value {
    let name = format!("{NODE_PREFIX}-{i:05}");
    json!({
        "metadata": {"name": name, "labels": {
            "kubernetes.io/hostname": name,
            "kubernetes.io/os": "linux",
            "topology.kubernetes.io/zone": format!("zone-{}", i % 10),
            "rudder-bench": "node",
        }},
        "status": {
            "capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"},
            "allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        }
    })
}

fn pod(i: usize, p: &Params) -> Value {
    let group = format!("g{}", i / p.group.max(1));
    let selector = json!({"matchLabels": {"group": group}});
    // Only the benchmark's nodes (a real cluster has others).
    let mut spec = json!({
        "schedulerName": p.scheduler_name,
        "nodeSelector": {"rudder-bench": "node"},
        "containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10",
                        "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}],
    });
    match p.shape {
        Shape::Plain => {}
        Shape::Spread => {
            spec["topologySpreadConstraints"] = json!([{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "DoNotSchedule", "labelSelector": selector}]);
        }
        Shape::AntiAffinity => {
            spec["affinity"] = json!({"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"topologyKey": "kubernetes.io/hostname", "labelSelector": selector}]}});
        }
    }
    json!({"metadata": {"name": format!("pod-{i:05}"), "labels": {"app": "bench", "group": group}}, "spec": spec})
}

pub async fn run(p: Params, target: &Target) -> anyhow::Result<Record> {
    let size = [("nodes", p.nodes.to_string()), ("pods", p.pods.to_string()), ("group", p.group.to_string())];
    let mut record = Record::new("scheduler-throughput", Some(p.shape.name()), &size, &target.label());
    let mut cluster = Cluster::start(target, 0).await?;
    let nodes: Api<Node> = Api::all(cluster.client.clone());
    create_all(&nodes, (0..p.nodes).map(node)).await?;
    let ceiling = cluster.ceiling(Writes { precreated: p.pods, binds: p.pods, ..Writes::default() }).await?;

    // Count bound pods from a watch.
    let pods: Api<Pod> = cluster.api();
    let bound = Arc::new(AtomicU64::new(0));
    let counter = {
        let (pods, bound) = (pods.clone(), bound.clone());
        tokio::spawn(async move {
            let mut seen = std::collections::HashSet::new();
            let mut events = watcher(pods, watcher::Config::default()).boxed();
            while let Ok(Some(e)) = events.try_next().await {
                if let watcher::Event::Apply(pod) | watcher::Event::InitApply(pod) = e
                    && pod.spec.as_ref().is_some_and(|s| s.node_name.is_some())
                {
                    seen.insert(pod.metadata.name.unwrap_or_default());
                    bound.store(seen.len() as u64, Ordering::Relaxed);
                }
            }
        })
    };
    let started = if target.is_sandbox() {
        create_all(&pods, (0..p.pods).map(|i| pod(i, &p))).await?;
        let started = Instant::now();
        cluster.start_components(&["rudder-scheduler"]).await?;
        started
    } else {
        cluster.mark().await;
        let started = Instant::now();
        create_all(&pods, (0..p.pods).map(|i| pod(i, &p))).await?;
        started
    };
    let goal = p.pods as u64;
    let done = cluster
        .converge("pods bound", goal, started, Some("pods bound"), |_| {
            let n = bound.load(Ordering::Relaxed);
            async move { Ok((n, n >= goal)) }
        })
        .await?;
    counter.abort();
    record.phase(if target.is_sandbox() { "scheduler start → every pod bound" } else { "created → every pod bound" }, done);
    if let Some(d) = done {
        record.figure("pods bound per second", p.pods as f64 / d.as_secs_f64().max(1e-3), "pods/s", true);
    }
    record.set_ceiling(ceiling.0, ceiling.1);
    if !target.is_sandbox() {
        nodes.delete_collection(&DeleteParams::default(), &kube::api::ListParams::default().labels("rudder-bench=node")).await?;
    }
    cluster.finish(&mut record).await?;
    Ok(record)
}
