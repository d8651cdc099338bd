//! `job-throughput`: J Jobs of C completions (P pods at a time, each
//! running one second) created at once and timed until every one has its
//! Complete condition. On the sandbox, rudder-scheduler and
//! rudder-job-controller run over simulated nodes (the pods' second is the
//! simulated kubelet's `sim.rudder.dev/exit-after`; on a real cluster the
//! container sleeps it). The ceiling: creating and binding a pod per
//! completion.

use std::time::Instant;

use k8s_openapi::api::batch::v1::Job;
use kube::Api;
use kube::api::ListParams;
use serde_json::{Value, json};

use crate::ceiling::Writes;
use crate::cluster::{Cluster, Target, create_all};
use crate::record::Record;

pub struct Params {
    pub jobs: usize,
    pub completions: usize,
    pub parallelism: usize,
    /// Simulated nodes (250 pods each).
    pub nodes: usize,
}

const COMPONENTS: [&str; 2] = ["rudder-scheduler", "rudder-job-controller"];

fn job(i: usize, completions: usize, parallelism: usize) -> Value {
    json!({
        "metadata": {"name": format!("batch-{i}")},
        "spec": {"completions": completions, "parallelism": parallelism,
                 "template": {"metadata": {"annotations": {"sim.rudder.dev/exit-after": "1s"}},
                              "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 0,
                                       "containers": [{"name": "work", "image": "busybox:1.36", "command": ["sleep", "1"],
                                                       "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}
    })
}

fn complete(j: &Job) -> bool {
    j.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|c| c.iter().any(|c| c.type_ == "Complete" && c.status == "True"))
}

/// Pods counted succeeded over every Job, and whether all `n` are complete.
async fn progress(api: Api<Job>, n: usize) -> anyhow::Result<(u64, bool)> {
    let list = api.list(&ListParams::default()).await?;
    let succeeded: i64 = list.items.iter().filter_map(|j| j.status.as_ref()?.succeeded).map(i64::from).sum();
    Ok((succeeded.max(0) as u64, list.items.len() == n && list.items.iter().all(complete)))
}

pub async fn run(p: Params, target: &Target) -> anyhow::Result<Record> {
    let size = [
        ("jobs", p.jobs.to_string()),
        ("completions", p.completions.to_string()),
        ("parallelism", p.parallelism.to_string()),
        ("nodes", p.nodes.to_string()),
    ];
    let mut record = Record::new("job-throughput", None, &size, &target.label());
    let mut cluster = Cluster::start(target, p.nodes).await?;
    let pods = p.jobs * p.completions;
    let ceiling = cluster.ceiling(Writes { creates: pods, binds: pods, ..Writes::default() }).await?;
    cluster.start_components(&COMPONENTS).await?;

    let api: Api<Job> = cluster.api();
    let started = Instant::now();
    create_all(&api, (0..p.jobs).map(|i| job(i, p.completions, p.parallelism))).await?;
    let n = p.jobs;
    let done = cluster.converge("pods succeeded", pods as u64, started, Some("pods succeeded"), |_| progress(api.clone(), n)).await?;
    record.phase("created → every Job Complete", done);
    let (succeeded, _) = progress(api.clone(), n).await?;
    record.figure("pods counted succeeded", succeeded as f64, "", false);
    if let Some(d) = done {
        record.figure("pods completed per second", pods as f64 / d.as_secs_f64().max(1e-3), "pods/s", true);
    }
    record.set_ceiling(ceiling.0, ceiling.1);
    cluster.finish(&mut record).await?;
    Ok(record)
}
