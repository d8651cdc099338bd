//! `rudder-bench scheduler`: how fast rudder-scheduler places pods. N Node
//! objects (allocatable only: the scheduler needs no kubelet) and P pending
//! pods are created in the sandbox (a child process) first; then the
//! scheduler (a child process, the `rudder-scheduler` binary next to this
//! one) starts, and the time until every pod is bound gives pods/s. Its
//! CPU time and peak RSS are read from /proc.

use std::time::{Duration, Instant};

use anyhow::Context;
use futures::{StreamExt, TryStreamExt, stream};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::PostParams;
use serde_json::json;

use crate::SandboxChild;

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

pub struct Params {
    pub nodes: usize,
    pub pods: usize,
    pub shape: Shape,
    /// Pods per group (Spread and AntiAffinity constrain pods of one group).
    pub group: usize,
}

fn node(i: usize) -> Node {
    serde_json::from_value(json!({
        "metadata": {"name": format!("node-{i:05}"), "labels": {
            "kubernetes.io/hostname": format!("node-{i:05}"),
            "kubernetes.io/os": "linux",
            "topology.kubernetes.io/zone": format!("zone-{}", i % 10),
        }},
        "status": {
            "capacity": {"cpu": "32", "memory": "128Gi", "pods": "110"},
            "allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"},
            "conditions": [{"type": "Ready", "status": "True"}],
        }
    }))
    .unwrap_or_default()
}

fn pod(i: usize, p: &Params) -> Pod {
    let group = format!("g{}", i / p.group.max(1));
    let selector = json!({"matchLabels": {"group": group}});
    let mut spec = json!({
        "schedulerName": "rudder-scheduler",
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
    serde_json::from_value(json!({"metadata": {"name": format!("pod-{i:05}"), "labels": {"app": "bench", "group": group}}, "spec": spec}))
        .unwrap_or_default()
}

pub async fn run(p: Params) -> anyhow::Result<String> {
    let scheduler_bin = rudder_sandbox::up::find_binary("rudder-scheduler", None)?;
    let sandbox = SandboxChild::start().await?;
    let client = sandbox.client()?;
    let dir = tempfile::tempdir()?;
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(&kubeconfig, rudder_sandbox::kubeconfig_yaml(sandbox.url()))?;

    let nodes: Api<Node> = Api::all(client.clone());
    stream::iter(0..p.nodes)
        .map(|i| {
            let nodes = nodes.clone();
            async move { nodes.create(&PostParams::default(), &node(i)).await.map(|_| ()) }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await
        .context("creating nodes")?;
    let pods: Api<Pod> = Api::default_namespaced(client.clone());
    stream::iter(0..p.pods)
        .map(|i| {
            let pods = pods.clone();
            let pod = pod(i, &p);
            async move { pods.create(&PostParams::default(), &pod).await.map(|_| ()) }
        })
        .buffer_unordered(32)
        .try_collect::<Vec<_>>()
        .await
        .context("creating pods")?;

    let log = std::fs::File::create(dir.path().join("scheduler.log"))?;
    let started = Instant::now();
    let mut scheduler = tokio::process::Command::new(&scheduler_bin)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .args([
            "--leader-elect=false",
            "--metrics-bind-address=0",
            "--health-probe-bind-address=0",
            "--kube-api-qps=1000000",
            "--kube-api-burst=1000000",
        ])
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("starting {}", scheduler_bin.display()))?;
    let pid = scheduler.id().context("the scheduler has no pid")?;

    // Follow the pods with a watch (a list every so often would cost the
    // sandbox as much as the scheduling itself) and count the bound ones.
    let mut first_bound: Option<Duration> = None;
    let mut bound_names = std::collections::HashSet::new();
    let mut events = kube::runtime::watcher(pods.clone(), kube::runtime::watcher::Config::default()).boxed();
    let deadline = tokio::time::sleep(Duration::from_secs(1800));
    tokio::pin!(deadline);
    while bound_names.len() < p.pods {
        let event = tokio::select! {
            e = events.try_next() => e?,
            _ = &mut deadline => break,
            status = scheduler.wait() => anyhow::bail!("rudder-scheduler exited ({:?}); see {}", status, dir.path().join("scheduler.log").display()),
        };
        let Some(event) = event else { break };
        let (kube::runtime::watcher::Event::Apply(pod) | kube::runtime::watcher::Event::InitApply(pod)) = event else { continue };
        if pod.spec.as_ref().is_some_and(|s| s.node_name.is_some()) {
            bound_names.insert(pod.metadata.name.unwrap_or_default());
            if first_bound.is_none() {
                first_bound = Some(started.elapsed());
            }
        }
    }
    let bound = bound_names.len();
    let total = started.elapsed();
    let cpu = crate::cpu_seconds(pid);
    let rss = crate::proc_status_kib(pid, "VmHWM:").unwrap_or(0);
    let _ = scheduler.kill().await;
    let sandbox_cpu = crate::cpu_seconds(sandbox.pid);
    sandbox.stop().await?;

    let first = first_bound.unwrap_or(total);
    let busy = total.saturating_sub(first).as_secs_f64().max(1e-3);
    Ok(format!(
        "scheduler: {} pods on {} nodes, {:?} pods (groups of {})\n  \
         bound                {bound} of {} in {:.2}s from the scheduler's start ({:.2}s until the first)\n  \
         rate                 {:.0} pods/s overall, {:.0} pods/s from the first binding to the last\n  \
         scheduler CPU        {cpu:.2}s  (sandbox {sandbox_cpu:.2}s)\n  \
         scheduler peak RSS   {:.1} MiB\n",
        p.pods,
        p.nodes,
        p.shape,
        p.group,
        p.pods,
        total.as_secs_f64(),
        first.as_secs_f64(),
        bound as f64 / total.as_secs_f64().max(1e-3),
        bound.saturating_sub(1) as f64 / busy,
        rss as f64 / 1024.0,
    ))
}
