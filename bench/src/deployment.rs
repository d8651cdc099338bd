//! `rudder-bench deployment`: how long Deployments take to roll out. The
//! sandbox (a child process), simulated nodes (in this process), and
//! rudder-scheduler, rudder-replicaset-controller and
//! rudder-deployment-controller (child processes, the binaries next to this
//! one, client rate limits lifted) run together. N Deployments of R replicas
//! are created at once and timed until every one is complete; then every
//! template changes at once (a rolling update, upstream's default 25% surge
//! and unavailability) and that is timed the same way. The controllers' CPU
//! time and peak RSS are read from /proc.

use std::time::Instant;

use anyhow::Context;
use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::cluster::{Cluster, secs};

pub struct Params {
    pub deployments: usize,
    pub replicas: usize,
    pub nodes: usize,
}

const COMPONENTS: [&str; 3] = ["rudder-scheduler", "rudder-replicaset-controller", "rudder-deployment-controller"];

fn deployment(i: usize, replicas: usize) -> Deployment {
    serde_json::from_value(json!({
        "metadata": {"name": format!("web-{i}")},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": format!("web-{i}")}},
                 "template": {"metadata": {"labels": {"app": format!("web-{i}")}},
                              "spec": {"terminationGracePeriodSeconds": 0,
                                       "containers": [{"name": "web", "image": "nginx:1",
                                                       "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}
    }))
    .unwrap_or_default()
}

/// Whether a Deployment's rollout is complete (as `kubectl rollout status`
/// judges it: generation observed, every replica updated and available,
/// no old replica left).
fn complete(d: &Deployment) -> bool {
    let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
    let Some(st) = d.status.as_ref() else { return false };
    st.observed_generation == d.metadata.generation
        && st.updated_replicas.unwrap_or(0) == want
        && st.replicas.unwrap_or(0) == want
        && st.available_replicas.unwrap_or(0) == want
}

/// Whether all `n` Deployments are complete.
async fn all_complete(client: kube::Client, n: usize) -> anyhow::Result<bool> {
    let list = Api::<Deployment>::default_namespaced(client).list(&ListParams::default()).await?;
    Ok(list.items.len() == n && list.items.iter().all(complete))
}

pub async fn run(p: Params) -> anyhow::Result<String> {
    let mut cluster = Cluster::start(&COMPONENTS, p.nodes).await?;
    let api: Api<Deployment> = Api::default_namespaced(cluster.client.clone());
    let n = p.deployments;
    let started = Instant::now();
    stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            let d = deployment(i, p.replicas);
            async move { api.create(&PostParams::default(), &d).await.map(|_| ()) }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .context("creating Deployments")?;
    let created = cluster.wait_until(|c| all_complete(c, n)).await?.map(|_| started.elapsed());

    let update = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}});
    let started = Instant::now();
    stream::iter(0..n)
        .map(|i| {
            let api = api.clone();
            let patch = update.clone();
            async move { api.patch(&format!("web-{i}"), &PatchParams::default(), &Patch::Strategic(patch)).await.map(|_| ()) }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .context("updating Deployments")?;
    let rolled = cluster.wait_until(|c| all_complete(c, n)).await?.map(|_| started.elapsed());
    let figures = cluster.stop().await?;
    Ok(format!(
        "deployment: {} Deployments x {} replicas on {} simulated nodes, client rate limits lifted\n  \
         created → all complete   {}\n  \
         image change → complete  {}  (RollingUpdate, 25% surge / 25% unavailable)\n{figures}",
        p.deployments,
        p.replicas,
        p.nodes,
        secs(created),
        secs(rolled),
    ))
}
