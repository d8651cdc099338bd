//! What a Deployment sync decides, as upstream `pkg/controller/deployment`
//! (`sync.go`, `rolling.go`, `recreate.go`, `progress.go`, `rollback.go`)
//! does it, without the I/O: each function takes the Deployment and its
//! ReplicaSets (and `now` where time matters) and returns the status to
//! write, the ReplicaSets to scale or delete, the events to record.
//!
//! Upstream interleaves API calls with the arithmetic and keeps going on
//! local copies; here the same sequence is computed up front and returned
//! as an ordered list of [`ScaleAction`]s. A caller executes them in order
//! and stops at the first failure (upstream returns the error, except in
//! `reconcileOldReplicaSets`, which swallows it and carries on with the
//! next steps of the sync).
//!
//! `all_rss` arguments are the old ReplicaSets followed by the new one
//! when there is one (upstream's `append(oldRSs, newRS)`).

use std::collections::BTreeMap;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetSpec};
use k8s_openapi::api::core::v1::{Pod, PodTemplateSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use rudder_common::controller_ref::{controller_of, new_controller_ref};

use crate::util::*;

/// Event reason of every replica count change the Deployment makes.
pub const SCALING_REPLICA_SET_REASON: &str = "ScalingReplicaSet";
/// Event type `Normal`.
pub const EVENT_NORMAL: &str = "Normal";
/// Event type `Warning`.
pub const EVENT_WARNING: &str = "Warning";

/// An event to record on the Deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// `Normal` or `Warning`.
    pub type_: &'static str,
    pub reason: &'static str,
    pub message: String,
}

impl Event {
    fn normal(reason: &'static str, message: String) -> Self {
        Event { type_: EVENT_NORMAL, reason, message }
    }

    fn warning(reason: &'static str, message: String) -> Self {
        Event { type_: EVENT_WARNING, reason, message }
    }
}

/// Upstream `scaleReplicaSet`'s event: (`ScalingReplicaSet`, "Scaled up
/// replica set NAME from 1 to 3"); "down" when `to` is not above `from`.
pub fn scaling_replica_set_event(name: &str, from: i32, to: i32) -> (&'static str, String) {
    let operation = if from < to { "up" } else { "down" };
    (SCALING_REPLICA_SET_REASON, format!("Scaled {operation} replica set {name} from {from} to {to}"))
}

/// One ReplicaSet update of upstream `scaleReplicaSet`: `spec.replicas`
/// goes from `from` to `to` and the desired/max-replicas annotations are
/// set to the Deployment's current values. `from == to` happens only in
/// [`scale`], for ReplicaSets whose annotations alone are stale.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScaleAction {
    pub name: String,
    pub namespace: Option<String>,
    pub uid: Option<String>,
    pub from: i32,
    pub to: i32,
}

impl ScaleAction {
    /// The action scaling `rs` to `to`.
    pub fn new(rs: &ReplicaSet, to: i32) -> Self {
        ScaleAction {
            name: rs.metadata.name.clone().unwrap_or_default(),
            namespace: rs.metadata.namespace.clone(),
            uid: rs.metadata.uid.clone(),
            from: rs_replicas(rs),
            to,
        }
    }

    /// True when `spec.replicas` changes.
    pub fn resizes(&self) -> bool {
        self.from != self.to
    }

    /// The `ScalingReplicaSet` event upstream records once the update
    /// succeeded, when the size changed.
    pub fn event(&self) -> Option<Event> {
        self.resizes().then(|| {
            let (reason, message) = scaling_replica_set_event(&self.name, self.from, self.to);
            Event::normal(reason, message)
        })
    }

    /// The updated copy of `rs` to send (upstream `scaleReplicaSet`).
    pub fn apply(&self, rs: &ReplicaSet, d: &Deployment) -> ReplicaSet {
        scaled_replica_set(rs, self.to, d)
    }
}

/// A copy of `rs` with `spec.replicas = new_scale` and the replicas
/// annotations of `d` (`spec.replicas`, `spec.replicas + maxSurge`).
pub fn scaled_replica_set(rs: &ReplicaSet, new_scale: i32, d: &Deployment) -> ReplicaSet {
    let mut copy = rs.clone();
    copy.spec.get_or_insert_with(ReplicaSetSpec::default).replicas = Some(new_scale);
    let replicas = deployment_replicas(d);
    set_replicas_annotations(&mut copy, replicas, replicas.wrapping_add(max_surge(d)));
    copy
}

/// Upstream `scaleReplicaSetAndRecordEvent`: an action only when the size changes.
fn scale_if_resized(rs: &ReplicaSet, to: i32) -> Option<ScaleAction> {
    (rs_replicas(rs) != to).then(|| ScaleAction::new(rs, to))
}

fn replicas_annotations_stale(rs: &ReplicaSet, d: &Deployment) -> bool {
    let replicas = deployment_replicas(d);
    replicas_annotations_need_update(rs, replicas, replicas.wrapping_add(max_surge(d)))
}

fn qualified_name(rs: &ReplicaSet) -> String {
    format!("{}/{}", rs.metadata.namespace.as_deref().unwrap_or_default(), rs.metadata.name.as_deref().unwrap_or_default())
}

/// The old ReplicaSets followed by the new one, if any.
pub fn all_replica_sets<'a>(new_rs: Option<&'a ReplicaSet>, old_rss: &[&'a ReplicaSet]) -> Vec<&'a ReplicaSet> {
    let mut all = old_rss.to_vec();
    all.extend(new_rs);
    all
}

// ---------------------------------------------------------------------------
// Which path a sync takes (deployment_controller.go syncDeployment).

/// Upstream `syncDeployment`'s guard against an empty selector (it would
/// select every pod): the Warning `SelectingAll` event and, when the
/// observed generation is behind, the status to write; the sync stops
/// there. As upstream (`reflect.DeepEqual` with an empty selector), only
/// a selector with neither matchLabels nor matchExpressions counts.
pub fn selecting_all(d: &Deployment) -> Option<(Event, Option<DeploymentStatus>)> {
    let selector = &d.spec.as_ref()?.selector;
    if selector.match_labels.is_some() || selector.match_expressions.is_some() {
        return None;
    }
    let event = Event::warning("SelectingAll", "This deployment is selecting all pods. A non-empty selector is required.".to_string());
    let generation = d.metadata.generation.unwrap_or(0);
    let status = d.status.clone().unwrap_or_default();
    let update = (status.observed_generation.unwrap_or(0) < generation)
        .then_some(DeploymentStatus { observed_generation: Some(generation), ..status });
    Some((event, update))
}

/// The path of one sync, after the ReplicaSets were claimed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SyncPath {
    /// Being deleted: upstream `syncStatusOnly` (new ReplicaSet not
    /// created, status from [`calculate_status`], written when changed).
    StatusOnly,
    /// Paused, or a scaling event: upstream `sync` ([`scale`], then
    /// [`cleanup_deployment`] when [`sync_cleans_up`], then the status
    /// from [`calculate_status`] over the ReplicaSets as they were before
    /// scaling). [`check_paused_conditions`] comes first, for every
    /// Deployment not being deleted.
    Scale,
    /// A legacy rollback is requested: [`plan_rollback`].
    Rollback,
    /// [`plan_recreate`].
    Recreate,
    /// [`plan_rolling_update`].
    RollingUpdate,
    /// Upstream's error "unexpected deployment strategy type: TYPE".
    UnexpectedStrategy(String),
}

/// Upstream `syncDeployment`'s choice of path; `new_rs`/`old_rss` as
/// found by [`find_new_replica_set`]/[`find_old_replica_sets`] (for
/// [`is_scaling_event`]).
pub fn sync_path(d: &Deployment, new_rs: Option<&ReplicaSet>, old_rss: &[&ReplicaSet]) -> SyncPath {
    if d.metadata.deletion_timestamp.is_some() {
        return SyncPath::StatusOnly;
    }
    if d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false) {
        return SyncPath::Scale;
    }
    if rollback_to(d).is_some() {
        return SyncPath::Rollback;
    }
    if is_scaling_event(d, new_rs, old_rss) {
        return SyncPath::Scale;
    }
    match strategy_type(d) {
        RECREATE_STRATEGY => SyncPath::Recreate,
        ROLLING_UPDATE_STRATEGY => SyncPath::RollingUpdate,
        other => SyncPath::UnexpectedStrategy(format!("unexpected deployment strategy type: {other}")),
    }
}

/// Upstream `sync` cleans up old ReplicaSets only for a paused Deployment
/// without a rollback in flight.
pub fn sync_cleans_up(d: &Deployment) -> bool {
    d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false) && rollback_to(d).is_none()
}

// ---------------------------------------------------------------------------
// Status (sync.go, progress.go).

fn non_zero(v: i32) -> Option<i32> {
    (v != 0).then_some(v)
}

/// A status as the API server hands it back: zero counts and an empty
/// condition list left out (`omitempty`), `terminatingReplicas` and
/// `collisionCount` kept (pointers).
pub fn normalize_status(status: &DeploymentStatus) -> DeploymentStatus {
    DeploymentStatus {
        observed_generation: status.observed_generation.filter(|g| *g != 0),
        replicas: status.replicas.filter(|v| *v != 0),
        updated_replicas: status.updated_replicas.filter(|v| *v != 0),
        ready_replicas: status.ready_replicas.filter(|v| *v != 0),
        available_replicas: status.available_replicas.filter(|v| *v != 0),
        unavailable_replicas: status.unavailable_replicas.filter(|v| *v != 0),
        terminating_replicas: status.terminating_replicas,
        collision_count: status.collision_count,
        conditions: status.conditions.clone().filter(|c| !c.is_empty()),
    }
}

/// Upstream's `reflect.DeepEqual(d.Status, newStatus)`: nothing to write.
pub fn status_unchanged(d: &Deployment, new_status: &DeploymentStatus) -> bool {
    normalize_status(&d.status.clone().unwrap_or_default()) == normalize_status(new_status)
}

/// Upstream `calculateStatus`: the counts over all ReplicaSets (updated:
/// the new one's), `terminatingReplicas` (the DeploymentReplicaSetTerminatingReplicas
/// gate is on by default in v1.36; unknown when an observed ReplicaSet
/// lacks it), `collisionCount` carried over, the current conditions and
/// the Available condition: True (`MinimumReplicasAvailable`) when at
/// least `spec.replicas - maxUnavailable` are available. The result is
/// normalized as by [`normalize_status`].
pub fn calculate_status(all_rss: &[&ReplicaSet], new_rs: Option<&ReplicaSet>, d: &Deployment, now: Timestamp) -> DeploymentStatus {
    let available = get_available_replica_count_for_replica_sets(all_rss);
    let total = get_replica_count_for_replica_sets(all_rss);
    let unavailable = total.wrapping_sub(available).max(0);
    let current = d.status.clone().unwrap_or_default();
    let new_only: Vec<&ReplicaSet> = new_rs.into_iter().collect();
    let mut status = DeploymentStatus {
        observed_generation: d.metadata.generation.filter(|g| *g != 0),
        replicas: non_zero(get_actual_replica_count_for_replica_sets(all_rss)),
        updated_replicas: non_zero(get_actual_replica_count_for_replica_sets(&new_only)),
        ready_replicas: non_zero(get_ready_replica_count_for_replica_sets(all_rss)),
        available_replicas: non_zero(available),
        unavailable_replicas: non_zero(unavailable),
        terminating_replicas: get_terminating_replica_count_for_replica_sets(all_rss),
        collision_count: current.collision_count,
        conditions: current.conditions.filter(|c| !c.is_empty()),
    };
    let condition = if available >= deployment_replicas(d).wrapping_sub(max_unavailable(d)) {
        new_deployment_condition(
            DEPLOYMENT_AVAILABLE,
            CONDITION_TRUE,
            MINIMUM_REPLICAS_AVAILABLE,
            "Deployment has minimum availability.",
            now,
        )
    } else {
        new_deployment_condition(
            DEPLOYMENT_AVAILABLE,
            CONDITION_FALSE,
            MINIMUM_REPLICAS_UNAVAILABLE,
            "Deployment does not have minimum availability.",
            now,
        )
    };
    set_deployment_condition(&mut status, condition);
    status
}

fn deployment_name(d: &Deployment) -> &str {
    d.metadata.name.as_deref().unwrap_or_default()
}

fn progress_message(d: &Deployment, new_rs: Option<&ReplicaSet>, what: &str) -> String {
    match new_rs {
        Some(rs) => format!("ReplicaSet {} {what}", go_quote(rs.metadata.name.as_deref().unwrap_or_default())),
        None => format!("Deployment {} {what}", go_quote(deployment_name(d))),
    }
}

/// Upstream `getReplicaFailures`: the ReplicaFailure conditions of the new
/// ReplicaSet, else those of all ReplicaSets, as Deployment conditions.
pub fn get_replica_failures(all_rss: &[&ReplicaSet], new_rs: Option<&ReplicaSet>) -> Vec<DeploymentCondition> {
    let failures = |rs: &ReplicaSet| -> Vec<DeploymentCondition> {
        rs.status
            .as_ref()
            .and_then(|s| s.conditions.as_deref())
            .unwrap_or_default()
            .iter()
            .filter(|c| c.type_ == REPLICA_SET_REPLICA_FAILURE)
            .map(replica_set_to_deployment_condition)
            .collect()
    };
    let from_new = new_rs.map(failures).unwrap_or_default();
    if !from_new.is_empty() {
        return from_new;
    }
    all_rss.iter().flat_map(|rs| failures(rs)).collect()
}

/// Upstream `syncRolloutStatus` without the write: [`calculate_status`],
/// then the Progressing condition (only with a progress deadline, and not
/// once the current rollout completed): `NewReplicaSetAvailable` when
/// complete, `ReplicaSetUpdated` when progressing (a new lastUpdateTime on
/// every progress, lastTransitionTime kept while it stays True),
/// `ProgressDeadlineExceeded` when timed out; then the ReplicaFailure
/// condition from the ReplicaSets. Write it when [`status_unchanged`] is
/// false, else see [`requeue_stuck_deployment`].
pub fn sync_rollout_status(all_rss: &[&ReplicaSet], new_rs: Option<&ReplicaSet>, d: &Deployment, now: Timestamp) -> DeploymentStatus {
    let mut new_status = calculate_status(all_rss, new_rs, d, now);
    if !has_progress_deadline(d) {
        remove_deployment_condition(&mut new_status, DEPLOYMENT_PROGRESSING);
    }
    let current = deployment_condition(d, DEPLOYMENT_PROGRESSING);
    let is_complete_deployment =
        new_status.replicas == new_status.updated_replicas && current.is_some_and(|c| c.reason.as_deref() == Some(NEW_RS_AVAILABLE_REASON));
    if has_progress_deadline(d) && !is_complete_deployment {
        if deployment_complete(d, &new_status) {
            let msg = progress_message(d, new_rs, "has successfully progressed.");
            let condition = new_deployment_condition(DEPLOYMENT_PROGRESSING, CONDITION_TRUE, NEW_RS_AVAILABLE_REASON, msg, now);
            set_deployment_condition(&mut new_status, condition);
        } else if deployment_progressing(d, &new_status) {
            let msg = progress_message(d, new_rs, "is progressing.");
            let mut condition = new_deployment_condition(DEPLOYMENT_PROGRESSING, CONDITION_TRUE, REPLICA_SET_UPDATED_REASON, msg, now);
            if let Some(current) = current {
                if current.status == CONDITION_TRUE {
                    condition.last_transition_time = current.last_transition_time.clone();
                }
                remove_deployment_condition(&mut new_status, DEPLOYMENT_PROGRESSING);
            }
            set_deployment_condition(&mut new_status, condition);
        } else if deployment_timed_out(d, &new_status, now) {
            let msg = progress_message(d, new_rs, "has timed out progressing.");
            let condition = new_deployment_condition(DEPLOYMENT_PROGRESSING, CONDITION_FALSE, TIMED_OUT_REASON, msg, now);
            set_deployment_condition(&mut new_status, condition);
        }
    }
    match get_replica_failures(all_rss, new_rs).into_iter().next() {
        Some(failure) => set_deployment_condition(&mut new_status, failure),
        None => remove_deployment_condition(&mut new_status, DEPLOYMENT_REPLICA_FAILURE),
    }
    new_status
}

/// When to look at a Deployment again for a progress check (upstream
/// `requeueStuckDeployment`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StuckRequeue {
    /// No check needed (upstream -1): no deadline, no Progressing
    /// condition, complete, or already timed out.
    Never,
    /// The deadline is less than a second away or past: requeue now,
    /// rate limited (upstream 0).
    Now,
    /// The time left before the deadline; upstream enqueues after this
    /// plus one second (see [`StuckRequeue::queue_after`]).
    After(SignedDuration),
}

impl StuckRequeue {
    /// The delay upstream hands to `AddAfter`: the time left plus a second.
    pub fn queue_after(&self) -> Option<SignedDuration> {
        match self {
            StuckRequeue::After(after) => Some(after.saturating_add(SignedDuration::from_secs(1))),
            _ => None,
        }
    }
}

/// Upstream `requeueStuckDeployment`, for a sync that wrote nothing: with
/// a deadline and a Progressing condition, an incomplete rollout that has
/// not timed out yet is checked again when its deadline
/// (`lastUpdateTime + progressDeadlineSeconds`) passes.
pub fn requeue_stuck_deployment(d: &Deployment, new_status: &DeploymentStatus, now: Timestamp) -> StuckRequeue {
    let Some(current) = deployment_condition(d, DEPLOYMENT_PROGRESSING) else {
        return StuckRequeue::Never;
    };
    if !has_progress_deadline(d) {
        return StuckRequeue::Never;
    }
    if deployment_complete(d, new_status) || current.reason.as_deref() == Some(TIMED_OUT_REASON) {
        return StuckRequeue::Never;
    }
    // A condition without lastUpdateTime is as old as Go's zero time.
    let Some(from) = current.last_update_time.as_ref() else {
        return StuckRequeue::Now;
    };
    let after = from.0.checked_add(progress_deadline(d)).map(|deadline| deadline.duration_since(now)).unwrap_or(SignedDuration::MAX);
    if after < SignedDuration::from_secs(1) { StuckRequeue::Now } else { StuckRequeue::After(after) }
}

/// Upstream `checkPausedConditions`: with a progress deadline and not
/// timed out, a paused Deployment gets Progressing=Unknown
/// `DeploymentPaused` ("Deployment is paused"), a resumed one
/// `DeploymentResumed` ("Deployment is resumed"). `Some(status)` when the
/// status must be written.
pub fn check_paused_conditions(d: &Deployment, now: Timestamp) -> Option<DeploymentStatus> {
    if !has_progress_deadline(d) {
        return None;
    }
    let cond = deployment_condition(d, DEPLOYMENT_PROGRESSING);
    if cond.is_some_and(|c| c.reason.as_deref() == Some(TIMED_OUT_REASON)) {
        return None;
    }
    let paused_cond_exists = cond.is_some_and(|c| c.reason.as_deref() == Some(PAUSED_DEPLOY_REASON));
    let paused = d.spec.as_ref().and_then(|s| s.paused).unwrap_or(false);
    let (reason, message) = match (paused, paused_cond_exists) {
        (true, false) => (PAUSED_DEPLOY_REASON, "Deployment is paused"),
        (false, true) => (RESUMED_DEPLOY_REASON, "Deployment is resumed"),
        _ => return None,
    };
    let mut status = d.status.clone().unwrap_or_default();
    set_deployment_condition(&mut status, new_deployment_condition(DEPLOYMENT_PROGRESSING, CONDITION_UNKNOWN, reason, message, now));
    Some(status)
}

// ---------------------------------------------------------------------------
// Scaling events and proportional scaling (sync.go).

/// Upstream `isScalingEvent`: an active ReplicaSet's desired-replicas
/// annotation differs from `spec.replicas`.
pub fn is_scaling_event(d: &Deployment, new_rs: Option<&ReplicaSet>, old_rss: &[&ReplicaSet]) -> bool {
    let replicas = deployment_replicas(d);
    filter_active_replica_sets(&all_replica_sets(new_rs, old_rss))
        .into_iter()
        .any(|rs| get_desired_replicas_annotation(rs).is_some_and(|desired| desired != replicas))
}

/// Upstream `scale` (scaling events and paused Deployments):
/// - one active ReplicaSet (or none: the newest) takes `spec.replicas`;
/// - a saturated new ReplicaSet: the active old ones go to 0;
/// - otherwise, for a rolling update, `spec.replicas + maxSurge` minus the
///   current total is spread over the active ReplicaSets in proportion to
///   their size (largest first; newer first when adding, older first when
///   removing), what rounding leaves over going to the first one; every
///   active ReplicaSet is written whose size or replicas annotations
///   change.
///
/// Actions come in upstream's order (old ReplicaSets newest first, as
/// upstream's in-place sort leaves them, when no size order applies).
pub fn scale(d: &Deployment, new_rs: Option<&ReplicaSet>, old_rss: &[&ReplicaSet]) -> Vec<ScaleAction> {
    let replicas = deployment_replicas(d);
    if let Some(rs) = find_active_or_latest(new_rs, old_rss) {
        return scale_if_resized(rs, replicas).into_iter().collect();
    }
    // Upstream's FindActiveOrLatest sorted the old ReplicaSets in place,
    // newest first; what follows sees them in that order.
    let mut old_rss = old_rss.to_vec();
    old_rss.sort_by(|a, b| by_creation_timestamp(b, a));
    if is_saturated(d, new_rs) {
        return filter_active_replica_sets(&old_rss).into_iter().filter_map(|rs| scale_if_resized(rs, 0)).collect();
    }
    if !is_rolling_update(d) {
        return Vec::new();
    }
    let mut all = filter_active_replica_sets(&all_replica_sets(new_rs, &old_rss));
    let all_replicas = get_replica_count_for_replica_sets(&all);
    let allowed = if replicas > 0 { replicas.wrapping_add(max_surge(d)) } else { 0 };
    let to_add = allowed.wrapping_sub(all_replicas);
    if to_add > 0 {
        all.sort_by(|a, b| by_size_newer(a, b));
    } else if to_add < 0 {
        all.sort_by(|a, b| by_size_older(a, b));
    }
    let mut added = 0i32;
    let mut sizes = Vec::with_capacity(all.len());
    for rs in &all {
        if to_add != 0 {
            let proportion = get_replica_set_proportion(rs, d, to_add, added);
            sizes.push(rs_replicas(rs).wrapping_add(proportion));
            added = added.wrapping_add(proportion);
        } else {
            sizes.push(rs_replicas(rs));
        }
    }
    if to_add != 0
        && let Some(first) = sizes.first_mut()
    {
        *first = first.wrapping_add(to_add.wrapping_sub(added)).max(0);
    }
    all.iter()
        .zip(sizes)
        .filter(|(rs, size)| rs_replicas(rs) != *size || replicas_annotations_stale(rs, d))
        .map(|(rs, size)| ScaleAction::new(rs, size))
        .collect()
}

/// Upstream `cleanupDeployment`: with a revision history limit, the old
/// ReplicaSets beyond it, lowest revision first, that are not being
/// deleted, want and have no pods, and whose latest spec was observed.
/// Delete them in this order; upstream stops at the first error other
/// than NotFound.
pub fn cleanup_deployment<'a>(old_rss: &[&'a ReplicaSet], d: &Deployment) -> Vec<&'a ReplicaSet> {
    if !has_revision_history_limit(d) {
        return Vec::new();
    }
    let limit = d.spec.as_ref().and_then(|s| s.revision_history_limit).unwrap_or(0);
    let mut cleanable: Vec<&ReplicaSet> = old_rss.iter().copied().filter(|rs| rs.metadata.deletion_timestamp.is_none()).collect();
    let diff = i64::try_from(cleanable.len()).unwrap_or(i64::MAX) - i64::from(limit);
    if diff <= 0 {
        return Vec::new();
    }
    cleanable.sort_by(|a, b| by_revision(a, b));
    cleanable
        .into_iter()
        .take(usize::try_from(diff).unwrap_or(usize::MAX))
        .filter(|rs| {
            let observed = rs.status.as_ref().and_then(|s| s.observed_generation).unwrap_or(0);
            rs_status_replicas(rs) == 0
                && rs_replicas(rs) == 0
                && rs.metadata.generation.unwrap_or(0) <= observed
                && rs.metadata.deletion_timestamp.is_none()
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Rolling update (rolling.go).

/// Upstream `reconcileNewReplicaSet`: down to `spec.replicas` when above
/// it, else up as far as [`new_rs_new_replicas`] allows. `None`: nothing
/// to do.
pub fn reconcile_new_replica_set(all_rss: &[&ReplicaSet], new_rs: &ReplicaSet, d: &Deployment) -> Result<Option<ScaleAction>, Error> {
    let replicas = deployment_replicas(d);
    let current = rs_replicas(new_rs);
    if current == replicas {
        return Ok(None);
    }
    if current > replicas {
        return Ok(scale_if_resized(new_rs, replicas));
    }
    let count = new_rs_new_replicas(d, all_rss, new_rs)?;
    Ok(scale_if_resized(new_rs, count))
}

/// Scale-downs computed by one of the rolling-update steps.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ScaleDown {
    /// In upstream's order.
    pub actions: Vec<ScaleAction>,
    /// Replicas removed in all.
    pub total: i32,
    /// Upstream's "got invalid request to scale down" error (status
    /// counts above `spec.replicas`); the actions before it stand.
    pub error: Option<Error>,
}

/// A ReplicaSet with its size as the sequence of updates left it.
struct Local<'a> {
    rs: &'a ReplicaSet,
    replicas: i32,
}

fn locals<'a>(rss: &[&'a ReplicaSet]) -> Vec<Local<'a>> {
    let mut v: Vec<Local<'a>> = rss.iter().map(|rs| Local { rs, replicas: rs_replicas(rs) }).collect();
    v.sort_by(|a, b| by_creation_timestamp(a.rs, b.rs));
    v
}

fn local_action(l: &Local<'_>, to: i32) -> ScaleAction {
    ScaleAction { from: l.replicas, ..ScaleAction::new(l.rs, to) }
}

fn cleanup_unhealthy_locals(old: &mut [Local<'_>], max_cleanup_count: i32) -> ScaleDown {
    let mut out = ScaleDown::default();
    for l in old.iter_mut() {
        if out.total >= max_cleanup_count {
            break;
        }
        if l.replicas == 0 {
            continue;
        }
        let available = rs_available_replicas(l.rs);
        if l.replicas == available {
            continue;
        }
        let scaled_down = max_cleanup_count.wrapping_sub(out.total).min(l.replicas.wrapping_sub(available));
        let new_replicas = l.replicas.wrapping_sub(scaled_down);
        if new_replicas > l.replicas {
            out.error = Some(Error(format!(
                "when cleaning up unhealthy replicas, got invalid request to scale down {} {} -> {}",
                qualified_name(l.rs),
                l.replicas,
                new_replicas
            )));
            return out;
        }
        if new_replicas != l.replicas {
            out.actions.push(local_action(l, new_replicas));
        }
        out.total = out.total.wrapping_add(scaled_down);
        l.replicas = new_replicas;
    }
    out
}

/// Scales the old ReplicaSets down, oldest first, by what of `available`
/// (pods available in the Deployment) is above `spec.replicas - maxUnavailable`.
fn scale_down_locals(old: &mut [Local<'_>], available: i32, d: &Deployment) -> ScaleDown {
    let mut out = ScaleDown::default();
    let min_available = deployment_replicas(d).wrapping_sub(max_unavailable(d));
    if available <= min_available {
        return out;
    }
    let target = available.wrapping_sub(min_available);
    for l in old.iter_mut() {
        if out.total >= target {
            break;
        }
        if l.replicas == 0 {
            continue;
        }
        let scale_down = l.replicas.min(target.wrapping_sub(out.total));
        let new_replicas = l.replicas.wrapping_sub(scale_down);
        if new_replicas > l.replicas {
            out.error = Some(Error(format!(
                "when scaling down old RS, got invalid request to scale down {} {} -> {}",
                qualified_name(l.rs),
                l.replicas,
                new_replicas
            )));
            return out;
        }
        if new_replicas != l.replicas {
            out.actions.push(local_action(l, new_replicas));
        }
        out.total = out.total.wrapping_add(scale_down);
        l.replicas = new_replicas;
    }
    out
}

/// Upstream `cleanupUnhealthyReplicas`: oldest first, removes the
/// unavailable replicas of the old ReplicaSets, `max_cleanup_count` at most.
pub fn cleanup_unhealthy_replicas(old_rss: &[&ReplicaSet], max_cleanup_count: i32) -> ScaleDown {
    cleanup_unhealthy_locals(&mut locals(old_rss), max_cleanup_count)
}

/// Upstream `scaleDownOldReplicaSetsForRollingUpdate`: oldest first,
/// removes what is available beyond `spec.replicas - maxUnavailable`.
/// Availability is counted over `all_rss`.
pub fn scale_down_old_replica_sets_for_rolling_update(all_rss: &[&ReplicaSet], old_rss: &[&ReplicaSet], d: &Deployment) -> ScaleDown {
    scale_down_locals(&mut locals(old_rss), get_available_replica_count_for_replica_sets(all_rss), d)
}

/// What [`reconcile_old_replica_sets`] decided.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OldReplicaSetsPlan {
    /// In upstream's order: unhealthy replicas first, then available ones.
    pub actions: Vec<ScaleAction>,
    /// Upstream's returned bool: something was scaled down and no step
    /// failed (on an error upstream returns false after the updates it made).
    pub scaled_down: bool,
}

/// Upstream `reconcileOldReplicaSets`. `old_rss` are the active old
/// ReplicaSets; `all_rss` all ReplicaSets. At most
/// `allPods - minAvailable - unavailable pods of the new ReplicaSet` are
/// removed: first unhealthy replicas of old ReplicaSets, then (on the
/// sizes those left) available ones beyond `spec.replicas - maxUnavailable`.
pub fn reconcile_old_replica_sets(
    all_rss: &[&ReplicaSet],
    old_rss: &[&ReplicaSet],
    new_rs: &ReplicaSet,
    d: &Deployment,
) -> OldReplicaSetsPlan {
    if get_replica_count_for_replica_sets(old_rss) == 0 {
        return OldReplicaSetsPlan::default();
    }
    let all_pods = get_replica_count_for_replica_sets(all_rss);
    let min_available = deployment_replicas(d).wrapping_sub(max_unavailable(d));
    let new_unavailable = rs_replicas(new_rs).wrapping_sub(rs_available_replicas(new_rs));
    let max_scaled_down = all_pods.wrapping_sub(min_available).wrapping_sub(new_unavailable);
    if max_scaled_down <= 0 {
        return OldReplicaSetsPlan::default();
    }
    let mut old = locals(old_rss);
    let cleanup = cleanup_unhealthy_locals(&mut old, max_scaled_down);
    let mut plan = OldReplicaSetsPlan { actions: cleanup.actions, scaled_down: false };
    if cleanup.error.is_some() {
        return plan;
    }
    // Upstream counts availability over the active old ReplicaSets (as the
    // cleanup left them; it does not change their status) and the new one.
    let available = old.iter().map(|l| rs_available_replicas(l.rs)).fold(rs_available_replicas(new_rs), i32::wrapping_add);
    let scale_down = scale_down_locals(&mut old, available, d);
    plan.actions.extend(scale_down.actions);
    plan.scaled_down = scale_down.error.is_none() && cleanup.total.wrapping_add(scale_down.total) > 0;
    plan
}

/// One rolling-update step (upstream `rolloutRolling` after the new
/// ReplicaSet exists and revisions are synced).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RollingPlan<'a> {
    /// Scale the new ReplicaSet, or old ones, in this order.
    pub actions: Vec<ScaleAction>,
    /// Something was scaled: upstream syncs the rollout status next and
    /// stops there.
    pub scaled: bool,
    /// Old ReplicaSets to delete (only when nothing scaled and the
    /// Deployment's current status says complete), see [`cleanup_deployment`].
    pub cleanup: Vec<&'a ReplicaSet>,
}

/// Upstream `rolloutRolling`'s decisions: scale the new ReplicaSet up if
/// possible; else scale old ones down if possible; else, when complete,
/// clean up old ReplicaSets. In all cases the rollout status is synced
/// afterwards ([`sync_rollout_status`]). `old_rss`: all old ReplicaSets.
pub fn plan_rolling_update<'a>(d: &Deployment, new_rs: &'a ReplicaSet, old_rss: &[&'a ReplicaSet]) -> Result<RollingPlan<'a>, Error> {
    let all = all_replica_sets(Some(new_rs), old_rss);
    if let Some(action) = reconcile_new_replica_set(&all, new_rs, d)? {
        return Ok(RollingPlan { actions: vec![action], scaled: true, cleanup: Vec::new() });
    }
    let old = reconcile_old_replica_sets(&all, &filter_active_replica_sets(old_rss), new_rs, d);
    if old.scaled_down {
        return Ok(RollingPlan { actions: old.actions, scaled: true, cleanup: Vec::new() });
    }
    let current = d.status.clone().unwrap_or_default();
    let cleanup = if deployment_complete(d, &current) { cleanup_deployment(old_rss, d) } else { Vec::new() };
    Ok(RollingPlan { actions: old.actions, scaled: false, cleanup })
}

// ---------------------------------------------------------------------------
// Recreate (recreate.go).

/// Upstream `scaleDownOldReplicaSetsForRecreate`: every old ReplicaSet
/// with replicas goes to 0 (`old_rss`: the active ones).
pub fn scale_down_old_replica_sets_for_recreate(old_rss: &[&ReplicaSet]) -> Vec<ScaleAction> {
    old_rss.iter().filter_map(|rs| scale_if_resized(rs, 0)).collect()
}

/// Upstream `getPodMapForDeployment`'s grouping: the pods (already those
/// of the Deployment's selector and namespace, terminal and terminating
/// ones included) by the uid of their controlling ReplicaSet, for each
/// ReplicaSet of `rs_list` (an empty list when it has none); pods of other
/// controllers are left out.
pub fn pod_map_for_deployment<'a>(rs_list: &[&ReplicaSet], pods: &[&'a Pod]) -> BTreeMap<String, Vec<&'a Pod>> {
    let mut map: BTreeMap<String, Vec<&'a Pod>> =
        rs_list.iter().map(|rs| (rs.metadata.uid.clone().unwrap_or_default(), Vec::new())).collect();
    for pod in pods {
        if let Some(owner) = controller_of(&pod.metadata)
            && let Some(list) = map.get_mut(&owner.uid)
        {
            list.push(pod);
        }
    }
    map
}

/// True when `pod` counts as running for [`old_pods_running`]: any phase
/// but `Succeeded` and `Failed` (`Unknown`, `Pending`, an empty phase, a
/// pod being deleted all count).
pub fn pod_counts_as_running(pod: &Pod) -> bool {
    !matches!(pod.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"))
}

/// Upstream `oldPodsRunning`: an old ReplicaSet reports pods
/// (`status.replicas`), or a pod of `pod_map` not of the new ReplicaSet
/// counts as running ([`pod_counts_as_running`]).
pub fn old_pods_running(new_rs: Option<&ReplicaSet>, old_rss: &[&ReplicaSet], pod_map: &BTreeMap<String, Vec<&Pod>>) -> bool {
    if get_actual_replica_count_for_replica_sets(old_rss) > 0 {
        return true;
    }
    let new_uid = new_rs.and_then(|rs| rs.metadata.uid.as_deref());
    pod_map.iter().filter(|(uid, _)| new_uid != Some(uid.as_str())).any(|(_, pods)| pods.iter().any(|p| pod_counts_as_running(p)))
}

/// Upstream `scaleUpNewReplicaSetForRecreate`: the new ReplicaSet takes
/// `spec.replicas`.
pub fn scale_up_new_replica_set_for_recreate(new_rs: &ReplicaSet, d: &Deployment) -> Option<ScaleAction> {
    scale_if_resized(new_rs, deployment_replicas(d))
}

/// One Recreate step (upstream `rolloutRecreate`); the rollout status is
/// synced after each.
#[derive(Debug, Clone, PartialEq)]
pub enum RecreatePlan<'a> {
    /// Scale the old ReplicaSets to 0, then sync the status and stop.
    ScaleDownOld(Vec<ScaleAction>),
    /// Old pods are still running: sync the status and wait.
    WaitForOldPods,
    /// No new ReplicaSet yet: create it (upstream `getNewReplicaSet` with
    /// create), then continue with [`recreate_scale_up`].
    CreateNewReplicaSet,
    /// Scale the new ReplicaSet up (`None`: it already is), delete
    /// `cleanup` when the current status says complete, sync the status.
    ScaleUpNew { action: Option<ScaleAction>, cleanup: Vec<&'a ReplicaSet> },
}

/// Upstream `rolloutRecreate`'s decisions. `old_rss`: all old ReplicaSets;
/// `pod_map`: see [`pod_map_for_deployment`].
pub fn plan_recreate<'a>(
    d: &Deployment,
    new_rs: Option<&'a ReplicaSet>,
    old_rss: &[&'a ReplicaSet],
    pod_map: &BTreeMap<String, Vec<&Pod>>,
) -> RecreatePlan<'a> {
    let down = scale_down_old_replica_sets_for_recreate(&filter_active_replica_sets(old_rss));
    if !down.is_empty() {
        return RecreatePlan::ScaleDownOld(down);
    }
    if old_pods_running(new_rs, old_rss, pod_map) {
        return RecreatePlan::WaitForOldPods;
    }
    match new_rs {
        None => RecreatePlan::CreateNewReplicaSet,
        Some(new_rs) => recreate_scale_up(d, new_rs, old_rss),
    }
}

/// The last Recreate step: scale the new ReplicaSet up, clean up when the
/// Deployment's current status says complete.
pub fn recreate_scale_up<'a>(d: &Deployment, new_rs: &ReplicaSet, old_rss: &[&'a ReplicaSet]) -> RecreatePlan<'a> {
    let action = scale_up_new_replica_set_for_recreate(new_rs, d);
    let current = d.status.clone().unwrap_or_default();
    let cleanup = if deployment_complete(d, &current) { cleanup_deployment(old_rss, d) } else { Vec::new() };
    RecreatePlan::ScaleUpNew { action, cleanup }
}

// ---------------------------------------------------------------------------
// The new ReplicaSet (sync.go getNewReplicaSet).

/// The revision the new ReplicaSet should have: one above the old ones'.
pub fn new_revision(old_rss: &[&ReplicaSet]) -> String {
    max_revision(old_rss).wrapping_add(1).to_string()
}

/// What to write for an existing new ReplicaSet (upstream
/// `getNewReplicaSet` when `FindNewReplicaSet` found one).
#[derive(Debug, Clone, PartialEq)]
pub enum ExistingNewReplicaSet {
    /// Update the ReplicaSet to this copy (annotations copied from the
    /// Deployment, revision, minReadySeconds); upstream uses what the
    /// update returns as the new ReplicaSet and does nothing else this time.
    UpdateReplicaSet(ReplicaSet),
    /// Write this Deployment with UpdateStatus: its revision annotation
    /// (upstream sends it through the status subresource, which for
    /// Deployments keeps metadata changes other than labels) and/or a
    /// Progressing `FoundNewReplicaSet` condition.
    UpdateDeployment(Deployment),
    /// Nothing to write.
    Unchanged,
}

/// Upstream `getNewReplicaSet`'s handling of an existing new ReplicaSet.
pub fn sync_existing_new_replica_set(
    d: &Deployment,
    existing: &ReplicaSet,
    old_rss: &[&ReplicaSet],
    now: Timestamp,
) -> ExistingNewReplicaSet {
    let mut rs = existing.clone();
    let revision = new_revision(old_rss);
    let annotations_updated = set_new_replica_set_annotations(d, &mut rs, &revision, true, MAX_REV_HISTORY_LENGTH_IN_CHARS);
    let min_ready = d.spec.as_ref().and_then(|s| s.min_ready_seconds);
    let rs_min_ready = rs.spec.as_ref().and_then(|s| s.min_ready_seconds);
    if annotations_updated || min_ready.unwrap_or(0) != rs_min_ready.unwrap_or(0) {
        rs.spec.get_or_insert_with(ReplicaSetSpec::default).min_ready_seconds = min_ready;
        return ExistingNewReplicaSet::UpdateReplicaSet(rs);
    }
    let mut d = d.clone();
    let rs_revision = rs.metadata.annotations.as_ref().and_then(|a| a.get(REVISION_ANNOTATION)).cloned().unwrap_or_default();
    let mut needs_update = set_deployment_revision(&mut d, &rs_revision);
    if has_progress_deadline(&d) && deployment_condition(&d, DEPLOYMENT_PROGRESSING).is_none() {
        let msg = format!("Found new replica set {}", go_quote(rs.metadata.name.as_deref().unwrap_or_default()));
        let status = d.status.get_or_insert_with(DeploymentStatus::default);
        set_deployment_condition(status, new_deployment_condition(DEPLOYMENT_PROGRESSING, CONDITION_TRUE, FOUND_NEW_RS_REASON, msg, now));
        needs_update = true;
    }
    if needs_update { ExistingNewReplicaSet::UpdateDeployment(d) } else { ExistingNewReplicaSet::Unchanged }
}

/// The ReplicaSet upstream `getNewReplicaSet` creates: named
/// `<deployment>-<pod-template-hash>` (hash of the template and
/// `status.collisionCount`), the hash added to the template labels, the
/// ReplicaSet labels and the selector, controlled by the Deployment, with
/// the replicas [`new_rs_new_replicas`] allows next to `old_rss` and the
/// annotations of [`set_new_replica_set_annotations`] (revision
/// `new_revision`, replicas annotations).
pub fn new_replica_set(d: &Deployment, old_rss: &[&ReplicaSet], new_revision: &str) -> Result<ReplicaSet, Error> {
    let spec = d.spec.as_ref().ok_or_else(|| Error("deployment has no spec".to_string()))?;
    let collision_count = d.status.as_ref().and_then(|s| s.collision_count);
    let mut template: PodTemplateSpec = spec.template.clone();
    let hash = rudder_common::template_hash::pod_template_hash(&template, collision_count);
    let template_meta = template.metadata.get_or_insert_with(ObjectMeta::default);
    template_meta.labels.get_or_insert_with(BTreeMap::new).insert(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY.to_string(), hash.clone());
    let labels = template_meta.labels.clone();
    let mut selector = spec.selector.clone();
    selector.match_labels.get_or_insert_with(BTreeMap::new).insert(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY.to_string(), hash.clone());
    let name = format!("{}-{hash}", deployment_name(d));
    let owner = new_controller_ref("apps/v1", "Deployment", deployment_name(d), d.metadata.uid.clone().unwrap_or_default());
    let mut rs = ReplicaSet {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: d.metadata.namespace.clone(),
            owner_references: Some(vec![owner]),
            labels,
            ..Default::default()
        },
        spec: Some(ReplicaSetSpec { replicas: Some(0), min_ready_seconds: spec.min_ready_seconds, selector, template: Some(template) }),
        status: None,
    };
    let count = new_rs_new_replicas(d, &all_replica_sets(Some(&rs), old_rss), &rs)?;
    if let Some(s) = rs.spec.as_mut() {
        s.replicas = Some(count);
    }
    set_new_replica_set_annotations(d, &mut rs, new_revision, false, MAX_REV_HISTORY_LENGTH_IN_CHARS);
    Ok(rs)
}

/// Upstream's test after a create answered AlreadyExists: the existing
/// ReplicaSet of that name is the Deployment's new one when the Deployment
/// controls it and its template matches; otherwise it is a hash collision
/// (see [`bump_collision_count`]).
pub fn is_own_new_replica_set(d: &Deployment, existing: &ReplicaSet) -> bool {
    let uid = d.metadata.uid.as_deref().unwrap_or_default();
    let owned = controller_of(&existing.metadata).is_some_and(|r| r.uid == uid);
    let empty = PodTemplateSpec::default();
    let template = existing.spec.as_ref().and_then(|s| s.template.as_ref()).unwrap_or(&empty);
    owned && d.spec.as_ref().is_some_and(|s| equal_ignore_hash(&s.template, template))
}

/// The status to write on a hash collision: `collisionCount` one higher
/// (upstream then returns the AlreadyExists error to requeue).
pub fn bump_collision_count(d: &Deployment) -> DeploymentStatus {
    let mut status = d.status.clone().unwrap_or_default();
    status.collision_count = Some(status.collision_count.unwrap_or(0).wrapping_add(1));
    status
}

/// After the new ReplicaSet was created (or found already existing and
/// ours): the event and the Deployment to write with UpdateStatus.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReplicaSetCreated {
    /// "Scaled up replica set NAME from 0 to N", when created with replicas.
    pub event: Option<Event>,
    /// The Deployment with its revision annotation and, when created and
    /// with a progress deadline, Progressing `NewReplicaSetCreated`.
    pub update: Option<Deployment>,
}

/// Upstream `getNewReplicaSet` after its create.
pub fn new_replica_set_created(
    d: &Deployment,
    created: &ReplicaSet,
    new_revision: &str,
    already_exists: bool,
    now: Timestamp,
) -> NewReplicaSetCreated {
    let name = created.metadata.name.as_deref().unwrap_or_default();
    let count = rs_replicas(created);
    let event = (!already_exists && count > 0)
        .then(|| Event::normal(SCALING_REPLICA_SET_REASON, format!("Scaled up replica set {name} from 0 to {count}")));
    let mut d = d.clone();
    let mut needs_update = set_deployment_revision(&mut d, new_revision);
    if !already_exists && has_progress_deadline(&d) {
        let msg = format!("Created new replica set {}", go_quote(name));
        let status = d.status.get_or_insert_with(DeploymentStatus::default);
        set_deployment_condition(
            status,
            new_deployment_condition(DEPLOYMENT_PROGRESSING, CONDITION_TRUE, NEW_REPLICA_SET_REASON, msg, now),
        );
        needs_update = true;
    }
    NewReplicaSetCreated { event, update: needs_update.then_some(d) }
}

/// Upstream `getNewReplicaSet` when the create failed (not AlreadyExists,
/// not a terminating namespace): the Warning event, and with a progress
/// deadline the status to write (Progressing=False `ReplicaSetCreateError`).
pub fn new_replica_set_create_failed(d: &Deployment, rs_name: &str, error: &str, now: Timestamp) -> (Event, Option<DeploymentStatus>) {
    let msg = format!("Failed to create new replica set {}: {error}", go_quote(rs_name));
    let status = has_progress_deadline(d).then(|| {
        let mut status = d.status.clone().unwrap_or_default();
        set_deployment_condition(
            &mut status,
            new_deployment_condition(DEPLOYMENT_PROGRESSING, CONDITION_FALSE, FAILED_RS_CREATE_REASON, msg.clone(), now),
        );
        status
    });
    (Event::warning(FAILED_RS_CREATE_REASON, msg), status)
}

// ---------------------------------------------------------------------------
// Rollback of the extensions/v1beta1 era (rollback.go).

/// Upstream `getRollbackTo`: the revision of the
/// `deprecated.deployment.rollback.to` annotation (0: the last one);
/// `None` when absent, empty or not a number.
pub fn rollback_to(d: &Deployment) -> Option<i64> {
    let v = d.metadata.annotations.as_ref()?.get(DEPRECATED_ROLLBACK_TO)?;
    if v.is_empty() { None } else { v.parse().ok() }
}

/// What a rollback does: update the Deployment (always, the rollback
/// annotation removed) and record the events.
#[derive(Debug, Clone, PartialEq)]
pub struct RollbackPlan {
    /// Write with Update (not status).
    pub deployment: Deployment,
    pub events: Vec<Event>,
}

/// Upstream `rollback` (after `getAllReplicaSetsAndSyncRevision` with
/// create): find the ReplicaSet of the requested revision (0: the one
/// before the current); when its template differs, the Deployment takes
/// it (without the hash label) and its annotations
/// ([`set_deployment_annotations_to`]). `None` without a rollback annotation.
pub fn plan_rollback(d: &Deployment, all_rss: &[&ReplicaSet]) -> Option<RollbackPlan> {
    let mut revision = rollback_to(d)?;
    let mut d = d.clone();
    let mut events = Vec::new();
    let name = deployment_name(&d).to_string();
    if revision == 0 {
        revision = last_revision(all_rss);
    }
    if revision == 0 {
        events.push(Event::warning(ROLLBACK_REVISION_NOT_FOUND, "Unable to find last revision.".to_string()));
    } else if let Some(rs) = all_rss.iter().find(|rs| revision_of(rs) == Some(revision)) {
        let empty = PodTemplateSpec::default();
        let template = rs.spec.as_ref().and_then(|s| s.template.as_ref()).unwrap_or(&empty);
        let same = d.spec.as_ref().is_some_and(|s| equal_ignore_hash(&s.template, template));
        if same {
            let msg = format!("The rollback revision contains the same template as current deployment {}", go_quote(&name));
            events.push(Event::warning(ROLLBACK_TEMPLATE_UNCHANGED, msg));
        } else {
            let mut template = template.clone();
            if let Some(labels) = template.metadata.as_mut().and_then(|m| m.labels.as_mut()) {
                labels.remove(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY);
            }
            if let Some(spec) = d.spec.as_mut() {
                spec.template = template;
            }
            set_deployment_annotations_to(&mut d, rs);
            events.push(Event::normal(ROLLBACK_DONE, format!("Rolled back deployment {} to revision {revision}", go_quote(&name))));
        }
    } else {
        events.push(Event::warning(ROLLBACK_REVISION_NOT_FOUND, "Unable to find the revision to rollback to.".to_string()));
    }
    if let Some(a) = d.metadata.annotations.as_mut() {
        a.remove(DEPRECATED_ROLLBACK_TO);
    }
    Some(RollbackPlan { deployment: d, events })
}

fn revision_of(rs: &ReplicaSet) -> Option<i64> {
    revision(&rs.metadata).ok()
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{DeploymentSpec, DeploymentStrategy, ReplicaSetCondition, ReplicaSetStatus, RollingUpdateDeployment};
    use k8s_openapi::api::core::v1::{Container, PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, OwnerReference, Time};
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn foo_bar() -> BTreeMap<String, String> {
        [("foo".to_string(), "bar".to_string())].into()
    }

    /// Upstream's `newDeployment`: a rolling update with maxSurge and
    /// maxUnavailable 0 unless given, selector and template labels foo=bar.
    fn deployment(replicas: i32, rhl: Option<i32>, surge: Option<IntOrString>, unavailable: Option<IntOrString>) -> Deployment {
        Deployment {
            metadata: ObjectMeta {
                name: Some("foo".into()),
                namespace: Some("default".into()),
                uid: Some("deployment-uid".into()),
                annotations: Some(BTreeMap::new()),
                ..Default::default()
            },
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                revision_history_limit: rhl,
                selector: LabelSelector { match_labels: Some(foo_bar()), ..Default::default() },
                strategy: Some(DeploymentStrategy {
                    type_: Some(ROLLING_UPDATE_STRATEGY.into()),
                    rolling_update: Some(RollingUpdateDeployment {
                        max_surge: Some(surge.unwrap_or(IntOrString::Int(0))),
                        max_unavailable: Some(unavailable.unwrap_or(IntOrString::Int(0))),
                    }),
                }),
                template: PodTemplateSpec {
                    metadata: Some(ObjectMeta { labels: Some(foo_bar()), ..Default::default() }),
                    spec: Some(PodSpec {
                        containers: vec![Container { name: "foo".into(), image: Some("foo/bar".into()), ..Default::default() }],
                        ..Default::default()
                    }),
                },
                ..Default::default()
            }),
            status: None,
        }
    }

    fn int(i: i32) -> Option<IntOrString> {
        Some(IntOrString::Int(i))
    }

    /// Upstream's `rs`: a ReplicaSet created `minute` minutes after
    /// 2016-05-20T00:00 (`None`: no timestamp), its uid its name.
    fn rs(name: &str, replicas: i32, minute: Option<i64>) -> ReplicaSet {
        ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("default".into()),
                uid: Some(name.into()),
                creation_timestamp: minute.map(|m| Time(ts("2016-05-20T00:00:00Z").checked_add(SignedDuration::from_mins(m)).unwrap())),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec { replicas: Some(replicas), ..Default::default() }),
            status: Some(ReplicaSetStatus::default()),
        }
    }

    fn with_status(mut r: ReplicaSet, replicas: i32, available: i32) -> ReplicaSet {
        let s = r.status.get_or_insert_with(Default::default);
        s.replicas = replicas;
        s.available_replicas = Some(available);
        r
    }

    fn refs(v: &[ReplicaSet]) -> Vec<&ReplicaSet> {
        v.iter().collect()
    }

    const NEW: Option<i64> = Some(120);
    const OLD: Option<i64> = Some(60);
    const OLDER: Option<i64> = Some(0);

    // TestScale
    #[test]
    fn scale_cases() {
        struct Case {
            name: &'static str,
            d: Deployment,
            old_d: Deployment,
            new_rs: Option<ReplicaSet>,
            old_rss: Vec<ReplicaSet>,
            expected_new: Option<i32>,
            expected_old: Vec<i32>,
            wasnt_updated: &'static [&'static str],
            desired_annotations: &'static [(&'static str, i32)],
        }
        let d = |n: i32| deployment(n, None, None, None);
        let updated_template = |n: i32| {
            let mut d = deployment(n, None, None, None);
            let t = &mut d.spec.as_mut().unwrap().template;
            t.metadata.as_mut().unwrap().labels.as_mut().unwrap().insert("another".into(), "label".into());
            d
        };
        let case = |name, d, old_d, new_rs, old_rss, expected_new, expected_old| Case {
            name,
            d,
            old_d,
            new_rs,
            old_rss,
            expected_new,
            expected_old,
            wasnt_updated: &[],
            desired_annotations: &[],
        };
        let cases = vec![
            case("normal scaling event: 10 -> 12", d(12), d(10), Some(rs("foo-v1", 10, NEW)), vec![], Some(12), vec![]),
            case("normal scaling event: 10 -> 5", d(5), d(10), Some(rs("foo-v1", 10, NEW)), vec![], Some(5), vec![]),
            case("proportional scaling: 5 -> 10", d(10), d(5), Some(rs("foo-v2", 2, NEW)), vec![rs("foo-v1", 3, OLD)], Some(4), vec![6]),
            case("proportional scaling: 5 -> 3", d(3), d(5), Some(rs("foo-v2", 2, NEW)), vec![rs("foo-v1", 3, OLD)], Some(1), vec![2]),
            case("proportional scaling: 9 -> 4", d(4), d(9), Some(rs("foo-v2", 8, NEW)), vec![rs("foo-v1", 1, OLD)], Some(4), vec![0]),
            case(
                "proportional scaling: 7 -> 10",
                d(10),
                d(7),
                Some(rs("foo-v3", 2, NEW)),
                vec![rs("foo-v2", 3, OLD), rs("foo-v1", 2, OLDER)],
                Some(3),
                vec![4, 3],
            ),
            case(
                "proportional scaling: 13 -> 8",
                d(8),
                d(13),
                Some(rs("foo-v3", 2, NEW)),
                vec![rs("foo-v2", 8, OLD), rs("foo-v1", 3, OLDER)],
                Some(1),
                vec![5, 2],
            ),
            // Scales up the new replica set.
            case(
                "leftover distribution: 3 -> 4",
                d(4),
                d(3),
                Some(rs("foo-v3", 1, NEW)),
                vec![rs("foo-v2", 1, OLD), rs("foo-v1", 1, OLDER)],
                Some(2),
                vec![1, 1],
            ),
            // Scales down the older replica set.
            case(
                "leftover distribution: 3 -> 2",
                d(2),
                d(3),
                Some(rs("foo-v3", 1, NEW)),
                vec![rs("foo-v2", 1, OLD), rs("foo-v1", 1, OLDER)],
                Some(1),
                vec![1, 0],
            ),
            // Scales up the latest replica set first.
            case(
                "proportional scaling (no new rs): 4 -> 5",
                d(5),
                d(4),
                None,
                vec![rs("foo-v2", 2, OLD), rs("foo-v1", 2, OLDER)],
                None,
                vec![3, 2],
            ),
            // Scales down to zero.
            case(
                "proportional scaling: 6 -> 0",
                d(0),
                d(6),
                Some(rs("foo-v3", 3, NEW)),
                vec![rs("foo-v2", 2, OLD), rs("foo-v1", 1, OLDER)],
                Some(0),
                vec![0, 0],
            ),
            // Scales up from zero.
            Case {
                wasnt_updated: &["foo-v2", "foo-v1"],
                ..case(
                    "proportional scaling: 0 -> 6",
                    d(6),
                    d(6),
                    Some(rs("foo-v3", 0, NEW)),
                    vec![rs("foo-v2", 0, OLD), rs("foo-v1", 0, OLDER)],
                    Some(6),
                    vec![0, 0],
                )
            },
            // foo-v2's annotations say it was last scaled for 3 replicas.
            Case {
                wasnt_updated: &["foo-v3", "foo-v1"],
                desired_annotations: &[("foo-v2", 3)],
                ..case(
                    "failed rs update",
                    d(5),
                    d(5),
                    Some(rs("foo-v3", 2, NEW)),
                    vec![rs("foo-v2", 1, OLD), rs("foo-v1", 1, OLDER)],
                    Some(2),
                    vec![2, 1],
                )
            },
            case(
                "deployment with surge pods",
                deployment(20, None, int(2), None),
                deployment(10, None, int(2), None),
                Some(rs("foo-v2", 6, NEW)),
                vec![rs("foo-v1", 6, OLD)],
                Some(11),
                vec![11],
            ),
            case(
                "change both surge and size",
                deployment(50, None, int(6), None),
                deployment(10, None, int(3), None),
                Some(rs("foo-v2", 5, NEW)),
                vec![rs("foo-v1", 8, OLD)],
                Some(22),
                vec![34],
            ),
            case(
                "change both size and template",
                updated_template(14),
                d(10),
                None,
                vec![rs("foo-v2", 7, NEW), rs("foo-v1", 3, OLD)],
                None,
                vec![10, 4],
            ),
            case(
                "saturated but broken new replica set does not affect old pods",
                deployment(2, None, int(1), int(1)),
                deployment(2, None, int(1), int(1)),
                Some(with_status(rs("foo-v2", 2, NEW), 2, 0)),
                vec![rs("foo-v1", 1, OLD)],
                Some(2),
                vec![1],
            ),
        ];
        for mut c in cases {
            let old_replicas = deployment_replicas(&c.old_d);
            let old_surge = max_surge(&c.old_d);
            for r in c.new_rs.iter_mut().chain(c.old_rss.iter_mut()) {
                let name = r.metadata.name.clone().unwrap();
                let desired = c.desired_annotations.iter().find(|(n, _)| *n == name).map_or(old_replicas, |(_, v)| *v);
                set_replicas_annotations(r, desired, desired + old_surge);
            }
            let olds = refs(&c.old_rss);
            let actions = scale(&c.d, c.new_rs.as_ref(), &olds);
            let mut sizes: BTreeMap<String, i32> =
                c.new_rs.iter().chain(c.old_rss.iter()).map(|r| (r.metadata.name.clone().unwrap(), rs_replicas(r))).collect();
            for a in &actions {
                if !c.wasnt_updated.contains(&a.name.as_str()) {
                    sizes.insert(a.name.clone(), a.to);
                }
            }
            if let (Some(expected), Some(new_rs)) = (c.expected_new, c.new_rs.as_ref()) {
                assert_eq!(sizes[new_rs.metadata.name.as_deref().unwrap()], expected, "{}: new", c.name);
            }
            assert_eq!(c.expected_old.len(), c.old_rss.len(), "{}", c.name);
            for (r, expected) in c.old_rss.iter().zip(&c.expected_old) {
                assert_eq!(sizes[r.metadata.name.as_deref().unwrap()], *expected, "{}: {}", c.name, r.metadata.name.as_deref().unwrap());
            }
        }
    }

    #[test]
    fn scale_details() {
        // Proportional scaling writes annotations even where sizes stay.
        let d = deployment(5, None, None, None);
        let mut new_rs = rs("foo-v2", 2, NEW);
        let mut old_rs = rs("foo-v1", 3, OLD);
        set_replicas_annotations(&mut new_rs, 5, 5);
        set_replicas_annotations(&mut old_rs, 4, 4);
        let actions = scale(&d, Some(&new_rs), &[&old_rs]);
        assert_eq!(actions.len(), 1);
        assert_eq!((actions[0].name.as_str(), actions[0].from, actions[0].to), ("foo-v1", 3, 3));
        assert_eq!(actions[0].event(), None);
        let updated = actions[0].apply(&old_rs, &d);
        assert_eq!(updated.metadata.annotations.as_ref().unwrap().get(DESIRED_REPLICAS_ANNOTATION).map(String::as_str), Some("5"));
        // A saturated new ReplicaSet: old ones go to zero.
        let mut new_rs = with_status(rs("foo-v2", 5, NEW), 5, 5);
        set_replicas_annotations(&mut new_rs, 5, 5);
        let old_rs = rs("foo-v1", 2, OLD);
        let actions = scale(&d, Some(&new_rs), &[&old_rs]);
        assert_eq!(actions, vec![ScaleAction::new(&old_rs, 0)]);
        // Several old ones: newest first, as upstream's in-place sort leaves them.
        let older_rs = rs("foo-v0", 1, OLDER);
        let names: Vec<String> = scale(&d, Some(&new_rs), &[&older_rs, &old_rs]).into_iter().map(|a| a.name).collect();
        assert_eq!(names, ["foo-v1", "foo-v0"]);
        // Recreate never scales proportionally.
        let mut d = deployment(5, None, None, None);
        d.spec.as_mut().unwrap().strategy = Some(DeploymentStrategy { type_: Some(RECREATE_STRATEGY.into()), rolling_update: None });
        assert!(scale(&d, Some(&rs("a", 1, NEW)), &[&rs("b", 1, OLD)]).is_empty());
    }

    #[test]
    fn scaling_events() {
        assert_eq!(scaling_replica_set_event("foo-1", 1, 3), ("ScalingReplicaSet", "Scaled up replica set foo-1 from 1 to 3".to_string()));
        assert_eq!(scaling_replica_set_event("foo-1", 3, 0).1, "Scaled down replica set foo-1 from 3 to 0");
        let a = ScaleAction::new(&rs("foo-1", 2, None), 4);
        assert_eq!(
            a.event(),
            Some(Event {
                type_: EVENT_NORMAL,
                reason: SCALING_REPLICA_SET_REASON,
                message: "Scaled up replica set foo-1 from 2 to 4".into()
            })
        );
        let d = deployment(4, None, int(1), None);
        let scaled = a.apply(&rs("foo-1", 2, None), &d);
        assert_eq!(rs_replicas(&scaled), 4);
        let ann = scaled.metadata.annotations.unwrap();
        assert_eq!((ann[DESIRED_REPLICAS_ANNOTATION].as_str(), ann[MAX_REPLICAS_ANNOTATION].as_str()), ("4", "5"));
    }

    #[test]
    fn is_scaling_event_cases() {
        let d = deployment(5, None, None, None);
        let mut a = rs("a", 2, NEW);
        let mut b = rs("b", 0, OLD);
        assert!(!is_scaling_event(&d, Some(&a), &[&b]));
        set_replicas_annotations(&mut b, 3, 3);
        assert!(!is_scaling_event(&d, Some(&a), &[&b]), "inactive ReplicaSets do not count");
        set_replicas_annotations(&mut a, 5, 5);
        assert!(!is_scaling_event(&d, Some(&a), &[&b]));
        set_replicas_annotations(&mut a, 4, 4);
        assert!(is_scaling_event(&d, Some(&a), &[&b]));
    }

    // TestDeploymentController_cleanupDeployment
    #[test]
    fn cleanup_deployment_cases() {
        let with_status_replicas = |name: &str, spec: i32, status: i32| with_status(rs(name, spec, None), status, 0);
        let mut already_deleted = with_status_replicas("foo-1", 0, 0);
        already_deleted.metadata.deletion_timestamp = Some(Time(Timestamp::now()));
        let cases: Vec<(Vec<ReplicaSet>, i32, usize)> = vec![
            (vec![with_status_replicas("foo-1", 0, 0), with_status_replicas("foo-2", 0, 0), with_status_replicas("foo-3", 0, 0)], 1, 2),
            // Only the one with spec and status replicas 0.
            (
                vec![
                    with_status_replicas("foo-1", 0, 0),
                    with_status_replicas("foo-2", 0, 1),
                    with_status_replicas("foo-3", 1, 0),
                    with_status_replicas("foo-4", 1, 1),
                ],
                0,
                1,
            ),
            (vec![with_status_replicas("foo-1", 0, 0), with_status_replicas("foo-2", 0, 0)], 0, 2),
            (vec![with_status_replicas("foo-1", 1, 1), with_status_replicas("foo-2", 1, 1)], 0, 0),
            (vec![already_deleted], 0, 0),
            // Unlimited history.
            (
                vec![with_status_replicas("foo-1", 0, 0), with_status_replicas("foo-2", 0, 0), with_status_replicas("foo-3", 0, 0)],
                i32::MAX,
                0,
            ),
        ];
        for (i, (old, limit, expected)) in cases.into_iter().enumerate() {
            let d = deployment(1, Some(limit), None, None);
            assert_eq!(cleanup_deployment(&refs(&old), &d).len(), expected, "scenario {i}");
        }
        // Not observed yet: kept.
        let mut unobserved = with_status_replicas("foo-1", 0, 0);
        unobserved.metadata.generation = Some(2);
        unobserved.status.as_mut().unwrap().observed_generation = Some(1);
        assert!(cleanup_deployment(&[&unobserved], &deployment(1, Some(0), None, None)).is_empty());
        // No limit at all: nothing.
        assert!(cleanup_deployment(&[&with_status_replicas("foo-1", 0, 0)], &deployment(1, None, None, None)).is_empty());
    }

    // TestDeploymentController_cleanupDeploymentOrder
    #[test]
    fn cleanup_deployment_order() {
        let mk = |name: &str, replicas: i32, minute: i64, revision: &str| {
            let mut r = with_status(rs(name, replicas, Some(minute)), replicas, 0);
            if !revision.is_empty() {
                r.metadata.annotations = Some([(REVISION_ANNOTATION.to_string(), revision.to_string())].into());
            }
            r
        };
        let cases: Vec<(Vec<ReplicaSet>, i32, Vec<&str>)> = vec![
            (vec![mk("foo-1", 0, -1, "1"), mk("foo-2", 0, 0, "2")], 1, vec!["foo-1"]),
            (vec![mk("foo-1", 0, -1, "2"), mk("foo-2", 0, 0, "1")], 1, vec!["foo-2"]),
            (vec![mk("foo-1", 0, -1, "1"), mk("foo-2", 0, 0, "")], 1, vec!["foo-2"]),
            (vec![mk("foo-1", 0, -1, ""), mk("foo-2", 0, 0, "2")], 1, vec!["foo-1"]),
            (vec![mk("foo-1", 1, -1, "1"), mk("foo-2", 0, 0, "2"), mk("foo-3", 0, 1, "3")], 1, vec!["foo-2"]),
            (vec![mk("foo-1", 1, -1, "1"), mk("foo-2", 1, 0, "2"), mk("foo-3", 0, 1, "3")], 1, vec![]),
            (
                vec![mk("foo-1", 0, -1, "3"), mk("foo-2", 0, 0, "1"), mk("foo-3", 0, 1, "4"), mk("foo-4", 0, 2, "2")],
                2,
                vec!["foo-2", "foo-4"],
            ),
        ];
        for (i, (old, limit, expected)) in cases.into_iter().enumerate() {
            let d = deployment(1, Some(limit), None, None);
            let deleted: Vec<&str> = cleanup_deployment(&refs(&old), &d).iter().map(|r| r.metadata.name.as_deref().unwrap()).collect();
            assert_eq!(deleted, expected, "scenario {i}");
        }
    }

    // TestDeploymentController_reconcileNewReplicaSet
    #[test]
    fn reconcile_new_replica_set_cases() {
        let cases: [(i32, i32, i32, i32, Option<i32>); 5] = [
            (10, 0, 10, 0, None),
            (10, 2, 10, 0, Some(2)),
            (10, 2, 5, 0, Some(7)),
            (10, 2, 10, 2, None),
            // Scale down.
            (10, 2, 2, 11, Some(10)),
        ];
        for (i, (replicas, surge, old, new, expected)) in cases.into_iter().enumerate() {
            let new_rs = rs("foo-v2", new, None);
            let old_rs = rs("foo-v2", old, None);
            let d = deployment(replicas, None, int(surge), int(0));
            let got = reconcile_new_replica_set(&[&new_rs, &old_rs], &new_rs, &d).unwrap();
            assert_eq!(got.map(|a| a.to), expected, "scenario {i}");
        }
    }

    // TestDeploymentController_reconcileOldReplicaSets
    #[test]
    fn reconcile_old_replica_sets_cases() {
        let cases: [(i32, i32, i32, i32, i32, i32, bool, i32); 5] = [
            (10, 0, 10, 0, 10, 0, true, 9),
            (10, 2, 10, 0, 10, 0, true, 8),
            // Unhealthy replicas of old ReplicaSets cleaned up.
            (10, 2, 10, 0, 8, 0, true, 8),
            // One unhealthy cleaned up, one ready scaled down.
            (10, 2, 10, 0, 9, 0, true, 8),
            // Unavailable pods of the new ReplicaSet block scaling down further.
            (10, 2, 8, 2, 8, 0, false, 8),
        ];
        for (i, (replicas, unavailable, old, new, ready_old, ready_new, scale_expected, expected_old)) in cases.into_iter().enumerate() {
            let new_rs = with_status(rs("foo-new", new, None), new, ready_new);
            let old_rs = with_status(rs("foo-old", old, None), old, ready_old);
            let d = deployment(replicas, None, int(0), int(unavailable));
            let plan = reconcile_old_replica_sets(&[&old_rs, &new_rs], &[&old_rs], &new_rs, &d);
            assert_eq!(plan.scaled_down, scale_expected, "scenario {i}");
            let last = plan.actions.last().map_or(old, |a| a.to);
            assert_eq!(last, expected_old, "scenario {i}: {:?}", plan.actions);
            // Each action starts where the previous one left the ReplicaSet.
            for w in plan.actions.windows(2) {
                assert_eq!(w[0].to, w[1].from, "scenario {i}");
            }
        }
    }

    // TestDeploymentController_cleanupUnhealthyReplicas
    #[test]
    fn cleanup_unhealthy_replicas_cases() {
        let cases = [(10, 8, 1, 1), (10, 8, 3, 2), (10, 8, 0, 0), (10, 10, 3, 0)];
        for (i, (old, ready, max_cleanup, expected)) in cases.into_iter().enumerate() {
            let old_rs = with_status(rs("foo-v2", old, None), old, ready);
            let out = cleanup_unhealthy_replicas(&[&old_rs], max_cleanup);
            assert_eq!(out.total, expected, "scenario {i}");
            assert_eq!(out.error, None);
        }
        // Status counts above spec: upstream's error.
        let stale = with_status(rs("foo-v2", 3, None), 3, 5);
        let out = cleanup_unhealthy_replicas(&[&stale], 2);
        assert_eq!(
            out.error,
            Some(Error("when cleaning up unhealthy replicas, got invalid request to scale down default/foo-v2 3 -> 5".into()))
        );
        assert!(out.actions.is_empty());
    }

    // TestDeploymentController_scaleDownOldReplicaSetsForRollingUpdate
    #[test]
    fn scale_down_old_replica_sets_for_rolling_update_cases() {
        let cases: [(i32, i32, i32, i32, Option<i32>); 5] =
            [(10, 0, 10, 10, Some(9)), (10, 2, 10, 10, Some(8)), (10, 2, 8, 10, None), (10, 2, 10, 0, None), (10, 2, 1, 10, None)];
        for (i, (replicas, unavailable, ready, old, expected)) in cases.into_iter().enumerate() {
            let old_rs = with_status(rs("foo-v2", old, None), old, ready);
            let d = deployment(replicas, None, int(0), int(unavailable));
            let out = scale_down_old_replica_sets_for_rolling_update(&[&old_rs], &[&old_rs], &d);
            assert_eq!(out.actions.len(), usize::from(expected.is_some()), "scenario {i}");
            assert_eq!(out.actions.first().map(|a| a.to), expected, "scenario {i}");
        }
        // Oldest first, then the next one.
        let a = with_status(rs("a", 3, Some(1)), 3, 3);
        let b = with_status(rs("b", 3, Some(0)), 3, 3);
        let d = deployment(4, None, int(0), int(2));
        let out = scale_down_old_replica_sets_for_rolling_update(&[&a, &b], &[&a, &b], &d);
        assert_eq!(out.actions.iter().map(|x| (x.name.as_str(), x.to)).collect::<Vec<_>>(), vec![("b", 0), ("a", 2)]);
        assert_eq!(out.total, 4);
    }

    #[test]
    fn rolling_update_plan() {
        // Upstream's concrete example: 10 replicas, maxSurge 3, maxUnavailable 2.
        let d = deployment(10, Some(10), int(3), int(2));
        let old = with_status(rs("old", 10, OLD), 10, 10);
        let new = rs("new", 0, NEW);
        let plan = plan_rolling_update(&d, &new, &[&old]).unwrap();
        assert!(plan.scaled);
        assert_eq!(plan.actions, vec![ScaleAction::new(&new, 3)]);
        // New at 3 (unavailable): old goes to 8.
        let new = with_status(rs("new", 3, NEW), 3, 0);
        let plan = plan_rolling_update(&d, &new, &[&old]).unwrap();
        assert_eq!(plan.actions, vec![ScaleAction::new(&old, 8)]);
        // Nothing to do, complete: clean up the fully scaled down old ones.
        let mut d = deployment(2, Some(0), int(1), int(0));
        d.status =
            Some(DeploymentStatus { replicas: Some(2), updated_replicas: Some(2), available_replicas: Some(2), ..Default::default() });
        let new = with_status(rs("new", 2, NEW), 2, 2);
        let done = rs("done", 0, OLD);
        let plan = plan_rolling_update(&d, &new, &[&done]).unwrap();
        assert!(!plan.scaled && plan.actions.is_empty());
        assert_eq!(plan.cleanup, vec![&done]);
    }

    fn deployment_with_status(
        pds: Option<i32>,
        replicas: i32,
        status: (i32, i32, i32),
        conditions: Option<Vec<DeploymentCondition>>,
    ) -> Deployment {
        let mut d = deployment(replicas, None, None, None);
        d.metadata.name = Some("progress-test".into());
        let spec = d.spec.as_mut().unwrap();
        spec.progress_deadline_seconds = pds;
        spec.strategy = Some(DeploymentStrategy { type_: Some(RECREATE_STRATEGY.into()), rolling_update: None });
        d.status = Some(DeploymentStatus {
            replicas: Some(status.0),
            updated_replicas: Some(status.1),
            available_replicas: Some(status.2),
            conditions,
            ..Default::default()
        });
        d
    }

    fn new_status(replicas: i32, updated: i32, available: i32) -> DeploymentStatus {
        DeploymentStatus {
            replicas: Some(replicas),
            updated_replicas: Some(updated),
            available_replicas: Some(available),
            ..Default::default()
        }
    }

    // TestRequeueStuckDeployment
    #[test]
    fn requeue_stuck_deployment_cases() {
        let failed = vec![DeploymentCondition {
            type_: DEPLOYMENT_PROGRESSING.into(),
            status: CONDITION_FALSE.into(),
            reason: Some(TIMED_OUT_REASON.into()),
            ..Default::default()
        }];
        let stuck = vec![DeploymentCondition {
            type_: DEPLOYMENT_PROGRESSING.into(),
            status: CONDITION_TRUE.into(),
            last_update_time: Some(Time(ts("2017-02-15T18:49:00Z"))),
            ..Default::default()
        }];
        let now = ts("2017-02-15T18:49:00Z");
        let cases = [
            (
                "nil progressDeadlineSeconds specified",
                deployment_with_status(None, 4, (3, 3, 2), None),
                new_status(3, 3, 2),
                now,
                StuckRequeue::Never,
            ),
            (
                "infinite progressDeadlineSeconds specified",
                deployment_with_status(Some(i32::MAX), 4, (3, 3, 2), None),
                new_status(3, 3, 2),
                now,
                StuckRequeue::Never,
            ),
            (
                "no progressing condition found",
                deployment_with_status(Some(60), 4, (3, 3, 2), None),
                new_status(3, 3, 2),
                now,
                StuckRequeue::Never,
            ),
            (
                "complete deployment does not need to be requeued",
                deployment_with_status(Some(60), 3, (3, 3, 3), Some(stuck.clone())),
                new_status(3, 3, 3),
                now,
                StuckRequeue::Never,
            ),
            (
                "already failed deployment does not need to be requeued",
                deployment_with_status(Some(60), 3, (3, 3, 0), Some(failed)),
                new_status(3, 3, 0),
                now,
                StuckRequeue::Never,
            ),
            (
                "stuck deployment - 30s",
                deployment_with_status(Some(60), 3, (3, 3, 1), Some(stuck.clone())),
                new_status(3, 3, 1),
                ts("2017-02-15T18:49:30Z"),
                StuckRequeue::After(SignedDuration::from_secs(30)),
            ),
            (
                "stuck deployment - 1s",
                deployment_with_status(Some(60), 3, (3, 3, 1), Some(stuck.clone())),
                new_status(3, 3, 1),
                ts("2017-02-15T18:49:59Z"),
                StuckRequeue::After(SignedDuration::from_secs(1)),
            ),
            (
                "failed deployment - less than a second => now",
                deployment_with_status(Some(60), 3, (3, 3, 1), Some(stuck.clone())),
                new_status(3, 3, 1),
                ts("2017-02-15T18:49:59.000000001Z"),
                StuckRequeue::Now,
            ),
            (
                "failed deployment - now",
                deployment_with_status(Some(60), 3, (3, 3, 1), Some(stuck.clone())),
                new_status(3, 3, 1),
                ts("2017-02-15T18:50:00Z"),
                StuckRequeue::Now,
            ),
            (
                "failed deployment - 1s after deadline",
                deployment_with_status(Some(60), 3, (3, 3, 1), Some(stuck.clone())),
                new_status(3, 3, 1),
                ts("2017-02-15T18:50:01Z"),
                StuckRequeue::Now,
            ),
            (
                "failed deployment - 60s after deadline",
                deployment_with_status(Some(60), 3, (3, 3, 1), Some(stuck)),
                new_status(3, 3, 1),
                ts("2017-02-15T18:51:00Z"),
                StuckRequeue::Now,
            ),
        ];
        for (name, d, status, now, expected) in cases {
            assert_eq!(requeue_stuck_deployment(&d, &status, now), expected, "{name}");
        }
        assert_eq!(StuckRequeue::After(SignedDuration::from_secs(30)).queue_after(), Some(SignedDuration::from_secs(31)));
        assert_eq!(StuckRequeue::Now.queue_after(), None);
    }

    /// Upstream's `newRSWithAvailable`.
    fn rs_available(name: &str, spec: i32, status: i32, available: i32) -> ReplicaSet {
        with_status(rs(name, spec, None), status, available)
    }

    // TestSyncRolloutStatus
    #[test]
    fn sync_rollout_status_cases() {
        let test_time = Time(ts("2017-02-15T18:49:00Z"));
        let now = ts("2024-06-01T00:00:00Z");
        let failed_timed_out = DeploymentCondition {
            type_: DEPLOYMENT_PROGRESSING.into(),
            status: CONDITION_FALSE.into(),
            reason: Some(TIMED_OUT_REASON.into()),
            ..Default::default()
        };
        let with_times = |reason: &str| DeploymentCondition {
            type_: DEPLOYMENT_PROGRESSING.into(),
            status: CONDITION_TRUE.into(),
            reason: Some(reason.into()),
            last_update_time: Some(test_time.clone()),
            last_transition_time: Some(test_time.clone()),
            message: None,
        };
        let new_rs_available = with_times(NEW_RS_AVAILABLE_REASON);
        let replica_set_updated = with_times(REPLICA_SET_UPDATED_REASON);
        // (name, deployment, other ReplicaSets, new ReplicaSet, expected (status, reason), lastUpdate kept, lastTransition kept)
        let cases: Vec<(&str, Deployment, Vec<ReplicaSet>, Option<ReplicaSet>, Option<(&str, &str)>, bool, bool)> = vec![
            (
                "General: remove Progressing condition and do not estimate progress if deployment has no Progress Deadline",
                deployment_with_status(None, 3, (2, 2, 2), Some(vec![replica_set_updated.clone()])),
                vec![rs_available("bar", 0, 1, 1)],
                Some(rs_available("foo", 3, 2, 2)),
                None,
                false,
                false,
            ),
            (
                "General: do not estimate progress of deployment with only one active ReplicaSet",
                deployment_with_status(Some(60), 3, (3, 3, 3), Some(vec![new_rs_available.clone()])),
                vec![rs_available("bar", 3, 3, 3)],
                None,
                Some((CONDITION_TRUE, NEW_RS_AVAILABLE_REASON)),
                true,
                true,
            ),
            (
                "DeploymentProgressing: dont update lastTransitionTime if deployment already has Progressing=True",
                deployment_with_status(Some(60), 3, (2, 2, 2), Some(vec![replica_set_updated.clone()])),
                vec![rs_available("bar", 0, 1, 1)],
                Some(rs_available("foo", 3, 2, 2)),
                Some((CONDITION_TRUE, REPLICA_SET_UPDATED_REASON)),
                false,
                true,
            ),
            (
                "DeploymentProgressing: update everything if deployment has Progressing=False",
                deployment_with_status(Some(60), 3, (2, 2, 2), Some(vec![failed_timed_out.clone()])),
                vec![rs_available("bar", 0, 1, 1)],
                Some(rs_available("foo", 3, 2, 2)),
                Some((CONDITION_TRUE, REPLICA_SET_UPDATED_REASON)),
                false,
                false,
            ),
            (
                "DeploymentProgressing: create Progressing condition if it does not exist",
                deployment_with_status(Some(60), 3, (2, 2, 2), Some(vec![])),
                vec![rs_available("bar", 0, 1, 1)],
                Some(rs_available("foo", 3, 2, 2)),
                Some((CONDITION_TRUE, REPLICA_SET_UPDATED_REASON)),
                false,
                false,
            ),
            (
                "DeploymentComplete: dont update lastTransitionTime if deployment already has Progressing=True",
                deployment_with_status(Some(60), 3, (3, 3, 3), Some(vec![replica_set_updated.clone()])),
                vec![],
                Some(rs_available("foo", 3, 3, 3)),
                Some((CONDITION_TRUE, NEW_RS_AVAILABLE_REASON)),
                false,
                true,
            ),
            (
                "DeploymentComplete: update everything if deployment has Progressing=False",
                deployment_with_status(Some(60), 3, (3, 3, 3), Some(vec![failed_timed_out.clone()])),
                vec![],
                Some(rs_available("foo", 3, 3, 3)),
                Some((CONDITION_TRUE, NEW_RS_AVAILABLE_REASON)),
                false,
                false,
            ),
            (
                "DeploymentComplete: create Progressing condition if it does not exist",
                deployment_with_status(Some(60), 3, (3, 3, 3), Some(vec![])),
                vec![],
                Some(rs_available("foo", 3, 3, 3)),
                Some((CONDITION_TRUE, NEW_RS_AVAILABLE_REASON)),
                false,
                false,
            ),
            (
                "DeploymentComplete: defend against NPE when newRS=nil",
                deployment_with_status(Some(60), 0, (3, 3, 3), Some(vec![replica_set_updated.clone()])),
                vec![rs_available("foo", 0, 0, 0)],
                None,
                Some((CONDITION_TRUE, NEW_RS_AVAILABLE_REASON)),
                false,
                true,
            ),
            (
                "DeploymentTimedOut: update status if rollout exceeds Progress Deadline",
                deployment_with_status(Some(60), 3, (2, 2, 2), Some(vec![replica_set_updated.clone()])),
                vec![],
                Some(rs_available("foo", 3, 2, 2)),
                Some((CONDITION_FALSE, TIMED_OUT_REASON)),
                false,
                false,
            ),
            (
                "DeploymentTimedOut: do not update status if deployment has existing timedOut condition",
                deployment_with_status(Some(60), 3, (2, 2, 2), Some(vec![failed_timed_out.clone()])),
                vec![],
                Some(rs_available("foo", 3, 2, 2)),
                Some((CONDITION_FALSE, TIMED_OUT_REASON)),
                false,
                false,
            ),
        ];
        for (name, d, others, new_rs, expected, update_kept, transition_kept) in cases {
            let mut all = refs(&others);
            all.extend(new_rs.as_ref());
            let status = sync_rollout_status(&all, new_rs.as_ref(), &d, now);
            let cond = get_deployment_condition(&status, DEPLOYMENT_PROGRESSING);
            match expected {
                None => assert!(cond.is_none(), "{name}"),
                Some((s, reason)) => {
                    let cond = cond.unwrap_or_else(|| panic!("{name}: no Progressing condition"));
                    assert_eq!((cond.status.as_str(), cond.reason.as_deref().unwrap()), (s, reason), "{name}");
                    if update_kept {
                        assert_eq!(cond.last_update_time, Some(test_time.clone()), "{name}");
                    }
                    if transition_kept {
                        assert_eq!(cond.last_transition_time, Some(test_time.clone()), "{name}");
                    } else if reason != TIMED_OUT_REASON || cond.last_transition_time.is_some() {
                        assert_eq!(cond.last_transition_time, Some(Time(now)), "{name}");
                    }
                }
            }
        }
    }

    #[test]
    fn sync_rollout_status_messages_and_failures() {
        let now = ts("2024-06-01T00:00:00Z");
        let d = deployment_with_status(Some(60), 3, (2, 2, 2), Some(vec![]));
        let new_rs = rs_available("foo-abc", 3, 2, 2);
        let mut bar = rs_available("bar", 0, 1, 1);
        let failure = |message: &str| ReplicaSetCondition {
            type_: REPLICA_SET_REPLICA_FAILURE.into(),
            status: CONDITION_TRUE.into(),
            reason: Some("FailedCreate".into()),
            message: Some(message.into()),
            last_transition_time: Some(Time(ts("2024-05-01T00:00:00Z"))),
        };
        bar.status.as_mut().unwrap().conditions = Some(vec![failure("old one")]);
        let status = sync_rollout_status(&[&bar, &new_rs], Some(&new_rs), &d, now);
        let progressing = get_deployment_condition(&status, DEPLOYMENT_PROGRESSING).unwrap();
        assert_eq!(progressing.message.as_deref(), Some("ReplicaSet \"foo-abc\" is progressing."));
        let failure_cond = get_deployment_condition(&status, DEPLOYMENT_REPLICA_FAILURE).unwrap();
        assert_eq!(failure_cond.message.as_deref(), Some("old one"));
        // The new ReplicaSet's failure wins over the old ones'.
        let mut new_rs2 = new_rs.clone();
        new_rs2.status.as_mut().unwrap().conditions = Some(vec![failure("new one")]);
        let status = sync_rollout_status(&[&bar, &new_rs2], Some(&new_rs2), &d, now);
        assert_eq!(get_deployment_condition(&status, DEPLOYMENT_REPLICA_FAILURE).unwrap().message.as_deref(), Some("new one"));
        // Gone once no ReplicaSet reports one.
        let mut d2 = d.clone();
        d2.status = Some(status);
        bar.status.as_mut().unwrap().conditions = None;
        let status = sync_rollout_status(&[&bar, &new_rs], Some(&new_rs), &d2, now);
        assert!(get_deployment_condition(&status, DEPLOYMENT_REPLICA_FAILURE).is_none());
        // Timed out, without a new ReplicaSet: the Deployment's name.
        let mut stale = deployment_with_status(Some(60), 3, (2, 0, 2), None);
        stale.status.as_mut().unwrap().conditions = Some(vec![new_deployment_condition(
            DEPLOYMENT_PROGRESSING,
            CONDITION_TRUE,
            REPLICA_SET_UPDATED_REASON,
            "x",
            ts("2024-05-01T00:00:00Z"),
        )]);
        let old = rs_available("old", 3, 2, 2);
        let status = sync_rollout_status(&[&old], None, &stale, now);
        let c = get_deployment_condition(&status, DEPLOYMENT_PROGRESSING).unwrap();
        assert_eq!(c.message.as_deref(), Some("Deployment \"progress-test\" has timed out progressing."));
    }

    #[test]
    fn calculate_status_counts() {
        let now = ts("2024-06-01T00:00:00Z");
        let mut d = deployment(5, None, int(1), int(1));
        d.metadata.generation = Some(4);
        d.status = Some(DeploymentStatus { collision_count: Some(2), ..Default::default() });
        let mut old = with_status(rs("old", 2, OLD), 2, 2);
        let mut new = with_status(rs("new", 3, NEW), 3, 1);
        old.status.as_mut().unwrap().ready_replicas = Some(2);
        old.status.as_mut().unwrap().terminating_replicas = Some(1);
        new.status.as_mut().unwrap().ready_replicas = Some(2);
        new.status.as_mut().unwrap().observed_generation = Some(1);
        new.status.as_mut().unwrap().terminating_replicas = Some(0);
        let status = calculate_status(&[&old, &new], Some(&new), &d, now);
        assert_eq!(status.observed_generation, Some(4));
        assert_eq!(status.replicas, Some(5));
        assert_eq!(status.updated_replicas, Some(3));
        assert_eq!(status.ready_replicas, Some(4));
        assert_eq!(status.available_replicas, Some(3));
        assert_eq!(status.unavailable_replicas, Some(2));
        assert_eq!(status.terminating_replicas, Some(1));
        assert_eq!(status.collision_count, Some(2));
        // 3 available < 5 - 1: not available.
        let available = get_deployment_condition(&status, DEPLOYMENT_AVAILABLE).unwrap();
        assert_eq!(
            (available.status.as_str(), available.reason.as_deref(), available.message.as_deref()),
            (CONDITION_FALSE, Some(MINIMUM_REPLICAS_UNAVAILABLE), Some("Deployment does not have minimum availability."))
        );
        // One more available: minimum availability.
        new.status.as_mut().unwrap().available_replicas = Some(2);
        let status = calculate_status(&[&old, &new], Some(&new), &d, now);
        let available = get_deployment_condition(&status, DEPLOYMENT_AVAILABLE).unwrap();
        assert_eq!(
            (available.status.as_str(), available.message.as_deref()),
            (CONDITION_TRUE, Some("Deployment has minimum availability."))
        );
        // An observed ReplicaSet without terminatingReplicas: unknown.
        old.status.as_mut().unwrap().observed_generation = Some(1);
        old.status.as_mut().unwrap().terminating_replicas = None;
        assert_eq!(calculate_status(&[&old, &new], Some(&new), &d, now).terminating_replicas, None);
        // More available than wanted: unavailable is 0, left out.
        let big = with_status(rs("big", 1, NEW), 9, 9);
        let status = calculate_status(&[&big], Some(&big), &deployment(1, None, None, None), now);
        assert_eq!(status.unavailable_replicas, None);
    }

    #[test]
    fn status_unchanged_normalizes() {
        let now = ts("2024-06-01T00:00:00Z");
        let d = deployment(0, None, None, None);
        let status = calculate_status(&[], None, &d, now);
        assert_eq!(status.replicas, None);
        assert_eq!(status.terminating_replicas, Some(0));
        // As read back from the API server (zeros left out) after the write.
        let mut written = d.clone();
        written.status = Some(DeploymentStatus {
            replicas: Some(0),
            updated_replicas: None,
            terminating_replicas: Some(0),
            conditions: status.conditions.clone(),
            ..Default::default()
        });
        assert!(status_unchanged(&written, &calculate_status(&[], None, &written, now)));
        assert!(!status_unchanged(&d, &status));
    }

    #[test]
    fn paused_conditions() {
        let now = ts("2024-06-01T00:00:00Z");
        let mut d = deployment_with_status(Some(60), 1, (1, 1, 1), None);
        assert_eq!(check_paused_conditions(&d, now), None);
        d.spec.as_mut().unwrap().paused = Some(true);
        let status = check_paused_conditions(&d, now).unwrap();
        let c = get_deployment_condition(&status, DEPLOYMENT_PROGRESSING).unwrap();
        assert_eq!(
            (c.status.as_str(), c.reason.as_deref(), c.message.as_deref()),
            (CONDITION_UNKNOWN, Some(PAUSED_DEPLOY_REASON), Some("Deployment is paused"))
        );
        d.status = Some(status);
        assert_eq!(check_paused_conditions(&d, now), None);
        d.spec.as_mut().unwrap().paused = Some(false);
        let status = check_paused_conditions(&d, now).unwrap();
        let c = get_deployment_condition(&status, DEPLOYMENT_PROGRESSING).unwrap();
        assert_eq!((c.reason.as_deref(), c.message.as_deref()), (Some(RESUMED_DEPLOY_REASON), Some("Deployment is resumed")));
        // Timed out stays timed out; no deadline, no condition.
        let mut timed_out = d.clone();
        timed_out.spec.as_mut().unwrap().paused = Some(true);
        timed_out.status.as_mut().unwrap().conditions =
            Some(vec![new_deployment_condition(DEPLOYMENT_PROGRESSING, CONDITION_FALSE, TIMED_OUT_REASON, "", now)]);
        assert_eq!(check_paused_conditions(&timed_out, now), None);
        timed_out.spec.as_mut().unwrap().progress_deadline_seconds = None;
        assert_eq!(check_paused_conditions(&timed_out, now), None);
    }

    // TestScaleDownOldReplicaSets
    #[test]
    fn scale_down_old_for_recreate() {
        let old = rs("foo-0", 3, None);
        assert_eq!(scale_down_old_replica_sets_for_recreate(&[&old]), vec![ScaleAction::new(&old, 0)]);
        assert!(scale_down_old_replica_sets_for_recreate(&[&rs("foo-1", 0, None)]).is_empty());
    }

    fn pod(phase: Option<&str>) -> Pod {
        Pod { status: Some(PodStatus { phase: phase.map(Into::into), ..Default::default() }), ..Default::default() }
    }

    // TestOldPodsRunning
    #[test]
    fn old_pods_running_cases() {
        let some = rs("some-uid", 0, None);
        let other = rs("other-uid", 0, None);
        let empty_pods = [pod(None), pod(None)];
        let failed = pod(Some("Failed"));
        let succeeded = pod(Some("Succeeded"));
        let unknown = pod(Some("Unknown"));
        let pending = pod(Some("Pending"));
        let running = pod(Some("Running"));
        let map = |entries: Vec<(&str, Vec<&'static Pod>)>| -> BTreeMap<String, Vec<&'static Pod>> {
            entries.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
        };
        // Leak the pods for a 'static map in this test.
        let leak = |p: &Pod| -> &'static Pod { Box::leak(Box::new(p.clone())) };
        let with_replicas = |n: i32| with_status(rs("rs-1", 0, None), n, 0);
        let cases: Vec<(&str, Option<ReplicaSet>, Vec<ReplicaSet>, BTreeMap<String, Vec<&Pod>>, bool)> = vec![
            ("no old RSs", None, vec![], BTreeMap::new(), false),
            (
                "old RSs with running pods",
                None,
                vec![some.clone(), other.clone()],
                map(vec![("some-uid", empty_pods.iter().map(leak).collect()), ("other-uid", empty_pods.iter().map(leak).collect())]),
                true,
            ),
            ("old RSs without pods but with non-zero status replicas", None, vec![with_replicas(1)], BTreeMap::new(), true),
            ("old RSs without pods or non-zero status replicas", None, vec![with_replicas(0)], BTreeMap::new(), false),
            (
                "old RSs with zero status replicas but pods in terminal state are present",
                None,
                vec![with_replicas(0)],
                map(vec![("uid-1", vec![leak(&failed), leak(&succeeded)])]),
                false,
            ),
            (
                "old RSs with zero status replicas but pod in unknown phase present",
                None,
                vec![with_replicas(0)],
                map(vec![("uid-1", vec![leak(&unknown)])]),
                true,
            ),
            (
                "old RSs with zero status replicas with pending pod present",
                None,
                vec![with_replicas(0)],
                map(vec![("uid-1", vec![leak(&pending)])]),
                true,
            ),
            (
                "old RSs with zero status replicas with running pod present",
                None,
                vec![with_replicas(0)],
                map(vec![("uid-1", vec![leak(&running)])]),
                true,
            ),
            (
                "old RSs with zero status replicas but pods in terminal state and pending are present",
                None,
                vec![with_replicas(0)],
                map(vec![("uid-1", vec![leak(&failed), leak(&succeeded)]), ("uid-2", vec![]), ("uid-3", vec![leak(&pending)])]),
                true,
            ),
            // Pods of the new ReplicaSet do not count.
            ("pods of the new ReplicaSet", Some(rs("uid-1", 1, None)), vec![], map(vec![("uid-1", vec![leak(&running)])]), false),
        ];
        for (name, new_rs, old, pod_map, expected) in cases {
            assert_eq!(old_pods_running(new_rs.as_ref(), &refs(&old), &pod_map), expected, "{name}");
        }
    }

    #[test]
    fn pod_map_grouping() {
        let a = rs("a", 1, None);
        let b = rs("b", 1, None);
        let owned = |uid: &str| Pod {
            metadata: ObjectMeta {
                name: Some(format!("pod-{uid}")),
                owner_references: Some(vec![OwnerReference { uid: uid.into(), controller: Some(true), ..Default::default() }]),
                ..Default::default()
            },
            ..Default::default()
        };
        let (pa, pc, orphan) = (owned("a"), owned("c"), Pod::default());
        let map = pod_map_for_deployment(&[&a, &b], &[&pa, &pc, &orphan]);
        assert_eq!(map.len(), 2);
        assert_eq!(map["a"].len(), 1);
        assert!(map["b"].is_empty());
    }

    #[test]
    fn recreate_plan() {
        let mut d = deployment(3, Some(0), None, None);
        d.spec.as_mut().unwrap().strategy = Some(DeploymentStrategy { type_: Some(RECREATE_STRATEGY.into()), rolling_update: None });
        let old = with_status(rs("old", 3, OLD), 3, 3);
        let no_pods = BTreeMap::new();
        assert_eq!(plan_recreate(&d, None, &[&old], &no_pods), RecreatePlan::ScaleDownOld(vec![ScaleAction::new(&old, 0)]));
        let draining = with_status(rs("old", 0, OLD), 2, 0);
        assert_eq!(plan_recreate(&d, None, &[&draining], &no_pods), RecreatePlan::WaitForOldPods);
        let gone = rs("old", 0, OLD);
        assert_eq!(plan_recreate(&d, None, &[&gone], &no_pods), RecreatePlan::CreateNewReplicaSet);
        let new = rs("new", 0, NEW);
        assert_eq!(
            plan_recreate(&d, Some(&new), &[&gone], &no_pods),
            RecreatePlan::ScaleUpNew { action: Some(ScaleAction::new(&new, 3)), cleanup: vec![] }
        );
        d.status =
            Some(DeploymentStatus { replicas: Some(3), updated_replicas: Some(3), available_replicas: Some(3), ..Default::default() });
        let new = rs("new", 3, NEW);
        assert_eq!(recreate_scale_up(&d, &new, &[&gone]), RecreatePlan::ScaleUpNew { action: None, cleanup: vec![&gone] });
    }

    #[test]
    fn new_replica_set_to_create() {
        let mut d = deployment(3, None, int(1), int(0));
        d.spec.as_mut().unwrap().min_ready_seconds = Some(5);
        d.status = Some(DeploymentStatus { collision_count: Some(1), ..Default::default() });
        d.metadata.annotations = Some([("team".to_string(), "a".to_string()), (REVISION_ANNOTATION.to_string(), "1".to_string())].into());
        let old = rs("old", 3, OLD);
        let created = new_replica_set(&d, &[&old], "2").unwrap();
        let hash = rudder_common::template_hash::pod_template_hash(&d.spec.as_ref().unwrap().template, Some(1));
        assert_eq!(created.metadata.name, Some(format!("foo-{hash}")));
        assert_eq!(created.metadata.namespace.as_deref(), Some("default"));
        let owner = &created.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!((owner.kind.as_str(), owner.api_version.as_str(), owner.uid.as_str()), ("Deployment", "apps/v1", "deployment-uid"));
        assert_eq!(owner.controller, Some(true));
        let labels = created.metadata.labels.as_ref().unwrap();
        assert_eq!(labels.get(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY), Some(&hash));
        let spec = created.spec.as_ref().unwrap();
        assert_eq!(spec.selector.match_labels.as_ref().unwrap().get(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY), Some(&hash));
        assert_eq!(spec.template.as_ref().unwrap().metadata.as_ref().unwrap().labels.as_ref(), Some(labels));
        assert_eq!(spec.min_ready_seconds, Some(5));
        // 3 old pods, 3 + 1 allowed: one new replica.
        assert_eq!(spec.replicas, Some(1));
        let ann = created.metadata.annotations.as_ref().unwrap();
        assert_eq!(ann.get("team").map(String::as_str), Some("a"));
        assert_eq!(ann.get(REVISION_ANNOTATION).map(String::as_str), Some("2"));
        assert_eq!(ann.get(DESIRED_REPLICAS_ANNOTATION).map(String::as_str), Some("3"));
        assert_eq!(ann.get(MAX_REPLICAS_ANNOTATION).map(String::as_str), Some("4"));
        // It is found as the new one, and is ours.
        assert_eq!(find_new_replica_set(&d, &[&old, &created]), Some(&created));
        assert!(is_own_new_replica_set(&d, &created));
        let mut foreign = created.clone();
        foreign.metadata.owner_references = None;
        assert!(!is_own_new_replica_set(&d, &foreign));
        assert_eq!(bump_collision_count(&d).collision_count, Some(2));
        assert_eq!(new_revision(&[&old]), "1");
    }

    #[test]
    fn new_replica_set_after_create() {
        let now = ts("2024-06-01T00:00:00Z");
        let mut d = deployment(3, None, None, None);
        d.spec.as_mut().unwrap().progress_deadline_seconds = Some(600);
        let created = rs("foo-abc", 2, NEW);
        let out = new_replica_set_created(&d, &created, "4", false, now);
        assert_eq!(out.event.unwrap().message, "Scaled up replica set foo-abc from 0 to 2");
        let updated = out.update.unwrap();
        assert_eq!(updated.metadata.annotations.as_ref().unwrap().get(REVISION_ANNOTATION).map(String::as_str), Some("4"));
        let c = deployment_condition(&updated, DEPLOYMENT_PROGRESSING).unwrap();
        assert_eq!(
            (c.reason.as_deref(), c.message.as_deref()),
            (Some(NEW_REPLICA_SET_REASON), Some("Created new replica set \"foo-abc\""))
        );
        // Already there: no event, no condition; nothing when the revision is set.
        let out = new_replica_set_created(&updated, &created, "4", true, now);
        assert_eq!(out, NewReplicaSetCreated { event: None, update: None });
        // A failed create.
        let (event, status) = new_replica_set_create_failed(&d, "foo-abc", "quota exceeded", now);
        assert_eq!(event.type_, EVENT_WARNING);
        assert_eq!(event.message, "Failed to create new replica set \"foo-abc\": quota exceeded");
        let c = get_deployment_condition(status.as_ref().unwrap(), DEPLOYMENT_PROGRESSING).unwrap();
        assert_eq!((c.status.as_str(), c.reason.as_deref()), (CONDITION_FALSE, Some(FAILED_RS_CREATE_REASON)));
        d.spec.as_mut().unwrap().progress_deadline_seconds = None;
        assert_eq!(new_replica_set_create_failed(&d, "foo-abc", "x", now).1, None);
    }

    #[test]
    fn existing_new_replica_set() {
        let now = ts("2024-06-01T00:00:00Z");
        let mut d = deployment(3, None, None, None);
        d.spec.as_mut().unwrap().progress_deadline_seconds = Some(600);
        let old = {
            let mut r = rs("old", 0, OLD);
            r.metadata.annotations = Some([(REVISION_ANNOTATION.to_string(), "4".to_string())].into());
            r
        };
        let mut existing = rs("new", 3, NEW);
        // Revision behind: update the ReplicaSet first.
        match sync_existing_new_replica_set(&d, &existing, &[&old], now) {
            ExistingNewReplicaSet::UpdateReplicaSet(updated) => {
                assert_eq!(updated.metadata.annotations.as_ref().unwrap().get(REVISION_ANNOTATION).map(String::as_str), Some("5"));
                existing = updated;
            }
            other => panic!("{other:?}"),
        }
        // Then the Deployment: revision and FoundNewReplicaSet.
        match sync_existing_new_replica_set(&d, &existing, &[&old], now) {
            ExistingNewReplicaSet::UpdateDeployment(updated) => {
                assert_eq!(updated.metadata.annotations.as_ref().unwrap().get(REVISION_ANNOTATION).map(String::as_str), Some("5"));
                let c = deployment_condition(&updated, DEPLOYMENT_PROGRESSING).unwrap();
                assert_eq!((c.reason.as_deref(), c.message.as_deref()), (Some(FOUND_NEW_RS_REASON), Some("Found new replica set \"new\"")));
                d = updated;
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(sync_existing_new_replica_set(&d, &existing, &[&old], now), ExistingNewReplicaSet::Unchanged);
        // minReadySeconds follows the Deployment.
        d.spec.as_mut().unwrap().min_ready_seconds = Some(7);
        match sync_existing_new_replica_set(&d, &existing, &[&old], now) {
            ExistingNewReplicaSet::UpdateReplicaSet(updated) => assert_eq!(updated.spec.unwrap().min_ready_seconds, Some(7)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rollback() {
        let mut d = deployment(1, None, None, None);
        assert_eq!(plan_rollback(&d, &[]), None);
        d.metadata.annotations =
            Some([(DEPRECATED_ROLLBACK_TO.to_string(), "0".to_string()), (REVISION_ANNOTATION.to_string(), "2".to_string())].into());
        // No earlier revision.
        let plan = plan_rollback(&d, &[]).unwrap();
        assert_eq!(plan.events[0].message, "Unable to find last revision.");
        assert!(!plan.deployment.metadata.annotations.as_ref().unwrap().contains_key(DEPRECATED_ROLLBACK_TO));
        // Back to revision 1, another template.
        let mut r1 = rs("r1", 0, OLD);
        let mut template = d.spec.as_ref().unwrap().template.clone();
        template.spec.as_mut().unwrap().containers[0].image = Some("foo/old".into());
        template.metadata.as_mut().unwrap().labels.as_mut().unwrap().insert(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY.into(), "h1".into());
        r1.spec.as_mut().unwrap().template = Some(template);
        r1.metadata.annotations =
            Some([(REVISION_ANNOTATION.to_string(), "1".to_string()), ("change-cause".to_string(), "create".to_string())].into());
        let mut r2 = rs("r2", 1, NEW);
        r2.spec.as_mut().unwrap().template = Some(d.spec.as_ref().unwrap().template.clone());
        r2.metadata.annotations = Some([(REVISION_ANNOTATION.to_string(), "2".to_string())].into());
        let plan = plan_rollback(&d, &[&r1, &r2]).unwrap();
        assert_eq!(plan.events, vec![Event::normal(ROLLBACK_DONE, "Rolled back deployment \"foo\" to revision 1".into())]);
        let t = &plan.deployment.spec.as_ref().unwrap().template;
        assert_eq!(t.spec.as_ref().unwrap().containers[0].image.as_deref(), Some("foo/old"));
        assert!(!t.metadata.as_ref().unwrap().labels.as_ref().unwrap().contains_key(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY));
        let ann = plan.deployment.metadata.annotations.as_ref().unwrap();
        assert_eq!(ann.get("change-cause").map(String::as_str), Some("create"));
        assert!(!ann.contains_key(DEPRECATED_ROLLBACK_TO));
        // To the current template: a warning, no change.
        d.metadata.annotations.as_mut().unwrap().insert(DEPRECATED_ROLLBACK_TO.into(), "2".into());
        let plan = plan_rollback(&d, &[&r1, &r2]).unwrap();
        assert_eq!(plan.events[0].reason, ROLLBACK_TEMPLATE_UNCHANGED);
        assert_eq!(plan.events[0].message, "The rollback revision contains the same template as current deployment \"foo\"");
        // An unknown revision.
        d.metadata.annotations.as_mut().unwrap().insert(DEPRECATED_ROLLBACK_TO.into(), "9".into());
        assert_eq!(plan_rollback(&d, &[&r1, &r2]).unwrap().events[0].message, "Unable to find the revision to rollback to.");
        // Not a number: ignored.
        d.metadata.annotations.as_mut().unwrap().insert(DEPRECATED_ROLLBACK_TO.into(), "x".into());
        assert_eq!(plan_rollback(&d, &[&r1, &r2]), None);
    }

    #[test]
    fn sync_paths() {
        let mut d = deployment(3, None, None, None);
        let new = rs("new", 3, NEW);
        assert_eq!(sync_path(&d, Some(&new), &[]), SyncPath::RollingUpdate);
        let mut scaled = new.clone();
        set_replicas_annotations(&mut scaled, 2, 2);
        assert_eq!(sync_path(&d, Some(&scaled), &[]), SyncPath::Scale);
        d.metadata.annotations.as_mut().unwrap().insert(DEPRECATED_ROLLBACK_TO.into(), "1".into());
        assert_eq!(sync_path(&d, Some(&new), &[]), SyncPath::Rollback);
        d.spec.as_mut().unwrap().paused = Some(true);
        assert_eq!(sync_path(&d, Some(&new), &[]), SyncPath::Scale);
        assert!(!sync_cleans_up(&d));
        d.metadata.annotations.as_mut().unwrap().remove(DEPRECATED_ROLLBACK_TO);
        assert!(sync_cleans_up(&d));
        d.metadata.deletion_timestamp = Some(Time(ts("2024-01-01T00:00:00Z")));
        assert_eq!(sync_path(&d, Some(&new), &[]), SyncPath::StatusOnly);
        let mut d = deployment(3, None, None, None);
        d.spec.as_mut().unwrap().strategy = Some(DeploymentStrategy { type_: Some(RECREATE_STRATEGY.into()), rolling_update: None });
        assert_eq!(sync_path(&d, Some(&new), &[]), SyncPath::Recreate);
        d.spec.as_mut().unwrap().strategy = None;
        assert_eq!(sync_path(&d, Some(&new), &[]), SyncPath::UnexpectedStrategy("unexpected deployment strategy type: ".into()));

        assert_eq!(selecting_all(&deployment(1, None, None, None)), None);
        let mut all = deployment(1, None, None, None);
        all.spec.as_mut().unwrap().selector = LabelSelector::default();
        all.metadata.generation = Some(3);
        let (event, status) = selecting_all(&all).unwrap();
        assert_eq!((event.type_, event.reason), (EVENT_WARNING, "SelectingAll"));
        assert_eq!(event.message, "This deployment is selecting all pods. A non-empty selector is required.");
        assert_eq!(status.unwrap().observed_generation, Some(3));
        all.status = Some(DeploymentStatus { observed_generation: Some(3), ..Default::default() });
        assert_eq!(selecting_all(&all).unwrap().1, None);
    }

    #[test]
    fn empty_objects_do_not_panic() {
        let now = Timestamp::now();
        let d = Deployment::default();
        let r = ReplicaSet::default();
        let _ = calculate_status(&[&r], Some(&r), &d, now);
        let _ = sync_rollout_status(&[&r], Some(&r), &d, now);
        let _ = scale(&d, Some(&r), &[&r]);
        let _ = plan_rolling_update(&d, &r, &[&r]);
        let _ = plan_recreate(&d, Some(&r), &[&r], &BTreeMap::new());
        let _ = requeue_stuck_deployment(&d, &DeploymentStatus::default(), now);
        let _ = check_paused_conditions(&d, now);
        let _ = cleanup_deployment(&[&r], &d);
        assert!(new_replica_set(&d, &[], "1").is_err());
        let _ = sync_existing_new_replica_set(&d, &r, &[], now);
        let _ = plan_rollback(&d, &[&r]);
    }
}
