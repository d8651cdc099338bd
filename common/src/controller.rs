//! The shell every controller binary runs its syncs in, as
//! kube-controller-manager's controllers run theirs (`Run`: wait for the
//! informers to sync, then `concurrent-*-syncs` workers take keys from a
//! rate-limited queue, an object never synced twice at once, a failed sync
//! retried with the queue's backoff, a clean stop on shutdown).
//!
//! A binary makes a [`Shell`] with the number of caches that must list
//! before the first sync, takes the primary objects' cache and stream from
//! [`Shell::primary`], adds its other watches to the kube-runtime
//! `Controller` in [`Shell::run`]'s `configure`, and gives its sync:
//!
//! ```ignore
//! let shell = Shell::new(&ctx, "replicaset", 2);
//! let (store, stream) = shell.primary::<ReplicaSet>(|_| {});
//! let pod_stream = pods.watch(Api::all(client), shell.synced_part()).touched_objects();
//! shell.run(store, stream, 5, state, |c| c.watches_stream(pod_stream, mapper), sync).await;
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt, TryStreamExt};
use kube::Resource;
use kube::api::Api;
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::reflector::Store;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::errors::SyncError;
use crate::http::{Health, SyncGate};
use crate::runtime::{Context, Stop, chain};
use crate::workqueue::{WorkqueueMetrics, key_of};

/// How long a sync waits for the caches before looking again.
const NOT_SYNCED_RETRY: Duration = Duration::from_millis(200);

/// One controller's queue, readiness gate and stop signal.
pub struct Shell {
    pub client: kube::Client,
    /// The controller's workqueue metrics (`workqueue_*{name=...}`) and backoff.
    pub queue: WorkqueueMetrics,
    name: &'static str,
    health: Arc<Health>,
    gate: SyncGate,
    stop: Stop,
}

impl Shell {
    /// `name` is the queue's (upstream's controller name without
    /// `-controller`, e.g. `replicaset`); `caches` counts every watch,
    /// the primary one included, that must list before syncs start.
    pub fn new(ctx: &Context, name: &'static str, caches: usize) -> Shell {
        Shell {
            client: ctx.client.clone(),
            queue: ctx.workqueues.queue(name),
            name,
            health: ctx.health.clone(),
            gate: SyncGate::new(ctx.health.clone(), caches),
            stop: ctx.stop.clone(),
        }
    }

    /// A secondary cache's part of the readiness gate (call it when it has
    /// listed, e.g. through [`crate::cache::Indexer::watch`]).
    pub fn synced_part(&self) -> impl FnMut() + Send + Sync + 'static {
        self.gate.part()
    }

    /// The primary objects' cache and the stream that drives the
    /// controller: every object in the cluster, managedFields dropped as
    /// kube-controller-manager's informers drop them, each touched object
    /// counted as added to the queue. `on_event` sees each watch event
    /// first (to drop a deleted object's expectations, say).
    #[allow(clippy::type_complexity)]
    pub fn primary<K>(
        &self,
        mut on_event: impl FnMut(&watcher::Event<K>) + Send + 'static,
    ) -> (Store<K>, impl Stream<Item = Result<K, watcher::Error>> + Send + 'static)
    where
        K: Resource<DynamicType = ()> + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + Sync + 'static,
    {
        let (reader, writer) = reflector::store::<K>();
        let mut synced = self.gate.part();
        let queue = self.queue.clone();
        let stream = reflector(
            writer,
            watcher(Api::<K>::all(self.client.clone()), watcher::Config::default()).modify(|o| o.meta_mut().managed_fields = None),
        )
        .default_backoff()
        .inspect_ok(move |e| {
            if matches!(e, watcher::Event::InitDone) {
                synced();
            }
            on_event(e);
        })
        .touched_objects()
        .inspect_ok(move |o| queue.add(&key_of(o), Instant::now()));
        (reader, stream)
    }

    /// Runs the controller until the process stops: `configure` adds the
    /// secondary watches; `sync` is called for one object at a time per
    /// object, at most `concurrency` at once, never before every cache has
    /// listed; an error is logged and the object retried after the queue's
    /// backoff.
    pub async fn run<K, S, F, Fut>(
        self,
        store: Store<K>,
        stream: impl Stream<Item = Result<K, watcher::Error>> + Send + 'static,
        concurrency: u16,
        state: Arc<S>,
        configure: impl FnOnce(Controller<K>) -> Controller<K>,
        sync: F,
    ) where
        K: Resource<DynamicType = ()> + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + Sync + 'static,
        S: Send + Sync + 'static,
        F: Fn(Arc<K>, Arc<S>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<Action, SyncError>> + Send + 'static,
    {
        let shell = Arc::new(Running { queue: self.queue.clone(), name: self.name, health: self.health.clone(), state, sync });
        let controller = Controller::for_stream(stream, store).with_config(ControllerConfig::default().concurrency(concurrency));
        configure(controller)
            .graceful_shutdown_on(self.stop.clone().wait())
            .run(reconcile::<K, S, F, Fut>, error_policy::<K, S, F>, shell)
            .for_each(|r| async move {
                if let Err(e) = r {
                    debug!(error = %chain(&e), "controller");
                }
            })
            .await;
    }
}

/// What the reconcile and error policy share.
struct Running<S, F> {
    queue: WorkqueueMetrics,
    name: &'static str,
    health: Arc<Health>,
    state: Arc<S>,
    sync: F,
}

async fn reconcile<K, S, F, Fut>(obj: Arc<K>, r: Arc<Running<S, F>>) -> Result<Action, SyncError>
where
    K: Resource<DynamicType = ()>,
    F: Fn(Arc<K>, Arc<S>) -> Fut,
    Fut: Future<Output = Result<Action, SyncError>>,
{
    if !r.health.is_synced() {
        return Ok(Action::requeue(NOT_SYNCED_RETRY));
    }
    let key = key_of(obj.as_ref());
    r.queue.reconcile(&key, (r.sync)(obj, r.state.clone())).await
}

fn error_policy<K, S, F>(obj: Arc<K>, e: &SyncError, r: Arc<Running<S, F>>) -> Action
where
    K: Resource<DynamicType = ()>,
{
    let key = key_of(obj.as_ref());
    warn!(controller = r.name, key = %key, error = %e, "sync failed");
    Action::requeue(r.queue.failed(&key, Instant::now()))
}

/// The sizes of the batches creating `count` objects: `initial`, then
/// doubling (upstream `slowStartBatch`, `SlowStartInitialBatchSize` 1), so
/// that a create failing for every pod (quota, admission) fails once, not
/// `count` times.
pub fn slow_start_batches(count: usize, initial: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let mut remaining = count;
    let mut size = initial.max(1).min(remaining);
    while size > 0 {
        out.push(size);
        remaining -= size;
        size = (2 * size).min(remaining);
    }
    out
}

/// Creates `objects` in slow-start batches, a batch at a time, stopping
/// after the first batch in which a create failed (a refusal because the
/// namespace is terminating is no failure: nothing could be created
/// there). Returns each attempted create's result, in order; the objects
/// past the returned ones were not attempted.
pub async fn create_in_slow_start_batches<K>(api: &Api<K>, objects: &[K]) -> Vec<Result<K, kube::Error>>
where
    K: Resource + Clone + std::fmt::Debug + serde::Serialize + serde::de::DeserializeOwned,
{
    let pp = kube::api::PostParams::default();
    let mut out = Vec::with_capacity(objects.len());
    let mut next = 0;
    for batch in slow_start_batches(objects.len(), 1) {
        let results = futures::future::join_all(objects[next..next + batch].iter().map(|o| api.create(&pp, o))).await;
        next += batch;
        let failed = results.iter().any(|r| r.as_ref().is_err_and(|e| !crate::errors::has_status_cause(e, "NamespaceTerminating")));
        out.extend(results);
        if failed {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_start_doubles_up_to_the_count() {
        assert_eq!(slow_start_batches(10, 1), [1, 2, 4, 3]);
        assert_eq!(slow_start_batches(1, 1), [1]);
        assert_eq!(slow_start_batches(0, 1), Vec::<usize>::new());
        assert_eq!(slow_start_batches(7, 1), [1, 2, 4]);
        assert_eq!(slow_start_batches(500, 1).iter().sum::<usize>(), 500);
    }
}
