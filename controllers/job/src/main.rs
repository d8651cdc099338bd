//! `rudder-job-controller`: runs Jobs' pods to completion, as
//! kube-controller-manager's job controller does. The decisions are the
//! library's (`rudder_job::sync`); this is the I/O around them: caches of
//! Jobs and Pods, claiming pods (with the tracking finalizer), the pod
//! actions, the three status/finalizer phases, events, and the removal of
//! the tracking finalizer from orphaned pods.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use clap::Parser;
use futures::TryStreamExt;
use k8s_openapi::api::batch::v1::{Job, JobStatus};
use k8s_openapi::api::core::v1::Pod;
use kube::ResourceExt;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::Action;
use kube::runtime::reflector::{ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use rudder_common::cache::{Indexer, by_controller, orphans_by_namespace};
use rudder_common::controller::{Shell, create_in_slow_start_batches};
use rudder_common::controller_ref::{ControllerRefManager, controller_of, owners_to_sync};
use rudder_common::errors::{SyncError, has_status_cause, is_status, message};
use rudder_common::events::{EventType, Recorder, object_reference};
use rudder_common::expectations::{ControllerExpectations, FinalizerExpectations, Sightings};
use rudder_common::flags::{self, CommonArgs, HasCommon};
use rudder_common::runtime::{self, Context, chain};
use rudder_common::selector::Selector;
use rudder_common::workqueue::key_of;
use rudder_job::backoff::BackoffRecord;
use rudder_job::metrics::{self as jm, Metrics, SyncLabels};
use rudder_job::pods::{
    JOB_TRACKING_FINALIZER, has_tracking_finalizer, managed_by_external_controller, mark_adopted, orphan_finalizer_to_remove,
    remove_tracking_finalizer_patch,
};
use rudder_job::sync::{self as js, PodActions, PodActionsOutcome, Skip, SyncInput};
use tracing::{debug, info, warn};

#[derive(Debug, Parser)]
#[command(name = "rudder-job-controller", version, about = "Runs the pods of every Job to completion")]
struct Args {
    #[command(flatten)]
    common: CommonArgs,

    /// Jobs synced at once (a Job is never synced twice at once).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..))]
    concurrent_job_syncs: u16,
}

impl HasCommon for Args {
    fn common(&self) -> &CommonArgs {
        &self.common
    }
}

const BY_CONTROLLER: &str = "controller";
const ORPHANS: &str = "orphans";

struct State {
    client: kube::Client,
    pods: Indexer<Pod>,
    jobs: Store<Job>,
    /// Pod creations and deletions issued and not yet seen (upstream `expectations`).
    expectations: ControllerExpectations,
    /// Tracking finalizer removals issued and not yet seen (upstream `finalizerExpectations`).
    finalizers: FinalizerExpectations,
    /// Per Job, the failures since the last success (upstream `podBackoffStore`).
    backoff: Mutex<HashMap<String, BackoffRecord>>,
    recorder: Recorder,
    metrics: Metrics,
}

fn job_key(ns: &str, name: &str) -> String {
    format!("{ns}/{name}")
}

/// The Job controlling a pod, as its key.
fn owner_job(pod: &Pod) -> Option<String> {
    let c = controller_of(&pod.metadata)?;
    (c.kind == "Job" && c.api_version == "batch/v1").then(|| job_key(&pod.namespace().unwrap_or_default(), &c.name))
}

impl State {
    fn event(&self, job: &Job, e: &js::Event) {
        let type_ = if e.type_ == js::EVENT_WARNING { EventType::Warning } else { EventType::Normal };
        self.recorder.publish(&object_reference(job), None, type_, &e.reason, "Sync", &e.message);
    }
}

/// Upstream `syncJob` with its I/O, and its `job_controller_job_sync*`
/// metrics (not for Jobs skipped: finished, managed elsewhere).
async fn sync(job: Arc<Job>, s: Arc<State>) -> Result<Action, SyncError> {
    let started = std::time::Instant::now();
    let mut action = None;
    let result = sync_job(&job, &s, &mut action).await;
    if let Some(action) = action {
        let labels =
            SyncLabels { completion_mode: jm::completion_mode(&job), result: if result.is_ok() { "success" } else { "error" }, action };
        s.metrics.sync_duration.get_or_create(&labels).observe(started.elapsed().as_secs_f64());
        s.metrics.syncs.get_or_create(&labels).inc();
    }
    result
}

async fn sync_job(job: &Arc<Job>, s: &Arc<State>, action: &mut Option<&'static str>) -> Result<Action, SyncError> {
    let (job, s) = (job.clone(), s.clone());
    let ns = job.namespace().unwrap_or_default();
    let key = job_key(&ns, &job.name_any());
    // Read before listing the pods, as upstream.
    let expectations_satisfied = s.expectations.satisfied_expectations(&key);
    let expected_removals = s.finalizers.expected(&key);
    let pods = claim_pods(&job, &s).await?;
    let record = s.backoff.lock().expect("backoff").get(&key).cloned();
    debug!(job = %key, expectations_satisfied, expected_removals = expected_removals.len(), pods = %pods_summary(&pods), "sync");
    let input = SyncInput {
        job: &job,
        pods: &pods,
        now: jiff::Timestamp::now(),
        expectations_satisfied,
        expected_finalizer_removals: &expected_removals,
        backoff: record.as_ref(),
    };
    let sync = match js::Sync::start(input) {
        Ok(sync) => sync,
        Err(Skip::Finished) => {
            s.backoff.lock().expect("backoff").remove(&key);
            return Ok(Action::await_change());
        }
        Err(Skip::ManagedByExternalController(_)) => return Ok(Action::await_change()),
        Err(Skip::UnknownCompletionMode(e)) => {
            s.event(&job, &e);
            return Ok(Action::await_change());
        }
    };
    *action = Some(jm::sync_action(sync.manage_called(), sync.pod_actions()));
    let jobs: Api<Job> = Api::namespaced(s.client.clone(), &ns);
    let pods_api: Api<Pod> = Api::namespaced(s.client.clone(), &ns);
    let (outcome, mut failure) = pod_actions(&job, &s, &key, &pods_api, sync.pod_actions(), sync.creation_reason()).await;
    let mut requeue = sync.requeue_after();
    let tracking = sync.after_pod_actions(&outcome);
    for e in tracking.events() {
        s.event(&job, e);
    }
    requeue = earliest(requeue, tracking.requeue_after());
    // PHASE 1: the finished pods' uids into uncountedTerminatedPods.
    let mut current = job.as_ref().clone();
    if let Some(status) = tracking.status_update() {
        current = write_status(&jobs, &current, status, &s.metrics).await?;
        for (action, n) in tracking.failures_by_policy_action() {
            s.metrics.failures_by_policy.get_or_create(&jm::ActionLabel { action: action.clone() }).inc_by(*n);
        }
    }
    if let Some(record) = tracking.backoff_record() {
        s.backoff.lock().expect("backoff").insert(key.clone(), record);
    }
    // PHASE 2: their tracking finalizers removed.
    let to_remove: Vec<&Pod> = tracking.finalizers_to_remove().to_vec();
    s.finalizers.expect_removals(&key, to_remove.iter().map(|p| p.metadata.uid.as_deref().unwrap_or_default()));
    let mut removed = BTreeSet::new();
    let mut removal_failed = false;
    let results = futures::future::join_all(to_remove.iter().map(|p| remove_finalizer(&pods_api, p))).await;
    for (p, r) in to_remove.iter().zip(results) {
        let uid = p.metadata.uid.clone().unwrap_or_default();
        match r {
            Ok(()) => {
                removed.insert(uid);
            }
            Err(e) => {
                s.finalizers.removal_observed(&key, &uid);
                removal_failed = true;
                failure.get_or_insert(format!("removing the tracking finalizer from pod {}: {}", p.name_any(), message(&e)));
            }
        }
    }
    // PHASE 3: counted, and the terminal condition once nothing is left.
    let completion = tracking.complete(&removed, removal_failed);
    if let Some(status) = &completion.status_update {
        write_status(&jobs, &current, status, &s.metrics).await?;
        if completion.finished
            && let Some(c) =
                status.conditions.iter().flatten().find(|c| matches!(c.type_.as_str(), "Complete" | "Failed") && c.status == "True")
        {
            let result = if c.type_ == "Complete" { "succeeded" } else { "failed" };
            let labels =
                jm::FinishedLabels { completion_mode: jm::completion_mode(&job), result, reason: c.reason.clone().unwrap_or_default() };
            s.metrics.jobs_finished.get_or_create(&labels).inc();
        }
    }
    for e in &completion.events {
        s.event(&job, e);
    }
    if completion.finished {
        s.backoff.lock().expect("backoff").remove(&key);
    }
    if let Some(f) = failure {
        return Err(SyncError(f));
    }
    Ok(requeue.map_or_else(Action::await_change, Action::requeue))
}

fn earliest(a: Option<std::time::Duration>, b: Option<std::time::Duration>) -> Option<std::time::Duration> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Each pod as `name:phase[:deleting][:tracked]`, for debug logs.
fn pods_summary(pods: &[Pod]) -> String {
    let one = |p: &Pod| {
        let phase = p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Pending");
        let deleting = if p.metadata.deletion_timestamp.is_some() { ":deleting" } else { "" };
        let tracked = if has_tracking_finalizer(p) { ":tracked" } else { "" };
        format!("{}:{phase}{deleting}{tracked}", p.name_any())
    };
    pods.iter().map(one).collect::<Vec<_>>().join(" ")
}

/// UpdateStatus with `status`; the Job as the server returned it (a Job
/// gone meanwhile is no error).
async fn write_status(jobs: &Api<Job>, job: &Job, status: &JobStatus, metrics: &Metrics) -> Result<Job, SyncError> {
    debug!(job = %key_of(job), succeeded = ?status.succeeded, failed = ?status.failed, completed_indexes = ?status.completed_indexes,
        uncounted = ?status.uncounted_terminated_pods, conditions = ?status.conditions.iter().flatten().map(|c| &c.type_).collect::<Vec<_>>(),
        "writing status");
    let mut j = job.clone();
    j.status = Some(status.clone());
    match jobs.replace_status(&j.name_any(), &PostParams::default(), &j).await {
        Ok(written) => {
            metrics.record_write(job, job.status.as_ref(), status);
            Ok(written)
        }
        Err(e) if is_status(&e, 404) => Ok(j),
        Err(e) => Err(SyncError(format!("updating the status of {}: {}", key_of(job), message(&e)))),
    }
}

/// The tracking finalizer patched away; a pod already gone counts as done.
async fn remove_finalizer(pods: &Api<Pod>, pod: &Pod) -> Result<(), kube::Error> {
    let Some(patch) = remove_tracking_finalizer_patch(pod) else { return Ok(()) };
    match pods.patch(&pod.name_any(), &PatchParams::default(), &Patch::Strategic(patch)).await {
        Ok(_) => Ok(()),
        Err(e) if is_status(&e, 404) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Upstream `getPodsForJob`: the Job's pods (every phase), after adopting
/// matching orphans (adding the tracking finalizer) and releasing the
/// ones that stopped matching.
async fn claim_pods(job: &Job, s: &State) -> Result<Vec<Pod>, SyncError> {
    let ns = job.namespace().unwrap_or_default();
    let selector = job.spec.as_ref().and_then(|sp| sp.selector.clone()).unwrap_or_default();
    let sel = Selector::from_label_selector(Some(&selector)).map_err(|e| SyncError(format!("invalid selector: {e}")))?;
    let uid = job.metadata.uid.clone().unwrap_or_default();
    let owned = s.pods.by_index(BY_CONTROLLER, &uid);
    let orphans = s.pods.by_index(ORPHANS, &ns);
    let candidates: Vec<Pod> = owned.iter().chain(orphans.iter().filter(|p| sel.matches(p.labels()))).map(|p| p.as_ref().clone()).collect();
    let pods_api: Api<Pod> = Api::namespaced(s.client.clone(), &ns);
    let jobs_api: Api<Job> = Api::namespaced(s.client.clone(), &ns);
    let mut manager = ControllerRefManager::new(pods_api, jobs_api, job, sel)?.with_finalizers([JOB_TRACKING_FINALIZER]);
    let mut claimed = manager.claim(candidates).await.into_result().map_err(SyncError::from)?;
    let owned_uids: HashSet<String> = owned.iter().filter_map(|p| p.metadata.uid.clone()).collect();
    for p in claimed.iter_mut() {
        if !owned_uids.contains(p.metadata.uid.as_deref().unwrap_or_default()) {
            mark_adopted(p);
        }
    }
    Ok(claimed)
}

/// Runs the sync's pod actions; what happened, and the first failure.
async fn pod_actions(
    job: &Job,
    s: &State,
    key: &str,
    pods_api: &Api<Pod>,
    actions: &PodActions<'_>,
    creation_reason: &'static str,
) -> (PodActionsOutcome, Option<String>) {
    let mut outcome = PodActionsOutcome::default();
    let mut failure = None;
    match actions {
        PodActions::None => {}
        PodActions::DeleteActive(pods) => {
            let results = futures::future::join_all(pods.iter().map(|p| delete_pod(pods_api, p))).await;
            for (p, r) in pods.iter().zip(results) {
                match r {
                    Ok(()) => {
                        outcome.deleted.insert(p.metadata.uid.clone().unwrap_or_default());
                        s.event(job, &js::successful_delete_event(&p.name_any()));
                    }
                    Err(e) => {
                        s.event(job, &js::failed_delete_event(&message(&e)));
                        failure.get_or_insert(message(&e));
                    }
                }
            }
        }
        PodActions::Delete(pods) => {
            s.expectations.expect_deletions(key, pods.len() as i64);
            let results = futures::future::join_all(pods.iter().map(|p| async move {
                remove_finalizer(pods_api, p).await?;
                delete_pod(pods_api, p).await
            }))
            .await;
            for (p, r) in pods.iter().zip(results) {
                match r {
                    Ok(()) => {
                        outcome.deleted.insert(p.metadata.uid.clone().unwrap_or_default());
                        s.event(job, &js::successful_delete_event(&p.name_any()));
                    }
                    Err(e) => {
                        s.expectations.deletion_observed(key);
                        s.event(job, &js::failed_delete_event(&message(&e)));
                        failure.get_or_insert(message(&e));
                    }
                }
            }
        }
        PodActions::Create(pods) => {
            s.expectations.expect_creations(key, pods.len() as i64);
            let mut observed = 0;
            let created = |status| s.metrics.pods_created.get_or_create(&jm::CreationLabels { reason: creation_reason, status }).inc();
            for r in create_in_slow_start_batches(pods_api, pods).await {
                match r {
                    // Nothing can be created in a namespace being deleted: counted as created, as upstream.
                    Err(e) if has_status_cause(&e, "NamespaceTerminating") => {
                        outcome.created += 1;
                    }
                    Ok(pod) => {
                        outcome.created += 1;
                        observed += 1;
                        created("succeeded");
                        s.event(job, &js::successful_create_event(&pod.name_any()));
                    }
                    Err(e) => {
                        created("failed");
                        s.event(job, &js::failed_create_event(&message(&e)));
                        failure.get_or_insert(message(&e));
                    }
                }
            }
            // Creations that failed or were skipped will never be observed.
            for _ in observed..pods.len() {
                s.expectations.creation_observed(key);
            }
        }
    }
    (outcome, failure)
}

/// A pod deleted; gone already counts as deleted.
async fn delete_pod(pods: &Api<Pod>, pod: &Pod) -> Result<(), kube::Error> {
    let dp = DeleteParams {
        preconditions: Some(kube::api::Preconditions { uid: pod.metadata.uid.clone(), resource_version: None }),
        ..Default::default()
    };
    match pods.delete(&pod.name_any(), &dp).await {
        Ok(_) => Ok(()),
        Err(e) if is_status(&e, 404) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Feeds the expectations from the pod watch (upstream's pod handlers):
/// the first sight of a pod is its creation; its deletionTimestamp or its
/// disappearance its deletion; a pod seen without the tracking finalizer
/// (or gone) fulfils an expected finalizer removal.
#[derive(Default)]
struct Observed {
    seen: Sightings,
    /// Pods seen finished and holding the tracking finalizer (upstream's
    /// `terminated_pods_tracking_finalizer_total`, any owner).
    finished_tracked: HashSet<String>,
}

impl Observed {
    fn apply(&mut self, s: &State, p: &Pod) {
        let uid = p.metadata.uid.clone().unwrap_or_default();
        let sighting = self.seen.apply(&uid, p.metadata.deletion_timestamp.is_some());
        self.finished_tracked(s, &uid, jm::finished_with_finalizer(p));
        let Some(key) = owner_job(p) else { return };
        sighting.observe(&s.expectations, &key);
        if !has_tracking_finalizer(p) {
            s.finalizers.removal_observed(&key, &uid);
        }
    }

    /// Counts a pod turning finished-with-finalizer (`add`) or no longer (`delete`).
    fn finished_tracked(&mut self, s: &State, uid: &str, is: bool) {
        let was = self.finished_tracked.contains(uid);
        if was == is {
            return;
        }
        if is {
            self.finished_tracked.insert(uid.to_string());
        } else {
            self.finished_tracked.remove(uid);
        }
        let event = if is { "add" } else { "delete" };
        s.metrics.terminated_with_finalizer.get_or_create(&jm::EventLabel { event }).inc();
    }

    fn delete(&mut self, s: &State, p: &Pod) {
        let uid = p.metadata.uid.clone().unwrap_or_default();
        let sighting = self.seen.delete(&uid);
        self.finished_tracked(s, &uid, false);
        if let Some(key) = owner_job(p) {
            sighting.observe(&s.expectations, &key);
            s.finalizers.removal_observed(&key, &uid);
        }
    }
}

/// Upstream `syncOrphanPod`: a pod holding the tracking finalizer whose
/// Job is gone, finished or not its controller any more loses it.
fn sweep_orphan(s: &Arc<State>, p: &Pod) {
    let owner = controller_of(&p.metadata).and_then(|c| {
        let job = s.jobs.get(&ObjectRef::new(&c.name).within(&p.namespace().unwrap_or_default()))?;
        (job.metadata.uid.as_deref() == Some(c.uid.as_str())).then_some(job)
    });
    if !orphan_finalizer_to_remove(p, owner.as_deref()) {
        return;
    }
    let api: Api<Pod> = Api::namespaced(s.client.clone(), &p.namespace().unwrap_or_default());
    let pod = p.clone();
    tokio::spawn(async move {
        if let Err(e) = remove_finalizer(&api, &pod).await {
            warn!(pod = %key_of(&pod), error = %chain(&e), "removing the tracking finalizer of an orphaned pod failed");
        } else {
            info!(pod = %key_of(&pod), "removed the tracking finalizer of an orphaned pod");
        }
    });
}

async fn work(ctx: Context, args: Args, metrics: Metrics) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let shell = Shell::new(&ctx, "job", 2);
    let pods = Indexer::new(vec![(BY_CONTROLLER, by_controller), (ORPHANS, orphans_by_namespace)]);
    let state_slot: Arc<Mutex<Option<Arc<State>>>> = Arc::new(Mutex::new(None));
    let slot = state_slot.clone();
    let by_external = metrics.by_external_controller.clone();
    let mut seen: HashSet<String> = HashSet::new();
    let (jobs, job_stream) = shell.primary::<Job>(move |e| match e {
        // A Job made again under the same name starts clean.
        watcher::Event::Delete(j) => {
            seen.remove(j.metadata.uid.as_deref().unwrap_or_default());
            if let Some(s) = slot.lock().expect("slot").as_ref() {
                let key = key_of(j);
                s.expectations.delete_expectations(&key);
                s.finalizers.delete(&key);
                s.backoff.lock().expect("backoff").remove(&key);
            }
        }
        // Upstream's addJob: a Job first seen managed by another controller is counted.
        watcher::Event::Apply(j) | watcher::Event::InitApply(j) => {
            if seen.insert(j.metadata.uid.clone().unwrap_or_default())
                && let Some(name) = managed_by_external_controller(j)
            {
                by_external.get_or_create(&jm::ControllerNameLabel { controller_name: name.to_string() }).inc();
            }
        }
        watcher::Event::Init | watcher::Event::InitDone => {}
    });
    let state = Arc::new(State {
        client: client.clone(),
        pods: pods.clone(),
        jobs: jobs.clone(),
        expectations: ControllerExpectations::new(),
        finalizers: FinalizerExpectations::default(),
        backoff: Mutex::new(HashMap::new()),
        recorder: Recorder::new(client.clone(), "job-controller", ctx.identity.clone()),
        metrics,
    });
    *state_slot.lock().expect("slot") = Some(state.clone());

    let mut o = Observed::default();
    let st = state.clone();
    let health = ctx.health.clone();
    let pod_stream = pods
        .watch(Api::all(client.clone()), shell.synced_part())
        .inspect_ok(move |e| match e {
            watcher::Event::Init | watcher::Event::InitDone => {}
            watcher::Event::Apply(p) | watcher::Event::InitApply(p) => {
                o.apply(&st, p);
                if health.is_synced() {
                    sweep_orphan(&st, p);
                }
            }
            watcher::Event::Delete(p) => o.delete(&st, p),
        })
        .touched_objects();
    // A pod maps to its controlling Job, or (an orphan) to every Job of
    // its namespace whose selector matches it.
    let job_store = jobs.clone();
    let mapper =
        move |pod: Pod| owners_to_sync(&pod.metadata, &job_store.state(), |j: &Job| j.spec.as_ref().and_then(|s| s.selector.as_ref()));
    shell.run(jobs, job_stream, args.concurrent_job_syncs, state, |c| c.watches_stream(pod_stream, mapper), sync).await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Args = flags::parse_or_exit();
    let common = args.common.clone();
    runtime::run_with_metrics(&common, "rudder-job-controller", Metrics::new, |ctx, m| work(ctx, args, m)).await
}
