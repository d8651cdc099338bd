//! One Job sync, as upstream `syncJob`, `manageJob` and
//! `trackJobStatusAndRemoveFinalizers` (`pkg/controller/job/job_controller.go`,
//! Kubernetes v1.36, every Job feature gate GA) decide it, without the I/O.
//!
//! Upstream interleaves API calls with the decisions, and later decisions
//! depend on how the calls went. Here each stretch between calls is a pure
//! step; the binary runs the calls in between and reports their outcome:
//!
//! ```text
//! Sync::start(input)            -> Err(Skip) | Ok(sync)
//!   sync.pod_actions()          -> delete active pods (Job finishing), or
//!                                  remove finalizer + delete (too many / suspended), or
//!                                  create pods, or nothing
//!   sync.requeue_after()        -> activeDeadlineSeconds timer, pod-failure backoff
//! sync.after_pod_actions(&outcome) -> tracking
//!   tracking.events()           -> Suspended / Resumed
//!   tracking.status_update()    -> PHASE 1: write it (UpdateStatus) if Some; on
//!                                  failure stop here and retry the whole sync later;
//!                                  on success store tracking.backoff_record()
//!   tracking.finalizers_to_remove() -> PHASE 2: record them as expected removals
//!                                  (upstream finalizerExpectations), then patch
//!                                  each pod with remove_tracking_finalizer_patch
//!                                  (404 = removed); forget the expectation of each
//!                                  patch that failed
//! tracking.complete(&removed_uids, any_patch_failed) -> completion
//!   completion.status_update    -> PHASE 3: write it if Some (counts moved out of
//!                                  uncountedTerminatedPods, and once nothing is
//!                                  uncounted or terminating, Complete/Failed and
//!                                  completionTime)
//!   completion.events           -> Completed / TooManySucceededPods / <failure reason>,
//!                                  to record after that write succeeded
//! ```
//!
//! The two-phase protocol keeps every finished pod counted exactly once
//! across restarts and deleted pods: a finished pod's uid is first written
//! to `status.uncountedTerminatedPods` (phase 1) while the pod still holds
//! the `batch.kubernetes.io/job-tracking` finalizer; only then is the
//! finalizer removed (phase 2); uids whose pod no longer has the finalizer
//! (or is gone) are moved from the uncounted lists to `succeeded`/`failed`
//! (phase 3, and again at the start of the next sync for whatever a crash
//! left behind). Indexed Jobs count successes by index
//! (`completedIndexes`) and need no uids for them.
//!
//! # How the binary executes [`PodActions`]
//!
//! * [`PodActions::DeleteActive`] (the Job reached a terminal condition):
//!   DELETE each pod, keeping its finalizer; no expectations. 404 counts as
//!   deleted.
//! * [`PodActions::Delete`] (too many pods, repeated indexes, suspension):
//!   expect that many deletions, then for each pod remove the finalizer
//!   (if it has it) and DELETE it; a failure (other than 404) lowers the
//!   expectations and is reported. `SuccessfulDelete` / `FailedDelete`
//!   events ([`successful_delete_event`], [`failed_delete_event`]).
//! * [`PodActions::Create`]: expect that many creations, then create the
//!   pods in slow-start batches (1, 2, 4, ...; `rudder_common::controller::create_in_slow_start_batches`
//!   has the arithmetic), stopping after the first batch with a failure;
//!   each failed or skipped creation lowers the expectations.
//!   `SuccessfulCreate` / `FailedCreate` events. A creation refused because
//!   the namespace is terminating is no error and counts as created.
//!
//! Report the result in a [`PodActionsOutcome`]. Any failure makes the
//! sync return an error (requeued with rate limit) after the tracking
//! phases ran, as upstream.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::{Job, JobCondition, JobSpec, JobStatus, UncountedTerminatedPods};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use rudder_common::pods::{is_pod_active, is_pod_ready, is_pod_terminating, sort_active_pods};

use crate::backoff::{BackoffRecord, DEFAULT_POD_FAILURE_BACKOFF, MAX_POD_FAILURE_BACKOFF, finished_time, remaining_time_per_index};
use crate::failure_policy::{Action, match_pod_failure_policy};
use crate::indexes::{
    OrderedIntervals, completion_index, duplicated_index_pods_for_removal, first_pending_indexes, index_absolute_failure_count,
    index_failure_count, indexes_of, sort_by_completion_index,
};
use crate::pods::{has_tracking_finalizer, is_job_finished, managed_by_external_controller, new_pod, phase, uid};
use crate::success_policy::match_success_policy;

/// At most this many uids in `status.uncountedTerminatedPods` (upstream `MaxUncountedPods`).
pub const MAX_UNCOUNTED_PODS: usize = 500;
/// At most this many creations or deletions per sync (upstream `MaxPodCreateDeletePerSync`).
pub const MAX_POD_CREATE_DELETE_PER_SYNC: usize = 500;
/// The shortest requeue delay after a backoff (upstream `syncJobBatchPeriod`).
pub const SYNC_JOB_BATCH_PERIOD: Duration = Duration::from_secs(1);

pub const CONDITION_SUSPENDED: &str = "Suspended";
pub const CONDITION_COMPLETE: &str = "Complete";
pub const CONDITION_FAILED: &str = "Failed";
pub const CONDITION_FAILURE_TARGET: &str = "FailureTarget";
pub const CONDITION_SUCCESS_CRITERIA_MET: &str = "SuccessCriteriaMet";

pub const REASON_POD_FAILURE_POLICY: &str = "PodFailurePolicy";
pub const REASON_BACKOFF_LIMIT_EXCEEDED: &str = "BackoffLimitExceeded";
pub const REASON_DEADLINE_EXCEEDED: &str = "DeadlineExceeded";
pub const REASON_MAX_FAILED_INDEXES_EXCEEDED: &str = "MaxFailedIndexesExceeded";
pub const REASON_FAILED_INDEXES: &str = "FailedIndexes";
pub const REASON_SUCCESS_POLICY: &str = "SuccessPolicy";
pub const REASON_COMPLETIONS_REACHED: &str = "CompletionsReached";

pub const EVENT_NORMAL: &str = "Normal";
pub const EVENT_WARNING: &str = "Warning";

/// An event to record on the Job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `Normal` or `Warning`.
    pub type_: &'static str,
    pub reason: String,
    pub message: String,
}

impl Event {
    fn normal(reason: &str, message: impl Into<String>) -> Event {
        Event { type_: EVENT_NORMAL, reason: reason.to_string(), message: message.into() }
    }

    fn warning(reason: &str, message: impl Into<String>) -> Event {
        Event { type_: EVENT_WARNING, reason: reason.to_string(), message: message.into() }
    }
}

/// `SuccessfulCreate`, as upstream's pod control records it.
pub fn successful_create_event(pod_name: &str) -> Event {
    Event::normal("SuccessfulCreate", format!("Created pod: {pod_name}"))
}

/// `FailedCreate`, as upstream's pod control records it.
pub fn failed_create_event(error: &str) -> Event {
    Event::warning("FailedCreate", format!("Error creating: {error}"))
}

/// `SuccessfulDelete`, as upstream's pod control records it.
pub fn successful_delete_event(pod_name: &str) -> Event {
    Event::normal("SuccessfulDelete", format!("Deleted pod: {pod_name}"))
}

/// `FailedDelete`, as upstream's pod control records it.
pub fn failed_delete_event(error: &str) -> Event {
    Event::warning("FailedDelete", format!("Error deleting: {error}"))
}

/// What the binary keeps between syncs and hands to [`Sync::start`].
#[derive(Debug, Clone, Copy)]
pub struct SyncInput<'a> {
    /// The Job from the cache.
    pub job: &'a Job,
    /// Its pods after claiming (adopted ones passed through
    /// [`crate::pods::mark_adopted`]), including terminal and terminating ones.
    pub pods: &'a [Pod],
    pub now: Timestamp,
    /// Whether the creation/deletion expectations of the Job are satisfied,
    /// read *before* listing the pods, as upstream.
    pub expectations_satisfied: bool,
    /// Uids of pods whose finalizer removal was issued but not observed yet.
    pub expected_finalizer_removals: &'a BTreeSet<String>,
    /// The Job's backoff record from previous syncs, if any.
    pub backoff: Option<&'a BackoffRecord>,
}

/// Why a sync does nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// `spec.managedBy` names another controller.
    ManagedByExternalController(String),
    /// The Job already has `Complete` or `Failed`: drop its backoff record.
    Finished,
    /// `spec.completionMode` is neither `NonIndexed` nor `Indexed`; record the event.
    UnknownCompletionMode(Event),
}

/// What to do with pods before the status is tracked.
#[derive(Debug, Clone, PartialEq)]
pub enum PodActions<'a> {
    None,
    /// The Job reached a terminal condition: delete its active pods
    /// (finalizers kept, removed by the tracking).
    DeleteActive(Vec<&'a Pod>),
    /// Too many pods, repeated or invalid indexes, or the Job is suspended:
    /// remove the finalizer from each pod and delete it.
    Delete(Vec<&'a Pod>),
    /// Pods to create, in order.
    Create(Vec<Pod>),
}

/// How the pod actions went.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodActionsOutcome {
    /// Uids of the pods deleted (including those already gone: 404).
    pub deleted: BTreeSet<String>,
    /// How many pods were created (creations refused because the namespace
    /// is terminating count as created, as upstream).
    pub created: usize,
}

impl PodActionsOutcome {
    /// Every action succeeded.
    pub fn all_succeeded(actions: &PodActions<'_>) -> PodActionsOutcome {
        match actions {
            PodActions::None => PodActionsOutcome::default(),
            PodActions::DeleteActive(pods) | PodActions::Delete(pods) => {
                PodActionsOutcome { deleted: pods.iter().map(|p| uid(p).to_string()).collect(), created: 0 }
            }
            PodActions::Create(pods) => PodActionsOutcome { deleted: BTreeSet::new(), created: pods.len() },
        }
    }
}

fn i32_of(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn new_condition(type_: &str, status: &str, reason: &str, message: &str, now: Timestamp) -> JobCondition {
    JobCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: (!reason.is_empty()).then(|| reason.to_string()),
        message: (!message.is_empty()).then(|| message.to_string()),
        last_probe_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
    }
}

fn find_condition<'c>(conditions: &'c [JobCondition], type_: &str) -> Option<&'c JobCondition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// Upstream `ensureJobConditionStatus`: sets the condition (replacing one of
/// the same type whose status, reason or message differ); a missing
/// condition is not added with status `False`. Returns whether it changed.
fn ensure_condition(conditions: &mut Vec<JobCondition>, type_: &str, status: &str, reason: &str, message: &str, now: Timestamp) -> bool {
    if let Some(c) = conditions.iter_mut().find(|c| c.type_ == type_) {
        let same =
            c.status == status && c.reason.as_deref().unwrap_or_default() == reason && c.message.as_deref().unwrap_or_default() == message;
        if !same {
            *c = new_condition(type_, status, reason, message, now);
        }
        return !same;
    }
    if status != "False" {
        conditions.push(new_condition(type_, status, reason, message, now));
        return true;
    }
    false
}

fn with_type(c: &JobCondition, type_: &str, now: Timestamp) -> JobCondition {
    new_condition(type_, "True", c.reason.as_deref().unwrap_or_default(), c.message.as_deref().unwrap_or_default(), now)
}

fn is_success_criteria_met(c: Option<&JobCondition>) -> bool {
    c.is_some_and(|c| c.type_ == CONDITION_SUCCESS_CRITERIA_MET && c.status == "True")
}

/// The job's settings as the sync reads them (defaults for absent fields).
struct Settings {
    indexed: bool,
    completions: Option<i32>,
    parallelism: i32,
    backoff_limit: i32,
    per_index: Option<i32>,
    suspended: bool,
    only_replace_failed: bool,
}

impl Settings {
    fn of(spec: &JobSpec) -> Settings {
        Settings {
            indexed: spec.completion_mode.as_deref() == Some("Indexed"),
            completions: spec.completions,
            parallelism: spec.parallelism.unwrap_or(1),
            // The API defaults backoffLimit to 6, or to MaxInt32 with backoffLimitPerIndex.
            backoff_limit: spec.backoff_limit.unwrap_or(if spec.backoff_limit_per_index.is_some() { i32::MAX } else { 6 }),
            per_index: spec.backoff_limit_per_index,
            suspended: spec.suspend == Some(true),
            // Upstream onlyReplaceFailedPods.
            only_replace_failed: spec.pod_replacement_policy.as_deref() == Some("Failed") || spec.pod_failure_policy.is_some(),
        }
    }

    fn completions_or_zero(&self) -> i32 {
        self.completions.unwrap_or(0)
    }
}

/// A sync after its decisions, before the pod actions ran.
pub struct Sync<'a> {
    job: &'a Job,
    spec: JobSpec,
    settings: Settings,
    now: Timestamp,
    pods: Vec<&'a Pod>,
    active_pods: Vec<&'a Pod>,
    status: JobStatus,
    uncounted_succeeded: BTreeSet<String>,
    uncounted_failed: BTreeSet<String>,
    expected_rm: &'a BTreeSet<String>,
    satisfied: bool,
    ready: i32,
    terminating: i32,
    succeeded: i32,
    failed: i32,
    prev_succeeded_indexes: OrderedIntervals,
    succeeded_indexes: OrderedIntervals,
    failed_indexes: Option<OrderedIntervals>,
    finished_condition: Option<JobCondition>,
    new_backoff: BackoffRecord,
    delayed_deletion_per_index: BTreeMap<i64, &'a Pod>,
    requeue_after: Option<Duration>,
    pod_actions: PodActions<'a>,
    manage_called: bool,
    /// What manageJob decided about the active count when it did not act
    /// on pods (`Some(0)` while waiting for a backoff, as upstream).
    active_override: Option<i32>,
}

impl<'a> Sync<'a> {
    /// The decisions of upstream `syncJob` up to the pod actions.
    pub fn start(input: SyncInput<'a>) -> Result<Sync<'a>, Skip> {
        let job = input.job;
        if let Some(name) = managed_by_external_controller(job) {
            return Err(Skip::ManagedByExternalController(name.to_string()));
        }
        if is_job_finished(job) {
            return Err(Skip::Finished);
        }
        let spec = job.spec.clone().unwrap_or_default();
        if spec.completion_mode.as_deref().is_some_and(|m| m != "NonIndexed" && m != "Indexed") {
            return Err(Skip::UnknownCompletionMode(Event::warning(
                "UnknownCompletionMode",
                "Skipped Job sync because completion mode is unknown",
            )));
        }
        let settings = Settings::of(&spec);
        let now = input.now;
        let mut status = job.status.clone().unwrap_or_default();
        let uncounted = status.uncounted_terminated_pods.get_or_insert_with(UncountedTerminatedPods::default).clone();
        let set = |v: Option<Vec<String>>| v.unwrap_or_default().into_iter().collect::<BTreeSet<_>>();
        let pods: Vec<&Pod> = input.pods.iter().collect();
        let active_pods: Vec<&Pod> = pods.iter().copied().filter(|p| is_pod_active(p)).collect();
        let mut sync = Sync {
            job,
            settings,
            now,
            ready: i32_of(active_pods.iter().filter(|p| is_pod_ready(p)).count()),
            terminating: i32_of(pods.iter().filter(|p| is_pod_terminating(p)).count()),
            pods,
            active_pods,
            uncounted_succeeded: set(uncounted.succeeded),
            uncounted_failed: set(uncounted.failed),
            expected_rm: input.expected_finalizer_removals,
            satisfied: input.expectations_satisfied,
            succeeded: 0,
            failed: 0,
            prev_succeeded_indexes: OrderedIntervals::default(),
            succeeded_indexes: OrderedIntervals::default(),
            failed_indexes: None,
            finished_condition: None,
            new_backoff: BackoffRecord::default(),
            delayed_deletion_per_index: BTreeMap::new(),
            requeue_after: None,
            pod_actions: PodActions::None,
            manage_called: false,
            active_override: None,
            status: JobStatus::default(),
            spec,
        };
        let (new_succeeded, new_failed) = sync.new_finished_pods();
        let policy = sync.spec.pod_failure_policy.as_ref();
        let non_ignored_failed = new_failed.iter().filter(|p| match_pod_failure_policy(policy, p).count_failed).count();
        sync.succeeded = status
            .succeeded
            .unwrap_or(0)
            .saturating_add(i32_of(new_succeeded.len()))
            .saturating_add(i32_of(sync.uncounted_succeeded.len()));
        sync.failed =
            status.failed.unwrap_or(0).saturating_add(i32_of(non_ignored_failed)).saturating_add(i32_of(sync.uncounted_failed.len()));
        if status.start_time.is_none() && !sync.settings.suspended {
            status.start_time = Some(Time(now));
        }
        sync.status = status;
        sync.new_backoff = BackoffRecord::next(input.backoff, &new_succeeded, &new_failed);
        sync.decide_finished();
        sync.decide_pod_actions();
        Ok(sync)
    }

    /// Upstream `getValidPodsWithFilter`: pods with the finalizer, not in
    /// `uncounted`, not expected to lose their finalizer, and (Indexed)
    /// with a valid index.
    fn valid_pods(&self, uncounted: Option<&BTreeSet<String>>, filter: impl Fn(&Pod) -> bool) -> Vec<&'a Pod> {
        let completions = i64::from(self.settings.completions_or_zero());
        self.pods
            .iter()
            .copied()
            .filter(|p| {
                let u = uid(p);
                has_tracking_finalizer(p)
                    && !uncounted.is_some_and(|s| s.contains(u))
                    && !self.expected_rm.contains(u)
                    && (!self.settings.indexed || completion_index(p).is_some_and(|ix| ix < completions))
                    && filter(p)
            })
            .collect()
    }

    /// Upstream `getNewFinishedPods`.
    fn new_finished_pods(&self) -> (Vec<&'a Pod>, Vec<&'a Pod>) {
        let succeeded = self.valid_pods(Some(&self.uncounted_succeeded), |p| phase(p) == "Succeeded");
        let failed = self.valid_pods(Some(&self.uncounted_failed), |p| self.is_pod_failed(p));
        (succeeded, failed)
    }

    /// Upstream `isPodFailed`: Failed, or (unless only failed pods are
    /// replaced) being deleted without having succeeded.
    fn is_pod_failed(&self, pod: &Pod) -> bool {
        if phase(pod) == "Failed" {
            return true;
        }
        if self.settings.only_replace_failed {
            return false;
        }
        pod.metadata.deletion_timestamp.is_some() && phase(pod) != "Succeeded"
    }

    fn failure_condition(&self, reason: &str, message: &str) -> JobCondition {
        new_condition(CONDITION_FAILURE_TARGET, "True", reason, message, self.now)
    }

    fn conditions(&self) -> &[JobCondition] {
        self.status.conditions.as_deref().unwrap_or_default()
    }

    /// The terminal-condition part of upstream `syncJob`.
    fn decide_finished(&mut self) {
        let now = self.now;
        self.finished_condition = find_condition(self.conditions(), CONDITION_SUCCESS_CRITERIA_MET).filter(|c| c.status == "True").cloned();
        if self.finished_condition.is_none() {
            if let Some(target) = find_condition(self.conditions(), CONDITION_FAILURE_TARGET).filter(|c| c.status == "True") {
                self.finished_condition = Some(with_type(target, CONDITION_FAILED, now));
            } else if let Some(message) = self.fail_job_message() {
                self.finished_condition = Some(self.failure_condition(REASON_POD_FAILURE_POLICY, &message));
            }
        }
        if self.finished_condition.is_none() {
            if self.failed > self.settings.backoff_limit || self.past_backoff_limit_on_failure() {
                self.finished_condition =
                    Some(self.failure_condition(REASON_BACKOFF_LIMIT_EXCEEDED, "Job has reached the specified backoff limit"));
            } else if self.past_active_deadline() {
                self.finished_condition =
                    Some(self.failure_condition(REASON_DEADLINE_EXCEEDED, "Job was active longer than specified deadline"));
            } else if let (Some(ads), false) = (self.spec.active_deadline_seconds, self.settings.suspended) {
                let start = self.status.start_time.as_ref().map_or(now, |t| t.0);
                let left = SignedDuration::from_secs(ads).checked_sub(now.duration_since(start)).unwrap_or(SignedDuration::ZERO);
                self.requeue(Duration::try_from(left).unwrap_or(Duration::ZERO));
            }
        }
        if self.settings.indexed {
            let completions = self.settings.completions_or_zero();
            self.prev_succeeded_indexes = OrderedIntervals::parse_opt(self.status.completed_indexes.as_deref(), completions);
            let new: BTreeSet<i64> = self
                .pods
                .iter()
                .filter(|p| phase(p) == "Succeeded" && has_tracking_finalizer(p))
                .filter_map(|p| completion_index(p).filter(|ix| *ix < i64::from(completions)))
                .collect();
            self.succeeded_indexes = self.prev_succeeded_indexes.with_ordered_indexes(new);
            self.succeeded = i32::try_from(self.succeeded_indexes.total()).unwrap_or(i32::MAX);
            if let Some(per_index) = self.settings.per_index {
                let failed_indexes = self.calculate_failed_indexes(per_index);
                let total = failed_indexes.total();
                self.failed_indexes = Some(failed_indexes);
                if self.finished_condition.is_none() {
                    if self.spec.max_failed_indexes.is_some_and(|max| total > i64::from(max)) {
                        self.finished_condition = Some(self.failure_condition(
                            REASON_MAX_FAILED_INDEXES_EXCEEDED,
                            "Job has exceeded the specified maximal number of failed indexes",
                        ));
                    } else if total > 0 && total + self.succeeded_indexes.total() >= i64::from(completions) {
                        self.finished_condition = Some(self.failure_condition(REASON_FAILED_INDEXES, "Job has failed indexes"));
                    }
                }
                self.delayed_deletion_per_index = self.pods_with_delayed_deletion_per_index();
            }
            if self.finished_condition.is_none()
                && let Some(message) = match_success_policy(self.spec.success_policy.as_ref(), completions, &self.succeeded_indexes)
            {
                self.finished_condition = Some(new_condition(CONDITION_SUCCESS_CRITERIA_MET, "True", REASON_SUCCESS_POLICY, &message, now));
            }
        }
    }

    fn requeue(&mut self, after: Duration) {
        self.requeue_after = Some(self.requeue_after.map_or(after, |d| d.min(after)));
    }

    /// Upstream `getFailJobMessage`: the message of the first failed pod
    /// matching a `FailJob` rule.
    fn fail_job_message(&self) -> Option<String> {
        let policy = self.spec.pod_failure_policy.as_ref()?;
        self.pods.iter().filter(|p| self.is_pod_failed(p)).find_map(|p| match_pod_failure_policy(Some(policy), p).job_failure_message)
    }

    /// Upstream `pastBackoffLimitOnFailure`: with `restartPolicy: OnFailure`,
    /// container restarts of running and pending pods count as failures.
    fn past_backoff_limit_on_failure(&self) -> bool {
        let restart = self.spec.template.spec.as_ref().and_then(|s| s.restart_policy.as_deref());
        if restart != Some("OnFailure") {
            return false;
        }
        let mut restarts: i64 = 0;
        for p in self.pods.iter().filter(|p| matches!(phase(p), "Running" | "Pending")) {
            let Some(status) = p.status.as_ref() else { continue };
            for cs in status.init_container_statuses.iter().flatten().chain(status.container_statuses.iter().flatten()) {
                restarts += i64::from(cs.restart_count);
            }
        }
        if self.settings.backoff_limit == 0 {
            return restarts > 0;
        }
        restarts >= i64::from(self.settings.backoff_limit)
    }

    /// Upstream `pastActiveDeadline`.
    fn past_active_deadline(&self) -> bool {
        let (Some(ads), Some(start)) = (self.spec.active_deadline_seconds, self.status.start_time.as_ref()) else { return false };
        if self.settings.suspended {
            return false;
        }
        self.now.duration_since(start.0) >= SignedDuration::from_secs(ads)
    }

    /// Upstream `calculateFailedIndexes`.
    fn calculate_failed_indexes(&self, per_index: i32) -> OrderedIntervals {
        let completions = self.settings.completions_or_zero();
        let prev = OrderedIntervals::parse_opt(self.status.failed_indexes.as_deref(), completions);
        let policy = self.spec.pod_failure_policy.as_ref();
        let new: BTreeSet<i64> = self
            .pods
            .iter()
            .filter(|p| has_tracking_finalizer(p))
            .filter_map(|p| {
                let ix = completion_index(p).filter(|ix| *ix < i64::from(completions))?;
                // Upstream isIndexFailed.
                if !self.is_pod_failed(p) {
                    return None;
                }
                let m = match_pod_failure_policy(policy, p);
                if m.action == Some(Action::FailIndex) {
                    return Some(ix);
                }
                (m.count_failed && index_failure_count(p) >= per_index).then_some(ix)
            })
            .collect();
        prev.with_ordered_indexes(new)
    }

    /// Upstream `getPodsWithDelayedDeletionPerIndex`: per pending index, the
    /// last failed pod, kept until its replacement carries its counters.
    fn pods_with_delayed_deletion_per_index(&self) -> BTreeMap<i64, &'a Pod> {
        let active = indexes_of(self.active_pods.iter().copied());
        let failed = self.failed_indexes.clone().unwrap_or_default();
        let mut out: BTreeMap<i64, &Pod> = BTreeMap::new();
        for p in self.valid_pods(None, |p| self.is_pod_failed(p)) {
            let Some(ix) = completion_index(p) else { continue };
            if self.succeeded_indexes.has(ix) || failed.has(ix) || active.contains(&ix) {
                continue;
            }
            match out.get(&ix) {
                Some(last)
                    if !(index_absolute_failure_count(last) <= index_absolute_failure_count(p)
                        && finished_time(p) >= finished_time(last)) => {}
                _ => {
                    out.insert(ix, p);
                }
            }
        }
        out
    }

    /// What to do with pods: delete the active ones when finishing, else
    /// upstream `manageJob` (when expectations are satisfied and the Job is
    /// not being deleted).
    fn decide_pod_actions(&mut self) {
        if self.finished_condition.is_some() {
            if !self.active_pods.is_empty() {
                self.pod_actions = PodActions::DeleteActive(self.active_pods.clone());
            }
            return;
        }
        if self.satisfied && self.job.metadata.deletion_timestamp.is_none() {
            self.manage_called = true;
            self.manage();
        }
    }

    /// Upstream `activePodsForRemoval`.
    fn active_pods_for_removal(&self, rm_at_least: usize) -> Vec<&'a Pod> {
        let (mut rm, left) = if self.settings.indexed {
            duplicated_index_pods_for_removal(&self.active_pods, self.settings.completions_or_zero())
        } else {
            (Vec::new(), self.active_pods.clone())
        };
        if rm.len() < rm_at_least {
            let left = sort_active_pods(left);
            let need = (rm_at_least - rm.len()).min(left.len());
            rm.extend_from_slice(&left[..need]);
        }
        rm
    }

    /// Upstream `manageJob` without its I/O.
    fn manage(&mut self) {
        let active = i64::try_from(self.active_pods.len()).unwrap_or(i64::MAX);
        if self.settings.suspended {
            let all = self.active_pods_for_removal(self.active_pods.len());
            if !all.is_empty() {
                self.pod_actions = PodActions::Delete(all);
            }
            return;
        }
        let parallelism = i64::from(self.settings.parallelism);
        let want_active = match self.settings.completions {
            None if self.succeeded > 0 => active,
            None => parallelism,
            Some(c) => (i64::from(c) - i64::from(self.succeeded)).min(parallelism).max(0),
        };
        let rm_at_least = usize::try_from((active - want_active).max(0)).unwrap_or(0);
        let mut to_delete = self.active_pods_for_removal(rm_at_least);
        to_delete.truncate(MAX_POD_CREATE_DELETE_PER_SYNC);
        if !to_delete.is_empty() {
            self.pod_actions = PodActions::Delete(to_delete);
            return;
        }
        let terminating = if self.settings.only_replace_failed { i64::from(self.terminating) } else { 0 };
        let diff = want_active - terminating - active;
        if diff <= 0 {
            return;
        }
        if self.settings.per_index.is_none() {
            let remaining = self.new_backoff.remaining_time(self.now, DEFAULT_POD_FAILURE_BACKOFF, MAX_POD_FAILURE_BACKOFF);
            if remaining > Duration::ZERO {
                self.requeue(remaining.max(SYNC_JOB_BATCH_PERIOD));
                self.active_override = Some(0);
                return;
            }
        }
        let diff = usize::try_from(diff).unwrap_or(usize::MAX).min(MAX_POD_CREATE_DELETE_PER_SYNC);
        let indexes: Vec<Option<i64>> = if self.settings.indexed {
            let mut indexes = first_pending_indexes(&self.non_pending_indexes(), diff, self.settings.completions_or_zero());
            if self.settings.per_index.is_some() {
                let (now_ready, remaining) = self.indexes_ready_to_create(&indexes);
                if remaining > Duration::ZERO {
                    self.requeue(remaining.max(SYNC_JOB_BATCH_PERIOD));
                    self.active_override = Some(0);
                    return;
                }
                indexes = now_ready;
            }
            indexes.into_iter().map(Some).collect()
        } else {
            vec![None; diff]
        };
        let pods: Vec<Pod> = indexes
            .into_iter()
            .filter_map(|ix| new_pod(self.job, ix, ix.and_then(|ix| self.delayed_deletion_per_index.get(&ix).copied())))
            .collect();
        if !pods.is_empty() {
            self.pod_actions = PodActions::Create(pods);
        }
    }

    /// The indexes no pod is to be created for: succeeded, active, failed,
    /// and with `podReplacementPolicy: Failed` terminating ones.
    fn non_pending_indexes(&self) -> OrderedIntervals {
        let mut non_pending = self.succeeded_indexes.with_ordered_indexes(indexes_of(self.active_pods.iter().copied()));
        if self.settings.only_replace_failed {
            non_pending = non_pending.with_ordered_indexes(indexes_of(self.pods.iter().copied().filter(|p| is_pod_terminating(p))));
        }
        if let Some(failed) = &self.failed_indexes {
            non_pending = non_pending.merge(failed);
        }
        non_pending
    }

    /// Upstream `getPodCreationInfoForIndependentIndexes`: the indexes whose
    /// backoff is over, or none and the shortest remaining backoff.
    fn indexes_ready_to_create(&self, indexes: &[i64]) -> (Vec<i64>, Duration) {
        let mut ready = Vec::new();
        let mut min_remaining: Option<Duration> = None;
        for ix in indexes {
            let last_failed = self.delayed_deletion_per_index.get(ix).copied();
            let remaining = remaining_time_per_index(last_failed, self.now, DEFAULT_POD_FAILURE_BACKOFF, MAX_POD_FAILURE_BACKOFF);
            if remaining.is_zero() {
                ready.push(*ix);
            } else if min_remaining.is_none_or(|m| remaining < m) {
                min_remaining = Some(remaining);
            }
        }
        if ready.is_empty() { (ready, min_remaining.unwrap_or(Duration::ZERO)) } else { (ready, Duration::ZERO) }
    }

    /// The pod actions to run before [`Sync::after_pod_actions`].
    pub fn pod_actions(&self) -> &PodActions<'a> {
        &self.pod_actions
    }

    /// When to sync the Job again regardless of events (the earliest of the
    /// `activeDeadlineSeconds` deadline and the end of a pod-failure backoff).
    pub fn requeue_after(&self) -> Option<Duration> {
        self.requeue_after
    }

    /// Whether upstream's manageJob ran (expectations satisfied, Job not
    /// being deleted, not finishing): the metrics' sync action.
    pub fn manage_called(&self) -> bool {
        self.manage_called
    }

    /// Why the pods of [`PodActions::Create`] are created (upstream's
    /// `job_pods_creation_total` reason).
    pub fn creation_reason(&self) -> &'static str {
        crate::metrics::creation_reason(self.job, i64::from(self.failed), i64::from(self.terminating))
    }

    /// The terminal condition the sync is heading for, if any (before the
    /// outcome of the pod deletions is known).
    pub fn finished_condition(&self) -> Option<&JobCondition> {
        self.finished_condition.as_ref()
    }

    /// The rest of upstream `syncJob` once the pod actions ran: counts
    /// after the actions, completion, the Suspended condition, then the
    /// tracking of finished pods (up to the first status write).
    pub fn after_pod_actions(mut self, outcome: &PodActionsOutcome) -> Tracking<'a> {
        let mut active = i32_of(self.active_pods.len());
        let mut events = Vec::new();
        let mut suspend_changed = false;
        let deleted_ready = |pods: &[&Pod]| i32_of(pods.iter().filter(|p| outcome.deleted.contains(uid(p)) && is_pod_ready(p)).count());
        let deleted = |pods: &[&Pod]| i32_of(pods.iter().filter(|p| outcome.deleted.contains(uid(p))).count());
        if self.finished_condition.is_some() {
            let (removed, removed_ready) = match &self.pod_actions {
                PodActions::DeleteActive(pods) => (deleted(pods), deleted_ready(pods)),
                _ => (0, 0),
            };
            if removed != active || !self.satisfied {
                // Pods may remain, or not be in the cache yet: not finished yet.
                self.finished_condition = None;
            }
            active -= removed;
            self.terminating += removed;
            self.ready -= removed_ready;
        } else {
            match &self.pod_actions {
                PodActions::Delete(pods) => {
                    let removed = deleted(pods);
                    active -= removed;
                    self.terminating += removed;
                    self.ready -= deleted_ready(pods);
                }
                PodActions::Create(_) => active = active.saturating_add(i32_of(outcome.created)),
                _ => {}
            }
            if let Some(a) = self.active_override {
                active = a;
            }
            let complete = match self.settings.completions {
                None => self.succeeded > 0 && active == 0,
                Some(c) => self.succeeded >= c && active == 0,
            };
            if complete {
                self.finished_condition = Some(new_condition(
                    CONDITION_SUCCESS_CRITERIA_MET,
                    "True",
                    REASON_COMPLETIONS_REACHED,
                    "Reached expected number of succeeded pods",
                    self.now,
                ));
            } else if self.manage_called {
                let now = self.now;
                let conditions = self.status.conditions.get_or_insert_with(Vec::new);
                if self.settings.suspended {
                    if ensure_condition(conditions, CONDITION_SUSPENDED, "True", "JobSuspended", "Job suspended", now) {
                        suspend_changed = true;
                        events.push(Event::normal("Suspended", "Job suspended"));
                    }
                } else if ensure_condition(conditions, CONDITION_SUSPENDED, "False", "JobResumed", "Job resumed", now) {
                    suspend_changed = true;
                    events.push(Event::normal("Resumed", "Job resumed"));
                    // activeDeadlineSeconds counts from the resumption.
                    self.status.start_time = Some(Time(now));
                }
                if conditions.is_empty() {
                    self.status.conditions = None;
                }
            }
        }
        let needs_flush = suspend_changed
            || self.status.active.unwrap_or(0) != active
            || self.status.ready != Some(self.ready)
            || self.status.terminating != Some(self.terminating);
        self.status.active = Some(active);
        self.status.ready = Some(self.ready);
        self.status.terminating = Some(self.terminating);
        Tracking::new(self, needs_flush, events)
    }
}

/// A sync between its first status write and the finalizer removals.
pub struct Tracking<'a> {
    sync: Sync<'a>,
    events: Vec<Event>,
    first_update: Option<JobStatus>,
    finalizers_to_remove: Vec<&'a Pod>,
    uids_with_finalizer: BTreeSet<String>,
    reached_max_uncounted: bool,
    flushed: bool,
    /// Failed pods handled by the pod failure policy, by the matching
    /// rule's action (`FailJob`, `Ignore`, `Count`, `FailIndex`).
    policy_actions: BTreeMap<String, u64>,
}

impl<'a> Tracking<'a> {
    /// Upstream `trackJobStatusAndRemoveFinalizers` up to the first write.
    fn new(mut sync: Sync<'a>, mut needs_flush: bool, events: Vec<Event>) -> Tracking<'a> {
        let indexed = sync.settings.indexed;
        let completions = i64::from(sync.settings.completions_or_zero());
        if indexed {
            sort_by_completion_index(&mut sync.pods);
        }
        let uids_with_finalizer: BTreeSet<String> = sync
            .pods
            .iter()
            .filter(|p| has_tracking_finalizer(p) && !sync.expected_rm.contains(uid(p)))
            .map(|p| uid(p).to_string())
            .collect();
        if clean_uncounted(&mut sync.status, &uids_with_finalizer) {
            needs_flush = true;
        }
        let policy = sync.spec.pod_failure_policy.clone();
        let mut uncounted = sync.status.uncounted_terminated_pods.take().unwrap_or_default();
        let (mut new_succeeded_uids, mut new_failed_uids) =
            (uncounted.succeeded.take().unwrap_or_default(), uncounted.failed.take().unwrap_or_default());
        let mut to_remove: Vec<&Pod> = Vec::new();
        let mut new_succeeded_indexes: Vec<i64> = Vec::new();
        let mut reached_max = false;
        let mut policy_actions: BTreeMap<String, u64> = BTreeMap::new();
        let terminal_failure = sync.finished_condition.as_ref().is_some_and(|c| !is_success_criteria_met(Some(c)));
        for &pod in &sync.pods {
            let u = uid(pod);
            if !has_tracking_finalizer(pod) || sync.expected_rm.contains(u) {
                continue;
            }
            let failed = sync.is_pod_failed(pod);
            if !sync.can_remove_finalizer(pod, failed) {
                continue;
            }
            to_remove.push(pod);
            let ix = completion_index(pod);
            if phase(pod) == "Succeeded" && !sync.uncounted_failed.contains(u) {
                if indexed {
                    if let Some(ix) = ix.filter(|ix| *ix < completions && !sync.prev_succeeded_indexes.has(*ix)) {
                        new_succeeded_indexes.push(ix);
                        needs_flush = true;
                    }
                } else if !sync.uncounted_succeeded.contains(u) {
                    needs_flush = true;
                    new_succeeded_uids.push(u.to_string());
                }
            } else if (failed || terminal_failure)
                && !sync.uncounted_failed.contains(u)
                && (!indexed || ix.is_some_and(|ix| ix < completions))
            {
                let matched = match_pod_failure_policy(policy.as_ref(), pod);
                if let Some(action) = matched.action.filter(|_| policy.is_some()) {
                    *policy_actions.entry(format!("{action:?}")).or_default() += 1;
                }
                if matched.count_failed {
                    needs_flush = true;
                    new_failed_uids.push(u.to_string());
                }
            }
            if new_succeeded_indexes.len() + new_succeeded_uids.len() + new_failed_uids.len() >= MAX_UNCOUNTED_PODS {
                reached_max = true;
                break;
            }
        }
        uncounted.succeeded = (!new_succeeded_uids.is_empty()).then_some(new_succeeded_uids);
        uncounted.failed = (!new_failed_uids.is_empty()).then_some(new_failed_uids);
        sync.status.uncounted_terminated_pods = Some(uncounted);
        if indexed {
            sync.succeeded_indexes = sync.succeeded_indexes.with_ordered_indexes(new_succeeded_indexes);
            let completed = sync.succeeded_indexes.to_string();
            if sync.status.completed_indexes.as_deref().unwrap_or_default() != completed {
                needs_flush = true;
            }
            sync.status.succeeded = Some(i32::try_from(sync.succeeded_indexes.total()).unwrap_or(i32::MAX));
            sync.status.completed_indexes = Some(completed);
            let failed = sync.failed_indexes.as_ref().map(|f| f.to_string());
            if sync.status.failed_indexes != failed {
                sync.status.failed_indexes = failed;
                needs_flush = true;
            }
        }
        let now = sync.now;
        if let Some(c) = sync.finished_condition.clone().filter(|c| c.type_ == CONDITION_FAILURE_TARGET) {
            sync.status.conditions.get_or_insert_with(Vec::new).push(c.clone());
            needs_flush = true;
            sync.finished_condition = Some(with_type(&c, CONDITION_FAILED, now));
        }
        if let Some(c) = sync.finished_condition.clone().filter(|c| is_success_criteria_met(Some(c))) {
            let has = sync.conditions().iter().any(|x| x.type_ == CONDITION_SUCCESS_CRITERIA_MET && x.status == "True");
            if !has {
                sync.status.conditions.get_or_insert_with(Vec::new).push(c.clone());
                needs_flush = true;
            }
            sync.finished_condition = Some(with_type(&c, CONDITION_COMPLETE, now));
        }
        Tracking {
            first_update: needs_flush.then(|| sync.status.clone()),
            flushed: needs_flush,
            sync,
            events,
            finalizers_to_remove: to_remove,
            uids_with_finalizer,
            reached_max_uncounted: reached_max,
            policy_actions,
        }
    }

    /// Events of the sync so far (`Suspended`, `Resumed`), recorded by upstream right away.
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    /// PHASE 1: the status to write before any finalizer is removed, if it changed.
    pub fn status_update(&self) -> Option<&JobStatus> {
        self.first_update.as_ref()
    }

    /// The backoff record to store once [`Tracking::status_update`] was
    /// written (`None`: keep the stored one; upstream updates its store
    /// only after a successful write).
    pub fn backoff_record(&self) -> Option<BackoffRecord> {
        self.flushed.then_some(self.sync.new_backoff)
    }

    /// The failed pods this sync handled by the pod failure policy, by
    /// action: for upstream's `pod_failures_handled_by_failure_policy_total`
    /// once [`Tracking::status_update`] was written.
    pub fn failures_by_policy_action(&self) -> &BTreeMap<String, u64> {
        &self.policy_actions
    }

    /// PHASE 2: the pods whose tracking finalizer is to be removed once
    /// phase 1 was written.
    pub fn finalizers_to_remove(&self) -> &[&'a Pod] {
        &self.finalizers_to_remove
    }

    /// When to sync again regardless of events.
    pub fn requeue_after(&self) -> Option<Duration> {
        self.sync.requeue_after
    }

    /// PHASE 3 (upstream `flushUncountedAndRemoveFinalizers`' end and
    /// `enactJobFinished`): given the uids whose finalizer is gone (patched,
    /// or 404) and whether any removal failed, the status to write and the
    /// events to record after it.
    pub fn complete(mut self, removed: &BTreeSet<String>, removal_failed: bool) -> Completion {
        for u in removed {
            self.uids_with_finalizer.remove(u);
        }
        let sync = &mut self.sync;
        let mut needs_flush = clean_uncounted(&mut sync.status, &self.uids_with_finalizer);
        if removal_failed {
            return Completion { status_update: needs_flush.then(|| sync.status.clone()), events: Vec::new(), finished: false };
        }
        let finished = !self.reached_max_uncounted && sync.enact_finished();
        if finished {
            needs_flush = true;
        }
        let mut events = Vec::new();
        match sync.finished_condition.as_ref().filter(|_| finished) {
            Some(c) if c.type_ == CONDITION_COMPLETE => {
                if sync.settings.completions.is_some_and(|want| sync.status.succeeded.unwrap_or(0) > want) {
                    events.push(Event::warning("TooManySucceededPods", "Too many succeeded pods running after completion count reached"));
                }
                events.push(Event::normal("Completed", "Job completed"));
            }
            Some(c) => events.push(Event::warning(c.reason.as_deref().unwrap_or_default(), c.message.clone().unwrap_or_default())),
            None => {}
        }
        Completion { status_update: needs_flush.then(|| sync.status.clone()), events, finished }
    }
}

impl Sync<'_> {
    /// Upstream `canRemoveFinalizer`.
    fn can_remove_finalizer(&self, pod: &Pod, failed: bool) -> bool {
        if self.job.metadata.deletion_timestamp.is_some() || self.finished_condition.is_some() || phase(pod) == "Succeeded" {
            return true;
        }
        if !failed {
            return false;
        }
        // With backoffLimitPerIndex, the last failed pod of a pending index
        // waits for its replacement (which copies its failure counters).
        let delayed = self.settings.per_index.is_some()
            && completion_index(pod).and_then(|ix| self.delayed_deletion_per_index.get(&ix)).is_some_and(|p| uid(p) == uid(pod));
        !delayed
    }

    /// Upstream `enactJobFinished`: the terminal condition once nothing is
    /// uncounted or terminating.
    fn enact_finished(&mut self) -> bool {
        let Some(c) = self.finished_condition.clone() else { return false };
        let uncounted = self.status.uncounted_terminated_pods.as_ref();
        let count = uncounted.map_or(0, |u| u.succeeded.as_ref().map_or(0, Vec::len) + u.failed.as_ref().map_or(0, Vec::len));
        if count > 0 || self.terminating > 0 {
            return false;
        }
        let conditions = self.status.conditions.get_or_insert_with(Vec::new);
        ensure_condition(
            conditions,
            &c.type_,
            &c.status,
            c.reason.as_deref().unwrap_or_default(),
            c.message.as_deref().unwrap_or_default(),
            self.now,
        );
        if c.type_ == CONDITION_COMPLETE {
            self.status.completion_time = c.last_transition_time.clone();
        }
        true
    }
}

/// The end of a sync.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// PHASE 3: the status to write, if it changed.
    pub status_update: Option<JobStatus>,
    /// To record once that write succeeded.
    pub events: Vec<Event>,
    /// The Job got its `Complete` or `Failed` condition (drop its backoff record).
    pub finished: bool,
}

/// Upstream `cleanUncountedPodsWithoutFinalizers`: uids whose pod no
/// longer holds the finalizer move from the uncounted lists to the
/// counters. Returns whether anything moved.
fn clean_uncounted(status: &mut JobStatus, with_finalizer: &BTreeSet<String>) -> bool {
    let mut changed = false;
    let uncounted = status.uncounted_terminated_pods.get_or_insert_with(UncountedTerminatedPods::default);
    for (list, counter) in [(&mut uncounted.succeeded, &mut status.succeeded), (&mut uncounted.failed, &mut status.failed)] {
        let before = list.as_ref().map_or(0, Vec::len);
        let kept: Vec<String> = list.take().unwrap_or_default().into_iter().filter(|u| with_finalizer.contains(u)).collect();
        if kept.len() != before {
            changed = true;
            *counter = Some(counter.unwrap_or(0).saturating_add(i32_of(before - kept.len())));
        }
        *list = (!kept.is_empty()).then_some(kept);
    }
    changed
}

#[cfg(test)]
mod tests;
