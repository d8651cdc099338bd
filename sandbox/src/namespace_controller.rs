//! kube-controller-manager's namespace controller
//! (`pkg/controller/namespace`), inside the sandbox: a namespace being
//! deleted has all its content deleted, pass after pass, until nothing is
//! left; then its `kubernetes` finalizer goes and the namespace with it.
//!
//! Each pass, as upstream's `namespacedResourcesDeleter.Delete`:
//!
//! 1. the namespace's phase is made `Terminating` (the delete already did);
//! 2. for every namespaced resource the API serves (both Event APIs, as
//!    discovery lists both): an estimate of how long its objects need (for
//!    pods, the longest `terminationGracePeriodSeconds` of the pods not
//!    yet Succeeded or Failed, 0 once that long has passed since the
//!    namespace's deletionTimestamp), a delete of every object with
//!    `propagationPolicy: Background`, and a list of what remains: objects
//!    with finalizers count as remaining for 15 s, objects without any
//!    while the estimate is 0 are an error (`unexpected items still remain
//!    in namespace: ...`);
//! 3. the status conditions `NamespaceDeletionDiscoveryFailure`,
//!    `NamespaceDeletionGroupVersionParsingFailure`,
//!    `NamespaceDeletionContentFailure`, `NamespaceContentRemaining` and
//!    `NamespaceFinalizersRemaining` are written with upstream's reasons and
//!    messages (`status_condition_utils.go`), only when they change;
//! 4. errors requeue the namespace with the controller's rate limiter
//!    (5 ms doubling to 60 s); remaining content requeues it after
//!    `estimate / 2 + 1` seconds; a clean pass finalizes it.
//!
//! Where the sandbox differs, on timing only: upstream waits
//! `namespaceDeletionGracePeriod` (5 s) after every namespace event, for the
//! caches of other API servers to see the deletion; the sandbox has one
//! consistent store whose NamespaceLifecycle refuses creates from the very
//! write that sets the phase, so the first pass starts at once (later
//! updates of a terminating namespace, the controller's own condition
//! writes among them, requeue it after those 5 s as upstream). And the
//! garbage collector's index tells it when the last object of a
//! terminating namespace is gone, which requeues it at once rather than at
//! the next estimate.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::api::{Api, DeleteOptions, Propagation};
use crate::meta;
use crate::registry::{self, RESOURCES, ResourceType};

/// Upstream's `finalizerEstimateSeconds`: how long objects with finalizers
/// are expected to need.
pub const FINALIZER_ESTIMATE_SECONDS: i64 = 15;

/// Upstream's `namespaceDeletionGracePeriod`, applied to updates of a
/// namespace already terminating.
pub const NAMESPACE_UPDATE_DELAY: Duration = Duration::from_secs(5);

/// The condition types the controller maintains, in upstream's order.
const CONDITION_TYPES: [&str; 5] = [
    "NamespaceDeletionDiscoveryFailure",
    "NamespaceDeletionGroupVersionParsingFailure",
    "NamespaceDeletionContentFailure",
    "NamespaceContentRemaining",
    "NamespaceFinalizersRemaining",
];

/// The reason and message of each condition type when nothing is wrong.
fn ok_condition(t: &str) -> (&'static str, &'static str) {
    match t {
        "NamespaceDeletionDiscoveryFailure" => ("ResourcesDiscovered", "All resources successfully discovered"),
        "NamespaceDeletionGroupVersionParsingFailure" => ("ParsedGroupVersions", "All legacy kube types successfully parsed"),
        "NamespaceDeletionContentFailure" => ("ContentDeleted", "All content successfully deleted, may be waiting on finalization"),
        _ => ("ContentRemoved", "All content successfully removed"),
    }
}

/// Where the controller is told to look at a namespace.
#[derive(Clone)]
pub struct Queue {
    tx: mpsc::UnboundedSender<(String, Duration)>,
}

impl Queue {
    /// Processes `ns` after `delay` (or earlier, if it is already due earlier).
    pub fn add_after(&self, ns: &str, delay: Duration) {
        let _ = self.tx.send((ns.to_string(), delay));
    }
}

/// Starts the controller; returns its queue and task.
pub fn start(api: Arc<Api>) -> (Queue, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (Queue { tx }, tokio::spawn(run(api, rx)))
}

/// What a pass came to.
#[derive(Debug, PartialEq)]
enum Outcome {
    /// Gone, not deleting, or finalized.
    Done,
    /// Content remains for about this many seconds.
    Remaining(i64),
    /// The pass failed (the aggregated error).
    Failed(String),
}

/// The controller's rate limiter for failed passes: 5 ms doubling per
/// failure, at most 60 s.
fn backoff(failures: u32) -> Duration {
    let ms = 5u64.saturating_mul(1u64 << failures.min(30));
    Duration::from_millis(ms).min(Duration::from_secs(60))
}

async fn run(api: Arc<Api>, mut rx: mpsc::UnboundedReceiver<(String, Duration)>) {
    let mut due: HashMap<String, Instant> = HashMap::new();
    let mut failures: HashMap<String, u32> = HashMap::new();
    let add = |due: &mut HashMap<String, Instant>, ns: String, delay: Duration| {
        let at = Instant::now() + delay;
        let e = due.entry(ns).or_insert(at);
        if at < *e {
            *e = at;
        }
    };
    loop {
        let next = due.iter().min_by_key(|(_, t)| **t).map(|(k, t)| (k.clone(), *t));
        let wake = next.as_ref().map_or_else(|| Instant::now() + Duration::from_secs(3600), |(_, t)| *t);
        tokio::select! {
            m = rx.recv() => match m {
                Some((ns, delay)) => add(&mut due, ns, delay),
                None => return,
            },
            _ = tokio::time::sleep_until(wake), if next.is_some() => {
                let Some((ns, _)) = next else { continue };
                due.remove(&ns);
                match sync(&api, &ns).await {
                    Outcome::Done => {
                        failures.remove(&ns);
                    }
                    Outcome::Remaining(estimate) => {
                        let wait = Duration::from_secs(u64::try_from(estimate / 2 + 1).unwrap_or(1));
                        tracing::debug!(namespace = ns, wait_seconds = wait.as_secs(), "content remaining in namespace");
                        add(&mut due, ns, wait);
                    }
                    Outcome::Failed(e) => {
                        let n = failures.entry(ns.clone()).or_insert(0);
                        let wait = backoff(*n);
                        *n += 1;
                        tracing::info!(namespace = ns, error = e, "deletion of namespace failed");
                        add(&mut due, ns, wait);
                    }
                }
            }
        }
    }
}

fn namespaces() -> &'static ResourceType {
    registry::find("", "v1", "namespaces").expect("namespaces")
}

/// One pass over a namespace.
async fn sync(api: &Api, name: &str) -> Outcome {
    let ns_r = namespaces();
    let Some(ns) = api.store.get(ns_r, "", name) else { return Outcome::Done };
    if !meta::is_deleting(&ns) {
        return Outcome::Done;
    }
    if ns.pointer("/status/phase").and_then(Value::as_str) != Some("Terminating") {
        api.set_status_internal(ns_r, "", name, |v| v["status"]["phase"] = json!("Terminating"));
    }
    let Some(ns) = api.store.get(ns_r, "", name) else { return Outcome::Done };
    if spec_finalizers(&ns).is_empty() {
        // Finalized already; the namespace goes once its metadata finalizers do.
        api.finish_namespace(name);
        return Outcome::Done;
    }
    let deleted_at = ns
        .pointer("/metadata/deletionTimestamp")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<jiff::Timestamp>().ok())
        .unwrap_or_else(jiff::Timestamp::now);
    let uid = meta::uid(&ns).to_string();
    let (estimate, errors) = delete_all_content(api, name, &uid, deleted_at).await;
    if !errors.is_empty() {
        return Outcome::Failed(aggregate(&errors));
    }
    if estimate > 0 {
        return Outcome::Remaining(estimate);
    }
    api.finish_namespace(name);
    Outcome::Done
}

fn spec_finalizers(ns: &Value) -> Vec<String> {
    ns.pointer("/spec/finalizers")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
        .unwrap_or_default()
}

/// `utilerrors.NewAggregate(errs).Error()`: one message alone, several in
/// brackets, duplicates once.
fn aggregate(errors: &[String]) -> String {
    let mut seen = Vec::new();
    for e in errors {
        if !seen.contains(e) {
            seen.push(e.clone());
        }
    }
    if seen.len() == 1 { seen.remove(0) } else { format!("[{}]", seen.join(", ")) }
}

/// What deleting one resource's objects left.
#[derive(Default)]
struct Left {
    estimate: i64,
    remaining: usize,
    finalizers: BTreeMap<String, usize>,
}

/// `schema.GroupVersionResource`'s `%v`.
fn gvr_string(r: &ResourceType) -> String {
    format!("{}/{}, Resource={}", r.group, r.version, r.plural)
}

/// Deletes every namespaced object in `ns`; returns the largest estimate
/// and the errors, and writes the namespace's conditions.
async fn delete_all_content(api: &Api, ns: &str, uid: &str, deleted_at: jiff::Timestamp) -> (i64, Vec<String>) {
    let mut estimate = 0;
    let mut errors = Vec::new();
    let mut remaining: Vec<(String, usize)> = Vec::new();
    let mut finalizers: BTreeMap<String, usize> = BTreeMap::new();
    for r in RESOURCES.iter().filter(|r| r.namespaced) {
        let (left, err) = delete_resource(api, r, ns, deleted_at).await;
        if let Some(e) = err {
            errors.push(e);
        }
        estimate = estimate.max(left.estimate);
        if left.remaining > 0 {
            remaining.push((format!("{}.{}", r.plural, r.group), left.remaining));
            for (f, n) in left.finalizers {
                *finalizers.entry(f).or_default() += n;
            }
        }
    }
    let conditions = new_conditions(&remaining, &finalizers, &errors);
    let ns_r = namespaces();
    if let Some(current) = api.store.get(ns_r, "", ns)
        && meta::uid(&current) == uid
        && update_conditions(&mut (*current).clone(), &conditions, &meta::now())
    {
        api.set_status_internal(ns_r, "", ns, |v| {
            if meta::uid(v) == uid {
                update_conditions(v, &conditions, &meta::now());
            }
        });
    }
    (estimate, errors)
}

/// Upstream's `deleteAllContentForGroupVersionResource` for one resource.
async fn delete_resource(api: &Api, r: &'static ResourceType, ns: &str, deleted_at: jiff::Timestamp) -> (Left, Option<String>) {
    let estimate = estimate_graceful_termination(api, r, ns, deleted_at);
    let only_estimate = || Left { estimate, ..Left::default() };
    let opts = DeleteOptions { propagation: Some(Propagation::Background), ..DeleteOptions::default() };
    let (_, objects) = api.store.list(r, Some(ns));
    for o in &objects {
        match api.delete_object(r, ns, meta::name(o), &opts, false, &crate::rbac::ADMIN).await {
            Ok(_) => {}
            Err(e) if e.code == 404 || e.code == 405 => {}
            Err(e) => return (only_estimate(), Some(e.message)),
        }
    }
    let (_, left) = api.store.list(r, Some(ns));
    if left.is_empty() {
        return (Left::default(), None);
    }
    let mut finalizers = BTreeMap::new();
    for o in &left {
        for f in meta::finalizers(o) {
            *finalizers.entry(f).or_default() += 1;
        }
    }
    if estimate != 0 {
        return (Left { estimate, remaining: left.len(), finalizers }, None);
    }
    if !finalizers.is_empty() {
        return (Left { estimate: FINALIZER_ESTIMATE_SECONDS, remaining: left.len(), finalizers }, None);
    }
    (
        Left { estimate, remaining: left.len(), finalizers },
        Some(format!("unexpected items still remain in namespace: {ns} for gvr: {}", gvr_string(r))),
    )
}

/// The graceful termination still expected of `r`'s objects: for pods, the
/// longest grace period of those not finished, unless that long has passed
/// since the namespace was deleted.
fn estimate_graceful_termination(api: &Api, r: &ResourceType, ns: &str, deleted_at: jiff::Timestamp) -> i64 {
    if !(r.group.is_empty() && r.plural == "pods") {
        return 0;
    }
    let (_, pods) = api.store.list(r, Some(ns));
    let estimate = pods
        .iter()
        .filter(|p| !matches!(p.pointer("/status/phase").and_then(Value::as_str), Some("Succeeded" | "Failed")))
        .filter_map(|p| p.pointer("/spec/terminationGracePeriodSeconds").and_then(Value::as_i64))
        .fold(0, i64::max);
    let since = jiff::Timestamp::now().duration_since(deleted_at);
    if since >= jiff::SignedDuration::from_secs(estimate) { 0 } else { estimate }
}

/// A condition as upstream's `NamespaceCondition` (type, status,
/// lastTransitionTime, reason, message).
#[derive(Debug, Clone, PartialEq)]
struct Condition {
    kind: &'static str,
    status: &'static str,
    reason: &'static str,
    message: String,
}

/// The failing conditions of a pass (`ProcessContentTotals`,
/// `makeDeleteContentCondition`); the others are set to their ok variant.
fn new_conditions(remaining: &[(String, usize)], finalizers: &BTreeMap<String, usize>, errors: &[String]) -> Vec<Condition> {
    let mut out = Vec::new();
    if !errors.is_empty() {
        let mut msgs = errors.to_vec();
        msgs.sort();
        out.push(Condition {
            kind: "NamespaceDeletionContentFailure",
            status: "True",
            reason: "ContentDeletionFailed",
            message: format!("Failed to delete all resource types, {} remaining: {}", errors.len(), msgs.join(", ")),
        });
    }
    if !remaining.is_empty() {
        let mut parts: Vec<String> = remaining.iter().map(|(gr, n)| format!("{gr} has {n} resource instances")).collect();
        parts.sort();
        out.push(Condition {
            kind: "NamespaceContentRemaining",
            status: "True",
            reason: "SomeResourcesRemain",
            message: format!("Some resources are remaining: {}", parts.join(", ")),
        });
    }
    if !finalizers.is_empty() {
        let mut parts: Vec<String> = finalizers.iter().map(|(f, n)| format!("{f} in {n} resource instances")).collect();
        parts.sort();
        out.push(Condition {
            kind: "NamespaceFinalizersRemaining",
            status: "True",
            reason: "SomeFinalizerRemain",
            message: format!("Some finalizers are remaining: {}", parts.join(", ")),
        });
    }
    out
}

/// Upstream's `updateConditions`: every maintained type gets its failing
/// condition or its ok variant; a new type is appended, a changed one
/// updated in place (its lastTransitionTime only when the status changes).
/// Returns whether anything changed.
fn update_conditions(ns: &mut Value, failing: &[Condition], now: &str) -> bool {
    let mut changed = false;
    if !ns.get("status").is_some_and(Value::is_object) {
        ns["status"] = json!({});
    }
    let status = &mut ns["status"];
    if !status.get("conditions").is_some_and(Value::is_array) {
        status["conditions"] = json!([]);
    }
    let Some(conditions) = status["conditions"].as_array_mut() else { return false };
    for t in CONDITION_TYPES {
        let new = failing.iter().find(|c| c.kind == t).cloned().unwrap_or_else(|| {
            let (reason, message) = ok_condition(t);
            Condition { kind: t, status: "False", reason, message: message.into() }
        });
        match conditions.iter_mut().find(|c| c.get("type").and_then(Value::as_str) == Some(t)) {
            None => {
                conditions.push(json!({
                    "type": new.kind,
                    "status": new.status,
                    "lastTransitionTime": now,
                    "reason": new.reason,
                    "message": new.message,
                }));
                changed = true;
            }
            Some(old) => {
                let field = |k: &str| old.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
                if field("status") != new.status || field("message") != new.message || field("reason") != new.reason {
                    if field("status") != new.status {
                        old["lastTransitionTime"] = json!(now);
                    }
                    old["status"] = json!(new.status);
                    old["reason"] = json!(new.reason);
                    old["message"] = json!(new.message);
                    changed = true;
                }
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_as_upstream_writes_them() {
        let mut ns = json!({"status": {"phase": "Terminating"}});
        let mut f = BTreeMap::new();
        f.insert("example.com/hold".to_string(), 2);
        let remaining = vec![("configmaps.".to_string(), 2), ("deployments.apps".to_string(), 1)];
        let c = new_conditions(&remaining, &f, &[]);
        assert!(update_conditions(&mut ns, &c, "2026-01-01T00:00:00Z"));
        let conds = ns["status"]["conditions"].as_array().unwrap();
        let types: Vec<&str> = conds.iter().map(|c| c["type"].as_str().unwrap()).collect();
        assert_eq!(types, CONDITION_TYPES);
        assert_eq!(conds[0]["status"], "False");
        assert_eq!(conds[0]["reason"], "ResourcesDiscovered");
        assert_eq!(conds[2]["message"], "All content successfully deleted, may be waiting on finalization");
        assert_eq!(conds[3]["reason"], "SomeResourcesRemain");
        assert_eq!(
            conds[3]["message"],
            "Some resources are remaining: configmaps. has 2 resource instances, deployments.apps has 1 resource instances"
        );
        assert_eq!(conds[4]["reason"], "SomeFinalizerRemain");
        assert_eq!(conds[4]["message"], "Some finalizers are remaining: example.com/hold in 2 resource instances");
        // Nothing new: nothing changes.
        assert!(!update_conditions(&mut ns, &c, "2026-01-01T00:00:09Z"));
        // Content gone: the ok variants, with a new transition time.
        assert!(update_conditions(&mut ns, &[], "2026-01-01T00:00:10Z"));
        let conds = ns["status"]["conditions"].as_array().unwrap();
        assert_eq!(conds[3]["status"], "False");
        assert_eq!(conds[3]["reason"], "ContentRemoved");
        assert_eq!(conds[3]["message"], "All content successfully removed");
        assert_eq!(conds[3]["lastTransitionTime"], "2026-01-01T00:00:10Z");
        assert_eq!(conds[0]["lastTransitionTime"], "2026-01-01T00:00:00Z");
    }

    #[test]
    fn content_failures_are_sorted_and_counted() {
        let errors = vec!["b failed".to_string(), "a failed".to_string()];
        let c = new_conditions(&[], &BTreeMap::new(), &errors);
        assert_eq!(c[0].kind, "NamespaceDeletionContentFailure");
        assert_eq!(c[0].reason, "ContentDeletionFailed");
        assert_eq!(c[0].message, "Failed to delete all resource types, 2 remaining: a failed, b failed");
    }

    #[test]
    fn aggregates_and_gvrs_print_as_go() {
        assert_eq!(aggregate(&["x".into()]), "x");
        assert_eq!(aggregate(&["x".into(), "y".into(), "x".into()]), "[x, y]");
        assert_eq!(gvr_string(registry::find("", "v1", "pods").unwrap()), "/v1, Resource=pods");
        assert_eq!(gvr_string(registry::find("apps", "v1", "deployments").unwrap()), "apps/v1, Resource=deployments");
    }

    #[test]
    fn the_rate_limiter_doubles_up_to_a_minute() {
        assert_eq!(backoff(0), Duration::from_millis(5));
        assert_eq!(backoff(3), Duration::from_millis(40));
        assert_eq!(backoff(40), Duration::from_secs(60));
    }
}
