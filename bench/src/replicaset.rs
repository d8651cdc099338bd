//! `rudder-bench replicaset`: how fast rudder-replicaset-controller creates
//! pods. The controller (a child process, the `rudder-replicaset-controller`
//! binary next to this one) starts against the sandbox (another child) and
//! waits for its caches; then N ReplicaSets of R replicas each are created at
//! once, and the time until every pod exists, and until every ReplicaSet's
//! status reports its R replicas, is measured with a watch. No nodes: the
//! pods stay Pending, which is no concern of the ReplicaSet controller. The
//! controller's CPU time and peak RSS are read from /proc.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::PostParams;
use kube::runtime::watcher;
use serde_json::json;

use crate::SandboxChild;

pub struct Params {
    pub replicasets: usize,
    pub replicas: usize,
    /// The controller's `--kube-api-qps` (and burst).
    pub qps: f64,
}

fn replicaset(i: usize, replicas: usize) -> ReplicaSet {
    serde_json::from_value(json!({
        "metadata": {"name": format!("rs-{i}")},
        "spec": {"replicas": replicas, "selector": {"matchLabels": {"rs": i.to_string()}},
                 "template": {"metadata": {"labels": {"rs": i.to_string(), "app": "bench"}},
                              "spec": {"containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10",
                                                       "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}
    }))
    .unwrap_or_default()
}

pub async fn run(p: Params) -> anyhow::Result<String> {
    let sandbox = SandboxChild::start().await?;
    let client = sandbox.client()?;
    let dir = tempfile::tempdir()?;
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, rudder_sandbox::kubeconfig_yaml(sandbox.url()))?;
    let log_path = dir.path().join("controller.log");
    let qps = format!("{}", p.qps);
    let burst = format!("{}", p.qps.ceil().clamp(1.0, u32::MAX as f64) as u32);
    let extra = [format!("--kube-api-qps={qps}"), format!("--kube-api-burst={burst}")];
    let (mut controller, pid) = crate::start_component("rudder-replicaset-controller", &kubeconfig, &log_path, &extra).await?;
    let idle_rss = crate::proc_status_kib(pid, "VmRSS:").unwrap_or(0);

    let total_pods = p.replicasets * p.replicas;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    let rss_api: Api<ReplicaSet> = Api::default_namespaced(client.clone());
    let mut pod_events = watcher(pods.clone(), watcher::Config::default()).boxed();
    let mut rs_events = watcher(rss_api.clone(), watcher::Config::default()).boxed();

    let started = Instant::now();
    stream::iter(0..p.replicasets)
        .map(|i| {
            let api = rss_api.clone();
            let rs = replicaset(i, p.replicas);
            async move { api.create(&PostParams::default(), &rs).await.map(|_| ()) }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await
        .context("creating ReplicaSets")?;
    let created_rs = started.elapsed();

    let mut names = std::collections::HashSet::new();
    let mut reported: HashMap<String, i32> = HashMap::new();
    let mut all_pods: Option<Duration> = None;
    let mut all_status: Option<Duration> = None;
    let deadline = tokio::time::sleep(Duration::from_secs(1800));
    tokio::pin!(deadline);
    while all_pods.is_none() || all_status.is_none() {
        tokio::select! {
            e = pod_events.try_next() => {
                let Some(e) = e? else { break };
                if let watcher::Event::Apply(pod) | watcher::Event::InitApply(pod) = e {
                    names.insert(pod.metadata.name.unwrap_or_default());
                    if names.len() >= total_pods && all_pods.is_none() {
                        all_pods = Some(started.elapsed());
                    }
                }
            }
            e = rs_events.try_next() => {
                let Some(e) = e? else { break };
                if let watcher::Event::Apply(rs) | watcher::Event::InitApply(rs) = e {
                    let n = rs.status.as_ref().map_or(0, |s| s.replicas);
                    reported.insert(rs.metadata.name.unwrap_or_default(), n);
                    let done = reported.values().filter(|n| **n as usize == p.replicas).count();
                    if done == p.replicasets && all_status.is_none() {
                        all_status = Some(started.elapsed());
                    }
                }
            }
            _ = &mut deadline => break,
            status = controller.wait() => anyhow::bail!("rudder-replicaset-controller exited ({status:?}); see {}", log_path.display()),
        }
    }
    let cpu = crate::cpu_seconds(pid);
    let rss = crate::proc_status_kib(pid, "VmHWM:").unwrap_or(0);
    let _ = controller.kill().await;
    let sandbox_cpu = crate::cpu_seconds(sandbox.pid);
    sandbox.stop().await?;

    let secs = |d: Option<Duration>| d.map_or_else(|| "never (gave up after 30 min)".to_string(), |d| format!("{:.2}s", d.as_secs_f64()));
    let rate = all_pods.map_or(0.0, |d| total_pods as f64 / d.as_secs_f64().max(1e-3));
    Ok(format!(
        "replicaset: {} ReplicaSets x {} replicas = {total_pods} pods, controller --kube-api-qps={qps}\n  \
         ReplicaSets created  in {:.2}s\n  \
         pods created         {} of {total_pods} after {} ({rate:.0} pods/s)\n  \
         statuses reported    {} of {} after {}\n  \
         controller CPU       {cpu:.2}s  (sandbox {sandbox_cpu:.2}s)\n  \
         controller RSS       {:.1} MiB idle, {:.1} MiB peak\n",
        p.replicasets,
        p.replicas,
        created_rs.as_secs_f64(),
        names.len(),
        secs(all_pods),
        reported.values().filter(|n| **n as usize == p.replicas).count(),
        p.replicasets,
        secs(all_status),
        idle_rss as f64 / 1024.0,
        rss as f64 / 1024.0,
    ))
}
