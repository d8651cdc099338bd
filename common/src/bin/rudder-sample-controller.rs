//! A sample controller on the common runtime, small enough to read in one
//! go and used by the runtime's own tests: it marks every ConfigMap carrying
//! the selected label with the annotation `rudder.dev/reconciled-by: <its
//! leader-election identity>`, so a test can see which instance acts.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::Api;
use kube::api::{Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::{WatchStreamExt, reflector, watcher};
use rudder_common::flags::{self, CommonArgs, HasCommon};
use rudder_common::runtime::{self, Context};
use rudder_common::workqueue::{WorkqueueMetrics, key_of};
use tokio::time::Instant;
use tracing::warn;

const ANNOTATION: &str = "rudder.dev/reconciled-by";

/// Marks labelled ConfigMaps with the identity of the instance that reconciled them.
#[derive(Debug, Parser)]
#[command(name = "rudder-sample-controller", version)]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    /// Label selector of the ConfigMaps to reconcile.
    #[arg(long, value_name = "SELECTOR", default_value = "rudder.dev/sample")]
    selector: String,
}

impl HasCommon for Args {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

struct State {
    client: kube::Client,
    identity: String,
    queue: WorkqueueMetrics,
}

async fn reconcile(cm: Arc<ConfigMap>, s: Arc<State>) -> Result<Action, kube::Error> {
    s.queue.reconcile(&key_of(cm.as_ref()), mark(&cm, &s)).await
}

async fn mark(cm: &ConfigMap, s: &State) -> Result<Action, kube::Error> {
    let marked = cm.metadata.annotations.as_ref().and_then(|a| a.get(ANNOTATION));
    if marked == Some(&s.identity) {
        return Ok(Action::await_change());
    }
    let (Some(ns), Some(name)) = (cm.metadata.namespace.as_deref(), cm.metadata.name.as_deref()) else {
        return Ok(Action::await_change());
    };
    let patch = serde_json::json!({ "metadata": { "annotations": { ANNOTATION: s.identity } } });
    Api::<ConfigMap>::namespaced(s.client.clone(), ns).patch(name, &PatchParams::default(), &Patch::Merge(&patch)).await?;
    Ok(Action::await_change())
}

fn error_policy(cm: Arc<ConfigMap>, e: &kube::Error, s: Arc<State>) -> Action {
    warn!(configmap = %key_of(cm.as_ref()), error = %runtime::chain(e), "reconcile failed");
    Action::requeue(s.queue.failed(&key_of(cm.as_ref()), Instant::now()))
}

async fn work(ctx: Context, selector: String) -> anyhow::Result<()> {
    let api: Api<ConfigMap> = Api::all(ctx.client.clone());
    let queue = ctx.workqueues.queue("sample");
    let (reader, writer) = reflector::store();
    let triggers = queue.clone();
    let health = ctx.health.clone();
    // Synced once the first list is in the store. (Not Store::wait_until_ready
    // in a task of our own: kube-runtime 5's readiness wakes only its last
    // waiter, which is the controller's runner.)
    let stream = reflector(writer, watcher(api, watcher::Config::default().labels(&selector)))
        .default_backoff()
        .inspect_ok(move |e| {
            if matches!(e, watcher::Event::InitDone) {
                health.set_synced(true);
            }
        })
        .touched_objects()
        .inspect_ok(move |cm| triggers.add(&key_of(cm), Instant::now()));
    let state = Arc::new(State { client: ctx.client.clone(), identity: ctx.identity.clone(), queue });
    Controller::for_stream(stream, reader)
        .graceful_shutdown_on(ctx.stop.clone().wait())
        .run(reconcile, error_policy, state)
        .for_each(|r| async move {
            if let Err(e) = r {
                warn!(error = %runtime::chain(&e), "controller");
            }
        })
        .await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Args = flags::parse_or_exit();
    let selector = args.selector.clone();
    runtime::run(&args.common, "rudder-sample-controller", |ctx| work(ctx, selector)).await
}
