//! Upstream's Job controller metrics (`pkg/controller/job/metrics`, the
//! `job_controller_*` families), with the same names, labels, buckets and
//! meaning, and the pure arithmetic behind them: which action a sync was
//! (`reconciling`, `tracking`, `pods_created`, `pods_deleted`), how many
//! pods and indexes a status write finished, why pods were created.

use k8s_openapi::api::batch::v1::{Job, JobStatus};
use k8s_openapi::api::core::v1::Pod;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::indexes::OrderedIntervals;
use crate::pods::{has_tracking_finalizer, phase};
use crate::sync::PodActions;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SyncLabels {
    pub completion_mode: &'static str,
    pub result: &'static str,
    pub action: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FinishedLabels {
    pub completion_mode: &'static str,
    pub result: &'static str,
    pub reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PodsFinishedLabels {
    pub completion_mode: &'static str,
    pub result: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabel {
    pub action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct EventLabel {
    pub event: &'static str,
}

/// `status` and `backoffLimit` (a label name the derive cannot spell).
#[derive(Clone, Debug, Hash, PartialEq, Eq)]
pub struct IndexesLabels {
    pub status: &'static str,
    pub backoff_limit: &'static str,
}

impl EncodeLabelSet for IndexesLabels {
    fn encode(&self, encoder: &mut prometheus_client::encoding::LabelSetEncoder) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeLabel;
        ("status", self.status).encode(encoder.encode_label())?;
        ("backoffLimit", self.backoff_limit).encode(encoder.encode_label())
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CreationLabels {
    pub reason: &'static str,
    pub status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ControllerNameLabel {
    pub controller_name: String,
}

/// The `job_controller_*` families.
#[derive(Clone)]
pub struct Metrics {
    pub sync_duration: Family<SyncLabels, Histogram>,
    pub syncs: Family<SyncLabels, Counter>,
    pub jobs_finished: Family<FinishedLabels, Counter>,
    pub by_external_controller: Family<ControllerNameLabel, Counter>,
    pub pods_finished: Family<PodsFinishedLabels, Counter>,
    pub failures_by_policy: Family<ActionLabel, Counter>,
    pub terminated_with_finalizer: Family<EventLabel, Counter>,
    pub finished_indexes: Family<IndexesLabels, Counter>,
    pub pods_created: Family<CreationLabels, Counter>,
}

impl Metrics {
    pub fn new(registry: &mut Registry) -> Metrics {
        let m = Metrics {
            sync_duration: Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.004, 2.0, 15))),
            syncs: Family::default(),
            jobs_finished: Family::default(),
            by_external_controller: Family::default(),
            pods_finished: Family::default(),
            failures_by_policy: Family::default(),
            terminated_with_finalizer: Family::default(),
            finished_indexes: Family::default(),
            pods_created: Family::default(),
        };
        // prometheus-client adds `_total` to counters.
        let families: [(&str, &str); 8] = [
            ("job_controller_job_syncs", "The number of job syncs"),
            ("job_controller_jobs_finished", "The number of finished jobs"),
            ("job_controller_jobs_by_external_controller", "The number of Jobs managed by an external controller"),
            ("job_controller_job_pods_finished", "The number of finished Pods that are fully tracked"),
            (
                "job_controller_pod_failures_handled_by_failure_policy",
                "The number of failed Pods handled by failure policy with respect to the failure policy action applied based on the matched rule. Possible values of the action label correspond to the possible values for the failure policy rule action, which are: \"FailJob\", \"Ignore\" and \"Count\".",
            ),
            (
                "job_controller_terminated_pods_tracking_finalizer",
                "The number of terminated pods (phase=Failed|Succeeded) that have the finalizer batch.kubernetes.io/job-tracking. The event label can be \"add\" or \"delete\".",
            ),
            (
                "job_controller_job_finished_indexes",
                "The number of finished indexes. Possible values for the status label are: \"succeeded\", \"failed\". Possible values for the backoffLimit label are: \"perIndex\" and \"global\"",
            ),
            (
                "job_controller_job_pods_creation",
                "The number of Pods created by the Job controller labelled with a reason for the Pod creation. This metric also distinguishes between Pods created using different PodReplacementPolicy settings. Possible values of the \"reason\" label are: \"new\", \"recreate_terminating_or_failed\", \"recreate_failed\". Possible values of the \"status\" label are: \"succeeded\", \"failed\".",
            ),
        ];
        registry.register("job_controller_job_sync_duration_seconds", "The time it took to sync a job", m.sync_duration.clone());
        let [syncs, finished, external, pods, policy, terminated, indexes, creation] = families;
        registry.register(syncs.0, syncs.1, m.syncs.clone());
        registry.register(finished.0, finished.1, m.jobs_finished.clone());
        registry.register(external.0, external.1, m.by_external_controller.clone());
        registry.register(pods.0, pods.1, m.pods_finished.clone());
        registry.register(policy.0, policy.1, m.failures_by_policy.clone());
        registry.register(terminated.0, terminated.1, m.terminated_with_finalizer.clone());
        registry.register(indexes.0, indexes.1, m.finished_indexes.clone());
        registry.register(creation.0, creation.1, m.pods_created.clone());
        m
    }

    /// Upstream `recordJobPodFinished` for one successful status write.
    pub fn record_write(&self, job: &Job, before: Option<&JobStatus>, written: &JobStatus) {
        let mode = completion_mode(job);
        let f = pods_finished(job, before, written);
        let add = |family: &Family<PodsFinishedLabels, Counter>, result, n: u64| {
            if n > 0 {
                family.get_or_create(&PodsFinishedLabels { completion_mode: mode, result }).inc_by(n);
            }
        };
        add(&self.pods_finished, "succeeded", f.succeeded);
        add(&self.pods_finished, "failed", f.failed);
        let backoff_limit = backoff_limit_label(job);
        for (status, n) in [("succeeded", f.succeeded_indexes), ("failed", f.failed_indexes)] {
            if n > 0 {
                self.finished_indexes.get_or_create(&IndexesLabels { status, backoff_limit }).inc_by(n);
            }
        }
    }
}

/// `Indexed` or `NonIndexed`, upstream's label value.
pub fn completion_mode(job: &Job) -> &'static str {
    match job.spec.as_ref().and_then(|s| s.completion_mode.as_deref()) {
        Some("Indexed") => "Indexed",
        _ => "NonIndexed",
    }
}

/// `perIndex` with `backoffLimitPerIndex`, else `global`.
fn backoff_limit_label(job: &Job) -> &'static str {
    if job.spec.as_ref().and_then(|s| s.backoff_limit_per_index).is_some() { "perIndex" } else { "global" }
}

/// What a sync did, upstream's `action` label: `reconciling` unless
/// manageJob ran (expectations satisfied, Job not being deleted and not
/// finishing), else what it did to pods.
pub fn sync_action(manage_called: bool, actions: &PodActions<'_>) -> &'static str {
    match actions {
        _ if !manage_called => "reconciling",
        PodActions::Create(_) => "pods_created",
        PodActions::Delete(_) | PodActions::DeleteActive(_) => "pods_deleted",
        PodActions::None => "tracking",
    }
}

/// Upstream `recordJobPodsCreationTotal`'s reason: `recreate_failed` when
/// only failed pods are replaced and some failed, `recreate_terminating_or_failed`
/// when any failed or terminates, else `new`.
pub fn creation_reason(job: &Job, failed: i64, terminating: i64) -> &'static str {
    let only_failed = job.spec.as_ref().and_then(|s| s.pod_replacement_policy.as_deref()) == Some("Failed");
    if only_failed && failed > 0 {
        "recreate_failed"
    } else if failed > 0 || terminating > 0 {
        "recreate_terminating_or_failed"
    } else {
        "new"
    }
}

/// What one status write finished, against the status before it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Finished {
    pub succeeded: u64,
    pub failed: u64,
    pub succeeded_indexes: u64,
    pub failed_indexes: u64,
}

/// Upstream `recordJobPodFinished`: succeeded pods (for an Indexed Job,
/// completed indexes within `completions`), failed pods, and the finished
/// indexes by status. Decreases count as zero.
pub fn pods_finished(job: &Job, before: Option<&JobStatus>, written: &JobStatus) -> Finished {
    let grew = |new: Option<i32>, old: Option<i32>| u64::try_from(i64::from(new.unwrap_or(0)) - i64::from(old.unwrap_or(0))).unwrap_or(0);
    let failed = grew(written.failed, before.and_then(|b| b.failed));
    if completion_mode(job) != "Indexed" {
        return Finished { succeeded: grew(written.succeeded, before.and_then(|b| b.succeeded)), failed, ..Finished::default() };
    }
    let completions = job.spec.as_ref().and_then(|s| s.completions).unwrap_or(0);
    let count = |s: Option<&String>| OrderedIntervals::parse(s.map_or("", String::as_str), completions).total();
    let diff =
        |new: Option<&String>, old: Option<&String>| if new == old { 0 } else { u64::try_from(count(new) - count(old)).unwrap_or(0) };
    let succeeded_indexes = diff(written.completed_indexes.as_ref(), before.and_then(|b| b.completed_indexes.as_ref()));
    let failed_indexes = if backoff_limit_label(job) == "perIndex" {
        diff(written.failed_indexes.as_ref(), before.and_then(|b| b.failed_indexes.as_ref()))
    } else {
        0
    };
    Finished { succeeded: succeeded_indexes, failed, succeeded_indexes, failed_indexes }
}

/// Upstream `isFinishedPodWithTrackingFinalizer`: Succeeded or Failed and
/// still holding the tracking finalizer.
pub fn finished_with_finalizer(pod: &Pod) -> bool {
    matches!(phase(pod), "Succeeded" | "Failed") && has_tracking_finalizer(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn job(spec: serde_json::Value) -> Job {
        let mut s = json!({"template": {}});
        if let (Some(base), Some(extra)) = (s.as_object_mut(), spec.as_object()) {
            base.extend(extra.clone());
        }
        serde_json::from_value(json!({"metadata": {"name": "j"}, "spec": s})).unwrap()
    }

    fn status(v: serde_json::Value) -> JobStatus {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn pods_finished_counts_pods_or_indexes() {
        let plain = job(json!({"completions": 5}));
        let f = pods_finished(&plain, Some(&status(json!({"succeeded": 1, "failed": 2}))), &status(json!({"succeeded": 3, "failed": 2})));
        assert_eq!(f, Finished { succeeded: 2, ..Finished::default() });
        assert_eq!(pods_finished(&plain, None, &status(json!({"failed": 1}))), Finished { failed: 1, ..Finished::default() });

        let indexed = job(json!({"completions": 5, "completionMode": "Indexed", "backoffLimitPerIndex": 1}));
        let before = status(json!({"completedIndexes": "0", "failedIndexes": ""}));
        let after = status(json!({"completedIndexes": "0,2-3", "failedIndexes": "1", "failed": 2}));
        assert_eq!(
            pods_finished(&indexed, Some(&before), &after),
            Finished { succeeded: 2, failed: 2, succeeded_indexes: 2, failed_indexes: 1 }
        );
        // Indexes past completions (scaled down) do not count; nor do decreases.
        let shrunk = job(json!({"completions": 2, "completionMode": "Indexed"}));
        let f = pods_finished(&shrunk, Some(&status(json!({"completedIndexes": "0"}))), &status(json!({"completedIndexes": "0,3-4"})));
        assert_eq!(f, Finished::default());
    }

    #[test]
    fn labels_as_upstream() {
        assert_eq!(completion_mode(&job(json!({"completionMode": "Indexed"}))), "Indexed");
        assert_eq!(completion_mode(&job(json!({}))), "NonIndexed");
        let failed_only = job(json!({"podReplacementPolicy": "Failed"}));
        assert_eq!(creation_reason(&failed_only, 1, 0), "recreate_failed");
        assert_eq!(creation_reason(&failed_only, 0, 1), "recreate_terminating_or_failed");
        assert_eq!(creation_reason(&job(json!({})), 0, 0), "new");
        assert_eq!(creation_reason(&job(json!({})), 2, 0), "recreate_terminating_or_failed");
        assert_eq!(sync_action(false, &PodActions::None), "reconciling");
        assert_eq!(sync_action(true, &PodActions::None), "tracking");
        assert_eq!(sync_action(true, &PodActions::Create(vec![])), "pods_created");
        assert_eq!(sync_action(true, &PodActions::Delete(vec![])), "pods_deleted");
    }

    #[test]
    fn the_families_render_with_upstreams_names() {
        let mut registry = Registry::default();
        let m = Metrics::new(&mut registry);
        let indexed = job(json!({"completions": 3, "completionMode": "Indexed"}));
        m.record_write(&indexed, None, &status(json!({"completedIndexes": "0-1", "succeeded": 2})));
        let labels = SyncLabels { completion_mode: "Indexed", result: "success", action: "tracking" };
        m.syncs.get_or_create(&labels).inc();
        m.sync_duration.get_or_create(&labels).observe(0.003);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(text.contains(r#"job_controller_job_pods_finished_total{completion_mode="Indexed",result="succeeded"} 2"#), "{text}");
        assert!(text.contains(r#"job_controller_job_finished_indexes_total{status="succeeded",backoffLimit="global"} 2"#), "{text}");
        assert!(
            text.contains(r#"job_controller_job_syncs_total{completion_mode="Indexed",result="success",action="tracking"} 1"#),
            "{text}"
        );
        assert!(text.contains("# TYPE job_controller_job_sync_duration_seconds histogram"), "{text}");
        let first_bucket =
            r#"job_controller_job_sync_duration_seconds_bucket{le="0.004",completion_mode="Indexed",result="success",action="tracking"} 1"#;
        assert!(text.contains(first_bucket), "{text}");
    }
}
