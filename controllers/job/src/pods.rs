//! The pods of a Job: the ones it creates (upstream `manageJob`'s template
//! handling plus `controller.GetPodFromTemplate`), the tracking finalizer
//! (`batch.kubernetes.io/job-tracking`) and the predicates upstream's sync
//! uses on its pods.

use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Container, EnvVar, EnvVarSource, ObjectFieldSelector, Pod};
use rudder_common::controller_ref::{controller_of, controller_ref_for};
use serde_json::{Value, json};

use crate::failure_policy::match_pod_failure_policy;
use crate::indexes::{
    COMPLETION_INDEX_ANNOTATION, COMPLETION_INDEX_ENV, INDEX_FAILURE_COUNT_ANNOTATION, INDEX_IGNORED_FAILURE_COUNT_ANNOTATION,
    generate_name_with_index, index_failure_count, index_ignored_failure_count,
};

/// The finalizer that keeps a Job's pods until the controller counted them.
pub const JOB_TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
/// The value of `spec.managedBy` meaning this controller.
pub const JOB_CONTROLLER_NAME: &str = "kubernetes.io/job-controller";

pub(crate) fn phase(pod: &Pod) -> &str {
    pod.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default()
}

pub(crate) fn uid(pod: &Pod) -> &str {
    pod.metadata.uid.as_deref().unwrap_or_default()
}

/// Whether the pod carries the tracking finalizer (upstream `hasJobTrackingFinalizer`).
pub fn has_tracking_finalizer(pod: &Pod) -> bool {
    pod.metadata.finalizers.as_deref().unwrap_or_default().iter().any(|f| f == JOB_TRACKING_FINALIZER)
}

/// Adds the tracking finalizer to the in-memory copy of a pod the binary
/// just adopted (the adoption patch of `rudder_common::controller_ref`,
/// given the finalizer, added it on the server; upstream `getPodsForJob`
/// does the same on its copy so that the sync counts the pod).
pub fn mark_adopted(pod: &mut Pod) {
    if !has_tracking_finalizer(pod) {
        pod.metadata.finalizers.get_or_insert_with(Vec::new).push(JOB_TRACKING_FINALIZER.to_string());
    }
}

/// The strategic merge patch removing the tracking finalizer, `None` when
/// the pod has none (upstream `removeTrackingFinalizerPatch`).
pub fn remove_tracking_finalizer_patch(pod: &Pod) -> Option<Value> {
    has_tracking_finalizer(pod).then(|| json!({"metadata": {"$deleteFromPrimitiveList/finalizers": [JOB_TRACKING_FINALIZER]}}))
}

/// The name of the external controller managing the Job, when
/// `spec.managedBy` names another controller (upstream `managedByExternalController`).
pub fn managed_by_external_controller(job: &Job) -> Option<&str> {
    job.spec.as_ref()?.managed_by.as_deref().filter(|m| *m != JOB_CONTROLLER_NAME)
}

/// Whether the Job has the `Complete` or `Failed` condition with status
/// `True` (upstream `IsJobFinished`).
pub fn is_job_finished(job: &Job) -> bool {
    job.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
        .iter()
        .any(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")
}

/// Upstream `syncOrphanPod`'s decision: whether the tracking finalizer of
/// a pod that may no longer belong to a running Job is to be removed.
/// `owner` is the Job its controller reference resolves to (same name and
/// uid in the cache), if any.
pub fn orphan_finalizer_to_remove(pod: &Pod, owner: Option<&Job>) -> bool {
    if !has_tracking_finalizer(pod) {
        return false;
    }
    if let Some(cref) = controller_of(&pod.metadata) {
        if cref.kind != "Job" || cref.api_version != "batch/v1" {
            return false;
        }
        if owner.is_some_and(|job| managed_by_external_controller(job).is_some() || !is_job_finished(job)) {
            return false;
        }
    }
    true
}

/// Upstream `getPodsPrefix`: `<name>-`, or the bare name when the prefix
/// would not be a valid DNS subdomain prefix.
fn add_index_env(container: &mut Container) {
    let env = container.env.get_or_insert_with(Vec::new);
    if env.iter().any(|e| e.name == COMPLETION_INDEX_ENV) {
        return;
    }
    env.push(EnvVar {
        name: COMPLETION_INDEX_ENV.to_string(),
        value: None,
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                api_version: None,
                field_path: format!("metadata.labels['{COMPLETION_INDEX_ANNOTATION}']"),
            }),
            ..Default::default()
        }),
    });
}

/// The new-index failure counters of the pod replacing `replaced` (upstream
/// `getNewIndexFailureCounts`): the replaced pod's counters, its own failure
/// added to the counted or (matching an `Ignore` rule) ignored ones.
pub fn new_index_failure_counts(job: &Job, replaced: Option<&Pod>) -> (i32, i32) {
    let Some(pod) = replaced else { return (0, 0) };
    let (mut counted, mut ignored) = (index_failure_count(pod), index_ignored_failure_count(pod));
    let policy = job.spec.as_ref().and_then(|s| s.pod_failure_policy.as_ref());
    if policy.is_none() || match_pod_failure_policy(policy, pod).count_failed {
        counted = counted.saturating_add(1);
    } else {
        ignored = ignored.saturating_add(1);
    }
    (counted, ignored)
}

/// The pod a sync creates for `index` (`None` for NonIndexed Jobs): the
/// Job's template with the tracking finalizer, `generateName: <job>-` (or
/// `<job>-<index>-`), the Job's namespace and controller reference, and for
/// Indexed Jobs the completion index annotation and label, the
/// `JOB_COMPLETION_INDEX` variable in every (init) container, `hostname:
/// <job>-<index>` and, with `backoffLimitPerIndex`, the failure counters
/// carried over from `replaced` (the last failed pod of the index).
/// `None` when the Job has no name or uid.
pub fn new_pod(job: &Job, index: Option<i64>, replaced: Option<&Pod>) -> Option<Pod> {
    let controller_ref = controller_ref_for(job)?;
    let name = job.metadata.name.as_deref().unwrap_or_default();
    let spec = job.spec.clone().unwrap_or_default();
    let template = spec.template;
    let mut meta = template.metadata.unwrap_or_default();
    let mut pod_spec = template.spec.unwrap_or_default();
    let finalizers = meta.finalizers.get_or_insert_with(Vec::new);
    if !finalizers.iter().any(|f| f == JOB_TRACKING_FINALIZER) {
        finalizers.push(JOB_TRACKING_FINALIZER.to_string());
    }
    meta.generate_name = Some(rudder_common::pods::pods_prefix(name));
    if let Some(ix) = index {
        pod_spec.init_containers.iter_mut().flatten().for_each(add_index_env);
        pod_spec.containers.iter_mut().for_each(add_index_env);
        let annotations = meta.annotations.get_or_insert_with(Default::default);
        annotations.insert(COMPLETION_INDEX_ANNOTATION.to_string(), ix.to_string());
        meta.labels.get_or_insert_with(Default::default).insert(COMPLETION_INDEX_ANNOTATION.to_string(), ix.to_string());
        pod_spec.hostname = Some(format!("{name}-{ix}"));
        meta.generate_name = Some(generate_name_with_index(name, ix));
        if spec.backoff_limit_per_index.is_some() {
            let (counted, ignored) = new_index_failure_counts(job, replaced);
            let annotations = meta.annotations.get_or_insert_with(Default::default);
            annotations.insert(INDEX_FAILURE_COUNT_ANNOTATION.to_string(), counted.to_string());
            if ignored > 0 {
                annotations.insert(INDEX_IGNORED_FAILURE_COUNT_ANNOTATION.to_string(), ignored.to_string());
            }
        }
    }
    meta.name = None;
    meta.namespace = job.metadata.namespace.clone();
    meta.owner_references = Some(vec![controller_ref]);
    Some(Pod { metadata: meta, spec: Some(pod_spec), status: None })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(mode: &str, extra: Value) -> Job {
        let mut v = json!({
            "metadata": {"name": "foobar", "namespace": "default", "uid": "job-uid"},
            "spec": {"completionMode": mode, "completions": 5, "parallelism": 2,
                "selector": {"matchLabels": {"foo": "bar"}},
                "template": {"metadata": {"labels": {"foo": "bar"}},
                    "spec": {"initContainers": [{"name": "init", "image": "i"}],
                             "containers": [{"name": "c", "image": "foo/bar", "env": [{"name": "A", "value": "1"}]}]}}}
        });
        if let (Some(spec), Some(extra)) = (v["spec"].as_object_mut(), extra.as_object()) {
            spec.extend(extra.clone());
        }
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn non_indexed_pods() {
        let p = new_pod(&job("NonIndexed", json!({})), None, None).unwrap();
        assert_eq!(p.metadata.generate_name.as_deref(), Some("foobar-"));
        assert_eq!(p.metadata.namespace.as_deref(), Some("default"));
        assert_eq!(p.metadata.finalizers.as_deref(), Some(&[JOB_TRACKING_FINALIZER.to_string()][..]));
        let owner = &p.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.api_version.as_str(), owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
            ("batch/v1", "Job", "foobar", "job-uid")
        );
        assert_eq!((owner.controller, owner.block_owner_deletion), (Some(true), Some(true)));
        let spec = p.spec.unwrap();
        assert_eq!(spec.hostname, None);
        assert_eq!(spec.containers[0].env.as_ref().unwrap().len(), 1);
        assert!(p.metadata.annotations.is_none());
    }

    #[test]
    fn indexed_pods() {
        // Upstream checkIndexedJobPods / checkJobCompletionEnvVariable / checkJobCompletionLabel.
        let p = new_pod(&job("Indexed", json!({})), Some(3), None).unwrap();
        assert_eq!(p.metadata.generate_name.as_deref(), Some("foobar-3-"));
        assert_eq!(p.metadata.annotations.as_ref().unwrap()[COMPLETION_INDEX_ANNOTATION], "3");
        assert_eq!(p.metadata.labels.as_ref().unwrap()[COMPLETION_INDEX_ANNOTATION], "3");
        assert_eq!(p.metadata.labels.as_ref().unwrap()["foo"], "bar");
        let spec = p.spec.unwrap();
        assert_eq!(spec.hostname.as_deref(), Some("foobar-3"));
        for c in spec.init_containers.unwrap().iter().chain(&spec.containers) {
            let env = c.env.as_ref().unwrap().iter().find(|e| e.name == "JOB_COMPLETION_INDEX").unwrap();
            let path = &env.value_from.as_ref().unwrap().field_ref.as_ref().unwrap().field_path;
            assert_eq!(path, "metadata.labels['batch.kubernetes.io/job-completion-index']");
        }
        assert!(!p.metadata.annotations.unwrap().contains_key(INDEX_FAILURE_COUNT_ANNOTATION));
    }

    #[test]
    fn failure_counts_carried_over() {
        // Upstream TestGetNewIndexFailureCountValue.
        let failed = |count: &str, status: Value| -> Pod {
            serde_json::from_value(json!({"metadata": {"uid": "a", "annotations": {
                "batch.kubernetes.io/job-index-failure-count": count, COMPLETION_INDEX_ANNOTATION: "0"}},
                "status": status}))
            .unwrap()
        };
        let plain = job("Indexed", json!({"backoffLimitPerIndex": 1}));
        assert_eq!(new_index_failure_counts(&plain, None), (0, 0));
        assert_eq!(new_index_failure_counts(&plain, Some(&failed("0", json!({"phase": "Failed"})))), (1, 0));
        assert_eq!(new_index_failure_counts(&plain, Some(&failed("3", json!({"phase": "Failed"})))), (4, 0));
        let ignoring = job(
            "Indexed",
            json!({"backoffLimitPerIndex": 1, "podFailurePolicy": {"rules": [
                {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]}]}}),
        );
        let disrupted = failed("3", json!({"phase": "Failed", "conditions": [{"type": "DisruptionTarget", "status": "True"}]}));
        assert_eq!(new_index_failure_counts(&ignoring, Some(&disrupted)), (3, 1));
        let p = new_pod(&ignoring, Some(0), Some(&disrupted)).unwrap();
        let ann = p.metadata.annotations.unwrap();
        assert_eq!((ann[INDEX_FAILURE_COUNT_ANNOTATION].as_str(), ann[INDEX_IGNORED_FAILURE_COUNT_ANNOTATION].as_str()), ("3", "1"));
        let first = new_pod(&plain, Some(1), None).unwrap();
        assert_eq!(first.metadata.annotations.unwrap()[INDEX_FAILURE_COUNT_ANNOTATION], "0");
    }

    #[test]
    fn orphan_finalizers() {
        let pod = |owner: Value, fin: bool| -> Pod {
            let fins = if fin { json!([JOB_TRACKING_FINALIZER]) } else { json!([]) };
            serde_json::from_value(json!({"metadata": {"ownerReferences": owner, "finalizers": fins}})).unwrap()
        };
        let job_ref = json!([{"apiVersion": "batch/v1", "kind": "Job", "name": "foobar", "uid": "job-uid", "controller": true}]);
        let running = job("NonIndexed", json!({}));
        let mut finished = running.clone();
        finished.status = Some(serde_json::from_value(json!({"conditions": [{"type": "Complete", "status": "True"}]})).unwrap());
        assert!(orphan_finalizer_to_remove(&pod(json!([]), true), None));
        assert!(!orphan_finalizer_to_remove(&pod(json!([]), false), None));
        assert!(orphan_finalizer_to_remove(&pod(job_ref.clone(), true), None), "the Job is gone");
        assert!(!orphan_finalizer_to_remove(&pod(job_ref.clone(), true), Some(&running)), "adopted by a running Job");
        assert!(orphan_finalizer_to_remove(&pod(job_ref, true), Some(&finished)));
        let other = json!([{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "x", "uid": "y", "controller": true}]);
        assert!(!orphan_finalizer_to_remove(&pod(other, true), None));
        assert_eq!(
            remove_tracking_finalizer_patch(&pod(json!([]), true)),
            Some(json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["batch.kubernetes.io/job-tracking"]}}))
        );
    }
}
