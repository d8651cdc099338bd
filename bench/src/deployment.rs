//! `deployment-rollout`: D Deployments of P replicas created at once and
//! timed until every one is complete; then every template changes at once
//! (a rolling update, upstream's default 25% surge and unavailability),
//! timed the same way: that is the run's convergence. On the sandbox,
//! rudder-scheduler, rudder-replicaset-controller and
//! rudder-deployment-controller run over simulated nodes; the ceiling is
//! what a rollout cannot do without: creating, binding and deleting a pod
//! per replica.

use std::time::Instant;

use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::{Value, json};

use crate::ceiling::Writes;
use crate::cluster::{Cluster, Target, create_all};
use crate::record::Record;

pub struct Params {
    pub deployments: usize,
    pub replicas: usize,
    /// Simulated nodes (250 pods each).
    pub nodes: usize,
}

const COMPONENTS: [&str; 3] = ["rudder-scheduler", "rudder-replicaset-controller", "rudder-deployment-controller"];

fn deployment(i: usize, replicas: usize) -> Value {
    json!({
        "metadata": {"name": format!("web-{i}")},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": format!("web-{i}")}},
                 "template": {"metadata": {"labels": {"app": format!("web-{i}")}},
                              "spec": {"terminationGracePeriodSeconds": 0,
                                       "containers": [{"name": "web", "image": "registry.k8s.io/pause:3.10",
                                                       "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}
    })
}

/// Whether a Deployment's rollout is complete (as `kubectl rollout status`
/// judges it: generation observed, every replica updated and available,
/// no old replica left), and its updated available pods.
fn progress(d: &Deployment) -> (bool, u64) {
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(st) = d.status.as_ref() else { return (false, 0) };
    if st.observed_generation != d.metadata.generation {
        return (false, 0);
    }
    let (updated, available) = (st.updated_replicas.unwrap_or(0), st.available_replicas.unwrap_or(0));
    let complete = updated == want && st.replicas.unwrap_or(0) == want && available == want;
    (complete, updated.min(available).max(0) as u64)
}

/// Updated available pods over all Deployments, and whether all `n` are complete.
async fn rolled(api: Api<Deployment>, n: usize) -> anyhow::Result<(u64, bool)> {
    let list = api.list(&ListParams::default()).await?;
    let each: Vec<(bool, u64)> = list.items.iter().map(progress).collect();
    Ok((each.iter().map(|(_, p)| p).sum(), list.items.len() == n && each.iter().all(|(c, _)| *c)))
}

pub async fn run(p: Params, target: &Target) -> anyhow::Result<Record> {
    let size = [("deployments", p.deployments.to_string()), ("replicas", p.replicas.to_string()), ("nodes", p.nodes.to_string())];
    let mut record = Record::new("deployment-rollout", None, &size, &target.label());
    let mut cluster = Cluster::start(target, p.nodes).await?;
    let pods = p.deployments * p.replicas;
    let ceiling = cluster.ceiling(Writes { creates: pods, binds: pods, deletes: pods, ..Writes::default() }).await?;
    cluster.start_components(&COMPONENTS).await?;

    let api: Api<Deployment> = cluster.api();
    let n = p.deployments;
    let started = Instant::now();
    create_all(&api, (0..n).map(|i| deployment(i, p.replicas))).await?;
    let created = cluster
        .converge("created: pods available", pods as u64, started, Some("create: pods available"), |_| rolled(api.clone(), n))
        .await?;
    record.phase("created → every rollout complete", created);

    let update = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "registry.k8s.io/pause:3.9"}]}}}});
    let started = Instant::now();
    stream::iter(0..n)
        .map(|i| {
            let (api, patch) = (api.clone(), update.clone());
            async move { api.patch(&format!("web-{i}"), &PatchParams::default(), &Patch::Strategic(patch)).await.map(|_| ()) }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await?;
    let what = "image change: updated pods available";
    let rolled_out = cluster.converge("image change: updated pods", pods as u64, started, Some(what), |_| rolled(api.clone(), n)).await?;
    record.phase("image change → every rollout complete", rolled_out);
    if let Some(d) = rolled_out {
        record.figure("pods replaced per second", pods as f64 / d.as_secs_f64().max(1e-3), "pods/s", true);
    }
    record.set_ceiling(ceiling.0, ceiling.1);
    cluster.finish(&mut record).await?;
    Ok(record)
}
