//! Rudder's ReplicaSet controller: the pure parts (what a sync decides),
//! as upstream `pkg/controller/replicaset` does them. The binary
//! (`src/main.rs`) does the I/O around them.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use rudder_common::pods::{is_pod_available, is_pod_ready, pod_ready_condition};
use rudder_common::selector::Selector;

/// At most this many creates or deletes per sync (upstream `BurstReplicas`,
/// the default of `--burst-replicas`).
pub const BURST_REPLICAS: usize = 500;

/// The ReplicaFailure condition type.
pub const REPLICA_FAILURE: &str = "ReplicaFailure";

/// What one sync should do about the number of pods.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scale {
    Create(usize),
    Delete(usize),
    None,
}

/// Upstream `manageReplicas`' arithmetic: the difference between the active
/// pods and `spec.replicas`, at most `burst` at a time.
pub fn scale(active: usize, replicas: i32, burst: usize) -> Scale {
    let want = usize::try_from(replicas.max(0)).unwrap_or(0);
    if active < want {
        Scale::Create((want - active).min(burst))
    } else if active > want {
        Scale::Delete((active - want).min(burst))
    } else {
        Scale::None
    }
}

/// What a failed manage step leaves in the status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManageError {
    /// `FailedCreate` or `FailedDelete`.
    pub reason: &'static str,
    pub message: String,
}

/// Upstream `calculateStatus`: counts over the active pods the ReplicaSet
/// owns, the terminating ones, and the ReplicaFailure condition (set when a
/// create/delete failed and not set yet, removed once one succeeds).
pub fn calculate_status(
    rs: &ReplicaSet,
    active: &[&Pod],
    terminating: usize,
    error: Option<&ManageError>,
    now: Timestamp,
) -> ReplicaSetStatus {
    let mut status = rs.status.clone().unwrap_or_default();
    let spec = rs.spec.as_ref();
    let template_labels =
        spec.and_then(|s| s.template.as_ref()).and_then(|t| t.metadata.as_ref()).and_then(|m| m.labels.clone()).unwrap_or_default();
    let template = Selector::from_set(&template_labels);
    let min_ready = spec.and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let (mut fully_labeled, mut ready, mut available) = (0, 0, 0);
    for pod in active {
        if template.matches(pod.metadata.labels.as_ref().unwrap_or(&Default::default())) {
            fully_labeled += 1;
        }
        if is_pod_ready(pod) {
            ready += 1;
            if is_pod_available(pod, min_ready, now) {
                available += 1;
            }
        }
    }
    let mut conditions = status.conditions.take().unwrap_or_default();
    let has_failure = conditions.iter().any(|c| c.type_ == REPLICA_FAILURE);
    match error {
        Some(e) if !has_failure => conditions.push(ReplicaSetCondition {
            type_: REPLICA_FAILURE.into(),
            status: "True".into(),
            reason: Some(e.reason.into()),
            message: Some(e.message.clone()),
            last_transition_time: Some(Time(now)),
        }),
        None if has_failure => conditions.retain(|c| c.type_ != REPLICA_FAILURE),
        _ => {}
    }
    status.conditions = (!conditions.is_empty()).then_some(conditions);
    status.replicas = i32::try_from(active.len()).unwrap_or(i32::MAX);
    status.fully_labeled_replicas = Some(fully_labeled);
    status.ready_replicas = Some(ready);
    status.available_replicas = Some(available);
    status.terminating_replicas = Some(i32::try_from(terminating).unwrap_or(i32::MAX));
    status.observed_generation = rs.metadata.generation;
    status
}

/// Whether the status differs from what the ReplicaSet shows (upstream
/// updates only then, and when the generation was not observed yet).
pub fn status_changed(rs: &ReplicaSet, new: &ReplicaSetStatus) -> bool {
    let old = rs.status.clone().unwrap_or_default();
    let zero = |v: Option<i32>| v.unwrap_or(0);
    old.replicas != new.replicas
        || zero(old.fully_labeled_replicas) != zero(new.fully_labeled_replicas)
        || zero(old.ready_replicas) != zero(new.ready_replicas)
        || zero(old.available_replicas) != zero(new.available_replicas)
        || old.terminating_replicas != new.terminating_replicas
        || old.observed_generation != rs.metadata.generation
        || old.conditions.unwrap_or_default() != new.conditions.clone().unwrap_or_default()
}

/// When to sync again so that ready pods are counted available once
/// `minReadySeconds` have passed: the earliest such moment, if any pod is
/// ready but not yet available.
pub fn next_availability_check(rs: &ReplicaSet, active: &[&Pod], now: Timestamp) -> Option<Duration> {
    let min_ready = rs.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
    if min_ready <= 0 {
        return None;
    }
    active
        .iter()
        .filter(|p| is_pod_ready(p) && !is_pod_available(p, min_ready, now))
        .map(|p| {
            let since = pod_ready_condition(p).and_then(|c| c.last_transition_time.as_ref()).map_or(now, |t| t.0);
            let due = since + jiff::SignedDuration::from_secs(i64::from(min_ready));
            // One second past, as availability needs strictly more than minReadySeconds.
            Duration::try_from(due.duration_since(now)).unwrap_or_default() + Duration::from_secs(1)
        })
        .min()
}

/// The pod a ReplicaSet creates: its template, `generateName: <rs>-`, the
/// ControllerRef (upstream `GetPodFromTemplate`).
pub fn pod_from_template(rs: &ReplicaSet) -> Option<Pod> {
    let template = rs.spec.as_ref()?.template.as_ref()?;
    let controller_ref = rudder_common::controller_ref::controller_ref_for(rs)?;
    let name = rs.metadata.name.as_deref().unwrap_or_default();
    Some(rudder_common::pods::pod_from_template(template, name, rs.metadata.namespace.clone(), controller_ref))
}

/// Upstream `reportSortingDeletionAgeRatioMetric`: for each ready victim,
/// its age over the age of the youngest ready pod of the ReplicaSet, as
/// upstream divides them: whole milliseconds, integer division (so the
/// ratio is floored). Pods younger than a millisecond give no ratio.
pub fn deletion_age_ratios(pods: &[Pod], victims: &[&Pod], now: Timestamp) -> Vec<f64> {
    let created = |p: &Pod| p.metadata.creation_timestamp.as_ref().map(|t| t.0).unwrap_or(Timestamp::UNIX_EPOCH);
    let age_ms = |t: Timestamp| now.as_millisecond().saturating_sub(t.as_millisecond());
    let youngest = pods.iter().filter(|p| is_pod_ready(p)).map(created).max().unwrap_or(Timestamp::UNIX_EPOCH);
    let youngest_age = age_ms(youngest);
    if youngest_age <= 0 {
        return vec![];
    }
    victims.iter().filter(|p| is_pod_ready(p)).map(|p| (age_ms(created(p)) / youngest_age) as f64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rs(replicas: i32, min_ready: i32, status: serde_json::Value) -> ReplicaSet {
        serde_json::from_value(json!({
            "metadata": {"name": "web", "namespace": "default", "uid": "rs-uid", "generation": 3},
            "spec": {"replicas": replicas, "minReadySeconds": min_ready, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web", "tier": "front"}}, "spec": {"containers": [{"name": "c", "image": "nginx"}]}}},
            "status": status,
        }))
        .unwrap()
    }

    fn pod(labels: serde_json::Value, ready_since: Option<&str>) -> Pod {
        let conditions = match ready_since {
            Some(t) => json!([{"type": "Ready", "status": "True", "lastTransitionTime": t}]),
            None => json!([{"type": "Ready", "status": "False"}]),
        };
        serde_json::from_value(json!({"metadata": {"name": "p", "labels": labels}, "status": {"conditions": conditions}})).unwrap()
    }

    #[test]
    fn deletion_age_ratio_is_floored_like_upstream() {
        let now: Timestamp = "2026-01-01T00:10:00Z".parse().unwrap();
        let mk = |created: &str, ready: bool| -> Pod {
            serde_json::from_value(serde_json::json!({
                "metadata": {"creationTimestamp": created},
                "status": {"conditions": [{"type": "Ready", "status": if ready { "True" } else { "False" }}]}
            }))
            .unwrap()
        };
        // Ages: 10 min, 4 min (the youngest ready), 1 min (not ready: ignored).
        let old = mk("2026-01-01T00:00:00Z", true);
        let young = mk("2026-01-01T00:06:00Z", true);
        let unready = mk("2026-01-01T00:09:00Z", false);
        let pods = vec![old.clone(), young.clone(), unready.clone()];
        assert_eq!(deletion_age_ratios(&pods, &[&old, &unready, &young], now), vec![2.0, 1.0]);
        // No ready pod: nothing to report.
        assert!(deletion_age_ratios(std::slice::from_ref(&unready), &[&unready], now).is_empty());
    }

    #[test]
    fn slow_start_doubles_up_to_the_count() {}

    #[test]
    fn scale_is_the_difference_capped_at_the_burst() {
        assert_eq!(scale(0, 10, 500), Scale::Create(10));
        assert_eq!(scale(0, 1000, 500), Scale::Create(500));
        assert_eq!(scale(10, 3, 500), Scale::Delete(7));
        assert_eq!(scale(3, 3, 500), Scale::None);
        assert_eq!(scale(2, -1, 500), Scale::Delete(2));
    }

    #[test]
    fn status_counts_labeled_ready_and_available_pods() {
        let now: Timestamp = "2026-01-01T00:01:00Z".parse().unwrap();
        let r = rs(4, 30, json!({"replicas": 0}));
        let pods = [
            pod(json!({"app": "web", "tier": "front"}), Some("2026-01-01T00:00:00Z")), // ready 60 s: available
            pod(json!({"app": "web", "tier": "front"}), Some("2026-01-01T00:00:50Z")), // ready 10 s: not yet
            pod(json!({"app": "web"}), None),                                          // not fully labeled, not ready
        ];
        let active: Vec<&Pod> = pods.iter().collect();
        let s = calculate_status(&r, &active, 2, None, now);
        assert_eq!(
            (s.replicas, s.fully_labeled_replicas, s.ready_replicas, s.available_replicas, s.terminating_replicas, s.observed_generation),
            (3, Some(2), Some(2), Some(1), Some(2), Some(3))
        );
        assert!(status_changed(&r, &s));
        let mut same = r.clone();
        same.status = Some(s.clone());
        assert!(!status_changed(&same, &s));
        // The pod ready for 10 s becomes available 21 s later (30 s, strictly more).
        assert_eq!(next_availability_check(&r, &active, now), Some(Duration::from_secs(21)));
    }

    #[test]
    fn replica_failure_is_set_once_and_cleared_on_success() {
        let now: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        let r = rs(1, 0, json!({"replicas": 0}));
        let err = ManageError { reason: "FailedCreate", message: "pods \"web-\" is forbidden: exceeded quota".into() };
        let s = calculate_status(&r, &[], 0, Some(&err), now);
        let c = &s.conditions.as_ref().unwrap()[0];
        assert_eq!((c.type_.as_str(), c.status.as_str(), c.reason.as_deref()), ("ReplicaFailure", "True", Some("FailedCreate")));
        let mut failing = r.clone();
        failing.status = Some(s);
        let later: Timestamp = "2026-01-01T00:05:00Z".parse().unwrap();
        let again = calculate_status(&failing, &[], 0, Some(&err), later);
        assert_eq!(again.conditions.as_ref().unwrap()[0].last_transition_time, Some(Time(now)), "kept, not renewed");
        let fixed = calculate_status(&failing, &[], 0, None, later);
        assert!(fixed.conditions.is_none());
    }

    #[test]
    fn pods_come_from_the_template_with_the_controller_ref() {
        let p = pod_from_template(&rs(1, 0, json!({}))).unwrap();
        assert_eq!(p.metadata.generate_name.as_deref(), Some("web-"));
        assert_eq!(p.metadata.namespace.as_deref(), Some("default"));
        let owner = &p.metadata.owner_references.unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str(), owner.controller),
            ("ReplicaSet", "web", "rs-uid", Some(true))
        );
        assert_eq!(p.metadata.labels.unwrap()["tier"], "front");
    }
}
