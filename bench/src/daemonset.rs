//! `daemonset-rollout`: one DaemonSet over N nodes, timed until a pod is
//! available on every node, then its template changed and timed until the
//! new template is available on every node: that is the run's
//! convergence. On the sandbox, rudder-scheduler and
//! rudder-daemonset-controller run over N simulated nodes; on a real
//! cluster the DaemonSet covers its nodes. The ceiling: creating, binding
//! and deleting a pod per node.

use std::time::Instant;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

use crate::ceiling::Writes;
use crate::cluster::{Cluster, Target};
use crate::record::Record;

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
                                       "containers": [{"name": "agent", "image": "registry.k8s.io/pause:3.10",
                                                       "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}}}
    }))?)
}

/// Updated available pods, and whether the DaemonSet runs an available,
/// updated pod on every node it wants (`nodes` of them) for its generation.
async fn rolled_out(api: Api<DaemonSet>, nodes: i32) -> anyhow::Result<(u64, bool)> {
    let ds = api.get("agent").await?;
    let Some(st) = ds.status else { return Ok((0, false)) };
    if st.observed_generation != ds.metadata.generation {
        return Ok((0, false));
    }
    let (updated, available) = (st.updated_number_scheduled.unwrap_or(0), st.number_available.unwrap_or(0));
    let done = st.desired_number_scheduled == nodes && updated == nodes && available == nodes && st.current_number_scheduled == nodes;
    Ok((updated.min(available).max(0) as u64, done))
}

pub async fn run(p: Params, target: &Target) -> anyhow::Result<Record> {
    let mut cluster = Cluster::start(target, if target.is_sandbox() { p.nodes } else { 0 }).await?;
    // On a real cluster, its schedulable nodes.
    let nodes = if target.is_sandbox() {
        p.nodes
    } else {
        let all = Api::<Node>::all(cluster.client.clone()).list(&Default::default()).await?;
        all.items.iter().filter(|n| crate::node_ready(n) && !n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false)).count()
    };
    let size = [("nodes", nodes.to_string()), ("maxUnavailable", p.max_unavailable.clone())];
    let mut record = Record::new("daemonset-rollout", None, &size, &target.label());
    let ceiling = cluster.ceiling(Writes { creates: nodes, binds: nodes, deletes: nodes, ..Writes::default() }).await?;
    cluster.start_components(&COMPONENTS).await?;

    let api: Api<DaemonSet> = cluster.api();
    let n = i32::try_from(nodes)?;
    let started = Instant::now();
    api.create(&PostParams::default(), &daemonset(&p.max_unavailable)?).await?;
    let created = cluster
        .converge("created: pods available", nodes as u64, started, Some("create: pods available"), |_| rolled_out(api.clone(), n))
        .await?;
    record.phase("created → a pod available on every node", created);
    let started = Instant::now();
    let patch = json!({"spec": {"template": {"spec": {"containers": [{"name": "agent", "image": "registry.k8s.io/pause:3.9"}]}}}});
    api.patch("agent", &PatchParams::default(), &Patch::Strategic(patch)).await?;
    let what = "image change: updated pods available";
    let rolled = cluster.converge("image change: updated pods", nodes as u64, started, Some(what), |_| rolled_out(api.clone(), n)).await?;
    record.phase("image change → rolled over every node", rolled);
    if let Some(d) = rolled {
        record.figure("nodes rolled per second", nodes as f64 / d.as_secs_f64().max(1e-3), "nodes/s", true);
    }
    record.set_ceiling(ceiling.0, ceiling.1);
    cluster.finish(&mut record).await?;
    Ok(record)
}
