//! The scheduler's I/O: watches feed the cache and the queue; one loop
//! pops pods and runs a cycle each; bindings are written in the background
//! (the pod is assumed on its node meanwhile); failures update the pod's
//! PodScheduled condition and publish a FailedScheduling event, as
//! kube-scheduler does.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::apps::v1::{ReplicaSet, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, Node, Pod, ReplicationController, Service};
use k8s_openapi::api::resource::v1::{DeviceClass, ResourceClaim, ResourceClaimConsumerReference};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use rudder_common::events::{EventType, Recorder, object_reference};
use rudder_common::runtime::{Context, chain};
use rudder_common::selector::Selector;
use serde_json::json;
use tokio::sync::Notify;
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use crate::cache::Cache;
use crate::framework::{PodInfo, WorkloadSelector};
use crate::metrics::Metrics;
use crate::plugins::dynamic_resources;
use crate::post_filter;
use crate::preemption::Pdb;
use crate::queue::{Queue, QueuedPod, Where};
use crate::schedule::{Outcome, Profile, Timings, schedule_pod_timed};

/// Where the scheduler's pods and nodes are.
pub struct State {
    pub queue: Queue,
    pub cache: Cache,
}

struct Shared {
    state: Mutex<State>,
    wake: Notify,
    profiles: HashMap<String, Profile>,
    recorders: HashMap<String, Recorder>,
    metrics: Metrics,
    client: kube::Client,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock is a bug; keep going with the data.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn responsible(&self, pod: &Pod) -> bool {
        let name = pod.spec.as_ref().and_then(|s| s.scheduler_name.as_deref()).unwrap_or("default-scheduler");
        self.profiles.contains_key(name)
    }
}

fn uid(pod: &Pod) -> String {
    pod.metadata.uid.clone().unwrap_or_default()
}

fn bound(pod: &Pod) -> bool {
    pod.spec.as_ref().and_then(|s| s.node_name.as_deref()).is_some_and(|n| !n.is_empty())
}

fn finished(pod: &Pod) -> bool {
    matches!(pod.status.as_ref().and_then(|s| s.phase.as_deref()), Some("Succeeded" | "Failed"))
}

/// How many watches must list once before the scheduler reports synced.
const WATCHES: usize = 10;

/// Plugins whose rejections a change of pods on nodes may lift.
const POD_SENSITIVE: [&str; 2] = ["InterPodAffinity", "PodTopologySpread"];

/// Runs the scheduler until `ctx.stop`.
pub async fn run(ctx: Context, profiles: Vec<Profile>, backoff: (Duration, Duration), metrics: Metrics) -> anyhow::Result<()> {
    let recorders = profiles
        .iter()
        .map(|p| (p.scheduler_name.clone(), Recorder::new(ctx.client.clone(), p.scheduler_name.clone(), ctx.identity.clone())))
        .collect();
    let shared = Arc::new(Shared {
        state: Mutex::new(State { queue: Queue::new(backoff.0, backoff.1), cache: Cache::default() }),
        wake: Notify::new(),
        profiles: profiles.into_iter().map(|p| (p.scheduler_name.clone(), p)).collect(),
        recorders,
        metrics,
        client: ctx.client.clone(),
    });
    let gate = rudder_common::http::SyncGate::new(ctx.health.clone(), WATCHES);
    let mark_synced = || gate.part();
    let watches = [
        tokio::spawn(watch_pods(shared.clone(), mark_synced())),
        tokio::spawn(watch_nodes(shared.clone(), mark_synced())),
        tokio::spawn(watch_namespaces(shared.clone(), mark_synced())),
        tokio::spawn(watch_pdbs(shared.clone(), mark_synced())),
        tokio::spawn(watch_claims(shared.clone(), mark_synced())),
        tokio::spawn(watch_device_classes(shared.clone(), mark_synced())),
        tokio::spawn(watch_workloads::<Service>(shared.clone(), mark_synced(), |s| {
            s.spec.as_ref().and_then(|sp| sp.selector.as_ref()).filter(|m| !m.is_empty()).map(Selector::from_set)
        })),
        tokio::spawn(watch_workloads::<ReplicationController>(shared.clone(), mark_synced(), |rc| {
            rc.spec.as_ref().and_then(|sp| sp.selector.as_ref()).filter(|m| !m.is_empty()).map(Selector::from_set)
        })),
        tokio::spawn(watch_workloads::<ReplicaSet>(shared.clone(), mark_synced(), |rs| {
            rs.spec.as_ref().and_then(|sp| Selector::from_label_selector(Some(&sp.selector)).ok())
        })),
        tokio::spawn(watch_workloads::<StatefulSet>(shared.clone(), mark_synced(), |ss| {
            ss.spec.as_ref().and_then(|sp| Selector::from_label_selector(Some(&sp.selector)).ok())
        })),
    ];
    let stop = ctx.stop.clone();
    let result = tokio::select! {
        _ = stop.wait() => Ok(()),
        r = schedule_loop(shared.clone()) => r,
    };
    for w in watches {
        w.abort();
    }
    for r in shared.recorders.values() {
        r.flush().await;
    }
    result
}

async fn schedule_loop(shared: Arc<Shared>) -> anyhow::Result<()> {
    let mut start = 0usize;
    let mut rng = fastrand::Rng::new();
    loop {
        let (next, due) = {
            let mut s = shared.lock();
            let due = s.queue.flush(Instant::now());
            let next = s.queue.pop();
            let counts = s.queue.counts();
            for w in [Where::Active, Where::Backoff, Where::Unschedulable, Where::Gated] {
                shared.metrics.set_pending(w.label(), counts.get(&w).copied().unwrap_or(0));
            }
            (next, due)
        };
        match next {
            Some(qp) => schedule_one(&shared, qp, &mut start, &mut rng).await,
            None => {
                let sleep = due.map_or(Duration::from_secs(1), |d| d.saturating_duration_since(Instant::now())).min(Duration::from_secs(1));
                tokio::select! {
                    _ = shared.wake.notified() => {}
                    _ = tokio::time::sleep(sleep) => {}
                }
            }
        }
    }
}

async fn schedule_one(shared: &Arc<Shared>, qp: QueuedPod, start: &mut usize, rng: &mut fastrand::Rng) {
    let pod = qp.pod.clone();
    let id = uid(&pod);
    let profile_name = pod.spec.as_ref().and_then(|s| s.scheduler_name.clone()).unwrap_or_else(|| "default-scheduler".into());
    let Some(profile) = shared.profiles.get(&profile_name) else {
        shared.lock().queue.delete(&id);
        return;
    };
    let began = std::time::Instant::now();
    let snapshot = {
        let s = shared.lock();
        let mut snapshot = s.cache.snapshot();
        for (node, p) in s.queue.nominated() {
            snapshot.nominated.entry(node.to_string()).or_default().push(Arc::new(PodInfo::new(p.clone())));
        }
        snapshot
    };
    // PreEnqueue: a pod whose ResourceClaims are not there yet waits for
    // them, without an attempt, event or condition (upstream).
    if profile.plugins.iter().any(|w| w.filter && w.plugin.name() == dynamic_resources::NAME)
        && let Err(why) = dynamic_resources::pre_enqueue(&pod, &snapshot)
    {
        debug!(pod = %key(&pod), %why, "waiting for its resource claims");
        shared.lock().queue.failed(&id, true, vec![dynamic_resources::NAME], Instant::now());
        return;
    }
    let info = PodInfo::new(pod.clone());
    let mut timings = Timings::new();
    let (outcome, state) = schedule_pod_timed(profile, &info, &snapshot, start, |n| rng.usize(0..n.max(1)), &mut timings);
    for (point, status, d) in &timings {
        shared.metrics.extension_point(point, status, &profile_name, d.as_secs_f64());
    }
    match outcome {
        Outcome::Scheduled { node, evaluated, feasible } => {
            debug!(pod = %key(&pod), %node, evaluated, feasible, "scheduled");
            {
                let mut s = shared.lock();
                s.cache.assume(Arc::new(info), &node);
                s.queue.done(&id);
            }
            let claims = dynamic_resources::to_reserve(&state, &pod);
            let shared = shared.clone();
            tokio::spawn(async move {
                bind(&shared, qp, &node, &profile_name, began, claims).await;
            });
        }
        Outcome::Unschedulable(mut fit) => {
            let pdbs = if profile.preemption { shared.lock().cache.pdbs() } else { Vec::new() };
            let t = std::time::Instant::now();
            let mut post = post_filter::run(profile, &state, &info, &snapshot, &fit, &pdbs, |n| rng.usize(0..n.max(1)));
            if let Some(claim) = post.deallocate.take()
                && let Err(e) = deallocate(shared, &claim).await
            {
                // Upstream's PostFilter returns the error; preemption does not run.
                post.message = Some(chain(&e));
                post.preempt = None;
                post.clear_nomination = false;
                post.status = "Error";
            }
            if post.status == "Error" {
                error!(pod = %key(&pod), message = post.message.as_deref().unwrap_or_default(), "PostFilter failed");
            }
            shared.metrics.extension_point("PostFilter", post.status, &profile_name, t.elapsed().as_secs_f64());
            if post.preemption_ran {
                shared.metrics.preemption_attempts.inc();
            }
            let mut nomination = if post.clear_nomination { Nomination::Clear } else { Nomination::Keep };
            if let Some(c) = post.preempt {
                shared.metrics.preemption_victims.observe(c.victims.len() as f64);
                // Lower-priority pods nominated there lose their nomination (upstream).
                for other in snapshot.nominated.get(&c.node).into_iter().flatten() {
                    if other.priority() < info.priority() && other.uid() != info.uid() {
                        clear_nomination(shared, other.pod.clone());
                    }
                }
                evict(shared, &pod, &c.node, c.victims, &profile_name);
                nomination = Nomination::Set(c.node);
            }
            fit.post_filter_msg = post.message;
            let message = fit.message();
            debug!(pod = %key(&pod), %message, "unschedulable");
            shared.lock().queue.failed(&id, true, fit.rejected_by(), Instant::now());
            shared.metrics.attempt("unschedulable", &profile_name, began.elapsed().as_secs_f64());
            report_failure(shared, pod, "Unschedulable", message, &profile_name, nomination);
        }
        Outcome::Error(message) => {
            warn!(pod = %key(&pod), %message, "scheduling error");
            shared.lock().queue.failed(&id, false, vec![], Instant::now());
            shared.metrics.attempt("error", &profile_name, began.elapsed().as_secs_f64());
            report_failure(shared, pod, "SchedulerError", message, &profile_name, Nomination::Keep);
        }
    }
}

fn key(pod: &Pod) -> String {
    format!("{}/{}", pod.metadata.namespace.as_deref().unwrap_or_default(), pod.metadata.name.as_deref().unwrap_or_default())
}

/// Writes the binding; on failure forgets the assumption and requeues.
async fn bind(shared: &Arc<Shared>, qp: QueuedPod, node: &str, profile: &str, began: std::time::Instant, claims: Vec<Arc<ResourceClaim>>) {
    let pod = qp.pod.clone();
    let (ns, name) = (pod.metadata.namespace.clone().unwrap_or_default(), pod.metadata.name.clone().unwrap_or_default());
    // PreBind: DynamicResources reserves the pod's allocated claims for it.
    for claim in claims {
        if let Err(e) = reserve(shared, &claim, &pod).await {
            shared.lock().cache.forget(&uid(&pod));
            shared.lock().queue.add_backoff(pod.clone(), qp.attempts, Instant::now());
            shared.metrics.attempt("error", profile, began.elapsed().as_secs_f64());
            let message = format!("running PreBind plugin {:?}: {}", dynamic_resources::NAME, chain(&e));
            warn!(pod = %key(&pod), %node, %message, "reserving a resource claim failed");
            report_failure(shared, pod, "SchedulerError", message, profile, Nomination::Keep);
            return;
        }
    }
    let binding = json!({
        "apiVersion": "v1",
        "kind": "Binding",
        "metadata": {"name": name, "namespace": ns, "uid": pod.metadata.uid},
        "target": {"apiVersion": "v1", "kind": "Node", "name": node},
    });
    let api: Api<Pod> = Api::namespaced(shared.client.clone(), &ns);
    let t = std::time::Instant::now();
    let result = api.create_subresource::<_, serde_json::Value>("binding", &name, &PostParams::default(), &binding).await;
    shared.metrics.extension_point("Bind", if result.is_ok() { "Success" } else { "Error" }, profile, t.elapsed().as_secs_f64());
    match result {
        Ok(_) => {
            shared.metrics.attempt("scheduled", profile, began.elapsed().as_secs_f64());
            shared.metrics.pod_scheduling_attempts.observe(f64::from(qp.attempts));
            shared
                .metrics
                .pod_scheduling_sli_duration
                .get_or_create(&crate::metrics::AttemptsLabels { attempts: qp.attempts.to_string() })
                .observe(qp.initial.elapsed().as_secs_f64());
            if let Some(r) = shared.recorders.get(profile) {
                r.publish(
                    &object_reference(pod.as_ref()),
                    None,
                    EventType::Normal,
                    "Scheduled",
                    "Binding",
                    &format!("Successfully assigned {ns}/{name} to {node}"),
                );
            }
        }
        Err(e) => {
            let gone = matches!(&e, kube::Error::Api(s) if s.code == 404);
            {
                let mut s = shared.lock();
                s.cache.forget(&uid(&pod));
                if !gone {
                    s.queue.add_backoff(pod.clone(), qp.attempts, Instant::now());
                }
            }
            shared.metrics.attempt("error", profile, began.elapsed().as_secs_f64());
            if gone {
                return;
            }
            let message = format!("Binding rejected: {}", chain(&e));
            warn!(pod = %key(&pod), %node, %message, "binding failed");
            report_failure(shared, pod, "SchedulerError", message, profile, Nomination::Keep);
        }
    }
}

/// PodScheduled=False with the reason and message, unless the pod already
/// says so, and a FailedScheduling event.
/// What to do with `status.nominatedNodeName` along with a failure.
#[derive(Debug, Clone, PartialEq)]
enum Nomination {
    Keep,
    Set(String),
    Clear,
}

/// PodScheduled=False with the reason and message (and the nomination
/// preemption decided), unless the pod already says so, and a
/// FailedScheduling event.
fn report_failure(shared: &Arc<Shared>, pod: Arc<Pod>, reason: &'static str, message: String, profile: &str, nomination: Nomination) {
    if let Some(r) = shared.recorders.get(profile) {
        r.publish(&object_reference(pod.as_ref()), None, EventType::Warning, "FailedScheduling", "Scheduling", &message);
    }
    let current = pod.status.as_ref().and_then(|s| s.conditions.as_ref()).and_then(|cs| cs.iter().find(|c| c.type_ == "PodScheduled"));
    let nominated = pod.status.as_ref().and_then(|s| s.nominated_node_name.clone()).filter(|n| !n.is_empty());
    let nomination_unchanged = match &nomination {
        Nomination::Keep => true,
        Nomination::Set(n) => nominated.as_ref() == Some(n),
        Nomination::Clear => nominated.is_none(),
    };
    if nomination_unchanged
        && current
            .is_some_and(|c| c.status == "False" && c.reason.as_deref() == Some(reason) && c.message.as_deref() == Some(message.as_str()))
    {
        return;
    }
    // The transition time stays when the status does not change (upstream UpdatePodCondition).
    let since = current
        .filter(|c| c.status == "False")
        .and_then(|c| c.last_transition_time.as_ref())
        .map(|t| t.0.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    let client = shared.client.clone();
    tokio::spawn(async move {
        let (ns, name) = (pod.metadata.namespace.clone().unwrap_or_default(), pod.metadata.name.clone().unwrap_or_default());
        let mut patch = json!({"status": {"conditions": [{
            "type": "PodScheduled", "status": "False", "reason": reason, "message": message,
            "lastProbeTime": null, "lastTransitionTime": since,
        }]}});
        match nomination {
            Nomination::Keep => {}
            Nomination::Set(node) => patch["status"]["nominatedNodeName"] = json!(node),
            Nomination::Clear => patch["status"]["nominatedNodeName"] = serde_json::Value::Null,
        }
        let api: Api<Pod> = Api::namespaced(client, &ns);
        if let Err(e) = api.patch_status(&name, &PatchParams::default(), &Patch::Strategic(&patch)).await
            && !matches!(&e, kube::Error::Api(s) if s.code == 404)
        {
            warn!(pod = %format!("{ns}/{name}"), error = %chain(&e), "updating the PodScheduled condition failed");
        }
    });
}

/// Removes a pod's `status.nominatedNodeName`.
fn clear_nomination(shared: &Arc<Shared>, pod: Arc<Pod>) {
    let client = shared.client.clone();
    tokio::spawn(async move {
        let (ns, name) = (pod.metadata.namespace.clone().unwrap_or_default(), pod.metadata.name.clone().unwrap_or_default());
        let patch = json!({"status": {"nominatedNodeName": null}});
        let api: Api<Pod> = Api::namespaced(client, &ns);
        if let Err(e) = api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch)).await
            && !matches!(&e, kube::Error::Api(s) if s.code == 404)
        {
            warn!(pod = %format!("{ns}/{name}"), error = %chain(&e), "clearing the nominated node failed");
        }
    });
}

/// Evicts preemption's victims as upstream does: a DisruptionTarget
/// condition, then a graceful delete, and a Preempted event.
fn evict(shared: &Arc<Shared>, preemptor: &Pod, node: &str, victims: Vec<Arc<PodInfo>>, profile: &str) {
    for v in victims {
        let victim = v.pod.clone();
        let (ns, name) = (victim.metadata.namespace.clone().unwrap_or_default(), victim.metadata.name.clone().unwrap_or_default());
        info!(victim = %format!("{ns}/{name}"), preemptor = %key(preemptor), %node, "preempting");
        if let Some(r) = shared.recorders.get(profile) {
            r.publish(
                &object_reference(victim.as_ref()),
                Some(&object_reference(preemptor)),
                EventType::Normal,
                "Preempted",
                "Preempting",
                &format!("Preempted by pod {} on node {node}", preemptor.metadata.uid.as_deref().unwrap_or_default()),
            );
        }
        let scheduler = preemptor.spec.as_ref().and_then(|s| s.scheduler_name.clone()).unwrap_or_else(|| "default-scheduler".into());
        let client = shared.client.clone();
        tokio::spawn(async move {
            let api: Api<Pod> = Api::namespaced(client, &ns);
            let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string();
            let condition = json!({"status": {"conditions": [{
                "type": "DisruptionTarget", "status": "True", "reason": "PreemptionByScheduler",
                "message": format!("{scheduler}: preempting to accommodate a higher priority pod"), "lastTransitionTime": now,
            }]}});
            let result = match api.patch_status(&name, &PatchParams::default(), &Patch::Strategic(&condition)).await {
                Ok(_) => api.delete(&name, &Default::default()).await.map(|_| ()),
                Err(e) => Err(e),
            };
            if let Err(e) = result
                && !matches!(&e, kube::Error::Api(s) if s.code == 404)
            {
                warn!(victim = %format!("{ns}/{name}"), error = %chain(&e), "preempting failed");
            }
        });
    }
}

// ---------------------------------------------------------------------------
// Watches

/// Follows one watch until it ends, re-listing on errors with back-off;
/// `apply` sees every object, `delete` deletions, `relisted` the set of keys
/// present after each (re)list.
async fn follow<K>(
    api: Api<K>,
    mut apply: impl FnMut(Arc<K>),
    mut delete: impl FnMut(Arc<K>),
    mut relisted: impl FnMut(HashSet<String>),
    key: impl Fn(&K) -> String,
) where
    K: kube::Resource<DynamicType = ()> + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    let kind = K::kind(&());
    let mut seen: Option<HashSet<String>> = None;
    let mut stream = watcher(api, watcher::Config::default()).default_backoff().boxed();
    loop {
        match stream.try_next().await {
            Ok(Some(watcher::Event::Init)) => seen = Some(HashSet::new()),
            Ok(Some(watcher::Event::InitApply(obj))) => {
                if let Some(s) = seen.as_mut() {
                    s.insert(key(&obj));
                }
                apply(Arc::new(obj));
            }
            Ok(Some(watcher::Event::InitDone)) => relisted(seen.take().unwrap_or_default()),
            Ok(Some(watcher::Event::Apply(obj))) => apply(Arc::new(obj)),
            Ok(Some(watcher::Event::Delete(obj))) => delete(Arc::new(obj)),
            Ok(None) => return,
            Err(e) => warn!(%kind, error = %chain(&e), "watch failed; retrying"),
        }
    }
}

async fn watch_pods(shared: Arc<Shared>, mut synced: impl FnMut() + Send + 'static) {
    let api: Api<Pod> = Api::all(shared.client.clone());
    let (s1, s2, s3) = (shared.clone(), shared.clone(), shared.clone());
    follow(
        api,
        move |pod| on_pod(&s1, pod),
        move |pod| on_pod_deleted(&s2, &pod),
        move |present| {
            {
                let mut s = s3.lock();
                s.cache.retain_pods(|u| present.contains(u));
                s.queue.retain(|u| present.contains(u));
            }
            synced();
            s3.wake.notify_one();
        },
        uid,
    )
    .await;
}

fn on_pod(shared: &Shared, pod: Arc<Pod>) {
    let id = uid(&pod);
    let now = Instant::now();
    let mut s = shared.lock();
    if bound(&pod) {
        let was_on = s.cache.node_of(&id).map(str::to_string);
        let was_assumed = s.cache.is_assumed(&id);
        s.cache.add_or_update_pod(pod.clone());
        s.queue.delete(&id);
        if finished(&pod) {
            // Its resources are free again.
            s.queue.move_all(now, |_| true);
        } else if was_on.is_none() || was_assumed {
            s.queue.move_all(now, |p| p.rejected_by.iter().any(|r| POD_SENSITIVE.contains(r)));
        }
    } else if shared.responsible(&pod) && pod.metadata.deletion_timestamp.is_none() && !finished(&pod) {
        if !s.cache.is_assumed(&id) {
            s.queue.update(pod, now);
        }
    } else {
        s.queue.delete(&id);
    }
    drop(s);
    shared.wake.notify_one();
}

fn on_pod_deleted(shared: &Shared, pod: &Pod) {
    let id = uid(pod);
    let mut s = shared.lock();
    let was_on = s.cache.node_of(&id).is_some();
    s.cache.remove_pod(&id);
    s.queue.delete(&id);
    if was_on {
        s.queue.move_all(Instant::now(), |_| true);
    }
    drop(s);
    shared.wake.notify_one();
}

/// Whether a node change may make pods schedulable (upstream's
/// NodeUpdate event filter: allocatable, labels, taints, unschedulable).
fn node_changed(old: &Node, new: &Node) -> bool {
    let alloc = |n: &Node| n.status.as_ref().and_then(|s| s.allocatable.clone());
    let spec = |n: &Node| n.spec.as_ref().map(|s| (s.taints.clone(), s.unschedulable));
    old.metadata.labels != new.metadata.labels || alloc(old) != alloc(new) || spec(old) != spec(new)
}

async fn watch_nodes(shared: Arc<Shared>, mut synced: impl FnMut() + Send + 'static) {
    let api: Api<Node> = Api::all(shared.client.clone());
    let (s1, s2, s3) = (shared.clone(), shared.clone(), shared.clone());
    let name = |n: &Node| n.metadata.name.clone().unwrap_or_default();
    follow(
        api,
        move |node| {
            let mut s = s1.lock();
            let helps = s.cache.node(&name(&node)).is_none_or(|old| node_changed(old, &node));
            s.cache.add_or_update_node(node);
            if helps {
                s.queue.move_all(Instant::now(), |_| true);
            }
            drop(s);
            s1.wake.notify_one();
        },
        move |node| s2.lock().cache.remove_node(&name(&node)),
        move |present| {
            s3.lock().cache.retain_nodes(|n| present.contains(n));
            synced();
            info!(nodes = s3.lock().cache.node_count(), "nodes listed");
            s3.wake.notify_one();
        },
        name,
    )
    .await;
}

async fn watch_namespaces(shared: Arc<Shared>, mut synced: impl FnMut() + Send + 'static) {
    let api: Api<Namespace> = Api::all(shared.client.clone());
    let (s1, s2) = (shared.clone(), shared.clone());
    follow(
        api,
        move |ns| {
            let name = ns.metadata.name.clone().unwrap_or_default();
            s1.lock().cache.set_namespace(&name, ns.metadata.labels.clone().unwrap_or_default());
        },
        move |ns| s2.lock().cache.remove_namespace(ns.metadata.name.as_deref().unwrap_or_default()),
        move |_| synced(),
        |ns| ns.metadata.name.clone().unwrap_or_default(),
    )
    .await;
}

/// Keeps the selectors of one kind of workload (for PodTopologySpread's
/// system default constraints) in the cache.
async fn watch_workloads<K>(shared: Arc<Shared>, mut synced: impl FnMut() + Send + 'static, selector: fn(&K) -> Option<Selector>)
where
    K: kube::Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
{
    let api: Api<K> = Api::all(shared.client.clone());
    let kind = K::kind(&()).to_string();
    let (s1, s2, s3) = (shared.clone(), shared.clone(), shared.clone());
    let (k1, k2, k3) = (kind.clone(), kind.clone(), kind);
    let id = |o: &K| (o.meta().namespace.clone().unwrap_or_default(), o.meta().name.clone().unwrap_or_default());
    follow(
        api,
        move |o| {
            let (namespace, name) = id(&o);
            let sel = selector(&o).map(|selector| WorkloadSelector {
                kind: k1.clone(),
                namespace: namespace.clone(),
                name: name.clone(),
                selector,
            });
            s1.lock().cache.set_workload(&k1, &namespace, &name, sel);
        },
        move |o| {
            let (namespace, name) = id(&o);
            s2.lock().cache.set_workload(&k2, &namespace, &name, None);
        },
        move |present| {
            s3.lock().cache.retain_workloads(&k3, |ns, n| present.contains(&format!("{ns}/{n}")));
            synced();
        },
        move |o| {
            let (ns, n) = id(o);
            format!("{ns}/{n}")
        },
    )
    .await;
}

/// PodDisruptionBudgets, for preemption.
async fn watch_pdbs(shared: Arc<Shared>, mut synced: impl FnMut() + Send + 'static) {
    use k8s_openapi::api::policy::v1::PodDisruptionBudget;
    let api: Api<PodDisruptionBudget> = Api::all(shared.client.clone());
    let (s1, s2, s3) = (shared.clone(), shared.clone(), shared.clone());
    let id = |p: &PodDisruptionBudget| {
        format!("{}/{}", p.metadata.namespace.as_deref().unwrap_or_default(), p.metadata.name.as_deref().unwrap_or_default())
    };
    follow(
        api,
        move |p| {
            let selector = p
                .spec
                .as_ref()
                .and_then(|s| s.selector.as_ref())
                .and_then(|s| Selector::from_label_selector(Some(s)).ok())
                .filter(|s| !s.is_empty());
            let status = p.status.as_ref();
            let pdb = Pdb {
                namespace: p.metadata.namespace.clone().unwrap_or_default(),
                selector,
                disruptions_allowed: status.and_then(|s| s.disruptions_allowed).unwrap_or(0),
                disrupted_pods: status.and_then(|s| s.disrupted_pods.as_ref()).map(|m| m.keys().cloned().collect()).unwrap_or_default(),
            };
            s1.lock().cache.set_pdb(&id(&p), Some(pdb));
        },
        move |p| s2.lock().cache.set_pdb(&id(&p), None),
        move |present| {
            s3.lock().cache.retain_pdbs(|k| present.contains(k));
            synced();
        },
        id,
    )
    .await;
}

/// DynamicResources' PostFilter write: the claim loses its allocation and
/// reservations (upstream clears allocation, reservedFor and devices with
/// one status update, no retry).
async fn deallocate(shared: &Shared, claim: &ResourceClaim) -> Result<(), kube::Error> {
    let mut c = claim.clone();
    if let Some(st) = c.status.as_mut() {
        st.allocation = None;
        st.reserved_for = None;
        st.devices = None;
    }
    let api: Api<ResourceClaim> = Api::namespaced(shared.client.clone(), c.metadata.namespace.as_deref().unwrap_or_default());
    let name = c.metadata.name.clone().unwrap_or_default();
    api.replace_status(&name, &PostParams::default(), &c).await?;
    info!(claim = %format!("{}/{name}", c.metadata.namespace.as_deref().unwrap_or_default()), "deallocated resource claim");
    Ok(())
}

/// DynamicResources' PreBind write: the pod joins the claim's
/// `status.reservedFor`, retried on conflicts with the latest claim as
/// upstream does.
async fn reserve(shared: &Shared, claim: &ResourceClaim, pod: &Pod) -> Result<(), kube::Error> {
    let api: Api<ResourceClaim> = Api::namespaced(shared.client.clone(), claim.metadata.namespace.as_deref().unwrap_or_default());
    let name = claim.metadata.name.clone().unwrap_or_default();
    let me = ResourceClaimConsumerReference {
        api_group: None,
        resource: "pods".into(),
        name: pod.metadata.name.clone().unwrap_or_default(),
        uid: pod.metadata.uid.clone().unwrap_or_default(),
    };
    let mut c = claim.clone();
    for attempt in 0.. {
        let status = c.status.get_or_insert_with(Default::default);
        let reserved = status.reserved_for.get_or_insert_with(Vec::new);
        if reserved.iter().any(|r| r.resource == "pods" && r.uid == me.uid) {
            return Ok(());
        }
        reserved.push(me.clone());
        match api.replace_status(&name, &PostParams::default(), &c).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 && attempt < 5 => c = api.get(&name).await?,
            Err(e) => return Err(e),
        }
    }
    unreachable!("the loop returns")
}

/// Moves the pods DynamicResources held back: a claim or class appeared
/// or changed.
fn dra_changed(shared: &Shared) {
    shared.lock().queue.move_all(Instant::now(), |p| p.rejected_by.contains(&dynamic_resources::NAME));
    shared.wake.notify_one();
}

/// ResourceClaims, for DynamicResources.
async fn watch_claims(shared: Arc<Shared>, mut synced: impl FnMut() + Send + 'static) {
    let api: Api<ResourceClaim> = Api::all(shared.client.clone());
    let (s1, s2, s3) = (shared.clone(), shared.clone(), shared.clone());
    let id = |c: &ResourceClaim| {
        format!("{}/{}", c.metadata.namespace.as_deref().unwrap_or_default(), c.metadata.name.as_deref().unwrap_or_default())
    };
    follow(
        api,
        move |c| {
            s1.lock().cache.dra_mut().claims.insert(id(&c), c);
            dra_changed(&s1);
        },
        move |c| {
            s2.lock().cache.dra_mut().claims.remove(&id(&c));
        },
        move |present| {
            s3.lock().cache.dra_mut().claims.retain(|k, _| present.contains(k));
            synced();
            dra_changed(&s3);
        },
        id,
    )
    .await;
}

/// DeviceClasses, for DynamicResources.
async fn watch_device_classes(shared: Arc<Shared>, mut synced: impl FnMut() + Send + 'static) {
    let api: Api<DeviceClass> = Api::all(shared.client.clone());
    let (s1, s2, s3) = (shared.clone(), shared.clone(), shared.clone());
    let id = |c: &DeviceClass| c.metadata.name.clone().unwrap_or_default();
    follow(
        api,
        move |c| {
            s1.lock().cache.dra_mut().classes.insert(id(&c));
            dra_changed(&s1);
        },
        move |c| {
            s2.lock().cache.dra_mut().classes.remove(&id(&c));
        },
        move |present| {
            s3.lock().cache.dra_mut().classes.retain(|k| present.contains(k));
            synced();
            dra_changed(&s3);
        },
        id,
    )
    .await;
}
