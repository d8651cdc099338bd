//! Pure helpers for the binary's event handlers (upstream `updateJob` in
//! `pkg/controller/job/job_controller.go`). Upstream's
//! `uidTrackingExpectations` is `rudder_common::expectations::FinalizerExpectations`.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::Job;

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
