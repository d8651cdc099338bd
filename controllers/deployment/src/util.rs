//! Upstream `pkg/controller/deployment/util/deployment_util.go` (and the few
//! helpers of `pkg/controller` it leans on): the annotations a Deployment
//! writes on its ReplicaSets, revisions, conditions, finding the new and old
//! ReplicaSets, the surge/unavailability fenceposts, replica counting and
//! proportions. Everything here is pure: no I/O, no clock (time comes in as
//! a `now` argument).
//!
//! Missing fields: where upstream dereferences a pointer the API server
//! always defaults (`spec.replicas` of a Deployment or a ReplicaSet) the
//! apps/v1 default (1) is used; where upstream tests a pointer for nil
//! (`progressDeadlineSeconds`, `revisionHistoryLimit`, `maxSurge`,
//! `maxUnavailable`) nil keeps upstream's meaning. An absent strategy type
//! is neither `RollingUpdate` nor `Recreate`, as upstream's empty string.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::num::ParseIntError;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus, ReplicaSet, ReplicaSetCondition};
use k8s_openapi::api::core::v1::PodTemplateSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

/// The revision of a Deployment's ReplicaSets, in rollout order.
pub const REVISION_ANNOTATION: &str = "deployment.kubernetes.io/revision";
/// The old revisions a ReplicaSet has served (rollbacks), comma separated.
pub const REVISION_HISTORY_ANNOTATION: &str = "deployment.kubernetes.io/revision-history";
/// `spec.replicas` of the Deployment when it last scaled this ReplicaSet.
pub const DESIRED_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/desired-replicas";
/// `spec.replicas + maxSurge` of the Deployment when it last scaled this ReplicaSet.
pub const MAX_REPLICAS_ANNOTATION: &str = "deployment.kubernetes.io/max-replicas";
/// The label (and selector key) telling a Deployment's ReplicaSets apart
/// (upstream `apps.DefaultDeploymentUniqueLabelKey`).
pub const DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY: &str = "pod-template-hash";
/// kubectl's last-applied configuration (upstream `v1.LastAppliedConfigAnnotation`).
pub const LAST_APPLIED_CONFIG_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// The annotation carrying the rollbackTo of the removed extensions/v1beta1
/// API (upstream `apps.DeprecatedRollbackTo`).
pub const DEPRECATED_ROLLBACK_TO: &str = "deprecated.deployment.rollback.to";
/// Upstream `maxRevHistoryLengthInChars` (sync.go): the revision-history
/// annotation is kept under this many characters.
pub const MAX_REV_HISTORY_LENGTH_IN_CHARS: usize = 2000;

/// Annotations never copied from a Deployment to its ReplicaSets (nor back
/// on a rollback), upstream `annotationsToSkip`.
pub const ANNOTATIONS_TO_SKIP: [&str; 6] = [
    LAST_APPLIED_CONFIG_ANNOTATION,
    REVISION_ANNOTATION,
    REVISION_HISTORY_ANNOTATION,
    DESIRED_REPLICAS_ANNOTATION,
    MAX_REPLICAS_ANNOTATION,
    DEPRECATED_ROLLBACK_TO,
];

/// Rollback event reason: the revision to roll back to was not found.
pub const ROLLBACK_REVISION_NOT_FOUND: &str = "DeploymentRollbackRevisionNotFound";
/// Rollback event reason: the template already is the one rolled back to.
pub const ROLLBACK_TEMPLATE_UNCHANGED: &str = "DeploymentRollbackTemplateUnchanged";
/// Rollback event reason: the rollback was done.
pub const ROLLBACK_DONE: &str = "DeploymentRollback";

/// Deployment condition type `Available`.
pub const DEPLOYMENT_AVAILABLE: &str = "Available";
/// Deployment condition type `Progressing`.
pub const DEPLOYMENT_PROGRESSING: &str = "Progressing";
/// Deployment condition type `ReplicaFailure`.
pub const DEPLOYMENT_REPLICA_FAILURE: &str = "ReplicaFailure";
/// ReplicaSet condition type `ReplicaFailure`.
pub const REPLICA_SET_REPLICA_FAILURE: &str = "ReplicaFailure";

/// Condition status `True`.
pub const CONDITION_TRUE: &str = "True";
/// Condition status `False`.
pub const CONDITION_FALSE: &str = "False";
/// Condition status `Unknown`.
pub const CONDITION_UNKNOWN: &str = "Unknown";

/// Strategy type `RollingUpdate`.
pub const ROLLING_UPDATE_STRATEGY: &str = "RollingUpdate";
/// Strategy type `Recreate`.
pub const RECREATE_STRATEGY: &str = "Recreate";

/// Progressing reason: one of the ReplicaSets was updated by the rollout.
pub const REPLICA_SET_UPDATED_REASON: &str = "ReplicaSetUpdated";
/// Progressing reason: the new ReplicaSet could not be created.
pub const FAILED_RS_CREATE_REASON: &str = "ReplicaSetCreateError";
/// Progressing reason: the new ReplicaSet was created.
pub const NEW_REPLICA_SET_REASON: &str = "NewReplicaSetCreated";
/// Progressing reason: an existing ReplicaSet was found to be the new one.
pub const FOUND_NEW_RS_REASON: &str = "FoundNewReplicaSet";
/// Progressing reason: the new ReplicaSet is available, the rollout is complete.
pub const NEW_RS_AVAILABLE_REASON: &str = "NewReplicaSetAvailable";
/// Progressing reason: no progress within `progressDeadlineSeconds`.
pub const TIMED_OUT_REASON: &str = "ProgressDeadlineExceeded";
/// Progressing reason: the Deployment is paused.
pub const PAUSED_DEPLOY_REASON: &str = "DeploymentPaused";
/// Progressing reason: the Deployment was resumed.
pub const RESUMED_DEPLOY_REASON: &str = "DeploymentResumed";
/// Available reason: at least the minimum of replicas is available.
pub const MINIMUM_REPLICAS_AVAILABLE: &str = "MinimumReplicasAvailable";
/// Available reason: fewer than the minimum of replicas are available.
pub const MINIMUM_REPLICAS_UNAVAILABLE: &str = "MinimumReplicasUnavailable";

/// An error of these helpers; the text is upstream's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl From<Error> for rudder_common::errors::SyncError {
    fn from(e: Error) -> Self {
        rudder_common::errors::SyncError(e.0)
    }
}

/// Go's `%q` of a string (`strconv.Quote`).
pub use rudder_common::field::go_quote;

// ---------------------------------------------------------------------------
// Field access with upstream's defaults.

/// `spec.replicas` of the Deployment (apps/v1 default 1).
pub fn deployment_replicas(d: &Deployment) -> i32 {
    d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// `spec.replicas` of the ReplicaSet (apps/v1 default 1).
pub fn rs_replicas(rs: &ReplicaSet) -> i32 {
    rs.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
}

/// `status.replicas` of the ReplicaSet.
pub fn rs_status_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().map_or(0, |s| s.replicas)
}

/// `status.availableReplicas` of the ReplicaSet.
pub fn rs_available_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.available_replicas).unwrap_or(0)
}

/// `status.readyReplicas` of the ReplicaSet.
pub fn rs_ready_replicas(rs: &ReplicaSet) -> i32 {
    rs.status.as_ref().and_then(|s| s.ready_replicas).unwrap_or(0)
}

fn rs_name(rs: &ReplicaSet) -> &str {
    rs.metadata.name.as_deref().unwrap_or_default()
}

fn annotation<'a>(meta: &'a ObjectMeta, key: &str) -> Option<&'a str> {
    meta.annotations.as_ref()?.get(key).map(String::as_str)
}

/// The strategy type (`""` when absent).
pub fn strategy_type(d: &Deployment) -> &str {
    d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.type_.as_deref()).unwrap_or_default()
}

/// Upstream `IsRollingUpdate`.
pub fn is_rolling_update(d: &Deployment) -> bool {
    strategy_type(d) == ROLLING_UPDATE_STRATEGY
}

fn rolling_params(d: &Deployment) -> (Option<&IntOrString>, Option<&IntOrString>) {
    let ru = d.spec.as_ref().and_then(|s| s.strategy.as_ref()).and_then(|s| s.rolling_update.as_ref());
    (ru.and_then(|r| r.max_surge.as_ref()), ru.and_then(|r| r.max_unavailable.as_ref()))
}

fn deployment_status(d: &Deployment) -> DeploymentStatus {
    d.status.clone().unwrap_or_default()
}

// ---------------------------------------------------------------------------
// Conditions.

/// Upstream `NewDeploymentCondition`: both times are `now`.
pub fn new_deployment_condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: impl Into<String>,
    now: Timestamp,
) -> DeploymentCondition {
    DeploymentCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        last_update_time: Some(Time(now)),
        last_transition_time: Some(Time(now)),
        reason: Some(reason.to_string()),
        message: Some(message.into()),
    }
}

/// Upstream `GetDeploymentCondition`: the condition of that type, if any.
pub fn get_deployment_condition<'a>(status: &'a DeploymentStatus, type_: &str) -> Option<&'a DeploymentCondition> {
    status.conditions.as_deref()?.iter().find(|c| c.type_ == type_)
}

/// The condition of that type in the Deployment's current status.
pub fn deployment_condition<'a>(d: &'a Deployment, type_: &str) -> Option<&'a DeploymentCondition> {
    get_deployment_condition(d.status.as_ref()?, type_)
}

fn reason_of(c: &DeploymentCondition) -> &str {
    c.reason.as_deref().unwrap_or_default()
}

/// Upstream `SetDeploymentCondition`: nothing changes when a condition of
/// that type with the same status and reason exists; otherwise the
/// condition replaces the old one (moved to the end), keeping the old
/// `lastTransitionTime` when the status did not change.
pub fn set_deployment_condition(status: &mut DeploymentStatus, mut condition: DeploymentCondition) {
    if let Some(current) = get_deployment_condition(status, &condition.type_) {
        if current.status == condition.status && current.reason == condition.reason {
            return;
        }
        if current.status == condition.status {
            condition.last_transition_time = current.last_transition_time.clone();
        }
    }
    let mut conditions = filter_out_condition(status.conditions.take(), &condition.type_);
    conditions.push(condition);
    status.conditions = Some(conditions);
}

/// Upstream `RemoveDeploymentCondition` (no conditions left leaves none at all).
pub fn remove_deployment_condition(status: &mut DeploymentStatus, type_: &str) {
    let conditions = filter_out_condition(status.conditions.take(), type_);
    status.conditions = if conditions.is_empty() { None } else { Some(conditions) };
}

fn filter_out_condition(conditions: Option<Vec<DeploymentCondition>>, type_: &str) -> Vec<DeploymentCondition> {
    conditions.unwrap_or_default().into_iter().filter(|c| c.type_ != type_).collect()
}

/// Upstream `ReplicaSetToDeploymentCondition` (both times are the
/// ReplicaSet condition's transition time).
pub fn replica_set_to_deployment_condition(cond: &ReplicaSetCondition) -> DeploymentCondition {
    DeploymentCondition {
        type_: cond.type_.clone(),
        status: cond.status.clone(),
        last_transition_time: cond.last_transition_time.clone(),
        last_update_time: cond.last_transition_time.clone(),
        reason: cond.reason.clone(),
        message: cond.message.clone(),
    }
}

// ---------------------------------------------------------------------------
// Revisions.

/// Upstream `SetDeploymentRevision`: true when the annotation changed.
pub fn set_deployment_revision(d: &mut Deployment, revision: &str) -> bool {
    let annotations = d.metadata.annotations.get_or_insert_with(BTreeMap::new);
    if annotations.get(REVISION_ANNOTATION).map(String::as_str).unwrap_or_default() != revision {
        annotations.insert(REVISION_ANNOTATION.to_string(), revision.to_string());
        return true;
    }
    false
}

/// Upstream `Revision`: the revision annotation, 0 when absent, an error
/// when it is not a decimal int64.
pub fn revision(meta: &ObjectMeta) -> Result<i64, ParseIntError> {
    match annotation(meta, REVISION_ANNOTATION) {
        None => Ok(0),
        Some(v) => v.parse::<i64>(),
    }
}

/// Upstream `MaxRevision`: the highest revision (0 when none); ReplicaSets
/// whose revision does not parse are skipped.
pub fn max_revision(rss: &[&ReplicaSet]) -> i64 {
    rss.iter().filter_map(|rs| revision(&rs.metadata).ok()).fold(0, i64::max)
}

/// Upstream `LastRevision`: the second highest revision (the one before
/// the current), 0 when none.
pub fn last_revision(rss: &[&ReplicaSet]) -> i64 {
    let (mut max, mut sec_max) = (0i64, 0i64);
    for v in rss.iter().filter_map(|rs| revision(&rs.metadata).ok()) {
        if v >= max {
            sec_max = max;
            max = v;
        } else if v > sec_max {
            sec_max = v;
        }
    }
    sec_max
}

// ---------------------------------------------------------------------------
// Annotations.

/// Upstream `skipCopyAnnotation`.
pub fn skip_copy_annotation(key: &str) -> bool {
    ANNOTATIONS_TO_SKIP.contains(&key)
}

/// Upstream `copyDeploymentAnnotationsToReplicaSet`: copies every annotation
/// but [`ANNOTATIONS_TO_SKIP`]; true when one changed. As upstream, an
/// absent annotation counts as the empty string, so an empty-valued
/// Deployment annotation is not copied onto a ReplicaSet lacking it.
pub fn copy_deployment_annotations_to_replica_set(d: &Deployment, rs: &mut ReplicaSet) -> bool {
    let mut changed = false;
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    for (k, v) in d.metadata.annotations.iter().flatten() {
        if skip_copy_annotation(k) || annotations.get(k).map(String::as_str).unwrap_or_default() == v {
            continue;
        }
        annotations.insert(k.clone(), v.clone());
        changed = true;
    }
    changed
}

/// Upstream `SetDeploymentAnnotationsTo` (rollback): the Deployment keeps
/// only its [`ANNOTATIONS_TO_SKIP`] and takes every other annotation of
/// the ReplicaSet rolled back to.
pub fn set_deployment_annotations_to(d: &mut Deployment, rollback_to: &ReplicaSet) {
    let mut annotations: BTreeMap<String, String> =
        d.metadata.annotations.take().unwrap_or_default().into_iter().filter(|(k, _)| skip_copy_annotation(k)).collect();
    for (k, v) in rollback_to.metadata.annotations.iter().flatten() {
        if !skip_copy_annotation(k) {
            annotations.insert(k.clone(), v.clone());
        }
    }
    d.metadata.annotations = Some(annotations);
}

/// Upstream `SetNewReplicaSetAnnotations`: copies the Deployment's
/// annotations, raises the revision to `new_revision` when it is higher
/// (recording the old one in the revision history, oldest entries dropped
/// to stay within `rev_history_limit_in_chars`) and, for a ReplicaSet about
/// to be created (`exists` false), sets the replicas annotations. True when
/// an annotation changed.
///
/// As upstream, a revision annotation that does not parse (or a
/// `new_revision` that does not) stops everything and returns false, even
/// when annotations were already copied.
pub fn set_new_replica_set_annotations(
    d: &Deployment,
    new_rs: &mut ReplicaSet,
    new_revision: &str,
    exists: bool,
    rev_history_limit_in_chars: usize,
) -> bool {
    let mut changed = copy_deployment_annotations_to_replica_set(d, new_rs);
    let annotations = new_rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let old_revision = annotations.get(REVISION_ANNOTATION).cloned();
    let old_revision_int = match old_revision.as_deref().unwrap_or_default() {
        "" => 0,
        s => match s.parse::<i64>() {
            Ok(v) => v,
            Err(_) => return false,
        },
    };
    let Ok(new_revision_int) = new_revision.parse::<i64>() else {
        return false;
    };
    if old_revision_int < new_revision_int {
        annotations.insert(REVISION_ANNOTATION.to_string(), new_revision.to_string());
        changed = true;
    }
    if let Some(old_revision) = old_revision.filter(|_| old_revision_int < new_revision_int) {
        let history = annotations.get(REVISION_HISTORY_ANNOTATION).cloned().unwrap_or_default();
        let old_revisions: Vec<&str> = history.split(',').collect();
        if old_revisions[0].is_empty() {
            annotations.insert(REVISION_HISTORY_ANNOTATION.to_string(), old_revision);
        } else {
            let mut total_len = history.len() + old_revision.len() + 1;
            let mut start = 0;
            while total_len > rev_history_limit_in_chars && start < old_revisions.len() {
                total_len = total_len.saturating_sub(old_revisions[start].len() + 1);
                start += 1;
            }
            if total_len <= rev_history_limit_in_chars {
                let mut kept: Vec<&str> = old_revisions[start..].to_vec();
                kept.push(&old_revision);
                annotations.insert(REVISION_HISTORY_ANNOTATION.to_string(), kept.join(","));
            }
        }
    }
    if !exists {
        let replicas = deployment_replicas(d);
        if set_replicas_annotations(new_rs, replicas, replicas.wrapping_add(max_surge(d))) {
            changed = true;
        }
    }
    changed
}

/// Upstream `getNonNegativeInt32FromAnnotation`: `Ok(None)` when absent,
/// an error when not a decimal in `0..=i32::MAX` (no sign allowed, as Go's
/// `ParseUint`).
pub fn non_negative_i32_from_annotation(rs: &ReplicaSet, key: &str) -> Result<Option<i32>, Error> {
    let Some(value) = annotation(&rs.metadata, key) else {
        return Ok(None);
    };
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error(format!("strconv.ParseUint: parsing {}: invalid syntax", go_quote(value))));
    }
    let parsed = value.parse::<u32>().map_err(|_| Error(format!("strconv.ParseUint: parsing {}: value out of range", go_quote(value))))?;
    i32::try_from(parsed).map(Some).map_err(|_| Error(format!("value {parsed} is out of range (higher than {})", i32::MAX)))
}

/// Upstream `GetDesiredReplicasAnnotation`: the desired-replicas annotation
/// when present and valid.
pub fn get_desired_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    non_negative_i32_from_annotation(rs, DESIRED_REPLICAS_ANNOTATION).ok().flatten()
}

/// Upstream `getMaxReplicasAnnotation`.
pub fn get_max_replicas_annotation(rs: &ReplicaSet) -> Option<i32> {
    non_negative_i32_from_annotation(rs, MAX_REPLICAS_ANNOTATION).ok().flatten()
}

/// Upstream `SetReplicasAnnotations`: true when one changed.
pub fn set_replicas_annotations(rs: &mut ReplicaSet, desired_replicas: i32, max_replicas: i32) -> bool {
    let annotations = rs.metadata.annotations.get_or_insert_with(BTreeMap::new);
    let mut updated = false;
    for (key, value) in [(DESIRED_REPLICAS_ANNOTATION, desired_replicas), (MAX_REPLICAS_ANNOTATION, max_replicas)] {
        let value = value.to_string();
        if annotations.get(key) != Some(&value) {
            annotations.insert(key.to_string(), value);
            updated = true;
        }
    }
    updated
}

/// Upstream `ReplicasAnnotationsNeedUpdate`.
pub fn replicas_annotations_need_update(rs: &ReplicaSet, desired_replicas: i32, max_replicas: i32) -> bool {
    let Some(annotations) = rs.metadata.annotations.as_ref() else {
        return true;
    };
    annotations.get(DESIRED_REPLICAS_ANNOTATION) != Some(&desired_replicas.to_string())
        || annotations.get(MAX_REPLICAS_ANNOTATION) != Some(&max_replicas.to_string())
}

// ---------------------------------------------------------------------------
// Fenceposts.

/// Upstream `intstr.GetScaledValueFromIntOrPercent` (`rudder_common::intstr`).
pub fn get_scaled_value_from_int_or_percent(value: Option<&IntOrString>, total: i32, round_up: bool) -> Result<i32, Error> {
    rudder_common::intstr::scaled_value_from_int_or_percent(value, total, round_up).map_err(Error)
}

/// Upstream `ResolveFenceposts`: maxSurge rounded up, maxUnavailable
/// rounded down, a missing one is 0; when both come out 0, maxUnavailable
/// is 1 (surge might not work, e.g. because of quota).
pub fn resolve_fenceposts(
    max_surge: Option<&IntOrString>,
    max_unavailable: Option<&IntOrString>,
    desired: i32,
) -> Result<(i32, i32), Error> {
    let zero = IntOrString::Int(0);
    let surge = get_scaled_value_from_int_or_percent(Some(max_surge.unwrap_or(&zero)), desired, true)?;
    let mut unavailable = get_scaled_value_from_int_or_percent(Some(max_unavailable.unwrap_or(&zero)), desired, false)?;
    if surge == 0 && unavailable == 0 {
        unavailable = 1;
    }
    Ok((surge, unavailable))
}

/// Upstream `MaxUnavailable`: 0 unless rolling update with replicas, at
/// most `spec.replicas`; invalid values (caught by validation) count 0.
pub fn max_unavailable(d: &Deployment) -> i32 {
    let replicas = deployment_replicas(d);
    if !is_rolling_update(d) || replicas == 0 {
        return 0;
    }
    let (surge, unavailable) = rolling_params(d);
    let (_, unavailable) = resolve_fenceposts(surge, unavailable, replicas).unwrap_or((0, 0));
    unavailable.min(replicas)
}

/// Upstream `MinAvailable`: `spec.replicas - maxUnavailable` for a rolling
/// update, else 0.
pub fn min_available(d: &Deployment) -> i32 {
    if !is_rolling_update(d) {
        return 0;
    }
    deployment_replicas(d).wrapping_sub(max_unavailable(d))
}

/// Upstream `MaxSurge`: 0 unless rolling update; invalid values count 0.
pub fn max_surge(d: &Deployment) -> i32 {
    if !is_rolling_update(d) {
        return 0;
    }
    let (surge, unavailable) = rolling_params(d);
    resolve_fenceposts(surge, unavailable, deployment_replicas(d)).map_or(0, |(s, _)| s)
}

// ---------------------------------------------------------------------------
// Templates, new and old ReplicaSets.

fn without_hash_label(template: &PodTemplateSpec) -> PodTemplateSpec {
    let mut t = template.clone();
    if let Some(meta) = t.metadata.as_mut() {
        if let Some(labels) = meta.labels.as_mut() {
            labels.remove(DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY);
        }
        // Go's semantic equality does not tell nil and empty maps apart.
        if meta.labels.as_ref().is_some_and(BTreeMap::is_empty) {
            meta.labels = None;
        }
        if meta.annotations.as_ref().is_some_and(BTreeMap::is_empty) {
            meta.annotations = None;
        }
        if *meta == ObjectMeta::default() {
            t.metadata = None;
        }
    }
    t
}

/// Upstream `EqualIgnoreHash`: the templates are equal but for the
/// `pod-template-hash` label. Empty and missing labels/annotations maps
/// compare equal, as with Go's semantic equality; deeper nil-versus-empty
/// differences do not occur in objects read from the API server.
pub fn equal_ignore_hash(a: &PodTemplateSpec, b: &PodTemplateSpec) -> bool {
    without_hash_label(a) == without_hash_label(b)
}

fn creation_timestamp(rs: &ReplicaSet) -> Option<Timestamp> {
    rs.metadata.creation_timestamp.as_ref().map(|t| t.0)
}

/// Upstream `controller.ReplicaSetsByCreationTimestamp`: older first,
/// names breaking ties (a missing timestamp is the oldest).
pub fn by_creation_timestamp(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    creation_timestamp(a).cmp(&creation_timestamp(b)).then_with(|| rs_name(a).cmp(rs_name(b)))
}

/// Upstream `controller.ReplicaSetsBySizeOlder`: larger first, older first
/// among equal sizes.
pub fn by_size_older(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    rs_replicas(b).cmp(&rs_replicas(a)).then_with(|| by_creation_timestamp(a, b))
}

/// Upstream `controller.ReplicaSetsBySizeNewer`: larger first, newer first
/// among equal sizes.
pub fn by_size_newer(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    rs_replicas(b).cmp(&rs_replicas(a)).then_with(|| by_creation_timestamp(b, a))
}

/// Upstream `ReplicaSetsByRevision`: lower revision first; creation time
/// when a revision does not parse or both are equal.
pub fn by_revision(a: &ReplicaSet, b: &ReplicaSet) -> Ordering {
    match (revision(&a.metadata), revision(&b.metadata)) {
        (Ok(ra), Ok(rb)) if ra != rb => ra.cmp(&rb),
        _ => by_creation_timestamp(a, b),
    }
}

/// Upstream `controller.FilterActiveReplicaSets`: those with `spec.replicas > 0`.
pub fn filter_active_replica_sets<'a>(rss: &[&'a ReplicaSet]) -> Vec<&'a ReplicaSet> {
    rss.iter().copied().filter(|rs| rs_replicas(rs) > 0).collect()
}

/// Upstream `FindNewReplicaSet`: the oldest ReplicaSet (by creation time,
/// then name) whose template equals the Deployment's but for the hash label.
pub fn find_new_replica_set<'a>(d: &Deployment, rs_list: &[&'a ReplicaSet]) -> Option<&'a ReplicaSet> {
    let template = d.spec.as_ref().map(|s| &s.template)?;
    let mut sorted = rs_list.to_vec();
    sorted.sort_by(|a, b| by_creation_timestamp(a, b));
    let empty = PodTemplateSpec::default();
    sorted.into_iter().find(|rs| equal_ignore_hash(rs.spec.as_ref().and_then(|s| s.template.as_ref()).unwrap_or(&empty), template))
}

/// Upstream `FindOldReplicaSets`: (the old ReplicaSets with `spec.replicas`
/// other than 0, all old ReplicaSets), in creation order (upstream sorts
/// the list in place while looking for the new one).
pub fn find_old_replica_sets<'a>(d: &Deployment, rs_list: &[&'a ReplicaSet]) -> (Vec<&'a ReplicaSet>, Vec<&'a ReplicaSet>) {
    let new_rs = find_new_replica_set(d, rs_list);
    let mut sorted = rs_list.to_vec();
    sorted.sort_by(|a, b| by_creation_timestamp(a, b));
    let mut required = Vec::new();
    let mut all = Vec::new();
    for rs in sorted {
        if new_rs.is_some_and(|n| n.metadata.uid == rs.metadata.uid) {
            continue;
        }
        all.push(rs);
        if rs_replicas(rs) != 0 {
            required.push(rs);
        }
    }
    (required, all)
}

/// Upstream `FindActiveOrLatest`: the only active ReplicaSet, or the newest
/// one (the new one, else the newest old one) when none is active; `None`
/// when several are active (they scale proportionally).
pub fn find_active_or_latest<'a>(new_rs: Option<&'a ReplicaSet>, old_rss: &[&'a ReplicaSet]) -> Option<&'a ReplicaSet> {
    if new_rs.is_none() && old_rss.is_empty() {
        return None;
    }
    let mut sorted = old_rss.to_vec();
    sorted.sort_by(|a, b| by_creation_timestamp(b, a));
    let mut all = sorted.clone();
    all.extend(new_rs);
    let active = filter_active_replica_sets(&all);
    match active.len() {
        0 => new_rs.or_else(|| sorted.first().copied()),
        1 => Some(active[0]),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// Counting.

/// Upstream `GetReplicaCountForReplicaSets`: the sum of `spec.replicas`.
pub fn get_replica_count_for_replica_sets(rss: &[&ReplicaSet]) -> i32 {
    rss.iter().fold(0i32, |sum, rs| sum.wrapping_add(rs_replicas(rs)))
}

/// Upstream `GetActualReplicaCountForReplicaSets`: the sum of `status.replicas`.
pub fn get_actual_replica_count_for_replica_sets(rss: &[&ReplicaSet]) -> i32 {
    rss.iter().fold(0i32, |sum, rs| sum.wrapping_add(rs_status_replicas(rs)))
}

/// Upstream `GetReadyReplicaCountForReplicaSets`.
pub fn get_ready_replica_count_for_replica_sets(rss: &[&ReplicaSet]) -> i32 {
    rss.iter().fold(0i32, |sum, rs| sum.wrapping_add(rs_ready_replicas(rs)))
}

/// Upstream `GetAvailableReplicaCountForReplicaSets`.
pub fn get_available_replica_count_for_replica_sets(rss: &[&ReplicaSet]) -> i32 {
    rss.iter().fold(0i32, |sum, rs| sum.wrapping_add(rs_available_replicas(rs)))
}

/// Upstream `GetTerminatingReplicaCountForReplicaSets`: the sum of
/// `status.terminatingReplicas`; a ReplicaSet never observed (observed
/// generation 0) without the field counts 0, an observed one without it
/// makes the sum unknown (`None`).
pub fn get_terminating_replica_count_for_replica_sets(rss: &[&ReplicaSet]) -> Option<i32> {
    let mut total = 0i32;
    for rs in rss {
        let status = rs.status.as_ref();
        let terminating = status.and_then(|s| s.terminating_replicas);
        let observed = status.and_then(|s| s.observed_generation).unwrap_or(0);
        match terminating {
            None if observed == 0 => continue,
            None => return None,
            Some(n) => total = total.wrapping_add(n),
        }
    }
    Some(total)
}

// ---------------------------------------------------------------------------
// Rollout state.

/// Upstream `IsSaturated`: the ReplicaSet has, wants (desired-replicas
/// annotation) and has available exactly `spec.replicas` of the Deployment.
pub fn is_saturated(d: &Deployment, rs: Option<&ReplicaSet>) -> bool {
    let Some(rs) = rs else {
        return false;
    };
    // Upstream: strconv.Atoi (a sign allowed, 64 bits) then int32(), which wraps.
    let Some(desired) = annotation(&rs.metadata, DESIRED_REPLICAS_ANNOTATION).and_then(|s| s.parse::<i64>().ok()).map(|v| v as i32) else {
        return false;
    };
    let replicas = deployment_replicas(d);
    rs_replicas(rs) == replicas && desired == replicas && rs_available_replicas(rs) == replicas
}

/// Upstream `DeploymentComplete`: all replicas updated and available, none
/// old, and the status is of the current generation.
pub fn deployment_complete(d: &Deployment, new_status: &DeploymentStatus) -> bool {
    let replicas = deployment_replicas(d);
    new_status.updated_replicas.unwrap_or(0) == replicas
        && new_status.replicas.unwrap_or(0) == replicas
        && new_status.available_replicas.unwrap_or(0) == replicas
        && new_status.observed_generation.unwrap_or(0) >= d.metadata.generation.unwrap_or(0)
}

/// Upstream `DeploymentProgressing`: compared with the Deployment's current
/// status, more updated replicas, fewer old ones, more ready or more available.
pub fn deployment_progressing(d: &Deployment, new_status: &DeploymentStatus) -> bool {
    let old = deployment_status(d);
    let v = |x: Option<i32>| x.unwrap_or(0);
    let old_old = v(old.replicas).wrapping_sub(v(old.updated_replicas));
    let new_old = v(new_status.replicas).wrapping_sub(v(new_status.updated_replicas));
    v(new_status.updated_replicas) > v(old.updated_replicas)
        || new_old < old_old
        || v(new_status.ready_replicas) > v(old.ready_replicas)
        || v(new_status.available_replicas) > v(old.available_replicas)
}

/// Upstream `HasProgressDeadline`: set and not `i32::MAX`.
pub fn has_progress_deadline(d: &Deployment) -> bool {
    d.spec.as_ref().and_then(|s| s.progress_deadline_seconds).is_some_and(|p| p != i32::MAX)
}

/// Upstream `HasRevisionHistoryLimit`: set and not `i32::MAX`.
pub fn has_revision_history_limit(d: &Deployment) -> bool {
    d.spec.as_ref().and_then(|s| s.revision_history_limit).is_some_and(|l| l != i32::MAX)
}

/// `progressDeadlineSeconds` as a duration (0 when unset).
pub fn progress_deadline(d: &Deployment) -> SignedDuration {
    SignedDuration::from_secs(i64::from(d.spec.as_ref().and_then(|s| s.progress_deadline_seconds).unwrap_or(0)))
}

/// Upstream `DeploymentTimedOut`: with a progress deadline, the Progressing
/// condition of `new_status` says so (`ProgressDeadlineExceeded`), or was
/// last updated more than the deadline before `now`. A complete rollout
/// (`NewReplicaSetAvailable`) never times out. A condition without
/// `lastUpdateTime` is as old as Go's zero time: timed out.
pub fn deployment_timed_out(d: &Deployment, new_status: &DeploymentStatus, now: Timestamp) -> bool {
    if !has_progress_deadline(d) {
        return false;
    }
    let Some(condition) = get_deployment_condition(new_status, DEPLOYMENT_PROGRESSING) else {
        return false;
    };
    match reason_of(condition) {
        NEW_RS_AVAILABLE_REASON => return false,
        TIMED_OUT_REASON => return true,
        _ => {}
    }
    let Some(from) = condition.last_update_time.as_ref() else {
        return true;
    };
    from.0.checked_add(progress_deadline(d)).is_ok_and(|deadline| deadline < now)
}

/// Upstream `NewRSNewReplicas`: how many replicas the new ReplicaSet may
/// have now. Rolling update: up to `spec.replicas + maxSurge` pods in all,
/// never beyond `spec.replicas` for the new one; Recreate: `spec.replicas`.
pub fn new_rs_new_replicas(d: &Deployment, all_rss: &[&ReplicaSet], new_rs: &ReplicaSet) -> Result<i32, Error> {
    let replicas = deployment_replicas(d);
    match strategy_type(d) {
        ROLLING_UPDATE_STRATEGY => {
            let (surge, _) = rolling_params(d);
            let surge = get_scaled_value_from_int_or_percent(surge, replicas, true)?;
            let current = get_replica_count_for_replica_sets(all_rss);
            let max_total = replicas.wrapping_add(surge);
            let new_replicas = rs_replicas(new_rs);
            if current >= max_total {
                return Ok(new_replicas);
            }
            let scale_up = (max_total - current).min(replicas.wrapping_sub(new_replicas));
            Ok(new_replicas.wrapping_add(scale_up))
        }
        RECREATE_STRATEGY => Ok(replicas),
        other => Err(Error(format!("deployment type {other} isn't supported"))),
    }
}

/// Upstream `GetReplicaSetProportion` (formerly `GetProportion`): how many
/// replicas to add to (or remove from) this ReplicaSet when the Deployment
/// adds `to_add` replicas in all, `added` of them already given out; never
/// more than what is left.
pub fn get_replica_set_proportion(rs: &ReplicaSet, d: &Deployment, to_add: i32, added: i32) -> i32 {
    if rs_replicas(rs) == 0 || to_add == 0 || to_add == added {
        return 0;
    }
    let fraction = get_replica_set_fraction(rs, d);
    let allowed = to_add.wrapping_sub(added);
    if to_add > 0 { fraction.min(allowed) } else { fraction.max(allowed) }
}

/// Go's `integer.RoundToInt32`: half away from zero, then truncation.
fn round_to_i32(a: f64) -> i32 {
    if a < 0.0 { (a - 0.5) as i32 } else { (a + 0.5) as i32 }
}

/// Upstream `getReplicaSetFraction`: this ReplicaSet's share of a scaling
/// event, from the max-replicas annotation (what `spec.replicas + maxSurge`
/// was when it was last scaled) to the Deployment's current one. Scaling
/// to zero removes the whole ReplicaSet; a missing, invalid or zero
/// annotation falls back to `status.replicas` of the Deployment, and to no
/// change at all when that is 0.
pub fn get_replica_set_fraction(rs: &ReplicaSet, d: &Deployment) -> i32 {
    let replicas = deployment_replicas(d);
    if replicas == 0 {
        return rs_replicas(rs).wrapping_neg();
    }
    let max_replicas = replicas.wrapping_add(max_surge(d));
    let before = match get_max_replicas_annotation(rs) {
        Some(v) if v != 0 => v,
        _ => {
            let status_replicas = d.status.as_ref().and_then(|s| s.replicas).unwrap_or(0);
            if status_replicas == 0 {
                return 0;
            }
            status_replicas
        }
    };
    let base = rs_replicas(rs);
    // Go multiplies in int32 (wrapping) before converting to float64.
    let new_size = f64::from(base.wrapping_mul(max_replicas)) / f64::from(before);
    round_to_i32(new_size).wrapping_sub(base)
}

#[cfg(test)]
#[allow(clippy::type_complexity)]
mod tests {
    use super::*;
    use k8s_openapi::api::apps::v1::{DeploymentSpec, DeploymentStrategy, ReplicaSetSpec, ReplicaSetStatus, RollingUpdateDeployment};
    use k8s_openapi::api::core::v1::{Container, PodSpec};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// A Deployment in the style of upstream's tests: `image` names the
    /// only container and the `name` label.
    fn deployment(image: &str, replicas: i32) -> Deployment {
        let template = PodTemplateSpec {
            metadata: Some(ObjectMeta { labels: Some(labels(&[("name", image)])), ..Default::default() }),
            spec: Some(PodSpec {
                containers: vec![Container { name: image.into(), image: Some(image.into()), ..Default::default() }],
                ..Default::default()
            }),
        };
        Deployment {
            metadata: ObjectMeta { name: Some(image.into()), annotations: Some(BTreeMap::new()), ..Default::default() },
            spec: Some(DeploymentSpec {
                replicas: Some(replicas),
                selector: LabelSelector { match_labels: Some(labels(&[("name", image)])), ..Default::default() },
                template,
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn with_strategy(mut d: Deployment, type_: &str, surge: Option<IntOrString>, unavailable: Option<IntOrString>) -> Deployment {
        d.spec.as_mut().unwrap().strategy = Some(DeploymentStrategy {
            type_: Some(type_.into()),
            rolling_update: Some(RollingUpdateDeployment { max_surge: surge, max_unavailable: unavailable }),
        });
        d
    }

    /// A ReplicaSet with the Deployment's template (upstream `generateRS`).
    fn rs_of(d: &Deployment, name: &str, uid: &str, replicas: i32) -> ReplicaSet {
        let template = d.spec.as_ref().unwrap().template.clone();
        ReplicaSet {
            metadata: ObjectMeta {
                name: Some(name.into()),
                uid: Some(uid.into()),
                labels: template.metadata.as_ref().and_then(|m| m.labels.clone()),
                ..Default::default()
            },
            spec: Some(ReplicaSetSpec {
                replicas: Some(replicas),
                selector: LabelSelector { match_labels: template.metadata.as_ref().and_then(|m| m.labels.clone()), ..Default::default() },
                template: Some(template),
                ..Default::default()
            }),
            status: Some(ReplicaSetStatus::default()),
        }
    }

    fn set_template_label(rs: &mut ReplicaSet, k: &str, v: &str) {
        let t = rs.spec.as_mut().unwrap().template.as_mut().unwrap();
        t.metadata.get_or_insert_with(Default::default).labels.get_or_insert_with(BTreeMap::new).insert(k.into(), v.into());
    }

    fn pct(s: &str) -> IntOrString {
        IntOrString::String(s.into())
    }

    #[test]
    fn go_quote_escapes() {
        assert_eq!(go_quote("foo-1"), "\"foo-1\"");
        assert_eq!(go_quote("a\"b\\c\n\u{1}"), "\"a\\\"b\\\\c\\n\\x01\"");
    }

    // TestEqualIgnoreHash
    #[test]
    fn equal_ignore_hash_cases() {
        fn template(name: &str, node: &str, annotations: &[(&str, &str)], l: &[(&str, &str)]) -> PodTemplateSpec {
            PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    name: Some(name.into()),
                    annotations: Some(labels(annotations)),
                    labels: Some(labels(l)),
                    ..Default::default()
                }),
                spec: Some(PodSpec { node_name: Some(node.into()), ..Default::default() }),
            }
        }
        let h = DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY;
        let cases = [
            (
                "same spec, same labels",
                template("foo", "foo-node", &[], &[(h, "value-1"), ("something", "else")]),
                template("foo", "foo-node", &[], &[(h, "value-1"), ("something", "else")]),
                true,
            ),
            (
                "only hash differs",
                template("foo", "foo-node", &[], &[(h, "value-1"), ("something", "else")]),
                template("foo", "foo-node", &[], &[(h, "value-2"), ("something", "else")]),
                true,
            ),
            (
                "former has no hash",
                template("foo", "foo-node", &[], &[("something", "else")]),
                template("foo", "foo-node", &[], &[(h, "value-2"), ("something", "else")]),
                true,
            ),
            (
                "labels differ, former has no hash",
                template("foo", "foo-node", &[], &[("something", "else")]),
                template("foo", "foo-node", &[], &[(h, "value-2")]),
                false,
            ),
            (
                "labels differ, latter has no hash",
                template("foo", "foo-node", &[], &[(h, "value-1")]),
                template("foo", "foo-node", &[], &[("something", "else")]),
                false,
            ),
            (
                "labels differ, same hash",
                template("foo", "foo-node", &[], &[(h, "value-1")]),
                template("foo", "foo-node", &[], &[(h, "value-1"), ("something", "else")]),
                false,
            ),
            (
                "different spec, same labels",
                template("foo", "foo-node", &[("former", "value")], &[(h, "value-1"), ("something", "else")]),
                template("foo", "foo-node", &[("latter", "value")], &[(h, "value-1"), ("something", "else")]),
                false,
            ),
            (
                "different spec, different hash",
                template("foo-1", "foo-node", &[], &[(h, "value-1"), ("something", "else")]),
                template("foo-2", "foo-node", &[], &[(h, "value-2"), ("something", "else")]),
                false,
            ),
            (
                "different spec, former has no hash",
                template("foo-1", "foo-node-1", &[], &[("something", "else")]),
                template("foo-2", "foo-node-2", &[], &[(h, "value-2"), ("something", "else")]),
                false,
            ),
            (
                "different spec, different labels",
                template("foo", "foo-node-1", &[], &[("something", "else")]),
                template("foo", "foo-node-2", &[], &[("nothing", "else")]),
                false,
            ),
        ];
        for (name, a, b, expected) in cases {
            assert_eq!(equal_ignore_hash(&a, &b), expected, "{name}");
            assert_eq!(equal_ignore_hash(&b, &a), expected, "{name} (reverse order)");
        }
        // Only the hash label: the emptied map equals no map at all.
        let only_hash = template("foo", "n", &[], &[(h, "x")]);
        let mut none = only_hash.clone();
        none.metadata.as_mut().unwrap().labels = None;
        assert!(equal_ignore_hash(&only_hash, &none));
    }

    fn find_fixtures() -> (Deployment, ReplicaSet, ReplicaSet, ReplicaSet) {
        let now = ts("2024-01-01T00:00:00Z");
        let d = deployment("nginx", 1);
        let mut new_rs = rs_of(&d, "nginx-a", "uid-new", 0);
        set_template_label(&mut new_rs, DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY, "hash");
        new_rs.metadata.creation_timestamp = Some(Time(now.checked_add(SignedDuration::from_mins(1)).unwrap()));
        let mut new_rs_dup = rs_of(&d, "nginx-b", "uid-dup", 0);
        set_template_label(&mut new_rs_dup, DEFAULT_DEPLOYMENT_UNIQUE_LABEL_KEY, "different-hash");
        new_rs_dup.metadata.creation_timestamp = Some(Time(now));
        let mut old_d = deployment("nginx", 1);
        old_d.spec.as_mut().unwrap().template.spec.as_mut().unwrap().containers[0].name = "nginx-old-1".into();
        let mut old_rs = rs_of(&old_d, "nginx-c", "uid-old", 0);
        old_rs.metadata.creation_timestamp = Some(Time(now.checked_sub(SignedDuration::from_mins(1)).unwrap()));
        (d, new_rs, new_rs_dup, old_rs)
    }

    fn names(rss: &[&ReplicaSet]) -> Vec<String> {
        rss.iter().map(|rs| rs_name(rs).to_string()).collect()
    }

    // TestFindNewReplicaSet
    #[test]
    fn find_new_replica_set_cases() {
        let (d, new_rs, new_rs_dup, old_rs) = find_fixtures();
        assert_eq!(find_new_replica_set(&d, &[&new_rs, &old_rs]), Some(&new_rs));
        // The oldest of two equal ones.
        assert_eq!(find_new_replica_set(&d, &[&new_rs, &old_rs, &new_rs_dup]), Some(&new_rs_dup));
        assert_eq!(find_new_replica_set(&d, &[&old_rs]), None);
    }

    // TestFindOldReplicaSets
    #[test]
    fn find_old_replica_sets_cases() {
        let (d, mut new_rs, new_rs_dup, old_rs) = find_fixtures();
        new_rs.spec.as_mut().unwrap().replicas = Some(1);
        let (required, all) = find_old_replica_sets(&d, &[&new_rs, &old_rs]);
        assert_eq!(names(&all), ["nginx-c"]);
        assert!(required.is_empty());
        let (required, all) = find_old_replica_sets(&d, &[&old_rs]);
        assert_eq!(names(&all), ["nginx-c"]);
        assert!(required.is_empty());
        // Two new ones: only the oldest is new; the other is old and, with
        // replicas, required.
        let (required, all) = find_old_replica_sets(&d, &[&old_rs, &new_rs, &new_rs_dup]);
        assert_eq!(names(&all), ["nginx-c", "nginx-a"]);
        assert_eq!(names(&required), ["nginx-a"]);
        let (required, all) = find_old_replica_sets(&d, &[&new_rs]);
        assert!(all.is_empty() && required.is_empty());
    }

    // TestGetReplicaCountForReplicaSets
    #[test]
    fn replica_counts() {
        let mk = |name: &str, spec: i32, status: i32, observed: Option<i64>, terminating: Option<i32>| {
            let mut rs = rs_of(&deployment(name, 1), name, name, spec);
            rs.status = Some(ReplicaSetStatus {
                replicas: status,
                observed_generation: observed,
                terminating_replicas: terminating,
                ..Default::default()
            });
            rs
        };
        let rs1 = mk("foo-rs", 1, 2, Some(1), Some(3));
        // Upstream's test sets rs1's observedGeneration twice, rs2 keeps 0.
        let rs2 = mk("bar-rs", 2, 3, None, Some(1));
        let rs3 = mk("unsynced-rs", 3, 0, None, None);
        let rs4 = mk("dropped-rs", 1, 1, Some(1), None);
        let cases: [(&str, Vec<&ReplicaSet>, i32, i32, Option<i32>); 6] = [
            ("scaling down rs1", vec![&rs1], 1, 2, Some(3)),
            ("scaling down rs1 and rs2", vec![&rs1, &rs2], 3, 5, Some(4)),
            ("scaling up rs3", vec![&rs3], 3, 0, Some(0)),
            ("scaling down rs1 and rs2 and scaling up rs3", vec![&rs1, &rs2, &rs3], 6, 5, Some(4)),
            ("invalid/unknown terminating status for rs4", vec![&rs4], 1, 1, None),
            ("invalid/unknown terminating status for rs4 with rs1, rs2 and rs3", vec![&rs1, &rs2, &rs3, &rs4], 7, 6, None),
        ];
        for (name, sets, count, actual, terminating) in cases {
            assert_eq!(get_replica_count_for_replica_sets(&sets), count, "{name}");
            assert_eq!(get_actual_replica_count_for_replica_sets(&sets), actual, "{name}");
            assert_eq!(get_terminating_replica_count_for_replica_sets(&sets), terminating, "{name}");
        }
    }

    // TestResolveFenceposts
    #[test]
    fn resolve_fenceposts_cases() {
        let cases: [(Option<&str>, Option<&str>, i32, i32, i32, bool); 7] = [
            (Some("0%"), Some("0%"), 0, 0, 1, false),
            (Some("39%"), Some("39%"), 10, 4, 3, false),
            (Some("oops"), Some("39%"), 10, 0, 0, true),
            (Some("55%"), Some("urg"), 10, 0, 0, true),
            (None, Some("39%"), 10, 0, 3, false),
            (Some("39%"), None, 10, 4, 0, false),
            (None, None, 10, 0, 1, false),
        ];
        for (i, (surge, unavailable, desired, want_surge, want_unavailable, want_err)) in cases.into_iter().enumerate() {
            let surge = surge.map(pct);
            let unavailable = unavailable.map(pct);
            let got = resolve_fenceposts(surge.as_ref(), unavailable.as_ref(), desired);
            assert_eq!(got.is_err(), want_err, "case {i}: {got:?}");
            assert_eq!(got.unwrap_or((0, 0)), (want_surge, want_unavailable), "case {i}");
        }
        assert_eq!(
            resolve_fenceposts(Some(&pct("oops")), None, 1).unwrap_err().to_string(),
            "invalid value for IntOrString: invalid type: string is not a percentage"
        );
        assert_eq!(
            resolve_fenceposts(Some(&pct("x%")), None, 1).unwrap_err().to_string(),
            "invalid value for IntOrString: invalid value \"x%\": strconv.Atoi: parsing \"x\": invalid syntax"
        );
        // Percentages of large sizes do not overflow; ints pass through.
        assert_eq!(resolve_fenceposts(Some(&pct("100%")), Some(&IntOrString::Int(3)), i32::MAX), Ok((i32::MAX, 3)));
        assert_eq!(get_scaled_value_from_int_or_percent(None, 10, true), Err(Error("nil value for IntOrString".into())));
    }

    // TestNewRSNewReplicas
    #[test]
    fn new_rs_new_replicas_cases() {
        let cases = [
            ("can not scale up - to newRSReplicas", ROLLING_UPDATE_STRATEGY, 1, 5, 1, 5),
            ("scale up - to depReplicas", ROLLING_UPDATE_STRATEGY, 6, 2, 10, 6),
            ("recreate - to depReplicas", RECREATE_STRATEGY, 3, 1, 1, 3),
        ];
        for (name, strategy, dep_replicas, new_rs_replicas, surge, expected) in cases {
            let d = with_strategy(deployment("nginx", dep_replicas), strategy, Some(IntOrString::Int(surge)), Some(IntOrString::Int(1)));
            let new_rs = rs_of(&d, "new", "new", new_rs_replicas);
            let rs5 = rs_of(&d, "rs5", "rs5", 5);
            assert_eq!(new_rs_new_replicas(&d, &[&rs5], &new_rs), Ok(expected), "{name}");
        }
        let d = deployment("nginx", 1);
        let new_rs = rs_of(&d, "new", "new", 0);
        assert_eq!(new_rs_new_replicas(&d, &[], &new_rs), Err(Error("deployment type  isn't supported".into())));
        // A rolling update without maxSurge: upstream's nil IntOrString error.
        let d = with_strategy(deployment("nginx", 1), ROLLING_UPDATE_STRATEGY, None, None);
        assert!(new_rs_new_replicas(&d, &[], &new_rs).is_err());
    }

    fn cond(type_: &str, status: &str, reason: &str) -> DeploymentCondition {
        DeploymentCondition { type_: type_.into(), status: status.into(), reason: Some(reason.into()), ..Default::default() }
    }

    // TestGetCondition, TestSetCondition, TestRemoveCondition
    #[test]
    fn condition_helpers() {
        let progressing = || cond(DEPLOYMENT_PROGRESSING, CONDITION_FALSE, "ForSomeReason");
        let progressing2 = || cond(DEPLOYMENT_PROGRESSING, CONDITION_TRUE, "BecauseItIs");
        let available = || cond(DEPLOYMENT_AVAILABLE, CONDITION_TRUE, "AwesomeController");
        let status = || DeploymentStatus { conditions: Some(vec![progressing(), available()]), ..Default::default() };

        assert!(get_deployment_condition(&status(), DEPLOYMENT_AVAILABLE).is_some());
        assert!(get_deployment_condition(&status(), DEPLOYMENT_REPLICA_FAILURE).is_none());

        let mut s = DeploymentStatus::default();
        set_deployment_condition(&mut s, available());
        assert_eq!(s.conditions, Some(vec![available()]));
        let mut s = DeploymentStatus { conditions: Some(vec![progressing()]), ..Default::default() };
        set_deployment_condition(&mut s, available());
        assert_eq!(s, status());
        let mut s = DeploymentStatus { conditions: Some(vec![progressing()]), ..Default::default() };
        set_deployment_condition(&mut s, progressing2());
        assert_eq!(s.conditions, Some(vec![progressing2()]));

        let mut s = DeploymentStatus::default();
        remove_deployment_condition(&mut s, DEPLOYMENT_PROGRESSING);
        assert_eq!(s, DeploymentStatus::default());
        let mut s = DeploymentStatus { conditions: Some(vec![progressing()]), ..Default::default() };
        remove_deployment_condition(&mut s, DEPLOYMENT_PROGRESSING);
        assert_eq!(s, DeploymentStatus::default());
        let mut s = status();
        remove_deployment_condition(&mut s, DEPLOYMENT_REPLICA_FAILURE);
        assert_eq!(s, status());
    }

    #[test]
    fn set_condition_times() {
        let t0 = ts("2024-01-01T00:00:00Z");
        let t1 = ts("2024-01-01T00:05:00Z");
        let mut s = DeploymentStatus::default();
        set_deployment_condition(&mut s, new_deployment_condition(DEPLOYMENT_PROGRESSING, CONDITION_TRUE, "A", "a", t0));
        // Same status and reason: nothing changes, not even the message.
        set_deployment_condition(&mut s, new_deployment_condition(DEPLOYMENT_PROGRESSING, CONDITION_TRUE, "A", "other", t1));
        let c = get_deployment_condition(&s, DEPLOYMENT_PROGRESSING).unwrap();
        assert_eq!((c.message.as_deref(), c.last_update_time.clone()), (Some("a"), Some(Time(t0))));
        // Same status, other reason: new update time, old transition time.
        set_deployment_condition(&mut s, new_deployment_condition(DEPLOYMENT_PROGRESSING, CONDITION_TRUE, "B", "b", t1));
        let c = get_deployment_condition(&s, DEPLOYMENT_PROGRESSING).unwrap();
        assert_eq!((c.last_update_time.clone(), c.last_transition_time.clone()), (Some(Time(t1)), Some(Time(t0))));
        // Other status: both new.
        set_deployment_condition(&mut s, new_deployment_condition(DEPLOYMENT_PROGRESSING, CONDITION_FALSE, "B", "b", t1));
        let c = get_deployment_condition(&s, DEPLOYMENT_PROGRESSING).unwrap();
        assert_eq!(c.last_transition_time, Some(Time(t1)));
    }

    fn status(replicas: i32, updated: i32, ready: i32, available: i32) -> DeploymentStatus {
        DeploymentStatus {
            replicas: Some(replicas),
            updated_replicas: Some(updated),
            ready_replicas: Some(ready),
            available_replicas: Some(available),
            ..Default::default()
        }
    }

    // TestDeploymentComplete
    #[test]
    fn deployment_complete_cases() {
        let mk = |desired: i32, current: i32, updated: i32, available: i32, unavailable: i32, surge: i32| {
            let mut d = with_strategy(
                deployment("d", desired),
                ROLLING_UPDATE_STRATEGY,
                Some(IntOrString::Int(surge)),
                Some(IntOrString::Int(unavailable)),
            );
            d.status = Some(status(current, updated, 0, available));
            d
        };
        let cases = [
            ("not complete: min but not all pods become available", mk(5, 5, 5, 4, 1, 0), false),
            ("not complete: min availability is not honored", mk(5, 5, 5, 3, 1, 0), false),
            ("complete", mk(5, 5, 5, 5, 0, 0), true),
            ("not complete: all pods are available but not updated", mk(5, 5, 4, 5, 0, 0), false),
            ("not complete: still running old pods", mk(1, 2, 1, 1, 0, 1), false),
            ("not complete: one replica deployment never comes up", mk(1, 1, 1, 0, 1, 1), false),
        ];
        for (name, d, expected) in cases {
            assert_eq!(deployment_complete(&d, d.status.as_ref().unwrap()), expected, "{name}");
        }
        // A status of an older generation is not complete.
        let mut d = mk(5, 5, 5, 5, 0, 0);
        d.metadata.generation = Some(2);
        d.status.as_mut().unwrap().observed_generation = Some(1);
        assert!(!deployment_complete(&d, d.status.as_ref().unwrap()));
    }

    // TestDeploymentProgressing
    #[test]
    fn deployment_progressing_cases() {
        let cases = [
            ("progressing: updated pods", status(10, 4, 4, 4), status(10, 6, 4, 4), true),
            ("not progressing", status(10, 4, 4, 4), status(10, 4, 4, 4), false),
            ("progressing: old pods removed", status(10, 4, 6, 6), status(8, 4, 6, 6), true),
            ("not progressing: less new pods", status(10, 7, 3, 3), status(10, 6, 3, 3), false),
            ("progressing: less overall but more new pods", status(10, 4, 7, 7), status(8, 8, 5, 5), true),
            ("progressing: more ready pods", status(10, 10, 9, 8), status(10, 10, 10, 8), true),
            ("progressing: more available pods", status(10, 10, 10, 9), status(10, 10, 10, 10), true),
        ];
        for (name, old, new, expected) in cases {
            let d = Deployment { status: Some(old), ..Default::default() };
            assert_eq!(deployment_progressing(&d, &new), expected, "{name}");
        }
    }

    // TestDeploymentTimedOut
    #[test]
    fn deployment_timed_out_cases() {
        let time =
            |min: i8, sec: i8| jiff::civil::date(2016, 1, 1).at(0, min, sec, 0).to_zoned(jiff::tz::TimeZone::UTC).unwrap().timestamp();
        let mk = |reason: &str, pds: Option<i32>, from: Option<Timestamp>| Deployment {
            spec: Some(DeploymentSpec { progress_deadline_seconds: pds, ..Default::default() }),
            status: Some(DeploymentStatus {
                conditions: Some(vec![DeploymentCondition {
                    last_update_time: from.map(Time),
                    ..cond(DEPLOYMENT_PROGRESSING, CONDITION_TRUE, reason)
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let cases = [
            ("nil progressDeadlineSeconds specified - no timeout", mk("", None, Some(time(1, 9))), time(1, 20), false),
            ("infinite progressDeadlineSeconds specified - no timeout", mk("", Some(i32::MAX), Some(time(1, 9))), time(1, 20), false),
            ("progressDeadlineSeconds: 10s, 11s since", mk("", Some(10), Some(time(1, 9))), time(1, 20), true),
            ("progressDeadlineSeconds: 10s, 9s since", mk("", Some(10), Some(time(1, 11))), time(1, 20), false),
            ("previous status was a complete deployment", mk(NEW_RS_AVAILABLE_REASON, None, None), time(1, 20), false),
            ("exactly at the deadline is not past it", mk("", Some(10), Some(time(1, 10))), time(1, 20), false),
            ("already timed out", mk(TIMED_OUT_REASON, Some(10), None), time(1, 20), true),
            ("complete, with a deadline", mk(NEW_RS_AVAILABLE_REASON, Some(10), Some(time(0, 0))), time(1, 20), false),
        ];
        for (name, d, now, expected) in cases {
            assert_eq!(deployment_timed_out(&d, d.status.as_ref().unwrap(), now), expected, "{name}");
        }
    }

    // TestMaxUnavailable
    #[test]
    fn max_unavailable_cases() {
        let mk = |replicas: i32, unavailable: IntOrString| {
            with_strategy(deployment("d", replicas), ROLLING_UPDATE_STRATEGY, Some(IntOrString::Int(1)), Some(unavailable))
        };
        let recreate = Deployment {
            spec: Some(DeploymentSpec {
                strategy: Some(DeploymentStrategy { type_: Some(RECREATE_STRATEGY.into()), rolling_update: None }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let cases = [
            ("maxUnavailable less than replicas", mk(10, IntOrString::Int(5)), 5),
            ("maxUnavailable equal replicas", mk(10, IntOrString::Int(10)), 10),
            ("maxUnavailable greater than replicas", mk(5, IntOrString::Int(10)), 5),
            ("maxUnavailable with replicas is 0", mk(0, IntOrString::Int(10)), 0),
            ("maxUnavailable with Recreate deployment strategy", recreate, 0),
            ("maxUnavailable less than replicas with percents", mk(10, pct("50%")), 5),
            ("maxUnavailable equal replicas with percents", mk(10, pct("100%")), 10),
            ("maxUnavailable greater than replicas with percents", mk(5, pct("100%")), 5),
        ];
        for (name, d, expected) in cases {
            assert_eq!(max_unavailable(&d), expected, "{name}");
        }
    }

    // TestMinAvailable
    #[test]
    fn min_available_cases() {
        let mk = |replicas: i32, unavailable: IntOrString| {
            with_strategy(deployment("d", replicas), ROLLING_UPDATE_STRATEGY, Some(IntOrString::Int(1)), Some(unavailable))
        };
        let mut recreate = deployment("d", 10);
        recreate.spec.as_mut().unwrap().strategy = Some(DeploymentStrategy { type_: Some(RECREATE_STRATEGY.into()), rolling_update: None });
        let cases = [
            ("replicas greater than maxUnavailable", mk(10, IntOrString::Int(5)), 5),
            ("replicas equal maxUnavailable", mk(10, IntOrString::Int(10)), 0),
            ("replicas less than maxUnavailable", mk(5, IntOrString::Int(10)), 0),
            ("replicas is 0", mk(0, IntOrString::Int(10)), 0),
            ("minAvailable with Recreate deployment strategy", recreate, 0),
            ("replicas greater than maxUnavailable with percents", mk(10, pct("60%")), 4),
            ("replicas equal maxUnavailable with percents", mk(10, pct("100%")), 0),
            ("replicas less than maxUnavailable with percents", mk(5, pct("100%")), 0),
        ];
        for (name, d, expected) in cases {
            assert_eq!(min_available(&d), expected, "{name}");
        }
    }

    // TestGetNonNegativeInt32FromAnnotation
    #[test]
    fn non_negative_i32_annotation_cases() {
        let cases: [(&str, Option<&str>, Result<Option<i32>, &str>); 8] = [
            ("invalid empty", None, Ok(None)),
            ("invalid", Some("invalid"), Err("invalid syntax")),
            ("invalid negative", Some("-1"), Err("invalid syntax")),
            ("valid zero", Some("0"), Ok(Some(0))),
            ("valid", Some("13"), Ok(Some(13))),
            ("valid max", Some("2147483647"), Ok(Some(i32::MAX))),
            ("invalid max out of range", Some("2147483648"), Err("out of range")),
            ("invalid max out of range 2", Some("4294967296"), Err("out of range")),
        ];
        for (name, value, expected) in cases {
            let mut rs = rs_of(&deployment("nginx", 1), "rs", "rs", 1);
            let mut annotations = labels(&[("foo", "2")]);
            if let Some(v) = value {
                annotations.insert("test".into(), v.into());
            }
            rs.metadata.annotations = if value.is_some() { Some(annotations) } else { None };
            let got = non_negative_i32_from_annotation(&rs, "test");
            match expected {
                Ok(v) => assert_eq!(got, Ok(v), "{name}"),
                Err(e) => assert!(got.as_ref().is_err_and(|g| g.0.contains(e)), "{name}: {got:?}"),
            }
        }
        // A sign is not a number here, as with Go's ParseUint.
        let mut rs = rs_of(&deployment("nginx", 1), "rs", "rs", 1);
        rs.metadata.annotations = Some(labels(&[(DESIRED_REPLICAS_ANNOTATION, "+3")]));
        assert_eq!(get_desired_replicas_annotation(&rs), None);
    }

    // TestAnnotationUtils
    #[test]
    fn annotation_utils() {
        let mut d = deployment("nginx", 1);
        let mut rs = rs_of(&d, "rs", "rs", 0);
        d.metadata.annotations.as_mut().unwrap().insert(REVISION_ANNOTATION.into(), "1".into());
        // Revisions 11 to 20, with a 5 character history.
        for i in 10..20 {
            let next = (i + 1).to_string();
            set_new_replica_set_annotations(&d, &mut rs, &next, true, 5);
            let a = rs.metadata.annotations.as_ref().unwrap();
            if i >= 12 {
                assert_eq!(a.get(REVISION_HISTORY_ANNOTATION), Some(&format!("{},{}", i - 1, i)), "{i}");
            }
            assert_eq!(a.get(REVISION_ANNOTATION), Some(&next));
        }
        assert!(set_replicas_annotations(&mut rs, 10, 11));
        let a = rs.metadata.annotations.as_ref().unwrap();
        assert_eq!(a.get(DESIRED_REPLICAS_ANNOTATION).map(String::as_str), Some("10"));
        assert_eq!(a.get(MAX_REPLICAS_ANNOTATION).map(String::as_str), Some("11"));
        assert!(!set_replicas_annotations(&mut rs, 10, 11));

        rs.metadata.annotations.as_mut().unwrap().insert(DESIRED_REPLICAS_ANNOTATION.into(), "1".into());
        rs.status.as_mut().unwrap().available_replicas = Some(1);
        rs.spec.as_mut().unwrap().replicas = Some(1);
        assert!(is_saturated(&d, Some(&rs)));
        assert!(!is_saturated(&d, None));
    }

    #[test]
    fn new_replica_set_annotations_details() {
        let mut d = with_strategy(deployment("nginx", 3), ROLLING_UPDATE_STRATEGY, Some(IntOrString::Int(2)), Some(IntOrString::Int(0)));
        let a = d.metadata.annotations.as_mut().unwrap();
        a.insert("team".into(), "a".into());
        a.insert("empty".into(), String::new());
        a.insert(LAST_APPLIED_CONFIG_ANNOTATION.into(), "{}".into());
        a.insert(REVISION_ANNOTATION.into(), "7".into());
        let mut rs = rs_of(&d, "rs", "rs", 0);
        assert!(set_new_replica_set_annotations(&d, &mut rs, "4", false, MAX_REV_HISTORY_LENGTH_IN_CHARS));
        let a = rs.metadata.annotations.as_ref().unwrap();
        assert_eq!(
            a,
            &labels(&[("team", "a"), (REVISION_ANNOTATION, "4"), (DESIRED_REPLICAS_ANNOTATION, "3"), (MAX_REPLICAS_ANNOTATION, "5")])
        );
        // Again: nothing to change; a lower revision is not taken.
        assert!(!set_new_replica_set_annotations(&d, &mut rs, "4", true, MAX_REV_HISTORY_LENGTH_IN_CHARS));
        assert!(!set_new_replica_set_annotations(&d, &mut rs, "2", true, MAX_REV_HISTORY_LENGTH_IN_CHARS));
        // A rollback to this ReplicaSet: revision 9, history "4".
        assert!(set_new_replica_set_annotations(&d, &mut rs, "9", true, MAX_REV_HISTORY_LENGTH_IN_CHARS));
        assert_eq!(rs.metadata.annotations.as_ref().unwrap().get(REVISION_HISTORY_ANNOTATION).map(String::as_str), Some("4"));
        // Malformed revisions stop everything.
        rs.metadata.annotations.as_mut().unwrap().insert(REVISION_ANNOTATION.into(), "x".into());
        d.metadata.annotations.as_mut().unwrap().insert("team".into(), "b".into());
        assert!(!set_new_replica_set_annotations(&d, &mut rs, "10", true, MAX_REV_HISTORY_LENGTH_IN_CHARS));
        assert!(!set_new_replica_set_annotations(&d, &mut rs, "ten", true, MAX_REV_HISTORY_LENGTH_IN_CHARS));
        // History too long for even one entry: left as it is.
        let mut rs = rs_of(&d, "rs", "rs", 0);
        rs.metadata.annotations = Some(labels(&[(REVISION_ANNOTATION, "123"), (REVISION_HISTORY_ANNOTATION, "1,2")]));
        set_new_replica_set_annotations(&d, &mut rs, "124", true, 2);
        assert_eq!(rs.metadata.annotations.as_ref().unwrap().get(REVISION_HISTORY_ANNOTATION).map(String::as_str), Some("1,2"));
    }

    #[test]
    fn rollback_annotations() {
        let mut d = deployment("nginx", 1);
        d.metadata.annotations = Some(labels(&[(REVISION_ANNOTATION, "3"), ("old", "x"), (LAST_APPLIED_CONFIG_ANNOTATION, "{}")]));
        let mut rs = rs_of(&d, "rs", "rs", 0);
        rs.metadata.annotations = Some(labels(&[(REVISION_ANNOTATION, "1"), ("new", "y"), (DESIRED_REPLICAS_ANNOTATION, "2")]));
        set_deployment_annotations_to(&mut d, &rs);
        assert_eq!(
            d.metadata.annotations,
            Some(labels(&[(REVISION_ANNOTATION, "3"), (LAST_APPLIED_CONFIG_ANNOTATION, "{}"), ("new", "y")]))
        );
    }

    #[test]
    fn revisions() {
        let d = deployment("nginx", 1);
        let mk = |rev: Option<&str>| {
            let mut rs = rs_of(&d, "rs", "rs", 0);
            rs.metadata.annotations = rev.map(|r| labels(&[(REVISION_ANNOTATION, r)]));
            rs
        };
        let (r1, r5, r3, bad, none) = (mk(Some("1")), mk(Some("5")), mk(Some("3")), mk(Some("x")), mk(None));
        assert_eq!(revision(&none.metadata), Ok(0));
        assert!(revision(&bad.metadata).is_err());
        assert_eq!(max_revision(&[&r1, &r5, &r3, &bad, &none]), 5);
        assert_eq!(last_revision(&[&r1, &r5, &r3, &bad, &none]), 3);
        assert_eq!(last_revision(&[&r5, &r5]), 5);
        assert_eq!(max_revision(&[]), 0);
        let mut d = deployment("nginx", 1);
        assert!(set_deployment_revision(&mut d, "5"));
        assert!(!set_deployment_revision(&mut d, "5"));
    }

    // TestReplicasAnnotationsNeedUpdate
    #[test]
    fn replicas_annotations_need_update_cases() {
        let mk = |a: Option<&[(&str, &str)]>| ReplicaSet {
            metadata: ObjectMeta { name: Some("hello".into()), annotations: a.map(labels), ..Default::default() },
            ..Default::default()
        };
        let cases = [
            ("test Annotations nil", mk(None), true),
            ("test desiredReplicas update", mk(Some(&[(DESIRED_REPLICAS_ANNOTATION, "8"), (MAX_REPLICAS_ANNOTATION, "20")])), true),
            ("test maxReplicas update", mk(Some(&[(DESIRED_REPLICAS_ANNOTATION, "10"), (MAX_REPLICAS_ANNOTATION, "16")])), true),
            ("test needn't update", mk(Some(&[(DESIRED_REPLICAS_ANNOTATION, "10"), (MAX_REPLICAS_ANNOTATION, "20")])), false),
        ];
        for (name, rs, expected) in cases {
            assert_eq!(replicas_annotations_need_update(&rs, 10, 20), expected, "{name}");
        }
    }

    // TestGetReplicaSetFraction
    #[test]
    fn replica_set_fraction_cases() {
        let cases: [(&str, i32, i32, i32, i32, Option<&str>, i32); 9] = [
            ("empty deployment always scales to 0", 0, 0, 0, 10, None, -10),
            ("unsynced deployment does not scale when max-replicas annotation is missing", 10, 0, 0, 5, None, 0),
            ("unsynced deployment does not scale when max-replicas annotation is 0", 10, 0, 0, 5, Some("0"), 0),
            ("scale up by 1/5 when max-replicas annotation is missing", 120, 100, 0, 50, None, 10),
            ("scale up by 1/5 when max-replicas annotation is 0", 120, 100, 0, 50, Some("0"), 10),
            ("scale up by 1/5 should increase RS replicas by 1/5", 120, 0, 0, 50, Some("100"), 10),
            ("scale up with maxSurge by 1/5", 120, 0, 10, 50, Some("110"), 9),
            ("scale down by 1/6 should decrease RS replicas by 1/6", 10, 0, 0, 6, Some("12"), -1),
            ("scale down with maxSurge by 1/6", 100, 0, 10, 50, Some("130"), -8),
        ];
        for (name, replicas, status_replicas, surge, rs_replicas, annotation, expected) in cases {
            let mut d = with_strategy(
                deployment("nginx", replicas),
                ROLLING_UPDATE_STRATEGY,
                Some(IntOrString::Int(surge)),
                Some(IntOrString::Int(1)),
            );
            d.status = Some(DeploymentStatus { replicas: Some(status_replicas), ..Default::default() });
            let mut rs = rs_of(&d, "rs", "rs", rs_replicas);
            rs.metadata.annotations = annotation.map(|a| labels(&[(MAX_REPLICAS_ANNOTATION, a)]));
            assert_eq!(get_replica_set_fraction(&rs, &d), expected, "{name}");
        }
        // Invalid annotations fall back like missing ones; no panic on overflow.
        let mut d =
            with_strategy(deployment("nginx", i32::MAX), ROLLING_UPDATE_STRATEGY, Some(IntOrString::Int(0)), Some(IntOrString::Int(1)));
        d.status = Some(DeploymentStatus { replicas: Some(7), ..Default::default() });
        let mut rs = rs_of(&d, "rs", "rs", i32::MAX);
        rs.metadata.annotations = Some(labels(&[(MAX_REPLICAS_ANNOTATION, "-1")]));
        let _ = get_replica_set_fraction(&rs, &d);
    }

    #[test]
    fn proportion_bounds() {
        let mut d = with_strategy(deployment("nginx", 20), ROLLING_UPDATE_STRATEGY, Some(IntOrString::Int(0)), Some(IntOrString::Int(1)));
        d.status = Some(DeploymentStatus { replicas: Some(10), ..Default::default() });
        let mut rs = rs_of(&d, "rs", "rs", 5);
        rs.metadata.annotations = Some(labels(&[(MAX_REPLICAS_ANNOTATION, "10")]));
        // Fraction is +5, limited by what is left to add.
        assert_eq!(get_replica_set_proportion(&rs, &d, 10, 0), 5);
        assert_eq!(get_replica_set_proportion(&rs, &d, 10, 7), 3);
        assert_eq!(get_replica_set_proportion(&rs, &d, 10, 10), 0);
        assert_eq!(get_replica_set_proportion(&rs, &d, 0, 0), 0);
        let empty = rs_of(&d, "e", "e", 0);
        assert_eq!(get_replica_set_proportion(&empty, &d, 10, 0), 0);
    }

    #[test]
    fn active_or_latest() {
        let d = deployment("nginx", 1);
        let mk = |name: &str, replicas: i32, minute: i64| {
            let mut rs = rs_of(&d, name, name, replicas);
            rs.metadata.creation_timestamp = Some(Time(ts("2024-01-01T00:00:00Z").checked_add(SignedDuration::from_mins(minute)).unwrap()));
            rs
        };
        let (old1, old2, new0, new1) = (mk("old1", 0, 1), mk("old2", 0, 2), mk("new0", 0, 3), mk("new1", 1, 3));
        let active_old = mk("active", 2, 0);
        assert_eq!(find_active_or_latest(None, &[]), None);
        assert_eq!(find_active_or_latest(Some(&new0), &[&old1, &old2]), Some(&new0));
        assert_eq!(find_active_or_latest(None, &[&old1, &old2]), Some(&old2));
        assert_eq!(find_active_or_latest(Some(&new0), &[&active_old, &old1]), Some(&active_old));
        assert_eq!(find_active_or_latest(Some(&new1), &[&active_old]), None);
    }

    #[test]
    fn orderings() {
        let d = deployment("nginx", 1);
        let mk = |name: &str, replicas: i32, minute: i64, rev: &str| {
            let mut rs = rs_of(&d, name, name, replicas);
            rs.metadata.creation_timestamp = Some(Time(ts("2024-01-01T00:00:00Z").checked_add(SignedDuration::from_mins(minute)).unwrap()));
            rs.metadata.annotations = Some(labels(&[(REVISION_ANNOTATION, rev)]));
            rs
        };
        let (a, b, c) = (mk("a", 2, 1, "3"), mk("b", 2, 2, "x"), mk("c", 5, 0, "1"));
        let sorted = |f: fn(&ReplicaSet, &ReplicaSet) -> Ordering| {
            let mut v = vec![&a, &b, &c];
            v.sort_by(|x, y| f(x, y));
            names(&v)
        };
        assert_eq!(sorted(by_creation_timestamp), ["c", "a", "b"]);
        assert_eq!(sorted(by_size_older), ["c", "a", "b"]);
        assert_eq!(sorted(by_size_newer), ["c", "b", "a"]);
        assert_eq!(by_revision(&c, &a), Ordering::Less);
        assert_eq!(by_revision(&a, &b), Ordering::Less);
        // Same timestamp: names decide.
        let (x, y) = (mk("x", 1, 0, "1"), mk("y", 1, 0, "1"));
        assert_eq!(by_creation_timestamp(&y, &x), Ordering::Greater);
    }

    #[test]
    fn replica_set_condition_conversion() {
        let t = ts("2024-01-01T00:00:00Z");
        let c = ReplicaSetCondition {
            type_: REPLICA_SET_REPLICA_FAILURE.into(),
            status: CONDITION_TRUE.into(),
            last_transition_time: Some(Time(t)),
            reason: Some("FailedCreate".into()),
            message: Some("quota".into()),
        };
        let d = replica_set_to_deployment_condition(&c);
        assert_eq!(d.last_update_time, Some(Time(t)));
        assert_eq!((d.type_.as_str(), d.reason.as_deref()), (DEPLOYMENT_REPLICA_FAILURE, Some("FailedCreate")));
    }

    #[test]
    fn missing_fields_do_not_panic() {
        let d = Deployment::default();
        let rs = ReplicaSet::default();
        assert_eq!(deployment_replicas(&d), 1);
        assert_eq!(max_surge(&d), 0);
        assert_eq!(max_unavailable(&d), 0);
        assert!(find_new_replica_set(&d, &[&rs]).is_none());
        assert!(!deployment_timed_out(&d, &DeploymentStatus::default(), Timestamp::now()));
        assert!(!has_progress_deadline(&d) && !has_revision_history_limit(&d));
        assert!(get_terminating_replica_count_for_replica_sets(&[&rs]) == Some(0));
    }
}
