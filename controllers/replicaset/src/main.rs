//! `rudder-replicaset-controller`: keeps the pods of every ReplicaSet at
//! `spec.replicas`, as kube-controller-manager's replicaset controller does.
//! The decisions are in the library; this is the I/O: reflector caches of
//! ReplicaSets and Pods, expectations fed from the pod watch, adoption and
//! release, creates in slow-start batches, deletes by upstream's ranking,
//! status and events.

use std::collections::HashSet;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser;
use futures::TryStreamExt;
use k8s_openapi::api::apps::v1::ReplicaSet;
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Preconditions};
use kube::runtime::controller::Action;
use kube::runtime::reflector::Store;
use kube::runtime::{WatchStreamExt, watcher};
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use rudder_common::cache::{Indexer, by_controller, by_namespace, orphans_by_namespace};
use rudder_common::controller::{Shell, create_in_slow_start_batches};
use rudder_common::controller_ref::{ControllerRefManager, controller_of, owners_to_sync};
use rudder_common::errors::{SyncError, has_status_cause, is_status, message};
use rudder_common::events::{EventType, Recorder, object_reference};
use rudder_common::expectations::UidTrackingControllerExpectations;
use rudder_common::flags::{self, CommonArgs, HasCommon};
use rudder_common::pods::{is_pod_active, is_pod_terminating, pods_to_delete};
use rudder_common::runtime::{self, Context};
use rudder_common::selector::Selector;
use rudder_common::workqueue::key_of;
use rudder_replicaset::{
    ManageError, Scale, calculate_status, deletion_age_ratios, next_availability_check, pod_from_template, scale, status_changed,
};
use tracing::warn;

#[derive(Debug, Parser)]
#[command(name = "rudder-replicaset-controller", version, about = "Keeps the pods of every ReplicaSet at spec.replicas")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    /// ReplicaSets synced at once (a ReplicaSet is never synced twice at once).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    concurrent_replicaset_syncs: u16,

    /// At most this many pod creates or deletes per sync.
    #[arg(long, value_name = "N", default_value_t = rudder_replicaset::BURST_REPLICAS)]
    burst_replicas: usize,
}

impl HasCommon for Args {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

struct State {
    client: kube::Client,
    pods: Indexer<Pod>,
    replicasets: Store<ReplicaSet>,
    /// `replicaset_controller_sorting_deletion_age_ratio`.
    age_ratio: Histogram,
    /// Upstream's UID-tracking expectations: deletions by pod key.
    expectations: Arc<UidTrackingControllerExpectations>,
    recorder: Recorder,
    burst: usize,
}

fn rs_key(ns: &str, name: &str) -> String {
    format!("{ns}/{name}")
}

/// The ReplicaSet controlling a pod, as (namespace, name).
fn owner_rs(pod: &Pod) -> Option<(String, String)> {
    let c = controller_of(&pod.metadata)?;
    (c.kind == "ReplicaSet" && c.api_version.starts_with("apps/")).then(|| (pod.namespace().unwrap_or_default(), c.name.clone()))
}

/// Upstream `syncReplicaSet`.
async fn sync(rs: Arc<ReplicaSet>, s: Arc<State>) -> Result<Action, SyncError> {
    let (rs, s) = (&rs, s.as_ref());
    let ns = rs.namespace().unwrap_or_default();
    let name = rs.name_any();
    let key = rs_key(&ns, &name);
    let needs_sync = s.expectations.satisfied_expectations(&key);
    let spec = rs.spec.clone().unwrap_or_default();
    let selector = match Selector::from_label_selector(Some(&spec.selector)) {
        Ok(sel) => sel,
        Err(e) => {
            warn!(replicaset = %key, error = %e, "invalid selector");
            return Ok(Action::await_change());
        }
    };
    let now = jiff::Timestamp::now();
    // The pods this ReplicaSet controls, and the orphans of its namespace
    // (which it may adopt); pods of other controllers are not its business.
    let uid = rs.metadata.uid.clone().unwrap_or_default();
    let owned = s.pods.by_index(BY_CONTROLLER, &uid);
    let terminating = owned.iter().filter(|p| is_pod_terminating(p)).count();
    let orphans = s.pods.by_index(ORPHANS, &ns);
    let candidates: Vec<Pod> = owned
        .iter()
        .chain(orphans.iter().filter(|p| selector.matches(p.labels())))
        .filter(|p| is_pod_active(p))
        .map(|p| p.as_ref().clone())
        .collect();
    let pods_api: Api<Pod> = Api::namespaced(s.client.clone(), &ns);
    let rs_api: Api<ReplicaSet> = Api::namespaced(s.client.clone(), &ns);
    let mut manager = ControllerRefManager::new(pods_api.clone(), rs_api.clone(), rs.as_ref(), selector)?;
    let claimed = manager.claim(candidates).await.into_result().map_err(SyncError::from)?;

    let mut manage_error = None;
    if needs_sync && rs.metadata.deletion_timestamp.is_none() {
        manage_error = manage(rs, s, &key, &pods_api, &claimed, now).await;
    }
    let refs: Vec<&Pod> = claimed.iter().collect();
    let status = calculate_status(rs, &refs, terminating, manage_error.as_ref(), now);
    if status_changed(rs, &status)
        && let Err(e) = rudder_common::status::patch_status(&rs_api, rs.as_ref(), rs.status.as_ref(), &status, false).await
        && !is_status(&e, 404)
    {
        return Err(SyncError(format!("updating the status of {key}: {}", message(&e))));
    }
    if let Some(e) = manage_error {
        return Err(SyncError(e.message));
    }
    let ready = status.ready_replicas.unwrap_or(0);
    let available = status.available_replicas.unwrap_or(0);
    if ready == spec.replicas.unwrap_or(1)
        && available != ready
        && let Some(after) = next_availability_check(rs, &refs, now)
    {
        return Ok(Action::requeue(after));
    }
    Ok(Action::await_change())
}

/// Creates or deletes pods; the error that goes into ReplicaFailure, if any.
async fn manage(rs: &ReplicaSet, s: &State, key: &str, pods_api: &Api<Pod>, claimed: &[Pod], now: jiff::Timestamp) -> Option<ManageError> {
    let replicas = rs.spec.as_ref().and_then(|sp| sp.replicas).unwrap_or(1);
    let regarding = object_reference(rs);
    match scale(claimed.len(), replicas, s.burst) {
        Scale::None => None,
        Scale::Create(n) => {
            let Some(template) = pod_from_template(rs) else {
                return Some(ManageError { reason: "FailedCreate", message: "the ReplicaSet has no pod template".into() });
            };
            s.expectations.expect_creations(key, n as i64);
            let mut created = 0;
            let mut failure = None;
            let templates = vec![template; n];
            for r in create_in_slow_start_batches(pods_api, &templates).await {
                match r {
                    // Every create would fail in a namespace being deleted: nothing to report.
                    Err(e) if has_status_cause(&e, "NamespaceTerminating") => {}
                    Ok(pod) => {
                        created += 1;
                        s.recorder.publish(
                            &regarding,
                            None,
                            EventType::Normal,
                            "SuccessfulCreate",
                            "Create",
                            &format!("Created pod: {}", pod.name_any()),
                        );
                    }
                    Err(e) => {
                        let msg = message(&e);
                        s.recorder.publish(
                            &regarding,
                            None,
                            EventType::Warning,
                            "FailedCreate",
                            "Create",
                            &format!("Error creating: {msg}"),
                        );
                        failure.get_or_insert(msg);
                    }
                }
            }
            // Creations that failed or were skipped will never be observed.
            for _ in created..n {
                s.expectations.creation_observed(key);
            }
            failure.map(|message| ManageError { reason: "FailedCreate", message })
        }
        Scale::Delete(n) => {
            let related = related_pods(rs, s);
            let related: Vec<&Pod> = related.iter().map(|p| p.as_ref()).collect();
            let victims = pods_to_delete(claimed.iter().collect::<Vec<_>>(), &related, n, now);
            if n < claimed.len() {
                for ratio in deletion_age_ratios(claimed, &victims, now) {
                    s.age_ratio.observe(ratio);
                }
            }
            let pod_key = |p: &Pod| rs_key(&p.namespace().unwrap_or_default(), &p.name_any());
            s.expectations.expect_deletions(key, victims.iter().map(|p| pod_key(p)));
            let results = futures::future::join_all(victims.iter().map(|p| {
                let dp = DeleteParams {
                    preconditions: Some(Preconditions { uid: p.metadata.uid.clone(), resource_version: None }),
                    ..Default::default()
                };
                let name = p.name_any();
                let pk = pod_key(p);
                async move { (name.clone(), pk, pods_api.delete(&name, &dp).await) }
            }))
            .await;
            let mut failure = None;
            for (name, pk, r) in results {
                if r.is_err() {
                    // The watch will not show this deletion (or showed it already).
                    s.expectations.deletion_observed(key, &pk);
                }
                match r {
                    Ok(_) => s.recorder.publish(
                        &regarding,
                        None,
                        EventType::Normal,
                        "SuccessfulDelete",
                        "Delete",
                        &format!("Deleted pod: {name}"),
                    ),
                    Err(e) if is_status(&e, 404) => {}
                    Err(e) => {
                        let msg = message(&e);
                        s.recorder.publish(
                            &regarding,
                            None,
                            EventType::Warning,
                            "FailedDelete",
                            "Delete",
                            &format!("Error deleting: {msg}"),
                        );
                        failure.get_or_insert(msg);
                    }
                }
            }
            failure.map(|message| ManageError { reason: "FailedDelete", message })
        }
    }
}

/// Upstream `getIndirectlyRelatedPods`: the pods (active or not) selected by
/// any ReplicaSet with the same controller as this one (a Deployment's
/// ReplicaSets), whose placement counts in the co-location rank of the
/// victims. None for a ReplicaSet with no controller.
fn related_pods(rs: &ReplicaSet, s: &State) -> Vec<Arc<Pod>> {
    let Some(owner) = controller_of(&rs.metadata) else {
        return vec![];
    };
    let ns = rs.namespace().unwrap_or_default();
    let in_ns = s.pods.by_index(BY_NAMESPACE, &ns);
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    for sibling in s.replicasets.state() {
        let same_owner = controller_of(&sibling.metadata).is_some_and(|c| c.uid == owner.uid);
        if !same_owner || sibling.namespace().as_deref() != Some(ns.as_str()) {
            continue;
        }
        let Some(sel) = sibling.spec.as_ref().and_then(|sp| Selector::from_label_selector(Some(&sp.selector)).ok()) else {
            continue;
        };
        for p in in_ns.iter().filter(|p| sel.matches(p.labels())) {
            if seen.insert(p.metadata.uid.clone()) {
                out.push(p.clone());
            }
        }
    }
    out
}

/// Feeds the expectations from the pod watch, as upstream's pod handlers:
/// the first sight of a pod is its creation, unless it is already being
/// deleted; a deletionTimestamp or the disappearance is its deletion (the
/// tracking expectations count each expected pod once).
#[derive(Default)]
struct Observed {
    known: HashSet<String>,
}

/// The controller's own metrics (upstream's `replicaset_controller_*`).
#[derive(Clone)]
struct Metrics {
    age_ratio: Histogram,
}

impl Metrics {
    fn new(registry: &mut Registry) -> Metrics {
        let age_ratio = Histogram::new(exponential_buckets(0.25, 2.0, 6));
        registry.register(
            "replicaset_controller_sorting_deletion_age_ratio",
            "The ratio of chosen deleted pod's ages to the current youngest pod's age (at the time). Should be <2. The intent of this metric is to measure the rough efficacy of the LogarithmicScaleDown feature gate's effect on the sorting (and deletion) of pods when a replicaset scales down. This only considers Ready pods when calculating and reporting.",
            age_ratio.clone(),
        );
        Metrics { age_ratio }
    }
}

const BY_NAMESPACE: &str = "namespace";
const BY_CONTROLLER: &str = "controller";
const ORPHANS: &str = "orphans";

async fn work(ctx: Context, args: Args, metrics: Metrics) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let shell = Shell::new(&ctx, "replicaset", 2);
    let pods = Indexer::new(vec![(BY_NAMESPACE, by_namespace), (BY_CONTROLLER, by_controller), (ORPHANS, orphans_by_namespace)]);
    let expectations = Arc::new(UidTrackingControllerExpectations::new());
    let deleted = expectations.clone();
    let (rs_reader, rs_stream) = shell.primary::<ReplicaSet>(move |e| {
        // A ReplicaSet made again under the same name starts clean.
        if let watcher::Event::Delete(rs) = e {
            deleted.delete_expectations(&key_of(rs));
        }
    });
    let state = Arc::new(State {
        client: client.clone(),
        pods: pods.clone(),
        replicasets: rs_reader.clone(),
        age_ratio: metrics.age_ratio.clone(),
        expectations,
        recorder: Recorder::new(client.clone(), "replicaset-controller", ctx.identity.clone()),
        burst: args.burst_replicas,
    });

    let mut o = Observed::default();
    let st = state.clone();
    let pod_stream = pods
        .watch(Api::all(client.clone()), shell.synced_part())
        .inspect_ok(move |e| match e {
            watcher::Event::InitDone | watcher::Event::Init => {}
            watcher::Event::Apply(p) | watcher::Event::InitApply(p) => {
                let uid = p.metadata.uid.clone().unwrap_or_default();
                let first = o.known.insert(uid);
                if let Some((ns, name)) = owner_rs(p) {
                    let key = rs_key(&ns, &name);
                    if p.metadata.deletion_timestamp.is_some() {
                        st.expectations.deletion_observed(&key, &rs_key(&ns, &p.name_any()));
                    } else if first {
                        st.expectations.creation_observed(&key);
                    }
                }
            }
            watcher::Event::Delete(p) => {
                o.known.remove(p.metadata.uid.as_deref().unwrap_or_default());
                if let Some((ns, name)) = owner_rs(p) {
                    st.expectations.deletion_observed(&rs_key(&ns, &name), &rs_key(&ns, &p.name_any()));
                }
            }
        })
        .touched_objects();

    // A pod maps to its controlling ReplicaSet, or (an orphan) to every
    // ReplicaSet in its namespace whose selector matches it.
    let rs_store = rs_reader.clone();
    let mapper = move |pod: Pod| owners_to_sync(&pod.metadata, &rs_store.state(), |rs: &ReplicaSet| rs.spec.as_ref().map(|s| &s.selector));
    shell.run(rs_reader, rs_stream, args.concurrent_replicaset_syncs, state, |c| c.watches_stream(pod_stream, mapper), sync).await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Args = flags::parse_or_exit();
    let common = args.common.clone();
    runtime::run_with_metrics(&common, "rudder-replicaset-controller", Metrics::new, |ctx, m| work(ctx, args, m)).await
}
