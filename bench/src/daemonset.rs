//! `rudder-bench daemonset`: how long a DaemonSet takes to cover N
//! simulated nodes, and to roll a new template over them. The sandbox (a
//! child process), the nodes (in this process), rudder-scheduler and
//! rudder-daemonset-controller (child processes, client rate limits
//! lifted) run together; the controllers' CPU time and peak RSS are read
//! from /proc.

use std::time::Instant;

use k8s_openapi::api::apps::v1::DaemonSet;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

use crate::cluster::{Cluster, secs};

pub struct Params {
    pub nodes: usize,
    pub max_unavailable: String,
}

const COMPONENTS: [&str; 2] = ["rudder-scheduler", "rudder-daemonset-controller"];

fn daemonset(max_unavailable: &str) -> anyhow::Result<DaemonSet> {
    let max_unavailable = match max_unavailable.parse::<i32>() {
        Ok(n) => json!(n),
        Err(_) => json!(max_unavailable),
    };
    Ok(serde_json::from_value(json!({
        "metadata": {"name": "agent"},
        "spec": {"selector": {"matchLabels": {"app": "agent"}},
                 "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": max_unavailable}},
                 "template": {"metadata": {"labels": {"app": "agent"}},
                              "spec": {"terminationGracePeriodSeconds": 0,
                                       "containers": [{"name": "agent", "image": "agent:1",
                                                       "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}
    }))?)
}

/// Whether the DaemonSet runs an available, updated pod on all `nodes` for its generation.
async fn rolled_out(client: kube::Client, nodes: i32) -> anyhow::Result<bool> {
    let ds = Api::<DaemonSet>::default_namespaced(client).get("agent").await?;
    let Some(st) = ds.status else { return Ok(false) };
    Ok(st.observed_generation == ds.metadata.generation
        && st.desired_number_scheduled == nodes
        && st.updated_number_scheduled == Some(nodes)
        && st.number_available == Some(nodes)
        && st.current_number_scheduled == nodes)
}

pub async fn run(p: Params) -> anyhow::Result<String> {
    let mut cluster = Cluster::start(&COMPONENTS, p.nodes).await?;
    let api: Api<DaemonSet> = Api::default_namespaced(cluster.client.clone());
    let n = i32::try_from(p.nodes)?;
    let started = Instant::now();
    api.create(&PostParams::default(), &daemonset(&p.max_unavailable)?).await?;
    let created = cluster.wait_until(|c| rolled_out(c, n)).await?.map(|_| started.elapsed());
    let started = Instant::now();
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "agent:2"}]}}}});
    api.patch("agent", &PatchParams::default(), &Patch::Strategic(patch)).await?;
    let rolled = cluster.wait_until(|c| rolled_out(c, n)).await?.map(|_| started.elapsed());
    let figures = cluster.stop().await?;
    Ok(format!(
        "daemonset: one DaemonSet over {} simulated nodes, RollingUpdate maxUnavailable {}, client rate limits lifted\n  \
         created → a pod available on every node   {}\n  \
         image change → rolled over every node     {}\n{figures}",
        p.nodes,
        p.max_unavailable,
        secs(created),
        secs(rolled),
    ))
}
