//! One DaemonSet sync as upstream's `syncDaemonSet` decides it (Kubernetes
//! v1.36, `pkg/controller/daemon/daemon_controller.go`), without the I/O:
//! the pods by node, the manage step (`podsShouldBeOnNode`: create where a
//! pod is missing, delete failed pods with back-off and succeeded pods,
//! excess pods, pods on nodes that no longer qualify, unscheduled pods of
//! vanished nodes), and the status counts.
//!
//! The binary drives it like this:
//!
//! ```text
//! history     = history::plan_history(ds, revisions)        (create/relabel/dedup revisions; hash)
//! satisfied?  no  -> status(..), written without raising observedGeneration
//!             yes -> manage(..)                             -> creations/deletions (syncNodes)
//!                    satisfied again and RollingUpdate      -> update::rolling_update(..) -> syncNodes
//!                    history::revisions_to_delete(..)       (pods with terminal ones, for live hashes)
//!                    status(..), written with observedGeneration
//! ```

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetStatus};
use k8s_openapi::api::core::v1::{Node, Pod};
use rudder_common::pods::{is_pod_available, is_pod_ready, is_pod_terminal};

use crate::pods::{Placement, REVISION_HASH_LABEL, template_generation};
use crate::update::is_pod_updated;

/// Upstream `BurstReplicas`: at most this many creations and deletions per sync.
pub const BURST_REPLICAS: usize = 250;
/// The failed pods back-off (upstream `flowcontrol.NewBackOff(1s, 15min)`).
pub const FAILED_PODS_BACKOFF_INITIAL: Duration = Duration::from_secs(1);
pub const FAILED_PODS_BACKOFF_MAX: Duration = Duration::from_secs(15 * 60);
/// Upstream `StatusUpdateRetries`.
pub const STATUS_UPDATE_RETRIES: usize = 1;

/// An event for the DaemonSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub warning: bool,
    pub reason: &'static str,
    pub message: String,
}

/// Upstream `SelectingAllReason`'s event, for a DaemonSet whose selector is
/// empty (it is not synced).
pub fn selecting_all(ds: &DaemonSet) -> Option<Event> {
    let sel = ds.spec.as_ref().map(|s| &s.selector)?;
    let empty = sel.match_labels.as_ref().is_none_or(BTreeMap::is_empty) && sel.match_expressions.as_ref().is_none_or(Vec::is_empty);
    empty.then(|| Event {
        warning: true,
        reason: "SelectingAll",
        message: "This daemon set is selecting all pods. A non-empty selector is required.".into(),
    })
}

/// Upstream `util.GetTargetNodeName`: the pod's node, or for a pod not yet
/// scheduled the node its `metadata.name In [node]` affinity names.
pub fn target_node(pod: &Pod) -> Option<&str> {
    let spec = pod.spec.as_ref()?;
    if let Some(n) = spec.node_name.as_deref().filter(|n| !n.is_empty()) {
        return Some(n);
    }
    let terms =
        &spec.affinity.as_ref()?.node_affinity.as_ref()?.required_during_scheduling_ignored_during_execution.as_ref()?.node_selector_terms;
    for term in terms {
        for exp in term.match_fields.iter().flatten() {
            if exp.key == "metadata.name" && exp.operator == "In" {
                let values = exp.values.as_deref().unwrap_or_default();
                return (values.len() == 1).then(|| values[0].as_str());
            }
        }
    }
    None
}

/// Upstream `getNodesToDaemonPods`: the DaemonSet's (claimed) pods by their
/// target node; pods both terminal and deleted only when asked for (the
/// history cleanup counts them). Pods with no target node are left out.
pub fn pods_by_node<'a>(pods: &[&'a Pod], include_deleted_terminal: bool) -> BTreeMap<String, Vec<&'a Pod>> {
    let mut out: BTreeMap<String, Vec<&'a Pod>> = BTreeMap::new();
    for p in pods {
        if !include_deleted_terminal && is_pod_terminal(p) && p.metadata.deletion_timestamp.is_some() {
            continue;
        }
        if let Some(node) = target_node(p) {
            out.entry(node.to_string()).or_default().push(p);
        }
    }
    out
}

/// Upstream `podByCreationTimestampAndPhase`: scheduled pods first, then
/// the oldest, then by name.
fn by_creation_and_phase(a: &&Pod, b: &&Pod) -> std::cmp::Ordering {
    let scheduled = |p: &Pod| p.spec.as_ref().and_then(|s| s.node_name.as_deref()).is_some_and(|n| !n.is_empty());
    scheduled(b)
        .cmp(&scheduled(a))
        .then_with(|| a.metadata.creation_timestamp.as_ref().map(|t| t.0).cmp(&b.metadata.creation_timestamp.as_ref().map(|t| t.0)))
        .then_with(|| a.metadata.name.cmp(&b.metadata.name))
}

fn name(p: &Pod) -> String {
    p.metadata.name.clone().unwrap_or_default()
}

fn phase(p: &Pod) -> &str {
    p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default()
}

/// Whether the DaemonSet surges (a RollingUpdate with maxSurge other than 0;
/// upstream `util.AllowsSurge`).
pub fn allows_surge(ds: &DaemonSet) -> bool {
    crate::update::surge_count(ds, 1).is_ok_and(|s| s != 0)
}

/// Upstream `failedPodsBackoff`: per (DaemonSet uid, observed generation,
/// node), when a failed pod was last deleted and how long to wait before
/// the next (1 s doubling to 15 min; an entry idle for twice the maximum
/// starts over).
#[derive(Debug, Default, Clone)]
pub struct FailedPodsBackoff {
    entries: HashMap<String, (Duration, Timestamp)>,
}

impl FailedPodsBackoff {
    /// Upstream `failedPodsBackoffKey`.
    pub fn key(ds: &DaemonSet, node: &str) -> String {
        let generation = ds.status.as_ref().and_then(|s| s.observed_generation).unwrap_or(0);
        format!("{}/{generation}/{node}", ds.metadata.uid.as_deref().unwrap_or_default())
    }

    fn expired(&self, key: &str, now: Timestamp) -> bool {
        self.entries.get(key).is_some_and(|(_, last)| {
            now.duration_since(*last) > SignedDuration::try_from(FAILED_PODS_BACKOFF_MAX * 2).unwrap_or(SignedDuration::MAX)
        })
    }

    /// `IsInBackOffSinceUpdate`: the last deletion is more recent than the back-off.
    pub fn in_backoff(&self, key: &str, now: Timestamp) -> bool {
        match self.entries.get(key) {
            Some((d, last)) if !self.expired(key, now) => {
                now.duration_since(*last) < SignedDuration::try_from(*d).unwrap_or(SignedDuration::MAX)
            }
            _ => false,
        }
    }

    /// `Get`: the current back-off.
    pub fn get(&self, key: &str) -> Duration {
        self.entries.get(key).map(|(d, _)| *d).unwrap_or_default()
    }

    /// `Next`: a deletion now; the back-off doubles (or starts at 1 s).
    pub fn next(&mut self, key: &str, now: Timestamp) {
        let d = match self.entries.get(key) {
            Some((d, _)) if !self.expired(key, now) => (*d * 2).min(FAILED_PODS_BACKOFF_MAX),
            _ => FAILED_PODS_BACKOFF_INITIAL,
        };
        self.entries.insert(key.to_string(), (d, now));
    }

    /// `GC`: entries idle for twice the maximum go.
    pub fn gc(&mut self, now: Timestamp) {
        let max = SignedDuration::try_from(FAILED_PODS_BACKOFF_MAX * 2).unwrap_or(SignedDuration::MAX);
        self.entries.retain(|_, (_, last)| now.duration_since(*last) <= max);
    }
}

/// What the manage step does.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Manage {
    /// Nodes to create a pod on (pinned by node affinity).
    pub create_on: Vec<String>,
    /// Pods to delete, by name.
    pub delete: Vec<String>,
    pub events: Vec<Event>,
    /// Sync again then (a failed pod's deletion waits for its back-off).
    pub requeue_after: Option<Duration>,
}

/// Upstream `manage` with `podsShouldBeOnNode` for every node and
/// `getUnscheduledPodsWithoutNode`.
pub fn manage(
    ds: &DaemonSet,
    nodes: &[&Node],
    by_node: &BTreeMap<String, Vec<&Pod>>,
    hash: &str,
    now: Timestamp,
    backoff: &mut FailedPodsBackoff,
) -> Manage {
    let mut m = Manage::default();
    let surge = allows_surge(ds);
    let min_ready = ds.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let placement = Placement::of(ds);
    for node in nodes {
        let node_name = node.metadata.name.as_deref().unwrap_or_default();
        let (should_run, should_continue) = placement.verdict(node);
        let pods = by_node.get(node_name);
        match (should_run, should_continue, pods) {
            (true, _, None) => m.create_on.push(node_name.to_string()),
            (_, true, _) => {
                let mut running: Vec<&Pod> = Vec::new();
                for p in pods.into_iter().flatten().copied().filter(|p| p.metadata.deletion_timestamp.is_none()) {
                    let ns = p.metadata.namespace.as_deref().unwrap_or_default();
                    if phase(p) == "Succeeded" {
                        m.events.push(Event {
                            warning: false,
                            reason: "SucceededDaemonPod",
                            message: format!("Found succeeded daemon pod {ns}/{} on node {node_name}, will try to delete it", name(p)),
                        });
                        m.delete.push(name(p));
                        continue;
                    }
                    if phase(p) != "Failed" {
                        running.push(p);
                        continue;
                    }
                    let key = FailedPodsBackoff::key(ds, node_name);
                    if backoff.in_backoff(&key, now) {
                        let delay = backoff.get(&key);
                        m.requeue_after = Some(m.requeue_after.map_or(delay, |r| r.min(delay)));
                        continue;
                    }
                    backoff.next(&key, now);
                    m.events.push(Event {
                        warning: true,
                        reason: "FailedDaemonPod",
                        message: format!("Found failed daemon pod {ns}/{} on node {node_name}, will try to kill it", name(p)),
                    });
                    m.delete.push(name(p));
                }
                running.sort_by(by_creation_and_phase);
                if !surge {
                    // One pod per node: all but the oldest go.
                    m.delete.extend(running.iter().skip(1).map(|p| name(p)));
                    continue;
                }
                if running.len() <= 1 {
                    if running.is_empty() && should_run {
                        m.create_on.push(node_name.to_string());
                    }
                    continue;
                }
                // Surging: the oldest new and the oldest old pod may run side by
                // side while the old is ready and the new not yet available.
                let (mut newest, mut oldest): (Option<&Pod>, Option<&Pod>) = (None, None);
                for p in &running {
                    let is_new = p.metadata.labels.as_ref().and_then(|l| l.get(REVISION_HASH_LABEL)).map(String::as_str) == Some(hash);
                    let slot = if is_new { &mut newest } else { &mut oldest };
                    if slot.is_none() {
                        *slot = Some(p);
                    } else {
                        m.delete.push(name(p));
                    }
                }
                if let (Some(new), Some(old)) = (newest, oldest)
                    && (!is_pod_ready(old) || is_pod_available(new, min_ready, now))
                {
                    m.delete.push(name(old));
                }
            }
            (_, false, Some(pods)) => {
                m.delete.extend(pods.iter().filter(|p| p.metadata.deletion_timestamp.is_none()).map(|p| name(p)));
            }
            (false, false, None) => {}
        }
    }
    // Pods never scheduled, pinned to nodes that do not exist.
    for (node, pods) in by_node {
        if nodes.iter().any(|n| n.metadata.name.as_deref() == Some(node.as_str())) {
            continue;
        }
        m.delete.extend(
            pods.iter().filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()).is_none_or(str::is_empty)).map(|p| name(p)),
        );
    }
    m
}

/// The status counts of upstream `updateDaemonSetStatus`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub desired_number_scheduled: i32,
    pub current_number_scheduled: i32,
    pub number_misscheduled: i32,
    pub number_ready: i32,
    pub updated_number_scheduled: i32,
    pub number_available: i32,
    pub number_unavailable: i32,
}

/// Upstream `updateDaemonSetStatus`'s counting: per node that should run
/// the pod, whether it has one (the oldest counts: ready, available,
/// updated); pods on nodes that should not run it are misscheduled.
pub fn counts(ds: &DaemonSet, nodes: &[&Node], by_node: &BTreeMap<String, Vec<&Pod>>, hash: &str, now: Timestamp) -> Counts {
    let mut c = Counts::default();
    let min_ready = ds.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
    let generation = template_generation(ds).ok().flatten();
    let placement = Placement::of(ds);
    for node in nodes {
        let (should_run, _) = placement.verdict(node);
        let pods = by_node.get(node.metadata.name.as_deref().unwrap_or_default()).filter(|p| !p.is_empty());
        match (should_run, pods) {
            (true, None) => c.desired_number_scheduled += 1,
            (true, Some(pods)) => {
                c.desired_number_scheduled += 1;
                c.current_number_scheduled += 1;
                let mut pods = pods.clone();
                pods.sort_by(by_creation_and_phase);
                let pod = pods[0];
                if is_pod_ready(pod) {
                    c.number_ready += 1;
                    if is_pod_available(pod, min_ready, now) {
                        c.number_available += 1;
                    }
                }
                if is_pod_updated(pod, hash, generation) {
                    c.updated_number_scheduled += 1;
                }
            }
            (false, Some(_)) => c.number_misscheduled += 1,
            (false, None) => {}
        }
    }
    c.number_unavailable = c.desired_number_scheduled - c.number_available;
    c
}

/// Upstream `storeDaemonSetStatus`: the status to write, or `None` when the
/// counts are unchanged and the observed generation is current.
/// `observe` raises observedGeneration (not while expectations are pending).
pub fn status_update(ds: &DaemonSet, c: Counts, observe: bool) -> Option<DaemonSetStatus> {
    let old = ds.status.clone().unwrap_or_default();
    let generation = ds.metadata.generation.unwrap_or(0);
    let same = old.desired_number_scheduled == c.desired_number_scheduled
        && old.current_number_scheduled == c.current_number_scheduled
        && old.number_misscheduled == c.number_misscheduled
        && old.number_ready == c.number_ready
        && old.updated_number_scheduled.unwrap_or(0) == c.updated_number_scheduled
        && old.number_available.unwrap_or(0) == c.number_available
        && old.number_unavailable.unwrap_or(0) == c.number_unavailable
        && old.observed_generation.unwrap_or(0) >= generation;
    if same {
        return None;
    }
    let mut s = old;
    if observe {
        s.observed_generation = Some(generation);
    }
    s.desired_number_scheduled = c.desired_number_scheduled;
    s.current_number_scheduled = c.current_number_scheduled;
    s.number_misscheduled = c.number_misscheduled;
    s.number_ready = c.number_ready;
    s.updated_number_scheduled = Some(c.updated_number_scheduled);
    s.number_available = Some(c.number_available);
    s.number_unavailable = Some(c.number_unavailable);
    Some(s)
}

/// Upstream's last line of defence against clock skew: with minReadySeconds
/// and ready pods not yet available, sync again after minReadySeconds.
pub fn status_requeue(ds: &DaemonSet, c: Counts) -> Option<Duration> {
    let min_ready = ds.spec.as_ref().and_then(|s| s.min_ready_seconds).unwrap_or(0);
    (min_ready > 0 && c.number_ready != c.number_available).then(|| Duration::from_secs(min_ready as u64))
}

#[cfg(test)]
mod tests;
