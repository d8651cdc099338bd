//! Ports of upstream's `job_controller_test.go` cases that are about the
//! sync decision. Upstream runs them with feature gates toggled; Kubernetes
//! v1.36 has every Job gate GA, so the expectations here are those of the
//! gates-on variants: the terminal condition comes after `FailureTarget` /
//! `SuccessCriteriaMet` once no pod is terminating, `status.terminating` is
//! always reported, and a Job reaching its completions gets
//! `SuccessCriteriaMet` and `Complete` with reason `CompletionsReached`.

use super::*;
use crate::indexes::COMPLETION_INDEX_ANNOTATION;
use crate::pods::JOB_TRACKING_FINALIZER;
use serde_json::{Value, json};

fn now() -> Timestamp {
    "2026-01-01T00:10:00Z".parse().unwrap()
}

/// Upstream's `testFinishedAt`: one second after Go's zero time, so that
/// no backoff applies.
const TEST_FINISHED_AT: &str = "0001-01-01T00:00:01Z";

fn job(parallelism: i32, completions: i32, backoff_limit: i32, mode: &str) -> Job {
    let mut spec = json!({
        "selector": {"matchLabels": {"foo": "bar"}},
        "template": {"metadata": {"labels": {"foo": "bar"}}, "spec": {"containers": [{"name": "c", "image": "foo/bar"}]}},
        "backoffLimit": backoff_limit,
    });
    if completions >= 0 {
        spec["completions"] = json!(completions);
    }
    if parallelism >= 0 {
        spec["parallelism"] = json!(parallelism);
    }
    if !mode.is_empty() {
        spec["completionMode"] = json!(mode);
    }
    serde_json::from_value(json!({"metadata": {"name": "foobar", "namespace": "default", "uid": "job-uid"}, "spec": spec})).unwrap()
}

fn edit(job: &mut Job, f: impl FnOnce(&mut Value)) {
    let mut v = serde_json::to_value(&*job).unwrap();
    f(&mut v);
    *job = serde_json::from_value(v).unwrap();
}

/// A pod of the Job (upstream `newPod` + `newPodList`), built as JSON.
struct P(Value);

fn container(name: &str, state: Value, restarts: i32) -> Value {
    json!({"name": name, "image": "foo/bar", "imageID": "", "ready": false, "restartCount": restarts, "state": state})
}

impl P {
    fn new(name: &str, phase: &str) -> P {
        P(json!({
            "metadata": {"name": name, "namespace": "default", "uid": name, "labels": {"foo": "bar"},
                "finalizers": [JOB_TRACKING_FINALIZER],
                "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": "foobar", "uid": "job-uid", "controller": true, "blockOwnerDeletion": true}]},
            "status": {"phase": phase, "containerStatuses": [container("c", json!({"terminated": {"exitCode": 0, "finishedAt": TEST_FINISHED_AT}}), 0)]}
        }))
    }

    fn index(mut self, ix: &str) -> P {
        if ix != "-" {
            self.0["metadata"]["annotations"] = json!({COMPLETION_INDEX_ANNOTATION: ix});
        }
        self
    }

    fn ready(mut self) -> P {
        self.0["status"]["conditions"] = json!([{"type": "Ready", "status": "True"}]);
        self
    }

    fn deleting(mut self) -> P {
        self.0["metadata"]["deletionTimestamp"] = json!(now().to_string());
        self
    }

    fn no_finalizer(mut self) -> P {
        self.0["metadata"]["finalizers"] = json!([]);
        self
    }

    fn exit_code(mut self, container_name: &str, code: i32) -> P {
        self.0["status"]["containerStatuses"] =
            json!([container(container_name, json!({"terminated": {"exitCode": code, "finishedAt": TEST_FINISHED_AT}}), 0)]);
        self
    }

    fn condition(mut self, type_: &str, status: &str) -> P {
        self.0["status"]["conditions"] = json!([{"type": type_, "status": status}]);
        self
    }

    fn restarts(mut self, n: i32) -> P {
        self.0["status"]["containerStatuses"] = json!([container("c", json!({"running": {}}), n)]);
        self
    }

    fn failure_count(mut self, n: i32) -> P {
        let ann = self.0["metadata"]["annotations"].as_object_mut().unwrap();
        ann.insert("batch.kubernetes.io/job-index-failure-count".into(), json!(n.to_string()));
        self
    }

    fn finished_at(mut self, t: Timestamp) -> P {
        self.0["status"]["containerStatuses"] =
            json!([container("c", json!({"terminated": {"exitCode": 1, "finishedAt": t.to_string()}}), 0)]);
        self
    }

    fn pod(self) -> Pod {
        serde_json::from_value(self.0).unwrap()
    }
}

/// Upstream `setPodsStatuses`.
fn pods_with_statuses(pending: usize, active: usize, ready: usize, succeeded: usize, failed: usize, terminating: usize) -> Vec<Pod> {
    let mut out = Vec::new();
    let mut n = 0;
    let mut name = || {
        n += 1;
        format!("pod-{n}")
    };
    (0..pending).for_each(|_| out.push(P::new(&name(), "Pending").pod()));
    for i in 0..active {
        let p = P::new(&name(), "Running");
        out.push(if i < ready { p.ready() } else { p }.pod());
    }
    (0..succeeded).for_each(|_| out.push(P::new(&name(), "Succeeded").pod()));
    (0..failed).for_each(|_| out.push(P::new(&name(), "Failed").pod()));
    (0..terminating).for_each(|_| out.push(P::new(&name(), "Running").deleting().pod()));
    out
}

/// Upstream `setPodsStatusesWithIndexes`.
fn pods_with_indexes(descs: &[(&str, &str)]) -> Vec<Pod> {
    descs.iter().enumerate().map(|(n, (ix, phase))| P::new(&format!("ix-pod-{n}"), phase).index(ix).pod()).collect()
}

/// The effect of one sync with every API call succeeding (or, with
/// `fail_calls`, every pod call failing, as upstream's fake pod control
/// with `Err` set).
struct Run {
    created: Vec<Pod>,
    deleted: usize,
    patches: usize,
    status: JobStatus,
    writes: Vec<JobStatus>,
    events: Vec<Event>,
    requeue_after: Option<Duration>,
    backoff: Option<BackoffRecord>,
    finished: bool,
}

fn run_full(
    job: &Job,
    pods: &[Pod],
    satisfied: bool,
    expected_rm: &BTreeSet<String>,
    backoff: Option<&BackoffRecord>,
    at: Timestamp,
    fail_calls: bool,
) -> Run {
    let input = SyncInput { job, pods, now: at, expectations_satisfied: satisfied, expected_finalizer_removals: expected_rm, backoff };
    let sync = match Sync::start(input) {
        Ok(s) => s,
        Err(skip) => panic!("unexpected skip {skip:?}"),
    };
    let requeue_after = sync.requeue_after();
    let actions = sync.pod_actions().clone();
    let (mut created, mut deleted, mut patches) = (Vec::new(), 0, 0);
    match &actions {
        PodActions::Create(pods) => created = pods.clone(),
        PodActions::Delete(pods) => {
            patches += pods.iter().filter(|p| has_tracking_finalizer(p)).count();
            deleted = if fail_calls { 0 } else { pods.len() };
        }
        PodActions::DeleteActive(pods) => deleted = if fail_calls { 0 } else { pods.len() },
        PodActions::None => {}
    }
    let outcome = if fail_calls { PodActionsOutcome::default() } else { PodActionsOutcome::all_succeeded(&actions) };
    let tracking = sync.after_pod_actions(&outcome);
    let mut events = tracking.events().to_vec();
    let mut writes = Vec::new();
    if let Some(s) = tracking.status_update() {
        writes.push(s.clone());
    }
    let backoff = tracking.backoff_record();
    patches += tracking.finalizers_to_remove().len();
    let removed: BTreeSet<String> = if fail_calls {
        BTreeSet::new()
    } else {
        tracking.finalizers_to_remove().iter().map(|p| p.metadata.uid.clone().unwrap_or_default()).collect()
    };
    let failed_removal = fail_calls && !tracking.finalizers_to_remove().is_empty();
    let completion = tracking.complete(&removed, failed_removal);
    if let Some(s) = &completion.status_update {
        writes.push(s.clone());
    }
    events.extend(completion.events.clone());
    let status = writes.last().cloned().unwrap_or_else(|| job.status.clone().unwrap_or_default());
    Run { created, deleted, patches, status, writes, events, requeue_after, backoff, finished: completion.finished }
}

fn run(job: &Job, pods: &[Pod]) -> Run {
    run_full(job, pods, true, &BTreeSet::new(), None, now(), false)
}

type Cond<'a> = (&'a str, &'a str, &'a str, &'a str);

fn conditions(status: &JobStatus) -> Vec<(String, String, String, String)> {
    status
        .conditions
        .iter()
        .flatten()
        .map(|c| (c.type_.clone(), c.status.clone(), c.reason.clone().unwrap_or_default(), c.message.clone().unwrap_or_default()))
        .collect()
}

fn owned(conds: &[Cond]) -> Vec<(String, String, String, String)> {
    conds.iter().map(|(a, b, c, d)| (a.to_string(), b.to_string(), c.to_string(), d.to_string())).collect()
}

const SCM_DONE: Cond = ("SuccessCriteriaMet", "True", "CompletionsReached", "Reached expected number of succeeded pods");
const COMPLETE_DONE: Cond = ("Complete", "True", "CompletionsReached", "Reached expected number of succeeded pods");
const BLE_TARGET: Cond = ("FailureTarget", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
const BLE_FAILED: Cond = ("Failed", "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit");

/// One row of upstream's TestControllerSyncJob.
#[derive(Default)]
struct Case<'a> {
    parallelism: i32,
    completions: i32,
    backoff_limit: i32,
    deleting: bool,
    indexed: bool,
    was_suspended: bool,
    suspend: bool,
    pod_replacement_policy: Option<&'a str>,
    pod_failure_policy: Option<Value>,
    initial: Option<Value>,
    backoff: Option<BackoffRecord>,
    pod_error: bool,
    pending: usize,
    active: usize,
    ready: usize,
    succeeded: usize,
    failed: usize,
    terminating: usize,
    with_indexes: &'a [(&'a str, &'a str)],
    unsatisfied: bool,

    want_creations: usize,
    want_deletions: usize,
    want_active: i32,
    want_ready: i32,
    want_succeeded: i32,
    want_completed: &'a str,
    want_failed: i32,
    want_terminating: i32,
    want_conditions: &'a [Cond<'a>],
    want_indexes: &'a [i64],
    want_patches: usize,
}

fn check(name: &str, c: Case) {
    let mut j = job(c.parallelism, c.completions, c.backoff_limit, if c.indexed { "Indexed" } else { "" });
    edit(&mut j, |v| {
        v["spec"]["suspend"] = json!(c.suspend);
        if let Some(p) = c.pod_replacement_policy {
            v["spec"]["podReplacementPolicy"] = json!(p);
        }
        if let Some(p) = &c.pod_failure_policy {
            v["spec"]["podFailurePolicy"] = p.clone();
        }
        if let Some(s) = &c.initial {
            v["status"] = s.clone();
        }
        if c.was_suspended {
            let conds = v["status"]["conditions"].as_array().cloned().unwrap_or_default();
            let mut conds = conds;
            conds.push(json!({"type": "Suspended", "status": "True", "reason": "JobSuspended", "message": "Job suspended"}));
            v["status"]["conditions"] = json!(conds);
        }
        if c.deleting {
            v["metadata"]["deletionTimestamp"] = json!(now().to_string());
        }
    });
    let mut pods = pods_with_statuses(c.pending, c.active, c.ready, c.succeeded, c.failed, c.terminating);
    pods.extend(pods_with_indexes(c.with_indexes));
    let r = run_full(&j, &pods, !c.unsatisfied, &BTreeSet::new(), c.backoff.as_ref(), now(), c.pod_error);
    assert_eq!(r.created.len(), c.want_creations, "{name}: creations");
    assert_eq!(r.deleted, c.want_deletions, "{name}: deletions");
    assert_eq!(r.patches, c.want_patches, "{name}: pod patches");
    let s = &r.status;
    assert_eq!(s.active.unwrap_or(0), c.want_active, "{name}: active");
    assert_eq!(s.ready, Some(c.want_ready), "{name}: ready");
    assert_eq!(s.succeeded.unwrap_or(0), c.want_succeeded, "{name}: succeeded");
    assert_eq!(s.completed_indexes.as_deref().unwrap_or_default(), c.want_completed, "{name}: completedIndexes");
    assert_eq!(s.failed.unwrap_or(0), c.want_failed, "{name}: failed");
    assert_eq!(s.terminating, Some(c.want_terminating), "{name}: terminating");
    assert_eq!(s.start_time.is_some(), !c.suspend, "{name}: startTime");
    assert_eq!(conditions(s), owned(c.want_conditions), "{name}: conditions");
    for p in &r.created {
        let owner = &p.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.api_version.as_str(), owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
            ("batch/v1", "Job", "foobar", "job-uid")
        );
        assert_eq!(owner.controller, Some(true), "{name}");
        if !c.indexed {
            assert_eq!(p.metadata.generate_name.as_deref(), Some("foobar-"), "{name}");
            assert_eq!(p.spec.as_ref().unwrap().hostname, None, "{name}");
        }
    }
    if c.indexed {
        // Upstream checkIndexedJobPods.
        let mut got: Vec<i64> = Vec::new();
        for p in &r.created {
            let ix = completion_index(p).unwrap_or_else(|| panic!("{name}: created pod without index"));
            got.push(ix);
            assert_eq!(p.spec.as_ref().unwrap().hostname.as_deref(), Some(format!("foobar-{ix}").as_str()), "{name}");
            assert_eq!(p.metadata.generate_name.as_deref(), Some(format!("foobar-{ix}-").as_str()), "{name}");
            assert_eq!(p.metadata.labels.as_ref().unwrap()[COMPLETION_INDEX_ANNOTATION], ix.to_string(), "{name}");
            let env = p.spec.as_ref().unwrap().containers[0].env.as_ref().unwrap();
            assert!(env.iter().any(|e| e.name == "JOB_COMPLETION_INDEX"), "{name}");
        }
        got.sort();
        assert_eq!(got, c.want_indexes, "{name}: created indexes");
    }
}

fn started(active: i32, conditions: Value) -> Option<Value> {
    Some(json!({"active": active, "startTime": now().to_string(), "conditions": conditions}))
}

#[test]
fn controller_sync_job() {
    let d = Case::default;
    check("job start", Case { parallelism: 2, completions: 5, backoff_limit: 6, want_creations: 2, want_active: 2, ..d() });
    check("WQ job start", Case { parallelism: 2, completions: -1, backoff_limit: 6, want_creations: 2, want_active: 2, ..d() });
    check("pending pods", Case { parallelism: 2, completions: 5, backoff_limit: 6, pending: 2, want_active: 2, ..d() });
    check(
        "correct # of pods",
        Case { parallelism: 3, completions: 5, backoff_limit: 6, active: 3, ready: 2, want_active: 3, want_ready: 2, ..d() },
    );
    check("WQ job: correct # of pods", Case { parallelism: 2, completions: -1, backoff_limit: 6, active: 2, want_active: 2, ..d() });
    check(
        "too few active pods",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            active: 1,
            succeeded: 1,
            want_creations: 1,
            want_active: 2,
            want_succeeded: 1,
            want_patches: 1,
            ..d()
        },
    );
    check(
        "WQ job: recreate pods when failed",
        Case {
            parallelism: 1,
            completions: -1,
            backoff_limit: 6,
            active: 1,
            failed: 1,
            terminating: 1,
            pod_replacement_policy: Some("Failed"),
            want_terminating: 1,
            want_patches: 1,
            want_failed: 1,
            want_active: 1,
            ..d()
        },
    );
    check(
        "WQ job: turn on PodReplacementPolicy but not set PodReplacementPolicy",
        Case {
            parallelism: 1,
            completions: 1,
            backoff_limit: 6,
            active: 1,
            failed: 1,
            terminating: 1,
            want_terminating: 1,
            want_active: 1,
            want_patches: 2,
            want_failed: 2,
            ..d()
        },
    );
    check(
        "WQ job: recreate pods when terminating or failed",
        Case {
            parallelism: 1,
            completions: -1,
            backoff_limit: 6,
            active: 1,
            failed: 1,
            terminating: 1,
            pod_replacement_policy: Some("TerminatingOrFailed"),
            want_terminating: 1,
            want_active: 1,
            want_patches: 2,
            want_failed: 2,
            ..d()
        },
    );
    check(
        "more terminating pods than parallelism",
        Case {
            parallelism: 1,
            completions: 1,
            backoff_limit: 6,
            active: 2,
            terminating: 4,
            pod_replacement_policy: Some("Failed"),
            want_terminating: 5,
            want_active: 1,
            want_deletions: 1,
            want_patches: 1,
            ..d()
        },
    );
    check(
        "more terminating pods than parallelism; PodFailurePolicy used",
        Case {
            parallelism: 1,
            completions: 1,
            backoff_limit: 6,
            active: 2,
            terminating: 4,
            pod_failure_policy: Some(json!({"rules": []})),
            want_terminating: 5,
            want_active: 1,
            want_deletions: 1,
            want_patches: 1,
            ..d()
        },
    );
    check(
        "too few active pods and active back-off",
        Case {
            parallelism: 1,
            completions: 1,
            backoff_limit: 6,
            backoff: Some(BackoffRecord { failures_after_last_success: 1, last_failure_time: Some(now()) }),
            initial: started(0, json!([])),
            ..d()
        },
    );
    check(
        "too few active pods and no back-offs",
        Case {
            parallelism: 1,
            completions: 1,
            backoff_limit: 6,
            backoff: Some(BackoffRecord { failures_after_last_success: 0, last_failure_time: Some(now()) }),
            want_creations: 1,
            want_active: 1,
            ..d()
        },
    );
    check(
        "too few active pods with a dynamic job",
        Case { parallelism: 2, completions: -1, backoff_limit: 6, active: 1, want_creations: 1, want_active: 2, ..d() },
    );
    check(
        "too few active pods, with controller error",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            pod_error: true,
            active: 1,
            succeeded: 1,
            want_creations: 1,
            want_active: 1,
            want_patches: 1,
            ..d()
        },
    );
    check(
        "too many active pods",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            active: 3,
            want_deletions: 1,
            want_active: 2,
            want_patches: 1,
            want_terminating: 1,
            ..d()
        },
    );
    check(
        "too many active pods, with controller error",
        Case { parallelism: 2, completions: 5, backoff_limit: 6, pod_error: true, active: 3, want_patches: 1, want_active: 3, ..d() },
    );
    check(
        "count ready pods when too many active pods",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            active: 3,
            ready: 3,
            want_deletions: 1,
            want_active: 2,
            want_patches: 1,
            want_ready: 2,
            want_terminating: 1,
            ..d()
        },
    );
    check(
        "failed + succeed pods: reset backoff delay",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            active: 1,
            succeeded: 1,
            failed: 1,
            want_creations: 1,
            want_active: 2,
            want_succeeded: 1,
            want_failed: 1,
            want_patches: 2,
            ..d()
        },
    );
    check(
        "new failed pod",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            active: 1,
            failed: 1,
            want_creations: 1,
            want_active: 2,
            want_failed: 1,
            want_patches: 1,
            ..d()
        },
    );
    check(
        "no new pod; possible finalizer update of failed pod",
        Case {
            parallelism: 1,
            completions: 1,
            backoff_limit: 6,
            initial: Some(json!({"active": 1, "failed": 1, "startTime": now().to_string()})),
            active: 1,
            want_active: 1,
            want_failed: 1,
            ..d()
        },
    );
    check(
        "only new failed pod with controller error",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            pod_error: true,
            active: 1,
            failed: 1,
            want_creations: 1,
            want_active: 1,
            want_patches: 1,
            ..d()
        },
    );
    check(
        "job finish",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            succeeded: 5,
            want_succeeded: 5,
            want_conditions: &[SCM_DONE, COMPLETE_DONE],
            want_patches: 5,
            ..d()
        },
    );
    check(
        "WQ job finishing",
        Case {
            parallelism: 2,
            completions: -1,
            backoff_limit: 6,
            active: 1,
            succeeded: 1,
            want_active: 1,
            want_succeeded: 1,
            want_patches: 1,
            ..d()
        },
    );
    check(
        "WQ job all finished",
        Case {
            parallelism: 2,
            completions: -1,
            backoff_limit: 6,
            succeeded: 2,
            want_succeeded: 2,
            want_conditions: &[SCM_DONE, COMPLETE_DONE],
            want_patches: 2,
            ..d()
        },
    );
    check(
        "WQ job all finished despite one failure",
        Case {
            parallelism: 2,
            completions: -1,
            backoff_limit: 6,
            succeeded: 1,
            failed: 1,
            want_succeeded: 1,
            want_failed: 1,
            want_conditions: &[SCM_DONE, COMPLETE_DONE],
            want_patches: 2,
            ..d()
        },
    );
    check(
        "more active pods than parallelism",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            active: 10,
            want_deletions: 8,
            want_active: 2,
            want_patches: 8,
            want_terminating: 8,
            ..d()
        },
    );
    check(
        "more active pods than remaining completions",
        Case {
            parallelism: 3,
            completions: 4,
            backoff_limit: 6,
            active: 3,
            succeeded: 2,
            want_deletions: 1,
            want_active: 2,
            want_succeeded: 2,
            want_patches: 3,
            want_terminating: 1,
            ..d()
        },
    );
    check(
        "status change",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            active: 2,
            succeeded: 2,
            want_active: 2,
            want_succeeded: 2,
            want_patches: 2,
            ..d()
        },
    );
    check(
        "deleting job",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            deleting: true,
            pending: 1,
            active: 1,
            succeeded: 1,
            want_active: 2,
            want_succeeded: 1,
            want_patches: 3,
            ..d()
        },
    );
    check(
        "too many job failures",
        Case {
            parallelism: 2,
            completions: 5,
            deleting: true,
            failed: 1,
            want_failed: 1,
            want_conditions: &[BLE_TARGET, BLE_FAILED],
            want_patches: 1,
            ..d()
        },
    );
    check(
        "job failures, unsatisfied expectations",
        Case { parallelism: 2, completions: 5, deleting: true, failed: 1, unsatisfied: true, want_failed: 1, want_patches: 1, ..d() },
    );
    check(
        "indexed job start",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            indexed: true,
            want_creations: 2,
            want_active: 2,
            want_indexes: &[0, 1],
            ..d()
        },
    );
    check(
        "indexed job with some pods deleted, podReplacementPolicy Failed",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            indexed: true,
            pod_replacement_policy: Some("Failed"),
            terminating: 1,
            want_creations: 1,
            want_active: 1,
            want_indexes: &[0],
            want_terminating: 1,
            ..d()
        },
    );
    check(
        "indexed job with some pods deleted, podReplacementPolicy TerminatingOrFailed",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            indexed: true,
            pod_replacement_policy: Some("TerminatingOrFailed"),
            terminating: 1,
            want_creations: 2,
            want_active: 2,
            want_indexes: &[0, 1],
            want_terminating: 1,
            want_patches: 1,
            ..d()
        },
    );
    check(
        "indexed job completed",
        Case {
            parallelism: 2,
            completions: 3,
            backoff_limit: 6,
            indexed: true,
            with_indexes: &[("0", "Succeeded"), ("1", "Failed"), ("1", "Succeeded"), ("2", "Succeeded")],
            want_succeeded: 3,
            want_failed: 1,
            want_completed: "0-2",
            want_conditions: &[SCM_DONE, COMPLETE_DONE],
            want_patches: 4,
            ..d()
        },
    );
    check(
        "indexed job failed (count terminating pods when indexed job fails)",
        Case {
            parallelism: 2,
            completions: 3,
            backoff_limit: 0,
            indexed: true,
            with_indexes: &[("0", "Succeeded"), ("1", "Failed"), ("2", "Running")],
            want_succeeded: 1,
            want_failed: 2,
            want_completed: "0",
            want_conditions: &[BLE_TARGET],
            want_patches: 3,
            want_deletions: 1,
            want_terminating: 1,
            ..d()
        },
    );
    check(
        "count ready pods when job fails",
        Case {
            parallelism: 2,
            completions: 3,
            backoff_limit: 0,
            active: 2,
            ready: 2,
            failed: 1,
            want_failed: 3,
            want_conditions: &[BLE_TARGET],
            want_patches: 3,
            want_deletions: 2,
            want_terminating: 2,
            ..d()
        },
    );
    check(
        "indexed job repeated completed index",
        Case {
            parallelism: 2,
            completions: 3,
            backoff_limit: 6,
            indexed: true,
            with_indexes: &[("0", "Succeeded"), ("1", "Succeeded"), ("1", "Succeeded")],
            want_creations: 1,
            want_active: 1,
            want_succeeded: 2,
            want_completed: "0,1",
            want_indexes: &[2],
            want_patches: 3,
            ..d()
        },
    );
    check(
        "indexed job some running and completed pods",
        Case {
            parallelism: 8,
            completions: 20,
            backoff_limit: 6,
            indexed: true,
            with_indexes: &[
                ("0", "Running"),
                ("2", "Succeeded"),
                ("3", "Pending"),
                ("4", "Succeeded"),
                ("5", "Succeeded"),
                ("7", "Succeeded"),
                ("8", "Succeeded"),
                ("9", "Succeeded"),
            ],
            want_creations: 6,
            want_active: 8,
            want_succeeded: 6,
            want_completed: "2,4,5,7-9",
            want_indexes: &[1, 6, 10, 11, 12, 13],
            want_patches: 6,
            ..d()
        },
    );
    check(
        "indexed job some failed pods",
        Case {
            parallelism: 3,
            completions: 4,
            backoff_limit: 6,
            indexed: true,
            with_indexes: &[("0", "Failed"), ("1", "Pending"), ("2", "Failed")],
            want_creations: 2,
            want_active: 3,
            want_failed: 2,
            want_indexes: &[0, 2],
            want_patches: 2,
            ..d()
        },
    );
    check(
        "indexed job some pods without index",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            indexed: true,
            active: 1,
            succeeded: 1,
            failed: 1,
            with_indexes: &[
                ("invalid", "Running"),
                ("invalid", "Succeeded"),
                ("invalid", "Failed"),
                ("invalid", "Pending"),
                ("0", "Succeeded"),
                ("1", "Running"),
                ("2", "Running"),
            ],
            want_deletions: 3,
            want_active: 2,
            want_succeeded: 1,
            want_completed: "0",
            want_patches: 8,
            want_terminating: 3,
            ..d()
        },
    );
    check(
        "indexed job repeated indexes",
        Case {
            parallelism: 5,
            completions: 5,
            backoff_limit: 6,
            indexed: true,
            succeeded: 1,
            failed: 1,
            with_indexes: &[("invalid", "Running"), ("0", "Succeeded"), ("1", "Running"), ("2", "Running"), ("2", "Pending")],
            want_deletions: 2,
            want_active: 2,
            want_succeeded: 1,
            want_completed: "0",
            want_patches: 5,
            want_terminating: 2,
            ..d()
        },
    );
    check(
        "indexed job with indexes outside of range",
        Case {
            parallelism: 2,
            completions: 5,
            backoff_limit: 6,
            indexed: true,
            with_indexes: &[("0", "Succeeded"), ("5", "Running"), ("6", "Succeeded"), ("7", "Pending"), ("8", "Failed")],
            want_succeeded: 1,
            want_deletions: 2,
            want_completed: "0",
            want_patches: 5,
            want_terminating: 2,
            ..d()
        },
    );
    let suspended: &[Cond] = &[("Suspended", "True", "JobSuspended", "Job suspended")];
    check(
        "suspending a job with satisfied expectations",
        Case {
            suspend: true,
            parallelism: 2,
            active: 2,
            completions: 4,
            backoff_limit: 6,
            want_deletions: 2,
            want_conditions: suspended,
            want_patches: 2,
            want_terminating: 2,
            ..d()
        },
    );
    check(
        "count ready pods when suspending a job with satisfied expectations",
        Case {
            suspend: true,
            parallelism: 2,
            active: 2,
            ready: 2,
            completions: 4,
            backoff_limit: 6,
            want_deletions: 2,
            want_conditions: suspended,
            want_patches: 2,
            want_terminating: 2,
            ..d()
        },
    );
    check(
        "suspending a job with unsatisfied expectations",
        Case { suspend: true, parallelism: 2, active: 3, unsatisfied: true, completions: 4, backoff_limit: 6, want_active: 3, ..d() },
    );
    check(
        "count ready pods when suspending a job with unsatisfied expectations",
        Case {
            suspend: true,
            parallelism: 2,
            active: 3,
            ready: 3,
            unsatisfied: true,
            completions: 4,
            backoff_limit: 6,
            want_active: 3,
            want_ready: 3,
            ..d()
        },
    );
    check(
        "resuming a suspended job",
        Case {
            was_suspended: true,
            parallelism: 2,
            completions: 4,
            backoff_limit: 6,
            want_creations: 2,
            want_active: 2,
            want_conditions: &[("Suspended", "False", "JobResumed", "Job resumed")],
            ..d()
        },
    );
    check(
        "suspending a deleted job",
        Case {
            suspend: true,
            deleting: true,
            parallelism: 2,
            active: 2,
            completions: 4,
            backoff_limit: 6,
            want_active: 2,
            want_patches: 2,
            ..d()
        },
    );
    let manual_target: &[Cond] = &[("FailureTarget", "False", "ConditionAddedManually", "Testing")];
    check(
        "FailureTarget=False condition added manually is ignored",
        Case {
            parallelism: 1,
            completions: 1,
            active: 1,
            ready: 1,
            initial: started(
                1,
                json!([{"type": "FailureTarget", "status": "False", "reason": "ConditionAddedManually", "message": "Testing"}]),
            ),
            want_active: 1,
            want_ready: 1,
            want_conditions: manual_target,
            ..d()
        },
    );
    let manual_scm: &[Cond] = &[("SuccessCriteriaMet", "False", "ConditionAddedManually", "Testing")];
    check(
        "SuccessCriteriaMet=False condition added manually is ignored",
        Case {
            parallelism: 1,
            completions: 1,
            active: 1,
            ready: 1,
            initial: started(
                1,
                json!([{"type": "SuccessCriteriaMet", "status": "False", "reason": "ConditionAddedManually", "message": "Testing"}]),
            ),
            want_active: 1,
            want_ready: 1,
            want_conditions: manual_scm,
            ..d()
        },
    );
}

#[test]
fn suspend_and_resume_events_and_start_time() {
    let mut j = job(2, 4, 6, "");
    edit(&mut j, |v| v["spec"]["suspend"] = json!(true));
    let r = run(&j, &pods_with_statuses(0, 2, 0, 0, 0, 0));
    assert_eq!(r.events, [Event::normal("Suspended", "Job suspended")]);
    assert!(r.status.start_time.is_none());
    // Resuming resets startTime to now (activeDeadlineSeconds counts from there).
    edit(&mut j, |v| {
        v["spec"]["suspend"] = json!(false);
        v["status"] = json!({"startTime": "2020-01-01T00:00:00Z",
            "conditions": [{"type": "Suspended", "status": "True", "reason": "JobSuspended", "message": "Job suspended"}]});
    });
    let r = run(&j, &[]);
    assert_eq!(r.events, [Event::normal("Resumed", "Job resumed")]);
    assert_eq!(r.status.start_time, Some(Time(now())));
    assert_eq!(r.created.len(), 2);
}

#[test]
fn sync_job_past_deadline() {
    // Upstream TestSyncJobPastDeadline: (name, parallelism, completions, activeDeadlineSeconds,
    // startTime seconds ago, backoffLimit, active, succeeded, failed, suspend,
    // want deletions, want active, want succeeded, want failed, want conditions).
    let deadline: &[Cond] = &[("FailureTarget", "True", "DeadlineExceeded", "Job was active longer than specified deadline")];
    let deadline_done: &[Cond] = &[
        ("FailureTarget", "True", "DeadlineExceeded", "Job was active longer than specified deadline"),
        ("Failed", "True", "DeadlineExceeded", "Job was active longer than specified deadline"),
    ];
    type Row<'a> = (&'a str, i32, i32, i64, i64, i32, usize, usize, usize, bool, usize, i32, i32, i32, &'a [Cond<'a>]);
    let rows: &[Row] = &[
        ("activeDeadlineSeconds less than single pod execution", 1, 1, 10, 15, 6, 1, 0, 0, false, 1, 0, 0, 1, deadline),
        ("activeDeadlineSeconds bigger than single pod execution", 1, 2, 10, 15, 6, 1, 1, 0, false, 1, 0, 1, 1, deadline),
        ("activeDeadlineSeconds times-out before any pod starts", 1, 1, 10, 10, 6, 0, 0, 0, false, 0, 0, 0, 0, deadline_done),
        ("activeDeadlineSeconds with backofflimit reach", 1, 1, 1, 10, 0, 0, 0, 1, false, 0, 0, 0, 1, &[BLE_TARGET, BLE_FAILED]),
        (
            "activeDeadlineSeconds is not triggered when Job is suspended",
            1,
            2,
            10,
            15,
            6,
            0,
            0,
            0,
            true,
            0,
            0,
            0,
            0,
            &[("Suspended", "True", "JobSuspended", "Job suspended")],
        ),
    ];
    for &(
        name,
        parallelism,
        completions,
        ads,
        ago,
        backoff_limit,
        active,
        succeeded,
        failed,
        suspend,
        deletions,
        want_active,
        want_succeeded,
        want_failed,
        want_conditions,
    ) in rows
    {
        let mut j = job(parallelism, completions, backoff_limit, "");
        let start = now() - SignedDuration::from_secs(ago);
        edit(&mut j, |v| {
            v["spec"]["activeDeadlineSeconds"] = json!(ads);
            v["spec"]["suspend"] = json!(suspend);
            v["status"] = json!({"startTime": start.to_string()});
        });
        let r = run(&j, &pods_with_statuses(0, active, 0, succeeded, failed, 0));
        assert_eq!(r.deleted, deletions, "{name}: deletions");
        assert_eq!(r.status.active.unwrap_or(0), want_active, "{name}: active");
        assert_eq!(r.status.succeeded.unwrap_or(0), want_succeeded, "{name}: succeeded");
        assert_eq!(r.status.failed.unwrap_or(0), want_failed, "{name}: failed");
        assert_eq!(conditions(&r.status), owned(want_conditions), "{name}: conditions");
        if want_conditions.last().is_some_and(|c| c.0 == "Failed") {
            assert!(r.finished, "{name}");
            assert_eq!(r.events, [Event::warning(want_conditions[1].2, want_conditions[1].3)], "{name}: events");
        }
    }
    // Not past the deadline: synced again when it passes.
    let mut j = job(1, 1, 6, "");
    edit(&mut j, |v| {
        v["spec"]["activeDeadlineSeconds"] = json!(30);
        v["status"] = json!({"startTime": (now() - SignedDuration::from_secs(10)).to_string()});
    });
    let r = run(&j, &pods_with_statuses(0, 1, 0, 0, 0, 0));
    assert_eq!(r.requeue_after, Some(Duration::from_secs(20)));
    assert!(conditions(&r.status).is_empty());
}

#[test]
fn terminal_condition_waits_for_terminating_pods() {
    // The FailureTarget sync deleted a pod; the next sync, with the pod
    // terminating and then gone, adds Failed only once nothing terminates.
    let mut j = job(1, 1, 6, "");
    edit(&mut j, |v| {
        v["status"] = json!({"startTime": now().to_string(), "failed": 1, "terminating": 1, "active": 0, "ready": 0, "uncountedTerminatedPods": {},
            "conditions": [{"type": "FailureTarget", "status": "True", "reason": "DeadlineExceeded", "message": "Job was active longer than specified deadline"}]});
    });
    let terminating = [P::new("pod-1", "Running").deleting().no_finalizer().pod()];
    let r = run(&j, &terminating);
    assert_eq!(conditions(&r.status).len(), 1, "still terminating");
    assert!(!r.finished);
    let r = run(&j, &[]);
    assert_eq!(conditions(&r.status).last().map(|c| c.0.as_str()), Some("Failed"));
    assert_eq!(r.status.failed, Some(1));
    assert!(r.finished);
}

#[test]
fn track_job_status_and_remove_finalizers() {
    // Upstream TestTrackJobStatusAndRemoveFinalizers: the uncounted lists
    // and counters of each status write, and the finalizers removed. The
    // Job's expectations are unsatisfied so that no pod is created or
    // deleted (upstream's test calls the tracking alone).
    fn rows(job_status: Value, pods: Vec<Pod>, expected_rm: &[&str], want_rm: usize, want: &[Value], fail_calls: bool) -> (Run, usize) {
        let mut j = job(-1, -1, 6, "");
        edit(&mut j, |v| v["status"] = job_status);
        let expected: BTreeSet<String> = expected_rm.iter().map(|s| s.to_string()).collect();
        let r = run_full(&j, &pods, false, &expected, None, now(), fail_calls);
        let got: Vec<Value> = r
            .writes
            .iter()
            .map(|s| {
                let u = s.uncounted_terminated_pods.clone().unwrap_or_default();
                json!({"succeeded": s.succeeded.unwrap_or(0), "failed": s.failed.unwrap_or(0),
                       "uncounted": [u.succeeded.unwrap_or_default(), u.failed.unwrap_or_default()]})
            })
            .collect();
        assert_eq!(got, want, "status writes");
        assert_eq!(r.patches, want_rm, "finalizers removed");
        let n = r.writes.len();
        (r, n)
    }
    let w = |s: i32, f: i32, us: &[&str], uf: &[&str]| json!({"succeeded": s, "failed": f, "uncounted": [us, uf]});
    // track finished pods
    rows(
        json!({}),
        vec![
            P::new("a", "Succeeded").pod(),
            P::new("b", "Failed").pod(),
            P::new("c", "Succeeded").deleting().pod(),
            P::new("d", "Failed").deleting().pod(),
            P::new("e", "Pending").deleting().pod(),
            P::new("f", "Pending").pod(),
            P::new("g", "Running").pod(),
        ],
        &[],
        5,
        &[w(0, 0, &["a", "c"], &["b", "d", "e"]), w(2, 3, &[], &[])],
        false,
    );
    // past and new finished pods
    rows(
        json!({"active": 1, "succeeded": 2, "failed": 3, "uncountedTerminatedPods": {"succeeded": ["a", "e"], "failed": ["b", "f"]}}),
        vec![
            P::new("e", "Succeeded").no_finalizer().pod(),
            P::new("x", "Failed").no_finalizer().pod(),
            P::new("y", "Pending").no_finalizer().pod(),
            P::new("a", "Succeeded").pod(),
            P::new("b", "Failed").pod(),
            P::new("c", "Succeeded").pod(),
            P::new("d", "Failed").pod(),
        ],
        &[],
        4,
        &[w(3, 4, &["a", "c"], &["b", "d"]), w(5, 6, &[], &[])],
        false,
    );
    // expecting removed finalizers
    rows(
        json!({"succeeded": 2, "failed": 3, "uncountedTerminatedPods": {"succeeded": ["a", "g"], "failed": ["b", "h"]}}),
        ["a", "c", "e", "g"]
            .iter()
            .map(|n| P::new(n, "Succeeded").pod())
            .chain(["b", "d", "f", "h"].iter().map(|n| P::new(n, "Failed").pod()))
            .collect(),
        &["c", "d", "g", "h"],
        4,
        &[w(3, 4, &["a", "e"], &["b", "f"]), w(5, 6, &[], &[])],
        false,
    );
    // pod patch errors
    rows(json!({}), vec![P::new("a", "Succeeded").pod(), P::new("b", "Failed").pod()], &[], 2, &[w(0, 0, &["a"], &["b"])], true);
    // pod patch errors with partial success
    rows(
        json!({"uncountedTerminatedPods": {"succeeded": ["a"], "failed": ["b"]}}),
        vec![P::new("a", "Succeeded").no_finalizer().pod(), P::new("c", "Succeeded").pod(), P::new("d", "Failed").pod()],
        &[],
        2,
        &[w(1, 1, &["c"], &["d"])],
        true,
    );
}

#[test]
fn track_indexed_job_status() {
    // Upstream TestTrackJobStatusAndRemoveFinalizers, Indexed cases.
    let mut j = job(-1, 6, 6, "Indexed");
    edit(&mut j, |v| v["status"] = json!({"active": 1}));
    let pods = [
        P::new("p1", "Succeeded").index("1").pod(),
        P::new("p2", "Succeeded").index("3").pod(),
        P::new("p3", "Succeeded").index("3").pod(),
        P::new("p4", "Running").index("5").pod(),
        P::new("p5", "Succeeded").pod(),
    ];
    let r = run_full(&j, &pods, false, &BTreeSet::new(), None, now(), false);
    assert_eq!(r.writes.len(), 1, "succeeded indexes need no uncounted uids");
    assert_eq!((r.writes[0].succeeded, r.writes[0].completed_indexes.as_deref()), (Some(2), Some("1,3")));
    assert_eq!(r.writes[0].uncounted_terminated_pods, Some(UncountedTerminatedPods::default()));
    assert_eq!(r.patches, 4);
    // Previous successes outside the current completions are dropped.
    let mut j = job(2, 2, 6, "Indexed");
    edit(&mut j, |v| v["status"] = json!({"active": 2, "succeeded": 1, "completedIndexes": "3"}));
    let running = [P::new("p0", "Running").index("0").pod(), P::new("p1", "Running").index("1").pod()];
    let r = run_full(&j, &running, false, &BTreeSet::new(), None, now(), false);
    assert_eq!((r.status.succeeded, r.status.completed_indexes.as_deref(), r.patches), (Some(0), Some(""), 0));
    let one = [P::new("p0", "Running").index("0").pod(), P::new("p1", "Succeeded").index("1").pod()];
    let r = run_full(&j, &one, false, &BTreeSet::new(), None, now(), false);
    assert_eq!((r.status.succeeded, r.status.completed_indexes.as_deref(), r.patches), (Some(1), Some("1"), 1));
}

#[test]
fn restart_between_phases_counts_once() {
    // Sync 1 wrote phase 1 (uids uncounted) and crashed before removing the
    // finalizers: the next sync does not add the uids again and counts them
    // once their finalizers are gone, even when the pod was deleted.
    let mut j = job(1, 2, 6, "");
    edit(&mut j, |v| {
        v["status"] = json!({"startTime": now().to_string(), "active": 0, "ready": 0, "terminating": 0,
            "uncountedTerminatedPods": {"succeeded": ["a"], "failed": ["b"]}})
    });
    let pods = [P::new("a", "Succeeded").pod(), P::new("b", "Failed").pod()];
    let r = run(&j, &pods);
    assert_eq!(r.writes.len(), 2);
    assert_eq!(r.writes[0].uncounted_terminated_pods, Some(serde_json::from_value(json!({"succeeded": ["a"], "failed": ["b"]})).unwrap()));
    assert_eq!((r.status.succeeded, r.status.failed), (Some(1), Some(1)));
    // The pods are gone by then: counted from the uids alone.
    let r = run(&j, &[]);
    assert_eq!((r.status.succeeded, r.status.failed), (Some(1), Some(1)));
    assert_eq!(r.status.uncounted_terminated_pods, Some(UncountedTerminatedPods::default()));
    // Counted pods without the finalizer are never counted again.
    let mut counted = j.clone();
    edit(&mut counted, |v| {
        v["status"] = json!({"startTime": now().to_string(), "succeeded": 1, "failed": 1, "active": 1, "ready": 0, "terminating": 0})
    });
    let pods = [P::new("a", "Succeeded").no_finalizer().pod(), P::new("b", "Failed").no_finalizer().pod(), P::new("c", "Running").pod()];
    let r = run(&counted, &pods);
    assert!(r.writes.is_empty(), "nothing changed: {:?}", r.writes);
}

#[test]
fn uncounted_pods_are_capped() {
    let j = job(1, 600, 6, "");
    let pods: Vec<Pod> = (0..501).map(|n| P::new(&format!("p{n:03}"), "Succeeded").pod()).collect();
    let input = SyncInput {
        job: &j,
        pods: &pods,
        now: now(),
        expectations_satisfied: false,
        expected_finalizer_removals: &BTreeSet::new(),
        backoff: None,
    };
    let sync = Sync::start(input).unwrap();
    let tracking = sync.after_pod_actions(&PodActionsOutcome::default());
    let uncounted = tracking.status_update().unwrap().uncounted_terminated_pods.clone().unwrap();
    assert_eq!(uncounted.succeeded.unwrap().len(), MAX_UNCOUNTED_PODS);
    assert_eq!(tracking.finalizers_to_remove().len(), MAX_UNCOUNTED_PODS);
}

#[test]
fn too_many_succeeded_pods_event() {
    let r = run(&job(3, 2, 6, ""), &pods_with_statuses(0, 0, 0, 3, 0, 0));
    assert_eq!(r.status.succeeded, Some(3));
    assert_eq!(
        r.events,
        [
            Event::warning("TooManySucceededPods", "Too many succeeded pods running after completion count reached"),
            Event::normal("Completed", "Job completed"),
        ]
    );
    assert_eq!(r.status.completion_time, Some(Time(now())));
    assert!(r.finished);
}

#[test]
fn pod_failure_backoff_delays_recreation() {
    // A pod that failed now: 10 s before the replacement, active reported 0
    // meanwhile (as upstream's manageJob returns 0 while waiting).
    let j = job(1, 1, 6, "");
    let failed = [P::new("f", "Failed").finished_at(now()).pod()];
    let r = run(&j, &failed);
    assert!(r.created.is_empty());
    assert_eq!(r.requeue_after, Some(Duration::from_secs(10)));
    assert_eq!(r.backoff, Some(BackoffRecord { failures_after_last_success: 1, last_failure_time: Some(now()) }));
    assert_eq!(r.status.failed, Some(1));
    // Second failure in a row, 5 s ago: 20 s backoff, 15 s left.
    let stored = BackoffRecord { failures_after_last_success: 1, last_failure_time: Some(now() - SignedDuration::from_secs(60)) };
    let failed = [P::new("g", "Failed").finished_at(now() - SignedDuration::from_secs(5)).pod()];
    let r = run_full(&j, &failed, true, &BTreeSet::new(), Some(&stored), now(), false);
    assert_eq!(r.requeue_after, Some(Duration::from_secs(15)));
    assert_eq!(r.backoff.map(|b| b.failures_after_last_success), Some(2));
    let r = run_full(&j, &[], true, &BTreeSet::new(), Some(&stored), now() + SignedDuration::from_secs(60), false);
    assert_eq!(r.created.len(), 1);
}

#[test]
fn restart_policy_on_failure_counts_restarts() {
    // Upstream pastBackoffLimitOnFailure: restarts of running pods count.
    let mut j = job(2, 2, 2, "");
    edit(&mut j, |v| v["spec"]["template"]["spec"]["restartPolicy"] = json!("OnFailure"));
    let r = run(&j, &[P::new("a", "Running").restarts(1).pod(), P::new("b", "Running").restarts(0).pod()]);
    assert!(conditions(&r.status).is_empty());
    let r = run(&j, &[P::new("a", "Running").restarts(1).pod(), P::new("b", "Running").restarts(1).pod()]);
    assert_eq!(conditions(&r.status), owned(&[BLE_TARGET]));
    assert_eq!(r.deleted, 2);
    // backoffLimit 0: any restart fails the Job.
    edit(&mut j, |v| v["spec"]["backoffLimit"] = json!(0));
    let r = run(&j, &[P::new("a", "Running").restarts(1).pod()]);
    assert_eq!(conditions(&r.status), owned(&[BLE_TARGET]));
    // Without OnFailure restarts do not count.
    edit(&mut j, |v| v["spec"]["template"]["spec"]["restartPolicy"] = json!("Never"));
    assert!(conditions(&run(&j, &[P::new("a", "Running").restarts(5).pod()]).status).is_empty());
}

fn with_policy(j: &mut Job, rules: Value) {
    edit(j, |v| v["spec"]["podFailurePolicy"] = json!({ "rules": rules }));
}

#[test]
fn job_pod_failure_policy() {
    // Upstream TestJobPodFailurePolicy, main scenarios.
    let fail_job_rule = json!([
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}]},
        {"action": "FailJob", "onExitCodes": {"containerName": "main-container", "operator": "In", "values": [5, 6, 7]}},
    ]);
    // FailJob on an exit code: FailureTarget with the policy's message, the
    // running pod deleted, Failed once it is gone.
    let mut j = job(2, 2, 6, "");
    with_policy(&mut j, fail_job_rule.clone());
    let pods = [P::new("mypod-0", "Failed").exit_code("main-container", 5).pod(), P::new("mypod-1", "Running").pod()];
    let r = run(&j, &pods);
    let msg = "Container main-container for pod default/mypod-0 failed with exit code 5 matching FailJob rule at index 1";
    assert_eq!(conditions(&r.status), owned(&[("FailureTarget", "True", "PodFailurePolicy", msg)]));
    assert_eq!((r.deleted, r.status.failed, r.status.terminating), (1, Some(2), Some(1)));
    let mut next = j.clone();
    next.status = Some(r.status.clone());
    let r = run(&next, &[]);
    assert_eq!(
        conditions(&r.status),
        owned(&[("FailureTarget", "True", "PodFailurePolicy", msg), ("Failed", "True", "PodFailurePolicy", msg)])
    );
    assert_eq!(r.events, [Event::warning("PodFailurePolicy", msg)]);
    // An exit code outside the rule counts towards backoffLimit.
    let r = run(&j, &[P::new("mypod-0", "Failed").exit_code("main-container", 1).pod()]);
    assert!(conditions(&r.status).is_empty());
    assert_eq!((r.status.failed, r.created.len()), (Some(1), 2));
    // Ignore: the disrupted pod is replaced without counting.
    let mut j1 = job(1, 1, 0, "");
    with_policy(&mut j1, fail_job_rule);
    let r = run(&j1, &[P::new("mypod-0", "Failed").condition("DisruptionTarget", "True").pod()]);
    assert!(conditions(&r.status).is_empty());
    assert_eq!((r.status.failed.unwrap_or(0), r.created.len(), r.patches), (0, 1, 1));
    // Count: counted, and past backoffLimit 0 the Job fails.
    let mut j2 = job(1, 1, 0, "");
    with_policy(&mut j2, json!([{"action": "Count", "onExitCodes": {"operator": "In", "values": [42]}}]));
    let r = run(&j2, &[P::new("mypod-0", "Failed").exit_code("c", 42).pod()]);
    assert_eq!(conditions(&r.status), owned(&[BLE_TARGET, BLE_FAILED]));
    // With a pod failure policy, terminating pods are not failures yet and
    // are not replaced (podReplacementPolicy Failed).
    let r = run(&j2, &[P::new("mypod-0", "Running").deleting().pod()]);
    assert_eq!((r.status.failed.unwrap_or(0), r.created.len(), r.status.terminating), (0, 0, Some(1)));
}

#[test]
fn backoff_limit_per_index() {
    let mut j = job(2, 3, -1, "Indexed");
    edit(&mut j, |v| {
        v["spec"]["backoffLimitPerIndex"] = json!(1);
        v["spec"].as_object_mut().unwrap().remove("backoffLimit");
    });
    // First failure of index 0: the replacement carries failure count 1 and
    // the failed pod keeps its finalizer until then (delayed deletion).
    let pods = [P::new("a", "Failed").index("0").failure_count(0).pod(), P::new("b", "Running").index("1").failure_count(0).pod()];
    let r = run(&j, &pods);
    assert_eq!(r.created.len(), 1);
    let new = &r.created[0];
    assert_eq!(completion_index(new), Some(0));
    assert_eq!(new.metadata.annotations.as_ref().unwrap()["batch.kubernetes.io/job-index-failure-count"], "1");
    assert_eq!(r.patches, 0, "the failed pod waits for its replacement");
    assert_eq!((r.status.failed.unwrap_or(0), r.status.failed_indexes.as_deref()), (0, Some("")));
    // Once replaced, the failed pod is counted and released.
    let replaced = [pods[0].clone(), pods[1].clone(), P::new("c", "Running").index("0").failure_count(1).pod()];
    let r = run(&j, &replaced);
    assert_eq!((r.patches, r.status.failed), (1, Some(1)));
    // Second failure of index 0 (count 1 = backoffLimitPerIndex): the index fails.
    let pods = [
        P::new("c", "Failed").index("0").failure_count(1).pod(),
        P::new("b", "Running").index("1").failure_count(0).pod(),
        P::new("d", "Succeeded").index("2").pod(),
    ];
    let r = run(&j, &pods);
    assert_eq!(r.status.failed_indexes.as_deref(), Some("0"));
    assert_eq!(r.status.completed_indexes.as_deref(), Some("2"));
    assert!(r.created.is_empty(), "no replacement for a failed index");
    assert!(conditions(&r.status).is_empty());
    // All indexes done, one failed: FailedIndexes.
    let pods = [
        P::new("c", "Failed").index("0").failure_count(1).pod(),
        P::new("b", "Succeeded").index("1").pod(),
        P::new("d", "Succeeded").index("2").pod(),
    ];
    let r = run(&j, &pods);
    let failed_indexes: &[Cond] = &[
        ("FailureTarget", "True", "FailedIndexes", "Job has failed indexes"),
        ("Failed", "True", "FailedIndexes", "Job has failed indexes"),
    ];
    assert_eq!(conditions(&r.status), owned(failed_indexes));
    // maxFailedIndexes 0 exceeded by the first failed index.
    edit(&mut j, |v| v["spec"]["maxFailedIndexes"] = json!(0));
    let pods = [P::new("c", "Failed").index("0").failure_count(1).pod(), P::new("b", "Running").index("1").pod()];
    let r = run(&j, &pods);
    let msg = "Job has exceeded the specified maximal number of failed indexes";
    assert_eq!(conditions(&r.status), owned(&[("FailureTarget", "True", "MaxFailedIndexesExceeded", msg)]));
    assert_eq!(r.deleted, 1);
}

#[test]
fn per_index_backoff_delays_recreation() {
    let mut j = job(1, 1, -1, "Indexed");
    edit(&mut j, |v| {
        v["spec"]["backoffLimitPerIndex"] = json!(3);
        v["spec"].as_object_mut().unwrap().remove("backoffLimit");
    });
    // The failed pod had 1 previous failure: 2 failures so far, 20 s backoff.
    let pods = [P::new("a", "Failed").index("0").failure_count(1).finished_at(now() - SignedDuration::from_secs(5)).pod()];
    let r = run(&j, &pods);
    assert!(r.created.is_empty());
    assert_eq!(r.requeue_after, Some(Duration::from_secs(15)));
}

#[test]
fn success_policy_then_complete() {
    let mut j = job(3, 3, 6, "Indexed");
    edit(&mut j, |v| v["spec"]["successPolicy"] = json!({"rules": [{"succeededIndexes": "0"}]}));
    let pods =
        [P::new("a", "Succeeded").index("0").pod(), P::new("b", "Running").index("1").pod(), P::new("c", "Running").index("2").pod()];
    let r = run(&j, &pods);
    let scm: Cond = ("SuccessCriteriaMet", "True", "SuccessPolicy", "Matched rules at index 0");
    assert_eq!(conditions(&r.status), owned(&[scm]));
    assert_eq!((r.deleted, r.status.terminating, r.status.succeeded), (2, Some(2), Some(1)));
    assert!(!r.finished);
    // The lingering pods are gone: Complete, with the policy's reason.
    let mut next = j.clone();
    next.status = Some(r.status.clone());
    let r = run(&next, &[]);
    assert_eq!(conditions(&r.status), owned(&[scm, ("Complete", "True", "SuccessPolicy", "Matched rules at index 0")]));
    assert_eq!(r.events, [Event::normal("Completed", "Job completed")]);
    assert!(r.status.completion_time.is_some());
}

#[test]
fn skips() {
    let mut j = job(1, 1, 6, "");
    edit(&mut j, |v| v["spec"]["managedBy"] = json!("example.com/other"));
    let none = BTreeSet::new();
    let skip = |j: &Job| {
        let input =
            SyncInput { job: j, pods: &[], now: now(), expectations_satisfied: true, expected_finalizer_removals: &none, backoff: None };
        Sync::start(input).err()
    };
    assert_eq!(skip(&j), Some(Skip::ManagedByExternalController("example.com/other".into())));
    edit(&mut j, |v| v["spec"]["managedBy"] = json!("kubernetes.io/job-controller"));
    assert_eq!(skip(&j), None);
    edit(&mut j, |v| v["spec"]["completionMode"] = json!("Weird"));
    assert_eq!(
        skip(&j),
        Some(Skip::UnknownCompletionMode(Event::warning("UnknownCompletionMode", "Skipped Job sync because completion mode is unknown")))
    );
    edit(&mut j, |v| {
        v["spec"]["completionMode"] = json!("NonIndexed");
        v["status"] = json!({"conditions": [{"type": "Complete", "status": "True"}]});
    });
    assert_eq!(skip(&j), Some(Skip::Finished));
}

#[test]
fn malformed_objects_do_not_panic() {
    let mut j: Job = serde_json::from_value(json!({"metadata": {"name": "x"}})).unwrap();
    let _ = run_full(&j, &[Pod::default()], true, &BTreeSet::new(), None, now(), false);
    edit(&mut j, |v| {
        v["spec"] = json!({"completionMode": "Indexed", "template": {}, "backoffLimitPerIndex": 1, "successPolicy": {"rules": [{"succeededIndexes": "9-1,x"}]}});
        v["status"] = json!({"completedIndexes": "a-b,,7-3,-", "failedIndexes": "99999999999999999999999"});
    });
    let pods = [P::new("a", "Failed").index("0").pod(), P::new("b", "Succeeded").index("-7").pod(), Pod::default()];
    let _ = run_full(&j, &pods, true, &BTreeSet::new(), None, now(), false);
}
