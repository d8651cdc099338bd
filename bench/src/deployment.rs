//! `rudder-bench deployment`: how long Deployments take to roll out. The
//! sandbox (a child process), simulated nodes (in this process), and
//! rudder-scheduler, rudder-replicaset-controller and
//! rudder-deployment-controller (child processes, the binaries next to this
//! one, client rate limits lifted) run together. N Deployments of R replicas
//! are created at once and timed until every one is complete; then every
//! template changes at once (a rolling update, upstream's default 25% surge
//! and unavailability) and that is timed the same way. The controllers' CPU
//! time and peak RSS are read from /proc.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::apps::v1::Deployment;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use rudder_sandbox::sim::{self, SimConfig};
use serde_json::json;

use crate::SandboxChild;

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

/// Lists the Deployments every 200 ms until all are complete (or 30 min).
async fn wait_complete(api: &Api<Deployment>, n: usize, children: &mut [tokio::process::Child]) -> anyhow::Result<Option<Duration>> {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1800) {
        for (c, name) in children.iter_mut().zip(COMPONENTS) {
            if let Some(status) = c.try_wait()? {
                anyhow::bail!("{name} exited ({status})");
            }
        }
        let list = api.list(&ListParams::default()).await?;
        if list.items.len() == n && list.items.iter().all(complete) {
            return Ok(Some(start.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(None)
}

pub async fn run(p: Params) -> anyhow::Result<String> {
    let sandbox = SandboxChild::start().await?;
    let client = sandbox.client()?;
    let dir = tempfile::tempdir()?;
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, rudder_sandbox::kubeconfig_yaml(sandbox.url()))?;
    let scheduler_config = dir.path().join("scheduler.yaml");
    std::fs::write(&scheduler_config, rudder_sandbox::up::SCHEDULER_CONFIG)?;

    // Nodes with room for every pod and the surge.
    let (stop_sim, sim_stopped) = tokio::sync::oneshot::channel::<()>();
    let cfg = SimConfig { count: p.nodes, pods: "250".into(), heartbeat: Duration::from_secs(10), ..SimConfig::default() };
    let sim_client = client.clone();
    let sim = tokio::spawn(async move {
        sim::run(sim_client, cfg, async move {
            let _ = sim_stopped.await;
        })
        .await
    });

    let mut children = Vec::new();
    let mut pids = Vec::new();
    for name in COMPONENTS {
        let mut extra = vec!["--kube-api-qps=1000000".to_string(), "--kube-api-burst=1000000".to_string()];
        if name == "rudder-scheduler" {
            extra.push(format!("--config={}", scheduler_config.display()));
        }
        let (child, pid) = crate::start_component(name, &kubeconfig, &dir.path().join(format!("{name}.log")), &extra).await?;
        children.push(child);
        pids.push(pid);
    }

    let api: Api<Deployment> = Api::default_namespaced(client.clone());
    let started = Instant::now();
    stream::iter(0..p.deployments)
        .map(|i| {
            let api = api.clone();
            let d = deployment(i, p.replicas);
            async move { api.create(&PostParams::default(), &d).await.map(|_| ()) }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .context("creating Deployments")?;
    let created = wait_complete(&api, p.deployments, &mut children).await?.map(|_| started.elapsed());

    let update = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "image": "nginx:2"}]}}}});
    let started = Instant::now();
    stream::iter(0..p.deployments)
        .map(|i| {
            let api = api.clone();
            let patch = update.clone();
            async move { api.patch(&format!("web-{i}"), &PatchParams::default(), &Patch::Strategic(patch)).await.map(|_| ()) }
        })
        .buffer_unordered(16)
        .try_collect::<Vec<_>>()
        .await
        .context("updating Deployments")?;
    let rolled = wait_complete(&api, p.deployments, &mut children).await?.map(|_| started.elapsed());

    let figures: Vec<(f64, u64)> =
        pids.iter().map(|pid| (crate::cpu_seconds(*pid), crate::proc_status_kib(*pid, "VmHWM:").unwrap_or(0))).collect();
    for mut c in children {
        let _ = c.kill().await;
    }
    let _ = stop_sim.send(());
    let _ = sim.await;
    let sandbox_cpu = crate::cpu_seconds(sandbox.pid);
    sandbox.stop().await?;

    let secs = |d: Option<Duration>| d.map_or_else(|| "never (gave up after 30 min)".to_string(), |d| format!("{:.2}s", d.as_secs_f64()));
    let mut out = format!(
        "deployment: {} Deployments x {} replicas on {} simulated nodes, client rate limits lifted\n  \
         created → all complete   {}\n  \
         image change → complete  {}  (RollingUpdate, 25% surge / 25% unavailable)\n",
        p.deployments,
        p.replicas,
        p.nodes,
        secs(created),
        secs(rolled),
    );
    for (name, (cpu, rss)) in COMPONENTS.iter().zip(figures) {
        out.push_str(&format!("  {name:<29} CPU {cpu:.2}s, peak RSS {:.1} MiB\n", rss as f64 / 1024.0));
    }
    out.push_str(&format!("  sandbox                       CPU {sandbox_cpu:.2}s\n"));
    Ok(out)
}
