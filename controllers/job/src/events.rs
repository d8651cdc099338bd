//! Pure helpers for the binary's event handlers (upstream `updateJob`,
//! `updatePod`/`deletePod` and `uidTrackingExpectations` in
//! `pkg/controller/job/job_controller.go` and `tracking_utils.go`).
//!
//! `FinalizerExpectations` belongs next to `rudder_common::expectations`
//! (it is upstream's Job-specific `uidTrackingExpectations`); it lives
//! here until it moves.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::Job;

/// Upstream `uidTrackingExpectations`: per Job key, the uids of pods whose
/// tracking finalizer removal was issued and not yet observed. Such pods
/// are skipped by the next syncs (they were counted already). Not
/// thread-safe: wrap it in a mutex.
#[derive(Debug, Default, Clone)]
pub struct FinalizerExpectations {
    by_job: HashMap<String, BTreeSet<String>>,
}

impl FinalizerExpectations {
    /// Before patching: these uids will lose their finalizer.
    pub fn expect_removals<'a>(&mut self, job_key: &str, uids: impl IntoIterator<Item = &'a str>) {
        self.by_job.entry(job_key.to_string()).or_default().extend(uids.into_iter().map(str::to_string));
    }

    /// A pod without the finalizer (or deleted for good) was observed, or
    /// its patch failed.
    pub fn removal_observed(&mut self, job_key: &str, uid: &str) {
        if let Some(set) = self.by_job.get_mut(job_key) {
            set.remove(uid);
        }
    }

    /// The uids still expected for the Job (the sync's `expected_finalizer_removals`).
    pub fn expected(&self, job_key: &str) -> BTreeSet<String> {
        self.by_job.get(job_key).cloned().unwrap_or_default()
    }

    /// The Job is gone.
    pub fn delete(&mut self, job_key: &str) {
        self.by_job.remove(job_key);
    }
}

/// Upstream `updateJob`'s extra requeue: when `activeDeadlineSeconds` was
/// set or changed on a started Job, sync it again when the new deadline
/// passes (at once if it passed).
pub fn active_deadline_requeue(old: &Job, new: &Job, now: Timestamp) -> Option<Duration> {
    let start = new.status.as_ref()?.start_time.as_ref()?.0;
    let ads = new.spec.as_ref()?.active_deadline_seconds?;
    let old_ads = old.spec.as_ref().and_then(|s| s.active_deadline_seconds);
    if old_ads == Some(ads) {
        return None;
    }
    let left = SignedDuration::from_secs(ads).checked_sub(now.duration_since(start)).unwrap_or(SignedDuration::ZERO);
    Some(Duration::try_from(left).unwrap_or(Duration::ZERO))
}

/// Upstream's enqueue delays: Job spec changes (generation bumped) sync at
/// once, status-only updates and pod events after the batch period (1 s).
pub fn update_delay(old: &Job, new: &Job) -> Duration {
    if old.metadata.generation == new.metadata.generation { crate::sync::SYNC_JOB_BATCH_PERIOD } else { Duration::ZERO }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(generation: i64, ads: Option<i64>, start: Option<&str>) -> Job {
        serde_json::from_value(json!({"metadata": {"generation": generation}, "spec": {"template": {}, "activeDeadlineSeconds": ads},
            "status": {"startTime": start}}))
        .unwrap()
    }

    #[test]
    fn finalizer_expectations() {
        let mut e = FinalizerExpectations::default();
        e.expect_removals("ns/j", ["a", "b"]);
        e.removal_observed("ns/j", "a");
        e.removal_observed("ns/other", "b");
        assert_eq!(e.expected("ns/j"), BTreeSet::from(["b".to_string()]));
        e.delete("ns/j");
        assert!(e.expected("ns/j").is_empty());
    }

    #[test]
    fn deadline_requeue_on_update() {
        let now: Timestamp = "2026-01-01T00:01:00Z".parse().unwrap();
        let start = Some("2026-01-01T00:00:00Z");
        assert_eq!(active_deadline_requeue(&job(1, None, start), &job(2, Some(100), start), now), Some(Duration::from_secs(40)));
        assert_eq!(active_deadline_requeue(&job(1, Some(100), start), &job(2, Some(30), start), now), Some(Duration::ZERO));
        assert_eq!(active_deadline_requeue(&job(1, Some(100), start), &job(1, Some(100), start), now), None);
        assert_eq!(active_deadline_requeue(&job(1, None, None), &job(2, Some(100), None), now), None);
        assert_eq!(update_delay(&job(1, None, None), &job(1, None, None)), Duration::from_secs(1));
        assert_eq!(update_delay(&job(1, None, None), &job(2, None, None)), Duration::ZERO);
    }
}
