//! The delay between pod re-creations after failures, as upstream
//! `pkg/controller/job/backoff_utils.go` (Kubernetes v1.36).
//!
//! Upstream keeps, per Job key and in memory only (lost on restart, dropped
//! when the Job finishes or is deleted), a *backoff record*: how many pods
//! failed since the last success and when the last of them finished. Each
//! sync derives the next record from the stored one and the pods that
//! finished since the last sync ([`BackoffRecord::next`]); the record is
//! stored once the sync's first status write succeeded. No pod is created
//! before `10 s × 2^(failures−1)` (capped at 10 minutes) have passed since
//! the last failure ([`BackoffRecord::remaining_time`]).
//!
//! With `backoffLimitPerIndex`, the delay is per index instead: the failure
//! count comes from the annotations of the last failed pod of the index
//! ([`remaining_time_per_index`]).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use crate::indexes::index_absolute_failure_count;

/// The first delay after a failure (upstream `DefaultJobPodFailureBackOff`).
pub const DEFAULT_POD_FAILURE_BACKOFF: Duration = Duration::from_secs(10);
/// The longest delay (upstream `MaxJobPodFailureBackOff`: 10 minutes, not
/// the 6 minutes the Job documentation still mentions).
pub const MAX_POD_FAILURE_BACKOFF: Duration = Duration::from_secs(10 * 60);

/// Go's zero `time.Time` (0001-01-01T00:00:00Z), what a missing time reads as upstream.
pub(crate) const GO_ZERO_TIME: Timestamp = Timestamp::constant(-62_135_596_800, 0);

/// A time unless it is missing or Go's zero time.
pub(crate) fn non_zero(t: Option<&Time>) -> Option<Timestamp> {
    t.map(|t| t.0).filter(|t| *t != GO_ZERO_TIME)
}

/// Upstream `backoffRecord` (without its key: the caller stores one per Job).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BackoffRecord {
    pub failures_after_last_success: i32,
    pub last_failure_time: Option<Timestamp>,
}

impl BackoffRecord {
    /// Upstream `newBackoffRecord`: the record after `new_succeeded` and
    /// `new_failed` pods finished, given the stored one (`prev`). A success
    /// resets the count; failures finishing after the last success count.
    pub fn next(prev: Option<&BackoffRecord>, new_succeeded: &[&Pod], new_failed: &[&Pod]) -> BackoffRecord {
        let mut record = prev.copied().unwrap_or_default();
        let last_success = new_succeeded.iter().map(|p| finished_time(p)).max();
        let mut failed: Vec<Timestamp> = new_failed.iter().map(|p| finished_time(p)).collect();
        failed.sort();
        match last_success {
            None => {
                if let Some(last) = failed.last() {
                    record.failures_after_last_success =
                        record.failures_after_last_success.saturating_add(i32::try_from(failed.len()).unwrap_or(i32::MAX));
                    record.last_failure_time = Some(*last);
                }
            }
            Some(success) => {
                record.failures_after_last_success = 0;
                record.last_failure_time = None;
                for t in failed.iter().rev().take_while(|t| **t > success) {
                    record.last_failure_time.get_or_insert(*t);
                    record.failures_after_last_success += 1;
                }
            }
        }
        record
    }

    /// How long pod creation still waits at `now` (upstream `getRemainingTime`).
    pub fn remaining_time(&self, now: Timestamp, default_backoff: Duration, max_backoff: Duration) -> Duration {
        remaining_for_failures(self.failures_after_last_success, self.last_failure_time, now, default_backoff, max_backoff)
    }
}

/// How long the replacement of `last_failed_pod` (the last failed pod of an
/// index, or `None`) still waits at `now` (upstream `getRemainingTimePerIndex`).
pub fn remaining_time_per_index(
    last_failed_pod: Option<&Pod>,
    now: Timestamp,
    default_backoff: Duration,
    max_backoff: Duration,
) -> Duration {
    let Some(pod) = last_failed_pod else { return Duration::ZERO };
    let failures = index_absolute_failure_count(pod).saturating_add(1);
    remaining_for_failures(failures, Some(finished_time(pod)), now, default_backoff, max_backoff)
}

fn remaining_for_failures(
    failures: i32,
    last_failure: Option<Timestamp>,
    now: Timestamp,
    default_backoff: Duration,
    max_backoff: Duration,
) -> Duration {
    let Some(last_failure) = last_failure.filter(|_| failures > 0) else { return Duration::ZERO };
    let mut backoff = default_backoff;
    for _ in 1..failures {
        backoff = backoff.saturating_mul(2);
        if backoff >= max_backoff {
            backoff = max_backoff;
            break;
        }
    }
    let elapsed = now.duration_since(last_failure);
    let backoff_signed = SignedDuration::try_from(backoff).unwrap_or(SignedDuration::MAX);
    if backoff_signed < elapsed {
        return Duration::ZERO;
    }
    Duration::try_from(backoff_signed - elapsed).unwrap_or(backoff)
}

/// When the pod finished (upstream `getFinishedTime`): the latest
/// `finishedAt` when every container terminated, else the Ready=False
/// transition, else the deletion timestamp minus its grace period, else the
/// creation timestamp.
pub fn finished_time(pod: &Pod) -> Timestamp {
    finish_time_from_containers(pod)
        .or_else(|| finish_time_from_ready_false(pod))
        .or_else(|| finish_time_from_deletion(pod))
        .unwrap_or_else(|| pod.metadata.creation_timestamp.as_ref().map_or(GO_ZERO_TIME, |t| t.0))
}

/// The latest `finishedAt` of the regular containers and of the sidecars
/// (init containers with `restartPolicy: Always`, which finish last); `None`
/// as soon as one of them has not terminated.
fn finish_time_from_containers(pod: &Pod) -> Option<Timestamp> {
    let status = pod.status.as_ref()?;
    let sidecars: Vec<&str> = pod
        .spec
        .as_ref()
        .and_then(|s| s.init_containers.as_deref())
        .unwrap_or_default()
        .iter()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"))
        .map(|c| c.name.as_str())
        .collect();
    let regular = status.container_statuses.as_deref().unwrap_or_default().iter();
    let init = status.init_container_statuses.as_deref().unwrap_or_default().iter().filter(|c| sidecars.contains(&c.name.as_str()));
    let mut finish: Option<Timestamp> = None;
    for cs in regular.chain(init) {
        let terminated = cs.state.as_ref().and_then(|s| s.terminated.as_ref())?;
        let at = non_zero(terminated.finished_at.as_ref())?;
        if finish.is_none_or(|f| f < at) {
            finish = Some(at);
        }
    }
    finish
}

fn finish_time_from_ready_false(pod: &Pod) -> Option<Timestamp> {
    let c = rudder_common::pods::pod_ready_condition(pod)?;
    if c.status != "False" {
        return None;
    }
    non_zero(c.last_transition_time.as_ref())
}

fn finish_time_from_deletion(pod: &Pod) -> Option<Timestamp> {
    let deleted = pod.metadata.deletion_timestamp.as_ref()?.0;
    let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(0);
    Some(deleted.checked_sub(SignedDuration::from_secs(grace)).unwrap_or(deleted))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t0() -> Timestamp {
        "2009-11-10T23:00:00Z".parse().unwrap()
    }

    fn ms(d: i64) -> Timestamp {
        t0() + SignedDuration::from_millis(d)
    }

    fn finished_pod(phase: &str, at: Timestamp) -> Pod {
        serde_json::from_value(json!({"status": {"phase": phase, "containerStatuses": [
            {"name": "c", "image": "i", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"terminated": {"exitCode": 0, "finishedAt": at.to_string()}}}]}}))
        .unwrap()
    }

    #[test]
    fn new_backoff_record() {
        // Upstream TestNewBackoffRecord: (stored, succeeded at, failed at, want).
        let two = BackoffRecord { failures_after_last_success: 2, last_failure_time: None };
        type Case = (Option<BackoffRecord>, Vec<Timestamp>, Vec<Timestamp>, BackoffRecord);
        let rec = |n, t: Option<Timestamp>| BackoffRecord { failures_after_last_success: n, last_failure_time: t };
        let cases: Vec<Case> = vec![
            (None, vec![], vec![t0()], rec(1, Some(t0()))),
            (None, vec![], vec![t0(), ms(-1)], rec(2, Some(t0()))),
            (None, vec![t0()], vec![ms(-2), ms(-1)], rec(0, None)),
            (None, vec![ms(-2)], vec![t0(), ms(-4), ms(-3), ms(-1)], rec(2, Some(t0()))),
            (Some(two), vec![], vec![t0()], rec(3, Some(t0()))),
            (None, vec![t0()], vec![t0()], rec(0, None)),
            (None, vec![], vec![], rec(0, None)),
            (None, vec![t0()], vec![], rec(0, None)),
        ];
        for (stored, succeeded, failed, want) in cases {
            let s: Vec<Pod> = succeeded.iter().map(|t| finished_pod("Succeeded", *t)).collect();
            let f: Vec<Pod> = failed.iter().map(|t| finished_pod("Failed", *t)).collect();
            let got = BackoffRecord::next(stored.as_ref(), &s.iter().collect::<Vec<_>>(), &f.iter().collect::<Vec<_>>());
            assert_eq!(got, want, "succeeded {succeeded:?} failed {failed:?}");
        }
    }

    #[test]
    fn finished_time_lookups() {
        // Upstream TestGetFinishedTime.
        let term = |t: Option<Timestamp>| match t {
            Some(t) => json!({"state": {"terminated": {"exitCode": 0, "finishedAt": t.to_string()}}}),
            None => json!({"state": {"terminated": {"exitCode": 0}}}),
        };
        let running = json!({"state": {"running": {}}});
        let with = |v: serde_json::Value| -> Pod {
            let mut v = v;
            for key in ["containerStatuses", "initContainerStatuses"] {
                if let Some(list) = v.pointer_mut(&format!("/status/{key}")).and_then(|l| l.as_array_mut()) {
                    for c in list {
                        let obj = c.as_object_mut().unwrap();
                        obj.insert("name".into(), json!("c"));
                        obj.insert("image".into(), json!("i"));
                        obj.insert("imageID".into(), json!(""));
                        obj.insert("ready".into(), json!(false));
                        obj.insert("restartCount".into(), json!(0));
                    }
                }
            }
            serde_json::from_value(v).unwrap()
        };
        let s = |d: i64| t0() + SignedDuration::from_secs(d);
        let t = t0().to_string();
        let cases: Vec<(Pod, Timestamp)> = vec![
            (with(json!({"status": {"containerStatuses": [term(Some(s(-1))), term(Some(t0())), term(Some(s(-2)))]}})), t0()),
            (
                with(
                    json!({"metadata": {"deletionTimestamp": t}, "status": {"containerStatuses": [term(Some(s(-1))), running, term(Some(s(-2)))]}}),
                ),
                t0(),
            ),
            (with(json!({"metadata": {"deletionTimestamp": t}, "status": {"containerStatuses": [running]}})), t0()),
            (
                with(
                    json!({"metadata": {"deletionTimestamp": t, "deletionGracePeriodSeconds": 30}, "status": {"containerStatuses": [running]}}),
                ),
                s(-30),
            ),
            (
                with(json!({"status": {"containerStatuses": [term(None)],
                    "conditions": [{"type": "Ready", "status": "False", "reason": "PodFailed", "lastTransitionTime": t}]}})),
                t0(),
            ),
            (
                with(json!({"metadata": {"deletionTimestamp": t}, "status": {"containerStatuses": [term(None)],
                    "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": s(-30).to_string()}]}})),
                t0(),
            ),
            (with(json!({"metadata": {"creationTimestamp": t}, "status": {"containerStatuses": [term(None)]}})), t0()),
            (
                // An init container that is no sidecar does not count.
                with(json!({"status": {"containerStatuses": [term(Some(s(-1)))], "initContainerStatuses": [term(Some(t0()))]}})),
                s(-1),
            ),
            (
                // A sidecar finishes after the regular containers.
                with(json!({"spec": {"containers": [], "initContainers": [{"name": "c", "restartPolicy": "Always"}]},
                    "status": {"containerStatuses": [term(Some(s(-1)))], "initContainerStatuses": [term(Some(t0()))]}})),
                t0(),
            ),
        ];
        for (n, (pod, want)) in cases.iter().enumerate() {
            assert_eq!(finished_time(pod), *want, "case {n}");
        }
    }

    #[test]
    fn remaining_backoff_time() {
        // Upstream TestGetRemainingBackoffTime (default 5 s, max 700 s).
        let (d, max) = (Duration::from_secs(5), Duration::from_secs(700));
        let rec = |n, t: Option<Timestamp>| BackoffRecord { failures_after_last_success: n, last_failure_time: t };
        let s = |d: i64| t0() + SignedDuration::from_secs(d);
        let cases = [
            (rec(0, None), t0(), 0),
            (rec(1, Some(t0())), t0(), 5),
            (rec(1, Some(t0())), s(1), 4),
            (rec(1, Some(t0())), s(5), 0),
            (rec(1, Some(t0())), s(6), 0),
            (rec(3, Some(t0())), t0(), 20),
            (rec(8, Some(t0())), t0(), 640),
            (rec(9, Some(t0())), t0(), 700),
        ];
        for (record, now, want) in cases {
            assert_eq!(record.remaining_time(now, d, max), Duration::from_secs(want), "{record:?} at {now}");
        }
        // The defaults: 10 s doubling, capped at 10 minutes.
        let r = rec(7, Some(t0()));
        assert_eq!(r.remaining_time(t0(), DEFAULT_POD_FAILURE_BACKOFF, MAX_POD_FAILURE_BACKOFF), Duration::from_secs(600));
        assert_eq!(rec(6, Some(t0())).remaining_time(t0(), DEFAULT_POD_FAILURE_BACKOFF, MAX_POD_FAILURE_BACKOFF), Duration::from_secs(320));
    }

    #[test]
    fn remaining_backoff_time_per_index() {
        // Upstream TestGetRemainingBackoffTimePerIndex.
        let (d, max) = (Duration::from_secs(5), Duration::from_secs(700));
        assert_eq!(remaining_time_per_index(None, t0(), d, max), Duration::ZERO);
        let pod = |ann: serde_json::Value| -> Pod {
            serde_json::from_value(
                json!({"metadata": {"annotations": ann, "deletionTimestamp": t0().to_string()}, "status": {"phase": "Failed"}}),
            )
            .unwrap()
        };
        let two = pod(json!({"batch.kubernetes.io/job-index-failure-count": "2"}));
        assert_eq!(remaining_time_per_index(Some(&two), t0(), d, max), Duration::from_secs(20));
        let one_one =
            pod(json!({"batch.kubernetes.io/job-index-failure-count": "1", "batch.kubernetes.io/job-index-ignored-failure-count": "1"}));
        assert_eq!(remaining_time_per_index(Some(&one_one), t0(), d, max), Duration::from_secs(20));
    }
}
