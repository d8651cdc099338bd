//! The API server's ceiling for a scenario: a raw client doing only the
//! writes the scenario cannot do without (creating its pods, posting their
//! bindings, deleting the old ones), 64 at a time, as fast as the server
//! takes them, on the same API server in the same run. The pods are inert:
//! a scheduler name no scheduler serves, bound to a node that does not
//! exist, labels no controller selects; they are removed afterwards.

use std::time::Instant;

use anyhow::Context;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DeleteParams, ListParams, PostParams};
use serde_json::json;

/// The writes to time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Writes {
    /// Pods created (timed).
    pub creates: usize,
    /// Pods created beforehand, untimed (pods whose binding alone is the
    /// scenario's work: the scheduler's).
    pub precreated: usize,
    /// Bindings posted, for as many of the pods.
    pub binds: usize,
    /// Pods deleted (grace period 0), of those.
    pub deletes: usize,
}

impl Writes {
    /// `2000 pod creates, 2000 bindings`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        for (n, what) in [(self.creates, "pod creates"), (self.binds, "bindings"), (self.deletes, "pod deletes")] {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        }
        if parts.is_empty() { "nothing".into() } else { parts.join(", ") }
    }
}

const CONCURRENCY: usize = 64;
const NODE: &str = "rudder-bench-ceiling-no-such-node";

fn pod(i: usize) -> anyhow::Result<Pod> {
    Ok(serde_json::from_value(json!({
        "metadata": {"name": format!("rudder-bench-ceiling-{i}"), "labels": {"rudder-bench": "ceiling"}},
        "spec": {"schedulerName": "rudder-bench-ceiling", "terminationGracePeriodSeconds": 0,
                 "containers": [{"name": "main", "image": "registry.k8s.io/pause:3.10",
                                 "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}}}]}
    }))?)
}

async fn each<F, Fut>(range: std::ops::Range<usize>, f: F) -> anyhow::Result<()>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    futures::stream::iter(range).map(f).buffer_unordered(CONCURRENCY).try_collect::<Vec<_>>().await.map(|_| ())
}

/// Does `writes` in namespace `ns`; the seconds the timed ones took.
pub async fn measure(client: &kube::Client, ns: &str, writes: Writes) -> anyhow::Result<f64> {
    anyhow::ensure!(writes.binds <= writes.creates + writes.precreated, "more bindings than pods");
    anyhow::ensure!(writes.deletes <= writes.creates + writes.precreated, "more deletes than pods");
    let api: Api<Pod> = Api::namespaced(client.clone(), ns);
    let create = |i: usize| {
        let api = api.clone();
        async move {
            api.create(&PostParams::default(), &pod(i)?).await.context("ceiling: creating a pod")?;
            Ok(())
        }
    };
    each(0..writes.precreated, create).await?;
    let started = Instant::now();
    let total = writes.precreated + writes.creates;
    each(writes.precreated..total, create).await?;
    each(0..writes.binds, |i| {
        let api = api.clone();
        async move {
            let name = format!("rudder-bench-ceiling-{i}");
            let binding = json!({"apiVersion": "v1", "kind": "Binding", "metadata": {"name": name},
                                 "target": {"apiVersion": "v1", "kind": "Node", "name": NODE}});
            api.create_subresource::<_, serde_json::Value>("binding", &name, &PostParams::default(), &binding)
                .await
                .context("ceiling: posting a binding")?;
            Ok(())
        }
    })
    .await?;
    let delete = |i: usize| {
        let api = api.clone();
        async move {
            api.delete(&format!("rudder-bench-ceiling-{i}"), &DeleteParams::default().grace_period(0))
                .await
                .context("ceiling: deleting a pod")?;
            Ok(())
        }
    };
    each(0..writes.deletes, delete).await?;
    let took = started.elapsed().as_secs_f64();
    // The rest go too, untimed.
    each(writes.deletes..total, delete).await?;
    let left = api.list(&ListParams::default().labels("rudder-bench=ceiling")).await?.items.len();
    anyhow::ensure!(left == 0, "ceiling: {left} pods left behind");
    Ok(took)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writes_are_described_as_counted() {
        let w = Writes { creates: 20, precreated: 0, binds: 20, deletes: 0 };
        assert_eq!(w.describe(), "20 pod creates, 20 bindings");
        assert_eq!(Writes { precreated: 5, binds: 5, ..Writes::default() }.describe(), "5 bindings");
        assert_eq!(Writes::default().describe(), "nothing");
    }
}
