//! `replicaset-scale`: R ReplicaSets of P replicas created at once, timed
//! until every pod is Ready (as the ReplicaSets' `status.readyReplicas`
//! report it). On the sandbox, rudder-scheduler places the pods on
//! simulated nodes and rudder-replicaset-controller is the component under
//! test; the ceiling is creating and binding as many pods.

use std::time::Instant;

use k8s_openapi::api::apps::v1::ReplicaSet;
use kube::Api;
use kube::api::ListParams;
use serde_json::{Value, json};

use crate::ceiling::Writes;
use crate::cluster::{Cluster, Target, create_all};
use crate::record::Record;

pub struct Params {
    pub replicasets: usize,
    pub replicas: usize,
    /// Simulated nodes (250 pods each).
    pub nodes: usize,
}

const COMPONENTS: [&str; 2] = ["rudder-scheduler", "rudder-replicaset-controller"];

fn replicaset(i: usize, replicas: usize) -> Value {
    json!({
        "metadata": {"name": format!("rs-{i}")},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"rs": i.to_string()}},
                 "template": {"metadata": {"labels": {"rs": i.to_string(), "app": "bench"}},
                              "spec": {"terminationGracePeriodSeconds": 0,
                                       "containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10",
                                                       "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}
    })
}

/// Pods Ready over every ReplicaSet, and whether each has all `replicas`.
async fn ready(api: Api<ReplicaSet>, replicasets: usize, replicas: usize) -> anyhow::Result<(u64, bool)> {
    let list = api.list(&ListParams::default()).await?;
    let ready = |rs: &ReplicaSet| rs.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0) as usize;
    let total = list.items.iter().map(ready).sum::<usize>() as u64;
    Ok((total, list.items.len() == replicasets && list.items.iter().all(|rs| ready(rs) == replicas)))
}

pub async fn run(p: Params, target: &Target) -> anyhow::Result<Record> {
    let size = [("replicasets", p.replicasets.to_string()), ("replicas", p.replicas.to_string()), ("nodes", p.nodes.to_string())];
    let mut record = Record::new("replicaset-scale", None, &size, &target.label());
    let mut cluster = Cluster::start(target, p.nodes).await?;
    let pods = p.replicasets * p.replicas;
    let ceiling = cluster.ceiling(Writes { creates: pods, binds: pods, ..Writes::default() }).await?;
    cluster.start_components(&COMPONENTS).await?;

    let api: Api<ReplicaSet> = cluster.api();
    let started = Instant::now();
    create_all(&api, (0..p.replicasets).map(|i| replicaset(i, p.replicas))).await?;
    let (n, r) = (p.replicasets, p.replicas);
    let done = cluster.converge("pods Ready", pods as u64, started, Some("pods ready"), |_| ready(api.clone(), n, r)).await?;
    record.phase("created → every pod Ready", done);
    if let Some(d) = done {
        record.figure("pods Ready per second", pods as f64 / d.as_secs_f64().max(1e-3), "pods/s", true);
    }
    record.set_ceiling(ceiling.0, ceiling.1);
    cluster.finish(&mut record).await?;
    Ok(record)
}
