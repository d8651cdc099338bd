//! The Job controller (with the scheduler, on simulated nodes), each
//! scenario of its issue a test. The simulated kubelet plays the pods: the
//! template's `sim.rudder.dev/exit-after` / `exit-code` annotations say how
//! long a container runs and how it exits (`.index-N` for one index of an
//! Indexed Job). Written against the public API and kubectl only.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use futures::StreamExt;
use k8s_openapi::api::batch::v1::{Job, JobCondition};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{EvictParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use rudder_e2e::{World, eventually};
use serde_json::{Value, json};

const CONTROLLERS: [&str; 2] = ["rudder-job-controller", "rudder-scheduler"];
const TRACKING_FINALIZER: &str = "batch.kubernetes.io/job-tracking";
const INDEX: &str = "batch.kubernetes.io/job-completion-index";

async fn world() -> World {
    World::start(&CONTROLLERS).await.expect("world")
}

/// A Job named `name` whose pods run the simulated scenario `annotations`;
/// `spec` is merged into its spec.
fn job(name: &str, spec: Value, annotations: Value) -> Job {
    let mut j = json!({
        "metadata": {"name": name},
        "spec": {"template": {"metadata": {"annotations": annotations},
                              "spec": {"restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
                                       "containers": [{"name": "c", "image": "busybox"}]}}}
    });
    json_merge(&mut j["spec"], &spec);
    serde_json::from_value(j).expect("a Job")
}

fn json_merge(base: &mut Value, extra: &Value) {
    if let (Some(b), Some(e)) = (base.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
}

fn condition(j: &Job, type_: &str) -> Option<JobCondition> {
    j.status.as_ref()?.conditions.as_ref()?.iter().find(|c| c.type_ == type_ && c.status == "True").cloned()
}

fn phase(p: &Pod) -> &str {
    p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or("Pending")
}

fn has_tracking_finalizer(p: &Pod) -> bool {
    p.metadata.finalizers.as_ref().is_some_and(|f| f.iter().any(|f| f == TRACKING_FINALIZER))
}

struct Ctx {
    client: kube::Client,
    kubeconfig: std::path::PathBuf,
    ns: String,
    jobs: Api<Job>,
    pods: Api<Pod>,
}

async fn setup(world: &World) -> Ctx {
    let ns = world.namespace().await.expect("namespace");
    let c = world.client.clone();
    Ctx {
        jobs: Api::namespaced(c.clone(), &ns),
        pods: Api::namespaced(c.clone(), &ns),
        client: c,
        kubeconfig: world.kubeconfig.clone(),
        ns,
    }
}

impl Ctx {
    async fn create(&self, j: &Job) {
        self.jobs.create(&PostParams::default(), j).await.expect("created");
    }

    async fn kubectl(&self, args: &[&str]) -> (std::process::ExitStatus, String) {
        rudder_e2e::kubectl_in(&self.kubeconfig, &self.ns, args).await
    }

    async fn kubectl_ok(&self, args: &[&str]) -> String {
        rudder_e2e::kubectl_in_ok(&self.kubeconfig, &self.ns, args).await
    }

    /// The Job's pods, every phase (its generated selector's label).
    async fn pods_of(&self, name: &str) -> Vec<Pod> {
        let lp = ListParams::default().labels(&format!("batch.kubernetes.io/job-name={name}"));
        self.pods.list(&lp).await.expect("list").items
    }

    /// Waits until the Job has the condition `type_` (True); returns it.
    async fn finished(&self, name: &str, type_: &str, secs: u64) -> Job {
        eventually(secs, &format!("job {name} {type_}"), || async {
            let j = self.jobs.get(name).await.ok()?;
            condition(&j, type_).map(|_| j)
        })
        .await
    }

    /// The (reason, note) of every event about the Job `name`.
    async fn events(&self, name: &str) -> Vec<(String, String)> {
        let events: Api<k8s_openapi::api::events::v1::Event> = Api::namespaced(self.client.clone(), &self.ns);
        let list = events.list(&ListParams::default()).await.expect("events");
        list.items
            .into_iter()
            .filter(|e| e.regarding.as_ref().is_some_and(|r| r.kind.as_deref() == Some("Job") && r.name.as_deref() == Some(name)))
            .map(|e| (e.reason.unwrap_or_default(), e.note.unwrap_or_default()))
            .collect()
    }

    /// Waits until an event with `reason` about the Job exists; returns its note.
    async fn event(&self, name: &str, reason: &str) -> String {
        eventually(30, &format!("a {reason} event about {name}"), || async {
            self.events(name).await.into_iter().find(|(r, _)| r == reason).map(|(_, n)| n)
        })
        .await
    }

    /// Once a Job finished: nothing left uncounted, no pod holds the
    /// tracking finalizer, no pod active.
    async fn settled(&self, name: &str) {
        eventually(60, &format!("job {name}'s pods all counted and released"), || async {
            let j = self.jobs.get(name).await.ok()?;
            let st = j.status.as_ref()?;
            let uncounted = st
                .uncounted_terminated_pods
                .as_ref()
                .is_some_and(|u| u.succeeded.as_ref().is_some_and(|s| !s.is_empty()) || u.failed.as_ref().is_some_and(|f| !f.is_empty()));
            let pods = self.pods_of(name).await;
            (!uncounted && st.active.unwrap_or(0) == 0 && pods.iter().all(|p| !has_tracking_finalizer(p))).then_some(())
        })
        .await;
    }
}

/// Follows the Job's pods with a watch; the most pods active at once (not
/// finished, not being deleted).
struct ActiveSampler {
    max: Arc<Mutex<usize>>,
    task: tokio::task::JoinHandle<()>,
}

impl ActiveSampler {
    fn start(t: &Ctx, name: &str) -> ActiveSampler {
        let max: Arc<Mutex<usize>> = Arc::default();
        let m = max.clone();
        let mut active = BTreeSet::new();
        let cfg = watcher::Config::default().labels(&format!("batch.kubernetes.io/job-name={name}"));
        let task = tokio::spawn(watcher(t.pods.clone(), cfg).for_each(move |e| {
            match e {
                Ok(watcher::Event::Apply(p) | watcher::Event::InitApply(p)) => {
                    let uid = p.metadata.uid.clone().unwrap_or_default();
                    if matches!(phase(&p), "Succeeded" | "Failed") || p.metadata.deletion_timestamp.is_some() {
                        active.remove(&uid);
                    } else {
                        active.insert(uid);
                    }
                }
                Ok(watcher::Event::Delete(p)) => {
                    active.remove(&p.metadata.uid.unwrap_or_default());
                }
                _ => {}
            }
            let mut m = m.lock().unwrap();
            *m = (*m).max(active.len());
            futures::future::ready(())
        }));
        ActiveSampler { max, task }
    }

    fn finish(self) -> usize {
        self.task.abort();
        *self.max.lock().unwrap()
    }
}

#[tokio::test]
async fn ten_completions_at_parallelism_3_never_run_more_than_3_pods() {
    let world = world().await;
    let t = setup(&world).await;
    let sampler = ActiveSampler::start(&t, "work");
    t.create(&job("work", json!({"completions": 10, "parallelism": 3}), json!({"sim.rudder.dev/exit-after": "1s"}))).await;
    let j = t.finished("work", "Complete", 120).await;
    t.settled("work").await;
    let max = sampler.finish();
    assert!((1..=3).contains(&max), "at most 3 pods active at once, saw {max}");
    let st = j.status.clone().unwrap();
    assert_eq!((st.succeeded, st.failed.unwrap_or(0)), (Some(10), 0));
    assert!(st.start_time.is_some() && st.completion_time.is_some());
    let done = condition(&j, "Complete").unwrap();
    assert_eq!(
        (done.reason.as_deref(), done.message.as_deref()),
        (Some("CompletionsReached"), Some("Reached expected number of succeeded pods"))
    );
    assert!(condition(&j, "SuccessCriteriaMet").is_some(), "SuccessCriteriaMet comes with Complete");
    let pods = t.pods_of("work").await;
    assert_eq!(pods.iter().filter(|p| phase(p) == "Succeeded").count(), 10);
    assert!(pods.iter().all(|p| p.metadata.generate_name.as_deref() == Some("work-")));
    assert_eq!(t.event("work", "Completed").await, "Job completed");
    assert!(t.events("work").await.iter().any(|(r, n)| r == "SuccessfulCreate" && n.starts_with("Created pod: work-")));
    if !world.external() {
        // Upstream's job_controller_* metrics, as this controller counted them.
        let metrics = world.metrics("rudder-job-controller").await.expect("metrics");
        for line in [
            r#"job_controller_jobs_finished_total{completion_mode="NonIndexed",result="succeeded",reason="CompletionsReached"} 1"#,
            r#"job_controller_job_pods_finished_total{completion_mode="NonIndexed",result="succeeded"} 10"#,
            r#"job_controller_job_pods_creation_total{reason="new",status="succeeded"} "#,
            r#"job_controller_job_syncs_total{completion_mode="NonIndexed",result="success",action="pods_created"} "#,
            r#"job_controller_terminated_pods_tracking_finalizer_total{event="add"} "#,
            r#"job_controller_job_sync_duration_seconds_bucket{le="0.004",completion_mode="NonIndexed",result="success",action="tracking"} "#,
        ] {
            assert!(metrics.contains(line), "{line} missing:\n{metrics}");
        }
    }
}

#[tokio::test]
async fn an_indexed_job_completes_every_index_once() {
    let world = world().await;
    let t = setup(&world).await;
    let spec = json!({"completions": 5, "parallelism": 2, "completionMode": "Indexed"});
    t.create(&job("idx", spec, json!({"sim.rudder.dev/exit-after": "1s"}))).await;
    let j = t.finished("idx", "Complete", 120).await;
    t.settled("idx").await;
    let st = j.status.clone().unwrap();
    assert_eq!((st.succeeded, st.completed_indexes.as_deref()), (Some(5), Some("0-4")));
    let pods = t.pods_of("idx").await;
    let mut by_index: BTreeMap<String, usize> = BTreeMap::new();
    for p in pods.iter().filter(|p| phase(p) == "Succeeded") {
        let i = p.metadata.annotations.as_ref().and_then(|a| a.get(INDEX)).cloned().expect("index annotation");
        assert_eq!(p.metadata.labels.as_ref().and_then(|l| l.get(INDEX)), Some(&i), "index label");
        assert_eq!(p.metadata.generate_name.as_deref(), Some(format!("idx-{i}-").as_str()));
        let spec = p.spec.as_ref().unwrap();
        assert_eq!(spec.hostname.as_deref(), Some(format!("idx-{i}").as_str()));
        let env = spec.containers[0].env.as_ref().and_then(|e| e.iter().find(|e| e.name == "JOB_COMPLETION_INDEX")).expect("env");
        let field = env.value_from.as_ref().and_then(|v| v.field_ref.as_ref()).map(|f| f.field_path.as_str());
        assert_eq!(field, Some("metadata.labels['batch.kubernetes.io/job-completion-index']"));
        *by_index.entry(i).or_default() += 1;
    }
    let expected: BTreeMap<String, usize> = (0..5).map(|i| (i.to_string(), 1)).collect();
    assert_eq!(by_index, expected, "every index succeeded exactly once");
}

#[tokio::test]
async fn backoff_limit_2_fails_the_job_after_3_failures() {
    let world = world().await;
    let t = setup(&world).await;
    let ann = json!({"sim.rudder.dev/exit-after": "1s", "sim.rudder.dev/exit-code": "1"});
    t.create(&job("flaky", json!({"backoffLimit": 2}), ann)).await;
    // Pods are re-created 10 s, then 20 s after a failure.
    let j = t.finished("flaky", "Failed", 180).await;
    t.settled("flaky").await;
    let failed = condition(&j, "Failed").unwrap();
    assert_eq!(
        (failed.reason.as_deref(), failed.message.as_deref()),
        (Some("BackoffLimitExceeded"), Some("Job has reached the specified backoff limit"))
    );
    assert!(condition(&j, "FailureTarget").is_some(), "FailureTarget comes first");
    let j = t.jobs.get("flaky").await.unwrap();
    assert_eq!(j.status.as_ref().and_then(|s| s.failed), Some(3));
    let mut pods = t.pods_of("flaky").await;
    assert_eq!(pods.len(), 3, "no pod after the third failure");
    assert!(pods.iter().all(|p| phase(p) == "Failed"));
    // Each new pod waited for the back-off after the previous failure.
    pods.sort_by_key(|p| p.metadata.creation_timestamp.clone().map(|t| t.0));
    for (prev, next, backoff) in [(&pods[0], &pods[1], 10), (&pods[1], &pods[2], 20)] {
        let finished =
            prev.status.as_ref().and_then(|s| s.container_statuses.as_ref()).and_then(|c| c[0].state.clone()?.terminated?.finished_at);
        let created = next.metadata.creation_timestamp.clone().unwrap();
        let waited = created.0.duration_since(finished.expect("finished").0).as_secs();
        assert!(waited >= backoff - 1, "created {waited} s after the previous failure, back-off {backoff} s");
    }
    assert_eq!(t.event("flaky", "BackoffLimitExceeded").await, "Job has reached the specified backoff limit");
}

#[tokio::test]
async fn a_fail_job_rule_on_exit_code_42_fails_the_job_at_once() {
    let world = world().await;
    let t = setup(&world).await;
    let spec = json!({"backoffLimit": 6, "podFailurePolicy": {"rules": [
        {"action": "FailJob", "onExitCodes": {"containerName": "c", "operator": "In", "values": [42]}}]}});
    t.create(&job("answer", spec, json!({"sim.rudder.dev/exit-after": "1s", "sim.rudder.dev/exit-code": "42"}))).await;
    let j = t.finished("answer", "Failed", 60).await;
    t.settled("answer").await;
    let pods = t.pods_of("answer").await;
    assert_eq!(pods.len(), 1, "no retry after a FailJob rule matched");
    let pod = pods[0].metadata.name.clone().unwrap();
    let failed = condition(&j, "Failed").unwrap();
    assert_eq!(failed.reason.as_deref(), Some("PodFailurePolicy"));
    assert_eq!(
        failed.message.as_deref(),
        Some(format!("Container c for pod {}/{pod} failed with exit code 42 matching FailJob rule at index 0", t.ns).as_str())
    );
    assert_eq!(t.jobs.get("answer").await.unwrap().status.and_then(|s| s.failed), Some(1));
    t.event("answer", "PodFailurePolicy").await;
    if !world.external() {
        let metrics = world.metrics("rudder-job-controller").await.expect("metrics");
        for line in [
            r#"job_controller_pod_failures_handled_by_failure_policy_total{action="FailJob"} 1"#,
            r#"job_controller_jobs_finished_total{completion_mode="NonIndexed",result="failed",reason="PodFailurePolicy"} 1"#,
        ] {
            assert!(metrics.contains(line), "{line} missing:\n{metrics}");
        }
    }
}

#[tokio::test]
async fn on_failure_restarts_count_towards_the_backoff_limit() {
    let world = world().await;
    let t = setup(&world).await;
    // The container fails after a second and the kubelet restarts it in
    // place (after 1 s, then 2 s): each restart counts as a failure.
    let most_restarts: Arc<Mutex<i32>> = Arc::default();
    let m = most_restarts.clone();
    let cfg = watcher::Config::default().labels("batch.kubernetes.io/job-name=restarts");
    let watch = tokio::spawn(watcher(t.pods.clone(), cfg).for_each(move |e| {
        if let Ok(watcher::Event::Apply(p) | watcher::Event::InitApply(p)) = e {
            let restarts = p.status.and_then(|s| s.container_statuses).map_or(0, |c| c[0].restart_count);
            let mut m = m.lock().unwrap();
            *m = (*m).max(restarts);
        }
        futures::future::ready(())
    }));
    let ann = json!({"sim.rudder.dev/exit-after": "1s", "sim.rudder.dev/exit-code": "1", "sim.rudder.dev/restart-backoff": "1s"});
    let mut j = job("restarts", json!({"backoffLimit": 2}), ann);
    j.spec.as_mut().unwrap().template.spec.as_mut().unwrap().restart_policy = Some("OnFailure".into());
    t.create(&j).await;
    let j = t.finished("restarts", "Failed", 60).await;
    watch.abort();
    let failed = condition(&j, "Failed").unwrap();
    assert_eq!(failed.reason.as_deref(), Some("BackoffLimitExceeded"));
    let most = *most_restarts.lock().unwrap();
    assert!(most >= 2, "failed once the restarts reached the limit, saw {most}");
    t.settled("restarts").await;
    let events = t.events("restarts").await;
    assert_eq!(events.iter().filter(|(r, _)| r == "SuccessfulCreate").count(), 1, "restarted in place, never replaced: {events:?}");
}

#[tokio::test]
async fn pod_replacement_policy_failed_waits_for_the_terminating_pod() {
    let world = world().await;
    let t = setup(&world).await;
    // A deleted pod ignores SIGTERM and is killed when its 20 s grace
    // period ends, at its deletionTimestamp. Its failure counts from the
    // deletion (TerminatingOrFailed, the default) or from the kill
    // (Failed), and the replacement comes 10 s later (the pod failure
    // back-off): while the old pod still terminates, or only after.
    let policies = [("eager", "TerminatingOrFailed"), ("patient", "Failed")];
    let mut killed_at = Vec::new();
    for (name, policy) in policies {
        let ann = json!({"sim.rudder.dev/exit-after": "never", "sim.rudder.dev/termination-delay": "1m"});
        let mut j = job(name, json!({"podReplacementPolicy": policy}), ann);
        j.spec.as_mut().unwrap().template.spec.as_mut().unwrap().termination_grace_period_seconds = Some(20);
        t.create(&j).await;
    }
    for (name, _) in policies {
        let first = eventually(30, "a pod running", || async {
            t.pods_of(name).await.into_iter().find(|p| phase(p) == "Running").and_then(|p| p.metadata.name)
        })
        .await;
        t.pods.delete(&first, &Default::default()).await.expect("deleted");
        let at = t.pods.get(&first).await.expect("terminating").metadata.deletion_timestamp.expect("deleting").0;
        killed_at.push((first, at));
    }
    for ((name, policy), (first, killed_at)) in policies.into_iter().zip(killed_at) {
        let replacement = eventually(60, "a replacement running", || async {
            let pods = t.pods_of(name).await;
            pods.into_iter().find(|p| p.metadata.name.as_deref() != Some(first.as_str()) && phase(p) == "Running")
        })
        .await;
        let created = replacement.metadata.creation_timestamp.unwrap().0;
        if policy == "Failed" {
            assert!(created >= killed_at, "{policy}: replaced at {created}, before the old pod failed at {killed_at}");
        } else {
            assert!(created < killed_at, "{policy}: replaced at {created}, not while the old pod terminated (until {killed_at})");
        }
        eventually(30, &format!("{policy}: the deleted pod counted as failed"), || async {
            (t.jobs.get(name).await.ok()?.status?.failed == Some(1)).then_some(())
        })
        .await;
    }
}

#[tokio::test]
async fn an_ignore_rule_on_disruption_target_does_not_count_the_evicted_pod() {
    let world = world().await;
    let t = setup(&world).await;
    // backoffLimit 0: one counted failure would fail the Job. The pods run
    // 15 s; the evicted one ignores SIGTERM and is killed after its 1 s grace
    // period (exit 137, phase Failed).
    let spec = json!({"backoffLimit": 0, "podFailurePolicy": {"rules": [
        {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}]}});
    let ann = json!({"sim.rudder.dev/exit-after": "15s", "sim.rudder.dev/termination-delay": "1m"});
    t.create(&job("calm", spec, ann)).await;
    let first = eventually(30, "the first pod running", || async {
        t.pods_of("calm").await.into_iter().find(|p| phase(p) == "Running").and_then(|p| p.metadata.name)
    })
    .await;
    t.pods.evict(&first, &EvictParams::default()).await.expect("evicted");
    let j = t.finished("calm", "Complete", 90).await;
    t.settled("calm").await;
    let st = j.status.clone().unwrap();
    assert_eq!((st.succeeded, st.failed.unwrap_or(0)), (Some(1), 0), "the disrupted pod is not counted");
    assert!(condition(&j, "Failed").is_none());
    let pods = t.pods_of("calm").await;
    let evicted: Vec<&Pod> = pods.iter().filter(|p| p.metadata.name.as_deref() == Some(first.as_str())).collect();
    // The evicted pod is gone once its finalizer is removed (the kubelet's final delete), or still there Failed.
    assert!(evicted.iter().all(|p| phase(p) == "Failed"), "{evicted:?}");
    assert_eq!(pods.iter().filter(|p| phase(p) == "Succeeded").count(), 1);
}

#[tokio::test]
async fn backoff_limit_per_index_fails_only_the_bad_index() {
    let world = world().await;
    let t = setup(&world).await;
    let spec = json!({"completions": 3, "parallelism": 3, "completionMode": "Indexed", "backoffLimitPerIndex": 1});
    let ann = json!({"sim.rudder.dev/exit-after": "1s", "sim.rudder.dev/exit-code.index-1": "3"});
    t.create(&job("per-index", spec, ann)).await;
    t.finished("per-index", "Failed", 120).await;
    t.settled("per-index").await;
    let j = t.jobs.get("per-index").await.unwrap();
    let st = j.status.clone().unwrap();
    assert_eq!(st.failed_indexes.as_deref(), Some("1"));
    assert_eq!(st.completed_indexes.as_deref(), Some("0,2"), "the other indexes ran to success");
    assert_eq!((st.succeeded, st.failed), (Some(2), Some(2)), "index 1 failed twice: its try and one retry");
    let failed = condition(&j, "Failed").unwrap();
    assert_eq!((failed.reason.as_deref(), failed.message.as_deref()), (Some("FailedIndexes"), Some("Job has failed indexes")));
    let pods = t.pods_of("per-index").await;
    let of_index =
        |i: &str| pods.iter().filter(|p| p.metadata.annotations.as_ref().and_then(|a| a.get(INDEX)).map(String::as_str) == Some(i)).count();
    assert_eq!((of_index("0"), of_index("1"), of_index("2")), (1, 2, 1));
}

#[tokio::test]
async fn active_deadline_seconds_fails_a_job_still_running() {
    let world = world().await;
    let t = setup(&world).await;
    // The pods run until killed (they ignore SIGTERM: killed after their 1 s grace period).
    let spec = json!({"parallelism": 2, "completions": 2, "activeDeadlineSeconds": 3});
    t.create(&job("slow", spec, json!({"sim.rudder.dev/exit-after": "never", "sim.rudder.dev/termination-delay": "1m"}))).await;
    let j = t.finished("slow", "Failed", 60).await;
    let failed = condition(&j, "Failed").unwrap();
    assert_eq!(
        (failed.reason.as_deref(), failed.message.as_deref()),
        (Some("DeadlineExceeded"), Some("Job was active longer than specified deadline"))
    );
    t.settled("slow").await;
    let pods = t.pods_of("slow").await;
    assert!(pods.iter().all(|p| p.metadata.deletion_timestamp.is_some() || matches!(phase(p), "Failed")), "running pods deleted");
    assert_eq!(t.jobs.get("slow").await.unwrap().status.and_then(|s| s.succeeded).unwrap_or(0), 0);
    assert_eq!(t.event("slow", "DeadlineExceeded").await, "Job was active longer than specified deadline");
}

#[tokio::test]
async fn suspend_and_resume() {
    let world = world().await;
    let t = setup(&world).await;
    let suspend = |on: bool| json!({"spec": {"suspend": on}});
    let spec = json!({"completions": 2, "parallelism": 2, "suspend": true});
    t.create(&job("paused", spec, json!({"sim.rudder.dev/exit-after": "20s"}))).await;
    let j = t.finished("paused", "Suspended", 30).await;
    let c = condition(&j, "Suspended").unwrap();
    assert_eq!((c.reason.as_deref(), c.message.as_deref()), (Some("JobSuspended"), Some("Job suspended")));
    assert!(j.status.as_ref().unwrap().start_time.is_none(), "a Job created suspended has not started");
    assert!(t.pods_of("paused").await.is_empty());

    // Resumed: pods run, startTime set.
    t.jobs.patch("paused", &PatchParams::default(), &Patch::Merge(suspend(false))).await.unwrap();
    eventually(30, "two pods running", || async {
        let pods = t.pods_of("paused").await;
        (pods.iter().filter(|p| phase(p) == "Running").count() == 2).then_some(())
    })
    .await;
    let j = t.jobs.get("paused").await.unwrap();
    let resumed = j.status.as_ref().unwrap().conditions.as_ref().unwrap().iter().find(|c| c.type_ == "Suspended").cloned().unwrap();
    assert_eq!((resumed.status.as_str(), resumed.reason.as_deref()), ("False", Some("JobResumed")));
    assert!(j.status.as_ref().unwrap().start_time.is_some());

    // Suspended while running: the active pods are deleted.
    t.jobs.patch("paused", &PatchParams::default(), &Patch::Merge(suspend(true))).await.unwrap();
    eventually(30, "the active pods deleted", || async {
        let j = t.jobs.get("paused").await.ok()?;
        let pods = t.pods_of("paused").await;
        let active = pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none() && !matches!(phase(p), "Succeeded" | "Failed")).count();
        (condition(&j, "Suspended").is_some() && j.status?.active.unwrap_or(0) == 0 && active == 0).then_some(())
    })
    .await;
    let suspended_at = condition(&t.jobs.get("paused").await.unwrap(), "Suspended").unwrap().last_transition_time.unwrap();

    // Resumed again: startTime starts over, and the Job completes.
    t.jobs.patch("paused", &PatchParams::default(), &Patch::Merge(suspend(false))).await.unwrap();
    let j = t.finished("paused", "Complete", 90).await;
    let st = j.status.clone().unwrap();
    assert!(st.start_time.unwrap().0 >= suspended_at.0, "startTime reset on resumption");
    assert_eq!(st.succeeded, Some(2));
    let reasons: Vec<String> = t.events("paused").await.into_iter().map(|(r, _)| r).collect();
    assert!(reasons.contains(&"Suspended".to_string()) && reasons.contains(&"Resumed".to_string()), "{reasons:?}");
    assert!(reasons.contains(&"SuccessfulDelete".to_string()), "{reasons:?}");
}

#[tokio::test]
async fn a_success_policy_ends_the_job_early() {
    let world = world().await;
    let t = setup(&world).await;
    // Index 0 succeeds after a second; the others would run forever, and
    // ignore SIGTERM when deleted (killed after the grace period, as a
    // `sleep` running as PID 1 is): they must not succeed.
    let spec = json!({"completions": 4, "parallelism": 4, "completionMode": "Indexed",
                      "successPolicy": {"rules": [{"succeededIndexes": "0"}]}});
    let ann = json!({"sim.rudder.dev/exit-after": "never", "sim.rudder.dev/exit-after.index-0": "1s",
                     "sim.rudder.dev/termination-delay": "1m"});
    t.create(&job("early", spec, ann)).await;
    let j = t.finished("early", "Complete", 60).await;
    t.settled("early").await;
    for type_ in ["SuccessCriteriaMet", "Complete"] {
        let c = condition(&j, type_).unwrap();
        assert_eq!((c.reason.as_deref(), c.message.as_deref()), (Some("SuccessPolicy"), Some("Matched rules at index 0")), "{type_}");
    }
    let st = j.status.clone().unwrap();
    assert_eq!((st.succeeded, st.completed_indexes.as_deref()), (Some(1), Some("0")));
    // The three pods still running were deleted (and are gone, or going), uncounted.
    assert_eq!(st.failed.unwrap_or(0), 0);
    let pods = t.pods_of("early").await;
    assert!(pods.iter().filter(|p| phase(p) != "Succeeded").all(|p| p.metadata.deletion_timestamp.is_some()), "{pods:?}");
    assert_eq!(pods.iter().filter(|p| phase(p) == "Succeeded").count(), 1);
    eventually(30, "three SuccessfulDelete events", || async {
        let deleted =
            t.events("early").await.into_iter().filter(|(r, n)| r == "SuccessfulDelete" && n.starts_with("Deleted pod: early-")).count();
        (deleted == 3).then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_controller_killed_mid_run_never_double_counts() {
    let mut world = world().await;
    let t = setup(&world).await;
    t.create(&job("batch", json!({"completions": 30, "parallelism": 6}), json!({"sim.rudder.dev/exit-after": "1s"}))).await;
    eventually(60, "some pods counted", || async {
        let j = t.jobs.get("batch").await.ok()?;
        (j.status?.succeeded.unwrap_or(0) >= 5).then_some(())
    })
    .await;
    world.restart("rudder-job-controller").await.expect("restarted");
    t.finished("batch", "Complete", 120).await;
    t.settled("batch").await;
    let j = t.jobs.get("batch").await.unwrap();
    let pods = t.pods_of("batch").await;
    let succeeded = pods.iter().filter(|p| phase(p) == "Succeeded").count();
    assert_eq!(j.status.as_ref().and_then(|s| s.succeeded), Some(succeeded as i32), "succeeded equals the pods that succeeded");
    assert_eq!(succeeded, 30, "no extra pod ran");
    assert_eq!(j.status.as_ref().and_then(|s| s.failed).unwrap_or(0), 0);
}

#[tokio::test]
async fn kubectl_create_job_and_wait_for_complete() {
    let world = world().await;
    let t = setup(&world).await;
    t.kubectl_ok(&["create", "job", "hello", "--image=busybox"]).await;
    t.kubectl_ok(&["wait", "--for=condition=complete", "job/hello", "--timeout=60s"]).await;
    let out = t.kubectl_ok(&["get", "job", "hello"]).await;
    let row: Vec<&str> = out.lines().nth(1).unwrap_or_default().split_whitespace().collect();
    assert_eq!(&row[..3], ["hello", "Complete", "1/1"], "{out}");
    // DURATION: start to completion, as HumanDuration prints it.
    assert!(row[3].ends_with('s') && row[3].trim_end_matches('s').parse::<u32>().is_ok(), "{out}");
    let describe = t.kubectl_ok(&["describe", "job", "hello"]).await;
    assert!(describe.contains("SuccessfulCreate") && describe.contains("Completed"), "{describe}");

    // A Job made from a CronJob's template by hand.
    t.kubectl_ok(&["create", "cronjob", "nightly", "--image=busybox", "--schedule=0 3 * * *"]).await;
    t.kubectl_ok(&["create", "job", "manual", "--from=cronjob/nightly"]).await;
    t.kubectl_ok(&["wait", "--for=condition=complete", "job/manual", "--timeout=60s"]).await;
    let j = t.jobs.get("manual").await.unwrap();
    let owner = j.metadata.owner_references.unwrap_or_default();
    assert_eq!(owner.first().map(|o| (o.kind.as_str(), o.name.as_str())), Some(("CronJob", "nightly")));
    assert_eq!(j.metadata.annotations.unwrap_or_default().get("cronjob.kubernetes.io/instantiate").map(String::as_str), Some("manual"));

    // A failing Job: `wait --for=condition=failed` succeeds, `complete` gives up.
    let ann = json!({"sim.rudder.dev/exit-after": "1s", "sim.rudder.dev/exit-code": "2"});
    t.create(&job("doomed", json!({"backoffLimit": 0}), ann)).await;
    t.kubectl_ok(&["wait", "--for=condition=failed", "job/doomed", "--timeout=60s"]).await;
    let (status, out) = t.kubectl(&["wait", "--for=condition=complete", "job/doomed", "--timeout=2s"]).await;
    assert!(!status.success(), "{out}");
}
