//! The scheduling queue (upstream `internal/queue.PriorityQueue`), pure:
//! time is passed in.
//!
//! * **active**: pods ready to be tried, highest `spec.priority` first, then
//!   the earliest queued (the PrioritySort plugin);
//! * **backoff**: pods that failed, waiting `initial × 2^(attempts-1)`
//!   (capped at the maximum) before going back to active;
//! * **unschedulable**: pods no node fits, parked until a cluster event
//!   that could help ([`Queue::move_all`]), or for at most
//!   [`MAX_IN_UNSCHEDULABLE`] (then they are retried anyway);
//! * **gated**: pods with `spec.schedulingGates`, not tried until the gates
//!   are removed.
//!
//! A cluster event that arrives while a pod is being tried sends that pod,
//! if it fails, to backoff instead of unschedulable: the event may have
//! made it schedulable (upstream's move request cycle).

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use tokio::time::Instant;

/// How long a pod stays unschedulable without any event before it is tried
/// again (upstream `podMaxInUnschedulablePodsDuration`).
pub const MAX_IN_UNSCHEDULABLE: Duration = Duration::from_secs(5 * 60);

/// Which sub-queue a pod is in, as `scheduler_pending_pods{queue}` names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Where {
    Active,
    Backoff,
    Unschedulable,
    Gated,
    /// Popped and being tried.
    InFlight,
}

impl Where {
    pub fn label(self) -> &'static str {
        match self {
            Where::Active => "active",
            Where::Backoff => "backoff",
            Where::Unschedulable => "unschedulable",
            Where::Gated => "gated",
            Where::InFlight => "inflight",
        }
    }
}

/// A queued pod.
#[derive(Debug, Clone)]
pub struct QueuedPod {
    pub pod: Arc<Pod>,
    /// When it entered the queue the last time (orders equal priorities).
    pub timestamp: Instant,
    /// When it was first seen (for `scheduling_attempt_duration` and e2e latency).
    pub initial: Instant,
    /// Scheduling attempts so far.
    pub attempts: u32,
    /// The plugins that rejected it last (for event-based requeueing).
    pub rejected_by: Vec<&'static str>,
    /// When its back-off ends.
    backoff_until: Instant,
    /// The queue's cycle when it was popped.
    popped_cycle: u64,
    place: Where,
}

impl QueuedPod {
    fn priority(&self) -> i32 {
        self.pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0)
    }
}

fn gated(pod: &Pod) -> bool {
    pod.spec.as_ref().and_then(|s| s.scheduling_gates.as_ref()).is_some_and(|g| !g.is_empty())
}

/// Key of the active heap: higher priority first, then earlier.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ActiveKey {
    priority: i32,
    timestamp: Instant,
    seq: u64,
    uid: String,
}

impl Ord for ActiveKey {
    fn cmp(&self, o: &Self) -> Ordering {
        o.priority.cmp(&self.priority).then(self.timestamp.cmp(&o.timestamp)).then(self.seq.cmp(&o.seq)).then(self.uid.cmp(&o.uid))
    }
}

impl PartialOrd for ActiveKey {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}

/// The queue.
pub struct Queue {
    initial_backoff: Duration,
    max_backoff: Duration,
    pods: HashMap<String, QueuedPod>,
    active: BTreeSet<ActiveKey>,
    cycle: u64,
    move_request_cycle: u64,
    seq: u64,
}

fn uid(pod: &Pod) -> String {
    pod.metadata.uid.clone().unwrap_or_default()
}

impl Queue {
    pub fn new(initial_backoff: Duration, max_backoff: Duration) -> Queue {
        Queue { initial_backoff, max_backoff, pods: HashMap::new(), active: BTreeSet::new(), cycle: 0, move_request_cycle: 0, seq: 0 }
    }

    fn push_active(&mut self, uid: &str, now: Instant) {
        let Some(p) = self.pods.get_mut(uid) else { return };
        self.seq += 1;
        p.place = Where::Active;
        p.timestamp = now;
        self.active.insert(ActiveKey { priority: p.priority(), timestamp: now, seq: self.seq, uid: uid.to_string() });
    }

    fn remove_active(&mut self, uid: &str) {
        self.active.retain(|k| k.uid != uid);
    }

    /// A new pending pod (or one seen again after a watch restart).
    pub fn add(&mut self, pod: Arc<Pod>, now: Instant) {
        let id = uid(&pod);
        if let Some(p) = self.pods.get_mut(&id) {
            p.pod = pod;
            return;
        }
        let place = if gated(&pod) { Where::Gated } else { Where::Active };
        self.pods.insert(
            id.clone(),
            QueuedPod { pod, timestamp: now, initial: now, attempts: 0, rejected_by: vec![], backoff_until: now, popped_cycle: 0, place },
        );
        if place == Where::Active {
            self.push_active(&id, now);
        }
    }

    /// A pending pod changed: its gates may be gone, or its spec changed in
    /// a way that may make it schedulable (upstream moves an updated
    /// unschedulable pod to active or backoff).
    pub fn update(&mut self, pod: Arc<Pod>, now: Instant) {
        let id = uid(&pod);
        let Some(p) = self.pods.get_mut(&id) else {
            self.add(pod, now);
            return;
        };
        // The claims recorded for its templates (upstream's
        // UpdatePodGeneratedResourceClaim event) count as a change too.
        let claims = |p: &Pod| p.status.as_ref().and_then(|s| s.resource_claim_statuses.clone());
        let spec_changed = p.pod.spec != pod.spec || p.pod.metadata.labels != pod.metadata.labels || claims(&p.pod) != claims(&pod);
        p.pod = pod;
        match p.place {
            Where::Gated if !gated(&p.pod) => self.push_active(&id, now),
            Where::Unschedulable if spec_changed => self.requeue(&id, now),
            Where::Active => {
                // The priority may have changed: re-key.
                let ts = p.timestamp;
                self.remove_active(&id);
                self.push_active(&id, ts);
            }
            _ => {}
        }
    }

    /// The pod is gone, or bound, or no longer ours.
    pub fn delete(&mut self, uid: &str) {
        if self.pods.remove(uid).is_some() {
            self.remove_active(uid);
        }
    }

    /// To active if its back-off is over, else to backoff.
    fn requeue(&mut self, uid: &str, now: Instant) {
        let Some(p) = self.pods.get_mut(uid) else { return };
        if p.backoff_until <= now {
            self.push_active(uid, now);
        } else {
            p.place = Where::Backoff;
        }
    }

    /// The next pod to try, if any is active. It stays known to the queue
    /// (in flight) until [`Queue::done`], [`Queue::failed`] or
    /// [`Queue::delete`].
    pub fn pop(&mut self) -> Option<QueuedPod> {
        let key = self.active.pop_first()?;
        self.cycle += 1;
        let p = self.pods.get_mut(&key.uid)?;
        p.place = Where::InFlight;
        p.attempts += 1;
        p.popped_cycle = self.cycle;
        Some(p.clone())
    }

    /// A pod whose binding failed after it left the queue: back in, backing
    /// off as after `attempts` attempts.
    pub fn add_backoff(&mut self, pod: Arc<Pod>, attempts: u32, now: Instant) {
        let id = uid(&pod);
        self.delete(&id);
        let backoff_until = now + self.backoff(attempts);
        let place = if gated(&pod) { Where::Gated } else { Where::Backoff };
        self.pods.insert(
            id,
            QueuedPod { pod, timestamp: now, initial: now, attempts, rejected_by: vec![], backoff_until, popped_cycle: 0, place },
        );
    }

    /// Forgets every pod whose uid `keep` rejects (after a watch re-list).
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        let gone: Vec<String> = self.pods.keys().filter(|k| !keep(k)).cloned().collect();
        for id in gone {
            self.delete(&id);
        }
    }

    /// The pod was scheduled (assumed and bound, or being bound).
    pub fn done(&mut self, uid: &str) {
        self.delete(uid);
    }

    /// The back-off after `attempts` attempts.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let mut d = self.initial_backoff;
        for _ in 1..attempts {
            d = d.saturating_mul(2);
            if d >= self.max_backoff {
                return self.max_backoff;
            }
        }
        d.min(self.max_backoff)
    }

    /// The pod could not be scheduled. `unschedulable`: no node fits (as
    /// opposed to an error); `rejected_by`: the plugins that said no.
    pub fn failed(&mut self, uid: &str, unschedulable: bool, rejected_by: Vec<&'static str>, now: Instant) {
        let backoff = self.pods.get(uid).map(|p| self.backoff(p.attempts)).unwrap_or_default();
        let move_request_cycle = self.move_request_cycle;
        let Some(p) = self.pods.get_mut(uid) else { return };
        if p.place != Where::InFlight {
            return;
        }
        p.rejected_by = rejected_by;
        p.backoff_until = now + backoff;
        p.timestamp = now;
        if gated(&p.pod) {
            p.place = Where::Gated;
        } else if unschedulable && move_request_cycle < p.popped_cycle {
            p.place = Where::Unschedulable;
        } else {
            p.place = Where::Backoff;
        }
    }

    /// A cluster event that may make unschedulable pods schedulable:
    /// those for which `may_help` says so go to active (or backoff if still
    /// backing off). Pods in flight that fail afterwards go to backoff.
    pub fn move_all(&mut self, now: Instant, may_help: impl Fn(&QueuedPod) -> bool) {
        self.move_request_cycle = self.cycle;
        let ids: Vec<String> =
            self.pods.iter().filter(|(_, p)| p.place == Where::Unschedulable && may_help(p)).map(|(k, _)| k.clone()).collect();
        for id in ids {
            self.requeue(&id, now);
        }
    }

    /// Periodic work: back-offs that ended go to active, pods unschedulable
    /// for longer than [`MAX_IN_UNSCHEDULABLE`] are retried. Returns the
    /// earliest moment something will be due, if any.
    pub fn flush(&mut self, now: Instant) -> Option<Instant> {
        let mut due = Vec::new();
        let mut next: Option<Instant> = None;
        for (id, p) in &self.pods {
            let at = match p.place {
                Where::Backoff => p.backoff_until,
                Where::Unschedulable => p.timestamp + MAX_IN_UNSCHEDULABLE,
                _ => continue,
            };
            if at <= now {
                due.push(id.clone());
            } else {
                next = Some(next.map_or(at, |n| n.min(at)));
            }
        }
        for id in due {
            self.push_active(&id, now);
        }
        next
    }

    /// Whether a pod is known, and where.
    pub fn place(&self, uid: &str) -> Option<Where> {
        self.pods.get(uid).map(|p| p.place)
    }

    /// Pods per place, for `scheduler_pending_pods`.
    pub fn counts(&self) -> HashMap<Where, usize> {
        let mut c = HashMap::new();
        for p in self.pods.values() {
            *c.entry(p.place).or_default() += 1;
        }
        c
    }

    /// Pending pods nominated to a node by preemption, by node.
    pub fn nominated(&self) -> impl Iterator<Item = (&str, &Arc<Pod>)> {
        self.pods.values().filter_map(|p| {
            let node = p.pod.status.as_ref()?.nominated_node_name.as_deref().filter(|n| !n.is_empty())?;
            Some((node, &p.pod))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod(name: &str, priority: i32) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(json!({"metadata": {"name": name, "uid": name}, "spec": {"priority": priority, "containers": []}}))
                .unwrap(),
        )
    }

    fn gated_pod(name: &str) -> Arc<Pod> {
        Arc::new(
            serde_json::from_value(
                json!({"metadata": {"name": name, "uid": name}, "spec": {"schedulingGates": [{"name": "wait"}], "containers": []}}),
            )
            .unwrap(),
        )
    }

    fn names(q: &mut Queue) -> Vec<String> {
        std::iter::from_fn(|| q.pop()).map(|p| p.pod.metadata.name.clone().unwrap()).collect()
    }

    fn queue() -> Queue {
        Queue::new(Duration::from_secs(1), Duration::from_secs(10))
    }

    #[test]
    fn higher_priority_first_then_arrival() {
        let t = Instant::now();
        let mut q = queue();
        q.add(pod("low-1", 0), t);
        q.add(pod("high", 100), t + Duration::from_millis(2));
        q.add(pod("low-2", 0), t + Duration::from_millis(1));
        q.add(pod("negative", -5), t);
        assert_eq!(names(&mut q), ["high", "low-1", "low-2", "negative"]);
    }

    #[test]
    fn backoff_doubles_from_initial_up_to_max() {
        let q = queue();
        let secs: Vec<u64> = (1..=6).map(|a| q.backoff(a).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 10, 10]);
        assert_eq!(q.backoff(1000), Duration::from_secs(10));
    }

    #[test]
    fn an_error_backs_off_and_comes_back() {
        let t = Instant::now();
        let mut q = queue();
        q.add(pod("p", 0), t);
        let p = q.pop().unwrap();
        assert_eq!(p.attempts, 1);
        q.failed("p", false, vec![], t);
        assert_eq!(q.place("p"), Some(Where::Backoff));
        assert_eq!(q.flush(t + Duration::from_millis(500)), Some(t + Duration::from_secs(1)));
        assert!(q.pop().is_none());
        q.flush(t + Duration::from_secs(1));
        assert_eq!(q.pop().unwrap().attempts, 2);
    }

    #[test]
    fn unschedulable_pods_wait_for_an_event_that_may_help() {
        let t = Instant::now();
        let mut q = queue();
        q.add(pod("a", 0), t);
        q.add(pod("b", 0), t);
        q.pop().unwrap();
        q.pop().unwrap();
        q.failed("a", true, vec!["NodeResourcesFit"], t);
        q.failed("b", true, vec!["TaintToleration"], t);
        assert_eq!(q.place("a"), Some(Where::Unschedulable));
        // Nothing comes back by itself within five minutes...
        q.flush(t + Duration::from_secs(60));
        assert!(q.pop().is_none());
        // ...an event that may help "a" moves it (its back-off is over).
        q.move_all(t + Duration::from_secs(61), |p| p.rejected_by.contains(&"NodeResourcesFit"));
        assert_eq!(q.place("a"), Some(Where::Active));
        assert_eq!(q.place("b"), Some(Where::Unschedulable));
        // After five minutes "b" is retried anyway.
        q.flush(t + MAX_IN_UNSCHEDULABLE);
        assert_eq!(q.place("b"), Some(Where::Active));
    }

    #[test]
    fn an_event_during_the_attempt_sends_a_failure_to_backoff() {
        let t = Instant::now();
        let mut q = queue();
        q.add(pod("p", 0), t);
        q.pop().unwrap();
        q.move_all(t, |_| true);
        q.failed("p", true, vec!["NodeResourcesFit"], t);
        assert_eq!(q.place("p"), Some(Where::Backoff));
    }

    #[test]
    fn a_moved_pod_still_backing_off_waits_in_backoff() {
        let t = Instant::now();
        let mut q = queue();
        q.add(pod("p", 0), t);
        q.pop().unwrap();
        q.failed("p", true, vec![], t);
        q.move_all(t + Duration::from_millis(100), |_| true);
        assert_eq!(q.place("p"), Some(Where::Backoff));
        q.flush(t + Duration::from_secs(1));
        assert_eq!(q.place("p"), Some(Where::Active));
    }

    #[test]
    fn gated_pods_wait_for_their_gates_to_go() {
        let t = Instant::now();
        let mut q = queue();
        q.add(gated_pod("g"), t);
        assert_eq!(q.place("g"), Some(Where::Gated));
        assert!(q.pop().is_none());
        q.update(pod("g", 0), t);
        assert_eq!(q.place("g"), Some(Where::Active));
        assert_eq!(q.counts().get(&Where::Active), Some(&1));
    }

    #[test]
    fn deleted_and_done_pods_leave() {
        let t = Instant::now();
        let mut q = queue();
        q.add(pod("a", 0), t);
        q.add(pod("b", 0), t);
        q.delete("a");
        let b = q.pop().unwrap();
        q.done(b.pod.metadata.uid.as_deref().unwrap());
        assert!(q.pop().is_none());
        assert!(q.counts().is_empty());
    }

    #[test]
    fn a_failed_binding_backs_off_and_a_relist_forgets_the_vanished() {
        let t = Instant::now();
        let mut q = queue();
        q.add_backoff(pod("p", 0), 3, t);
        assert_eq!(q.place("p"), Some(Where::Backoff));
        q.flush(t + Duration::from_secs(4));
        assert_eq!(q.pop().unwrap().attempts, 4);
        q.add(pod("a", 0), t);
        q.add(pod("b", 0), t);
        q.retain(|uid| uid == "b");
        assert_eq!((q.place("a"), q.place("b")), (None, Some(Where::Active)));
    }

    #[test]
    fn a_spec_change_retries_an_unschedulable_pod() {
        let t = Instant::now();
        let mut q = queue();
        q.add(pod("p", 0), t);
        q.pop().unwrap();
        q.failed("p", true, vec![], t);
        q.update(pod("p", 0), t + Duration::from_secs(2));
        assert_eq!(q.place("p"), Some(Where::Unschedulable), "nothing changed");
        q.update(pod("p", 7), t + Duration::from_secs(2));
        assert_eq!(q.place("p"), Some(Where::Active));
    }
}
