//! `rudder-daemonset-controller`: runs a DaemonSet's pod on every node that
//! should run it, as kube-controller-manager's daemonset controller does.
//! The decisions are the library's (`rudder_daemonset`); this is the I/O
//! around them: caches of DaemonSets, pods, nodes and ControllerRevisions,
//! claiming pods and revisions, the history writes, pod creations (pinned
//! to their node by affinity, placed by the scheduler) and deletions,
//! status writes and events.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{Node, Pod, Taint};
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use rudder_common::cache::{Indexer, by_controller, orphans_by_namespace};
use rudder_common::controller::{Shell, create_in_slow_start_batches};
use rudder_common::controller_ref::{ControllerRefManager, controller_of, controller_ref_for, owners_to_sync};
use rudder_common::errors::{SyncError, has_status_cause, is_status, message};
use rudder_common::events::{EventType, Recorder, object_reference};
use rudder_common::expectations::ControllerExpectations;
use rudder_common::flags::{self, CommonArgs, HasCommon};
use rudder_common::pods::pod_from_template;
use rudder_common::runtime::{self, Context};
use rudder_common::selector::Selector;
use rudder_common::workqueue::key_of;
use rudder_daemonset::history::{self, Current};
use rudder_daemonset::pods::{Placement, REVISION_HASH_LABEL, pin_to_node, pod_template, template_generation};
use rudder_daemonset::sync::{self as dsync, BURST_REPLICAS, FailedPodsBackoff, STATUS_UPDATE_RETRIES};
use rudder_daemonset::update::rolling_update;
use tracing::{debug, warn};

#[derive(Debug, Parser)]
#[command(name = "rudder-daemonset-controller", version, about = "Runs a DaemonSet's pod on every node that should run it")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    /// DaemonSets synced at once (a DaemonSet is never synced twice at once).
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    concurrent_daemonset_syncs: u16,
}

impl HasCommon for Args {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

/// What of a node the DaemonSets care about: its labels and taints.
type NodeShape = (Option<std::collections::BTreeMap<String, String>>, Option<Vec<Taint>>);

const BY_CONTROLLER: &str = "controller";
const ORPHANS: &str = "orphans";
const BY_NODE: &str = "node";

/// Index function: a bound pod's node.
fn by_node_name(p: &Pod) -> Vec<String> {
    p.spec.as_ref().and_then(|s| s.node_name.clone()).filter(|n| !n.is_empty()).into_iter().collect()
}

struct State {
    client: kube::Client,
    pods: Indexer<Pod>,
    revisions: Indexer<ControllerRevision>,
    nodes: Store<Node>,
    daemonsets: Store<DaemonSet>,
    expectations: ControllerExpectations,
    backoff: Mutex<FailedPodsBackoff>,
    recorder: Recorder,
}

/// The DaemonSet controlling an object, as its key, if it is in the cache
/// with that uid (upstream `resolveControllerRef`).
fn owner_key(s: &State, meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> Option<String> {
    let c = controller_of(meta)?;
    if c.kind != "DaemonSet" {
        return None;
    }
    let ns = meta.namespace.clone().unwrap_or_default();
    let ds = s.daemonsets.get(&ObjectRef::new(&c.name).within(&ns))?;
    (ds.metadata.uid.as_deref() == Some(c.uid.as_str())).then(|| format!("{ns}/{}", c.name))
}

impl State {
    fn event(&self, ds: &DaemonSet, warning: bool, reason: &str, action: &str, note: &str) {
        let type_ = if warning { EventType::Warning } else { EventType::Normal };
        self.recorder.publish(&object_reference(ds), None, type_, reason, action, note);
    }
}

/// Upstream `syncDaemonSet` with its I/O.
async fn sync(ds: Arc<DaemonSet>, s: Arc<State>) -> Result<Action, SyncError> {
    let (ds, s) = (ds.as_ref(), s.as_ref());
    let key = key_of(ds);
    if let Some(e) = dsync::selecting_all(ds) {
        s.event(ds, e.warning, e.reason, "Sync", &e.message);
        return Ok(Action::await_change());
    }
    // The history of a DaemonSet being deleted may be gone already.
    if ds.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let spec = ds.spec.clone().unwrap_or_default();
    let selector = match Selector::from_label_selector(Some(&spec.selector)) {
        Ok(sel) => sel,
        Err(e) => {
            warn!(daemonset = %key, error = %e, "invalid selector");
            return Ok(Action::await_change());
        }
    };
    let nodes: Vec<Arc<Node>> = s.nodes.state();
    let nodes: Vec<&Node> = nodes.iter().map(|n| n.as_ref()).collect();
    let pods = claim_pods(ds, s, selector.clone()).await?;
    let refs: Vec<&Pod> = pods.iter().map(|p| p.as_ref()).collect();
    let (hash, old) = construct_history(ds, s, selector, &refs)
        .await
        .map_err(|e| SyncError(format!("failed to construct revisions of DaemonSet: {e}")))?;
    let satisfied = s.expectations.satisfied_expectations(&key);
    debug!(daemonset = %key, satisfied, hash = %hash, pods = %pods_summary(&refs), "sync");
    let mut requeue: Option<Duration> = None;
    let mut failure: Option<String> = None;
    if satisfied {
        let now = jiff::Timestamp::now();
        let by_node = dsync::pods_by_node(&refs, false);
        let plan = dsync::manage(ds, &nodes, &by_node, &hash, now, &mut s.backoff.lock().expect("backoff"));
        debug!(daemonset = %key, create_on = ?plan.create_on, delete = ?plan.delete, "manage");
        for e in &plan.events {
            s.event(ds, e.warning, e.reason, "Sync", &e.message);
        }
        requeue = plan.requeue_after;
        failure = sync_nodes(ds, s, &key, &hash, &plan.delete, &plan.create_on).await.err();
        let rolling = spec.update_strategy.as_ref().and_then(|u| u.type_.as_deref()) == Some("RollingUpdate");
        if failure.is_none() && rolling && s.expectations.satisfied_expectations(&key) {
            failure = match rolling_update(ds, &nodes, by_node, &hash, now) {
                Ok(step) => {
                    debug!(daemonset = %key, create_on = ?step.create_on, delete = ?step.delete, "rolling update");
                    sync_nodes(ds, s, &key, &hash, &step.delete, &step.create_on).await.err()
                }
                Err(e) => Some(e),
            };
        }
        if failure.is_none() {
            failure = cleanup_history(ds, s, &refs, &old).await.err().map(|e| format!("failed to clean up revisions of DaemonSet: {e}"));
        }
    }
    let now = jiff::Timestamp::now();
    let counts = dsync::counts(ds, &nodes, &dsync::pods_by_node(&refs, false), &hash, now);
    if let Err(e) = store_status(ds, s, counts, satisfied).await {
        let e = format!("error storing status for daemon set {key}: {e}");
        match &failure {
            Some(_) => warn!(daemonset = %key, error = %e, "Failed to update status"),
            None => failure = Some(e),
        }
    }
    if let Some(f) = failure {
        return Err(SyncError(f));
    }
    let requeue = [requeue, dsync::status_requeue(ds, counts)].into_iter().flatten().min();
    Ok(requeue.map_or_else(Action::await_change, Action::requeue))
}

/// Each pod as `name@node:hash[:ready][:deleting]`, for debug logs.
fn pods_summary(pods: &[&Pod]) -> String {
    let one = |p: &&Pod| {
        let ready = if rudder_common::pods::is_pod_ready(p) { ":ready" } else { "" };
        let deleting = if p.metadata.deletion_timestamp.is_some() { ":deleting" } else { "" };
        let node = dsync::target_node(p).unwrap_or("?");
        format!("{}@{node}:{}{ready}{deleting}", p.name_any(), p.labels().get(REVISION_HASH_LABEL).map(String::as_str).unwrap_or(""))
    };
    pods.iter().map(one).collect::<Vec<_>>().join(" ")
}

/// Upstream `getDaemonPods`: the DaemonSet's pods (every phase), after
/// adopting matching orphans and releasing the ones that stopped matching.
/// Pods it controls that still match are taken from the cache as they are
/// (no copy); only the others go through the claim.
async fn claim_pods(ds: &DaemonSet, s: &State, selector: Selector) -> Result<Vec<Arc<Pod>>, SyncError> {
    let ns = ds.namespace().unwrap_or_default();
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let (mut pods, to_release): (Vec<Arc<Pod>>, Vec<Arc<Pod>>) =
        s.pods.by_index(BY_CONTROLLER, &uid).into_iter().partition(|p| selector.matches(p.labels()));
    let orphans: Vec<Pod> = s.pods.by_index(ORPHANS, &ns).iter().filter(|p| selector.matches(p.labels())).map(|p| Pod::clone(p)).collect();
    if to_release.is_empty() && orphans.is_empty() {
        return Ok(pods);
    }
    let candidates: Vec<Pod> = to_release.iter().map(|p| Pod::clone(p)).chain(orphans).collect();
    let mut manager = ControllerRefManager::new(
        Api::<Pod>::namespaced(s.client.clone(), &ns),
        Api::<DaemonSet>::namespaced(s.client.clone(), &ns),
        ds,
        selector,
    )?;
    let adopted = manager.claim(candidates).await.into_result().map_err(SyncError::from)?;
    pods.extend(adopted.into_iter().map(Arc::new));
    Ok(pods)
}

/// Upstream `constructHistory` (with `snapshot` and `dedupCurHistories`):
/// the current revision's hash and the old revisions.
async fn construct_history(
    ds: &DaemonSet,
    s: &State,
    selector: Selector,
    pods: &[&Pod],
) -> Result<(String, Vec<ControllerRevision>), String> {
    let ns = ds.namespace().unwrap_or_default();
    let api: Api<ControllerRevision> = Api::namespaced(s.client.clone(), &ns);
    let ds_api: Api<DaemonSet> = Api::namespaced(s.client.clone(), &ns);
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let candidates: Vec<ControllerRevision> = s
        .revisions
        .by_index(BY_CONTROLLER, &uid)
        .iter()
        .chain(s.revisions.by_index(ORPHANS, &ns).iter().filter(|r| selector.matches(r.labels())))
        .map(|r| r.as_ref().clone())
        .collect();
    let mut manager = ControllerRefManager::new(api.clone(), ds_api.clone(), ds, selector).map_err(|e| e.to_string())?;
    let mut claimed =
        manager.claim(candidates).await.into_result().map_err(|e| e.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))?;
    let plan = history::plan_history(ds, &claimed);
    for r in claimed.iter_mut().filter(|r| plan.relabel.contains(&r.name_any())) {
        let name = r.name_any();
        r.metadata.labels.get_or_insert_with(Default::default).insert(REVISION_HASH_LABEL.into(), name.clone());
        *r = api.replace(&name, &PostParams::default(), r).await.map_err(|e| message(&e))?;
    }
    let hash = match plan.current {
        Current::Existing { name, hash, revision } => {
            if !plan.duplicates.is_empty() {
                // Pods move to the kept revision's hash before the duplicates go.
                let pods_api: Api<Pod> = Api::namespaced(s.client.clone(), &ns);
                for p in pods.iter().filter(|p| p.labels().get(REVISION_HASH_LABEL) != Some(&hash)) {
                    let patch = serde_json::json!({"metadata": {"labels": {REVISION_HASH_LABEL: hash}}});
                    pods_api.patch(&p.name_any(), &PatchParams::default(), &Patch::Merge(patch)).await.map_err(|e| message(&e))?;
                }
                for d in &plan.duplicates {
                    api.delete(d, &DeleteParams::default()).await.map_err(|e| message(&e))?;
                }
            }
            if revision < plan.revision
                && let Some(r) = claimed.iter().find(|r| r.name_any() == name)
            {
                let mut r = r.clone();
                r.revision = plan.revision;
                api.replace(&name, &PostParams::default(), &r).await.map_err(|e| message(&e))?;
            }
            hash
        }
        Current::Create(revision) => snapshot(ds, &api, &ds_api, &revision).await?,
    };
    let old = claimed.into_iter().filter(|r| plan.old.contains(&r.name_any())).collect();
    Ok((hash, old))
}

/// Upstream `snapshot`: creates the revision; a name taken by another
/// template is a hash collision, resolved by raising the DaemonSet's
/// `status.collisionCount` (and failing this sync).
async fn snapshot(
    ds: &DaemonSet,
    api: &Api<ControllerRevision>,
    ds_api: &Api<DaemonSet>,
    revision: &ControllerRevision,
) -> Result<String, String> {
    let name = revision.name_any();
    let hash = history::hash_of(revision);
    let outer = match api.create(&PostParams::default(), revision).await {
        Ok(_) => return Ok(hash),
        Err(e) if is_status(&e, 409) => e,
        Err(e) => return Err(message(&e)),
    };
    let existing = api.get(&name).await.map_err(|e| message(&e))?;
    if history::matches(ds, &existing) {
        return Ok(history::hash_of(&existing));
    }
    let mut current = ds_api.get(&ds.name_any()).await.map_err(|e| message(&e))?;
    let used = ds.status.as_ref().and_then(|s| s.collision_count);
    let fresh = current.status.as_ref().and_then(|s| s.collision_count);
    if used != fresh {
        let show = |c: Option<i32>| c.map_or_else(|| "<nil>".to_string(), |c| c.to_string());
        return Err(format!(
            "found a stale collision count ({}, expected {}) of DaemonSet {:?} while processing; will retry until it is updated",
            show(used),
            show(fresh),
            ds.name_any()
        ));
    }
    let status = current.status.get_or_insert_with(DaemonSetStatus::default);
    status.collision_count = Some(status.collision_count.unwrap_or(0) + 1);
    ds_api.replace_status(&ds.name_any(), &PostParams::default(), &current).await.map_err(|e| message(&e))?;
    debug!(daemonset = %key_of(ds), "Found a hash collision for DaemonSet - bumping collisionCount to resolve it");
    Err(message(&outer))
}

/// Upstream `cleanupHistory`: old revisions past the history limit whose
/// hash no pod (terminal ones included) carries.
async fn cleanup_history(ds: &DaemonSet, s: &State, pods: &[&Pod], old: &[ControllerRevision]) -> Result<(), String> {
    let live: BTreeSet<String> = dsync::pods_by_node(pods, true)
        .values()
        .flatten()
        .filter_map(|p| p.labels().get(REVISION_HASH_LABEL).filter(|h| !h.is_empty()).cloned())
        .collect();
    let refs: Vec<&ControllerRevision> = old.iter().collect();
    let api: Api<ControllerRevision> = Api::namespaced(s.client.clone(), &ds.namespace().unwrap_or_default());
    for name in history::revisions_to_delete(ds, &refs, &live) {
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(e) if is_status(&e, 404) => {}
            Err(e) => return Err(message(&e)),
        }
    }
    Ok(())
}

/// Upstream `syncNodes`: expectations set, then pods created on the nodes
/// (pinned by node affinity, in slow-start batches) and pods deleted, at
/// most `BURST_REPLICAS` of each; the errors aggregated.
async fn sync_nodes(ds: &DaemonSet, s: &State, key: &str, hash: &str, delete: &[String], create_on: &[String]) -> Result<(), String> {
    let (creates, deletes) = (create_on.len().min(BURST_REPLICAS), delete.len().min(BURST_REPLICAS));
    s.expectations.set_expectations(key, creates as i64, deletes as i64);
    let ns = ds.namespace().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(s.client.clone(), &ns);
    let mut errors: Vec<String> = Vec::new();
    if creates > 0 {
        let generation = template_generation(ds).ok().flatten();
        let template = pod_template(&ds.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default(), generation, hash);
        let controller_ref = controller_ref_for(ds).ok_or("the DaemonSet has no uid")?;
        let pods: Vec<Pod> = create_on[..creates]
            .iter()
            .map(|node| {
                let mut t = template.clone();
                let spec = t.spec.get_or_insert_with(Default::default);
                spec.affinity = Some(pin_to_node(spec.affinity.take(), node));
                pod_from_template(&t, &ds.name_any(), Some(ns.clone()), controller_ref.clone())
            })
            .collect();
        let results = create_in_slow_start_batches(&api, &pods).await;
        let attempted = results.len();
        for r in results {
            match r {
                // The namespace is going: nothing can be created, no error (the expectation expires, as upstream).
                Err(e) if has_status_cause(&e, "NamespaceTerminating") => {}
                Ok(pod) => s.event(ds, false, "SuccessfulCreate", "Create", &format!("Created pod: {}", pod.name_any())),
                Err(e) => {
                    s.expectations.creation_observed(key);
                    s.event(ds, true, "FailedCreate", "Create", &format!("Error creating: {}", message(&e)));
                    errors.push(message(&e));
                }
            }
        }
        let skipped = creates - attempted;
        if skipped > 0 {
            s.expectations.lower_expectations(key, skipped as i64, 0);
        }
    }
    let results = futures::future::join_all(delete[..deletes].iter().map(|name| {
        let api = api.clone();
        async move { (name, api.delete(name, &DeleteParams::default()).await) }
    }))
    .await;
    for (name, r) in results {
        match r {
            Ok(_) => s.event(ds, false, "SuccessfulDelete", "Delete", &format!("Deleted pod: {name}")),
            Err(e) => {
                s.expectations.deletion_observed(key);
                if !is_status(&e, 404) {
                    s.event(ds, true, "FailedDelete", "Delete", &format!("Error deleting: {}", message(&e)));
                    errors.push(message(&e));
                }
            }
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        _ => Err(format!("[{}]", errors.join(", "))),
    }
}

/// Upstream `storeDaemonSetStatus`: UpdateStatus when a count or the
/// observed generation is behind, retried once on a freshly read object.
async fn store_status(ds: &DaemonSet, s: &State, counts: dsync::Counts, observe: bool) -> Result<(), String> {
    let Some(status) = dsync::status_update(ds, counts, observe) else { return Ok(()) };
    let api: Api<DaemonSet> = Api::namespaced(s.client.clone(), &ds.namespace().unwrap_or_default());
    let mut target = ds.clone();
    target.status = Some(status);
    let mut attempt = 0;
    loop {
        match api.replace_status(&ds.name_any(), &PostParams::default(), &target).await {
            Ok(_) => return Ok(()),
            Err(e) if is_status(&e, 404) => return Ok(()),
            Err(e) if attempt >= STATUS_UPDATE_RETRIES => return Err(message(&e)),
            Err(_) => {}
        }
        attempt += 1;
        let mut fresh = api.get(&ds.name_any()).await.map_err(|e| message(&e))?;
        let mut next = fresh.status.clone().unwrap_or_default();
        let wanted = target.status.clone().unwrap_or_default();
        if observe {
            next.observed_generation = ds.metadata.generation;
        }
        next.desired_number_scheduled = wanted.desired_number_scheduled;
        next.current_number_scheduled = wanted.current_number_scheduled;
        next.number_misscheduled = wanted.number_misscheduled;
        next.number_ready = wanted.number_ready;
        next.updated_number_scheduled = wanted.updated_number_scheduled;
        next.number_available = wanted.number_available;
        next.number_unavailable = wanted.number_unavailable;
        fresh.status = Some(next);
        target = fresh;
    }
}

/// Upstream `syncNodeUpdate`: the DaemonSets a node's arrival or change
/// concerns (should run it but has no pod there, should not but has, or
/// has misscheduled pods).
/// The DaemonSets a node event concerns, as upstream's `addNode` and
/// `updateNode`: for a new node, those that should run a pod on it; for a
/// node whose labels or taints changed (`previous`: what they were), those
/// whose verdict on it (should run, should continue running) changed.
fn daemonsets_for_node(s: &State, node: &Node, previous: Option<NodeShape>) -> Vec<ObjectRef<DaemonSet>> {
    let old = previous.map(|(labels, taints)| {
        let mut old = node.clone();
        old.metadata.labels = labels;
        old.spec.get_or_insert_with(Default::default).taints = taints;
        old
    });
    s.daemonsets
        .state()
        .iter()
        .filter(|ds| Placement::of(ds).node_change_concerns(old.as_ref(), node))
        .map(|ds| ObjectRef::from_obj(ds.as_ref()))
        .collect()
}

async fn work(ctx: Context, args: Args) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let shell = Shell::new(&ctx, "daemonset", 4);
    let pods = Indexer::new(vec![(BY_CONTROLLER, by_controller), (ORPHANS, orphans_by_namespace), (BY_NODE, by_node_name)]);
    let revisions = Indexer::new(vec![(BY_CONTROLLER, by_controller), (ORPHANS, orphans_by_namespace)]);
    let state_slot: Arc<Mutex<Option<Arc<State>>>> = Arc::new(Mutex::new(None));
    let slot = state_slot.clone();
    let (daemonsets, ds_stream) = shell.primary::<DaemonSet>(move |e| {
        // A DaemonSet made again under the same name starts clean.
        if let watcher::Event::Delete(ds) = e
            && let Some(s) = slot.lock().expect("slot").as_ref()
        {
            s.expectations.delete_expectations(&key_of(ds));
        }
    });
    let (nodes, node_writer) = reflector::store::<Node>();
    let state = Arc::new(State {
        client: client.clone(),
        pods: pods.clone(),
        revisions: revisions.clone(),
        nodes,
        daemonsets: daemonsets.clone(),
        expectations: ControllerExpectations::new(),
        backoff: Mutex::new(FailedPodsBackoff::default()),
        recorder: Recorder::new(client.clone(), "daemonset-controller", ctx.identity.clone()),
    });
    *state_slot.lock().expect("slot") = Some(state.clone());

    // The failed pods back-off forgets idle entries every minute.
    let gc = state.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            gc.backoff.lock().expect("backoff").gc(jiff::Timestamp::now());
        }
    });

    // Pods: expectations as upstream's handlers lower them (a pod's first
    // sight is its creation; every sight of it being deleted, and its
    // disappearance, a deletion: over-counting is harmless, and it keeps a
    // pod deleted twice in one sync from holding the expectations); each
    // pod maps to its DaemonSet, an orphan to every DaemonSet selecting it.
    let mut known: HashSet<String> = HashSet::new();
    let st = state.clone();
    let pod_stream = pods
        .watch(Api::all(client.clone()), shell.synced_part())
        .inspect_ok(move |e| match e {
            watcher::Event::Apply(p) | watcher::Event::InitApply(p) => {
                let first = known.insert(p.metadata.uid.clone().unwrap_or_default());
                if let Some(key) = owner_key(&st, &p.metadata) {
                    if p.metadata.deletion_timestamp.is_some() {
                        st.expectations.deletion_observed(&key);
                    } else if first {
                        st.expectations.creation_observed(&key);
                    }
                }
            }
            watcher::Event::Delete(p) => {
                known.remove(p.metadata.uid.as_deref().unwrap_or_default());
                if let Some(key) = owner_key(&st, &p.metadata) {
                    st.expectations.deletion_observed(&key);
                }
            }
            watcher::Event::Init | watcher::Event::InitDone => {}
        })
        .touched_objects();
    let ds_store = daemonsets.clone();
    let pod_mapper =
        move |pod: Pod| owners_to_sync(&pod.metadata, &ds_store.state(), |ds: &DaemonSet| ds.spec.as_ref().map(|s| &s.selector));

    // Revisions: to their DaemonSet, orphans to the ones selecting them.
    let revision_stream = revisions.watch(Api::all(client.clone()), shell.synced_part()).touched_objects();
    let ds_store = daemonsets.clone();
    let revision_mapper =
        move |r: ControllerRevision| owners_to_sync(&r.metadata, &ds_store.state(), |ds: &DaemonSet| ds.spec.as_ref().map(|s| &s.selector));

    // Nodes: new ones, and changes of labels or taints.
    let mut node_synced = shell.synced_part();
    let mut last: HashMap<String, NodeShape> = HashMap::new();
    // What a changed node's labels and taints were, for its mapping (which
    // follows its filtering, one node event at a time).
    let previous: Arc<Mutex<HashMap<String, Option<NodeShape>>>> = Arc::default();
    let before = previous.clone();
    let node_stream = reflector::reflector(node_writer, watcher(Api::<Node>::all(client.clone()), watcher::Config::default()))
        .default_backoff()
        .inspect_ok(move |e| {
            if matches!(e, watcher::Event::InitDone) {
                node_synced();
            }
        })
        .touched_objects()
        .try_filter(move |n| {
            let now = (n.metadata.labels.clone(), n.spec.as_ref().and_then(|s| s.taints.clone()));
            let changed = last.get(&n.name_any()) != Some(&now);
            let was = last.insert(n.name_any(), now);
            if changed {
                before.lock().unwrap_or_else(|e| e.into_inner()).insert(n.name_any(), was);
            }
            futures::future::ready(changed)
        });
    let st = state.clone();
    let node_mapper = move |n: Node| {
        let was = previous.lock().unwrap_or_else(|e| e.into_inner()).remove(&n.name_any()).flatten();
        daemonsets_for_node(&st, &n, was)
    };

    shell
        .run(
            daemonsets,
            ds_stream,
            args.concurrent_daemonset_syncs,
            state,
            |c| {
                c.watches_stream(pod_stream, pod_mapper)
                    .watches_stream(revision_stream, revision_mapper)
                    .watches_stream(node_stream.boxed(), node_mapper)
            },
            sync,
        )
        .await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Args = flags::parse_or_exit();
    let common = args.common.clone();
    runtime::run(&common, "rudder-daemonset-controller", |ctx| work(ctx, args)).await
}
