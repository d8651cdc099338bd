//! `rudder-bench job`: how long Jobs take to run to completion. The sandbox
//! (a child process), simulated nodes (in this process), rudder-scheduler
//! and rudder-job-controller (child processes, client rate limits lifted)
//! run together. N Jobs of C completions (P pods at a time, each running
//! one second on the simulated kubelet) are created at once and timed until
//! every one has its Complete condition; the controllers' CPU time and peak
//! RSS are read from /proc.

use std::time::Instant;

use anyhow::Context;
use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::batch::v1::Job;
use kube::Api;
use kube::api::{ListParams, PostParams};
use serde_json::json;

use crate::cluster::{Cluster, secs};

pub struct Params {
    pub jobs: usize,
    pub completions: usize,
    pub parallelism: usize,
    pub nodes: usize,
}

const COMPONENTS: [&str; 2] = ["rudder-scheduler", "rudder-job-controller"];

fn job(i: usize, completions: usize, parallelism: usize) -> Job {
    serde_json::from_value(json!({
        "metadata": {"name": format!("batch-{i}")},
        "spec": {"completions": completions, "parallelism": parallelism,
                 "template": {"metadata": {"annotations": {"sim.rudder.dev/exit-after": "1s"}},
                              "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                                       "containers": [{"name": "work", "image": "busybox:1",
                                                       "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}
    }))
    .unwrap_or_default()
}

fn complete(j: &Job) -> bool {
    j.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|c| c.iter().any(|c| c.type_ == "Complete" && c.status == "True"))
}

/// How many of the Jobs are complete, and the pods they counted.
async fn progress(client: kube::Client) -> anyhow::Result<(usize, i64)> {
    let list = Api::<Job>::default_namespaced(client).list(&ListParams::default()).await?;
    let done = list.items.iter().filter(|j| complete(j)).count();
    let succeeded = list.items.iter().filter_map(|j| j.status.as_ref()?.succeeded).map(i64::from).sum();
    Ok((done, succeeded))
}

pub async fn run(p: Params) -> anyhow::Result<String> {
    let mut cluster = Cluster::start(&COMPONENTS, p.nodes).await?;
    let api: Api<Job> = Api::default_namespaced(cluster.client.clone());
    let started = Instant::now();
    stream::iter(0..p.jobs)
        .map(|i| {
            let api = api.clone();
            let j = job(i, p.completions, p.parallelism);
            async move { api.create(&PostParams::default(), &j).await.map(|_| ()) }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .context("creating Jobs")?;
    let n = p.jobs;
    let done = cluster.wait_until(|c| async move { Ok(progress(c).await?.0 == n) }).await?.map(|_| started.elapsed());
    let (complete, succeeded) = progress(cluster.client.clone()).await?;
    let figures = cluster.stop().await?;
    let pods = p.jobs * p.completions;
    let rate = done.map_or_else(String::new, |d| format!("  ({:.0} pods/s)", pods as f64 / d.as_secs_f64().max(1e-9)));
    Ok(format!(
        "job: {} Jobs x {} completions, parallelism {}, pods of 1 s on {} simulated nodes, client rate limits lifted\n  \
         created → all complete   {}{rate}\n  \
         Jobs complete            {complete} of {}, {succeeded} pods counted succeeded of {pods}\n{figures}",
        p.jobs,
        p.completions,
        p.parallelism,
        p.nodes,
        secs(done),
        p.jobs,
    ))
}
