//! client-go's `workqueue_*` metrics for kube-runtime controllers.
//!
//! kube-runtime's `Controller` has no workqueue of client-go's kind: its
//! scheduler holds one pending request per object (merging repeated
//! triggers, and holding a trigger for an object that is being reconciled
//! until that reconcile ends), and runs reconciles concurrently. Each
//! client-go metric is measured on the equivalent:
//!
//! | metric | here |
//! | --- | --- |
//! | `workqueue_adds_total` | every trigger of an object (watch event of the object or of an object it owns), and every requeue kube-runtime's scheduler fires (an `Action::requeue` or an error's backoff) |
//! | `workqueue_depth` | objects triggered and not yet being reconciled |
//! | `workqueue_queue_duration_seconds` | from an object's first pending trigger to the start of its reconcile (zero for scheduler requeues, which, as client-go's `AddAfter`, are added when their delay ends) |
//! | `workqueue_work_duration_seconds` | reconcile duration |
//! | `workqueue_retries_total` | reconciles that failed and were requeued with backoff (client-go's `AddRateLimited`) |
//! | `workqueue_unfinished_work_seconds` | sum of the ages of the reconciles running now |
//! | `workqueue_longest_running_processor_seconds` | age of the longest reconcile running now |
//!
//! The last two are refreshed by [`WorkqueueFamilies::update_unfinished`],
//! which the runtime calls every 500 ms as client-go does.

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::time::Instant;

use crate::leader::NameLabel;

type Histograms = Family<NameLabel, Histogram, fn() -> Histogram>;
type SecondsGauges = Family<NameLabel, Gauge<f64, AtomicU64>>;

/// client-go's buckets: 10 ns to 10 s, by tens.
fn duration_histogram() -> Histogram {
    Histogram::new(exponential_buckets(10e-9, 10.0, 10))
}

/// The metric families, as each queue holds them.
#[derive(Clone, Debug)]
struct Families {
    depth: Family<NameLabel, Gauge>,
    adds: Family<NameLabel, Counter>,
    queue_duration: Histograms,
    work_duration: Histograms,
    retries: Family<NameLabel, Counter>,
    unfinished: SecondsGauges,
    longest: SecondsGauges,
    reconciles: Family<ReconcileLabels, Counter>,
}

/// Labels of `rudder_controller_reconcile_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
struct ReconcileLabels {
    controller: String,
    /// `success`, `requeue_after` (succeeded and asked to be looked at
    /// again later) or `error`.
    result: &'static str,
}

const RESULTS: [&str; 3] = ["success", "requeue_after", "error"];

/// The workqueue metric families of one binary.
#[derive(Clone, Debug)]
pub struct WorkqueueFamilies {
    families: Families,
    /// Every queue made, for [`WorkqueueFamilies::update_unfinished`].
    queues: Arc<Mutex<Vec<WorkqueueMetrics>>>,
}

impl WorkqueueFamilies {
    /// Registers the families under client-go's names (prometheus-client
    /// adds `_total` to counters).
    pub fn new(registry: &mut Registry) -> WorkqueueFamilies {
        let f = Families {
            depth: Family::default(),
            adds: Family::default(),
            queue_duration: Family::new_with_constructor(duration_histogram),
            work_duration: Family::new_with_constructor(duration_histogram),
            retries: Family::default(),
            unfinished: Family::default(),
            longest: Family::default(),
            reconciles: Family::default(),
        };
        registry.register("workqueue_depth", "Current depth of workqueue", f.depth.clone());
        registry.register("workqueue_adds", "Total number of adds handled by workqueue", f.adds.clone());
        registry.register(
            "workqueue_queue_duration_seconds",
            "How long in seconds an item stays in workqueue before being requested",
            f.queue_duration.clone(),
        );
        registry.register(
            "workqueue_work_duration_seconds",
            "How long in seconds processing an item from workqueue takes",
            f.work_duration.clone(),
        );
        registry.register("workqueue_retries", "Total number of retries handled by workqueue", f.retries.clone());
        registry.register(
            "workqueue_unfinished_work_seconds",
            "How many seconds of work has been done that is in progress and hasn't been observed by work_duration. Large values indicate stuck threads. One can deduce the number of stuck threads by observing the rate at which this increases",
            f.unfinished.clone(),
        );
        registry.register(
            "workqueue_longest_running_processor_seconds",
            "How many seconds has the longest running processor for workqueue been running",
            f.longest.clone(),
        );
        registry.register(
            "rudder_controller_reconcile",
            "Reconciles by controller and result: success, requeue_after (succeeded, to be looked at again after a delay) or error",
            f.reconciles.clone(),
        );
        WorkqueueFamilies { families: f, queues: Arc::default() }
    }

    /// The metrics of the queue called `name` (the controller's name).
    pub fn queue(&self, name: &str) -> WorkqueueMetrics {
        let label = NameLabel { name: name.to_string() };
        let f = &self.families;
        // Every family shows the queue from the start, at zero.
        f.depth.get_or_create(&label).set(0);
        let _ = f.adds.get_or_create(&label);
        let _ = f.queue_duration.get_or_create(&label);
        let _ = f.work_duration.get_or_create(&label);
        let _ = f.retries.get_or_create(&label);
        f.unfinished.get_or_create(&label).set(0.0);
        f.longest.get_or_create(&label).set(0.0);
        for result in RESULTS {
            let _ = f.reconciles.get_or_create(&ReconcileLabels { controller: name.to_string(), result });
        }
        let q = WorkqueueMetrics {
            families: f.clone(),
            label,
            state: Arc::new(Mutex::new(QueueState::default())),
            limiter: Arc::new(RateLimiter::default()),
        };
        self.queues.lock().unwrap_or_else(|p| p.into_inner()).push(q.clone());
        q
    }

    /// Refreshes the unfinished-work gauges of every queue.
    pub fn update_unfinished(&self, now: Instant) {
        let queues = self.queues.lock().unwrap_or_else(|p| p.into_inner()).clone();
        for q in queues {
            q.update_unfinished(now);
        }
    }
}

#[derive(Debug, Default)]
struct QueueState {
    /// Objects triggered and not being reconciled yet, with their first trigger's time.
    pending: HashMap<String, Instant>,
    /// Reconciles running now, by a sequence number.
    running: HashMap<u64, Instant>,
    next: u64,
}

/// client-go's queue key of an object: `namespace/name`, or `name`.
pub fn key_of<K: kube::Resource>(obj: &K) -> String {
    let name = obj.meta().name.as_deref().unwrap_or_default();
    match obj.meta().namespace.as_deref() {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_string(),
    }
}

/// One controller's queue metrics. Cheap to clone.
#[derive(Clone, Debug)]
pub struct WorkqueueMetrics {
    families: Families,
    label: NameLabel,
    state: Arc<Mutex<QueueState>>,
    limiter: Arc<RateLimiter>,
}

/// A reconcile in progress; its duration is observed when it is dropped.
#[derive(Debug)]
pub struct Work {
    metrics: WorkqueueMetrics,
    id: u64,
    started: Instant,
}

impl Drop for Work {
    fn drop(&mut self) {
        let mut s = self.metrics.lock();
        s.running.remove(&self.id);
        self.metrics.families.work_duration.get_or_create(&self.metrics.label).observe(self.started.elapsed().as_secs_f64());
    }
}

impl WorkqueueMetrics {
    fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An object (by key) was triggered at `now`.
    pub fn add(&self, key: &str, now: Instant) {
        let mut s = self.lock();
        self.families.adds.get_or_create(&self.label).inc();
        s.pending.entry(key.to_string()).or_insert(now);
        self.families.depth.get_or_create(&self.label).set(s.pending.len() as i64);
    }

    /// A reconcile of `key` starts at `now`. A key with no pending trigger
    /// was requeued by the scheduler: it counts as added now.
    pub fn start(&self, key: &str, now: Instant) -> Work {
        let mut s = self.lock();
        let queued = match s.pending.remove(key) {
            Some(at) => now.saturating_duration_since(at),
            None => {
                self.families.adds.get_or_create(&self.label).inc();
                std::time::Duration::ZERO
            }
        };
        self.families.queue_duration.get_or_create(&self.label).observe(queued.as_secs_f64());
        self.families.depth.get_or_create(&self.label).set(s.pending.len() as i64);
        let id = s.next;
        s.next += 1;
        s.running.insert(id, now);
        Work { metrics: self.clone(), id, started: now }
    }

    /// Runs one reconcile of `key`: measured as [`WorkqueueMetrics::start`]
    /// does, and, when it succeeds, counted as [`WorkqueueMetrics::succeeded`]
    /// does. (Failures are counted by the error policy, with
    /// [`WorkqueueMetrics::failed`], which also gives the retry's delay.)
    pub async fn reconcile<E>(
        &self,
        key: &str,
        run: impl std::future::Future<Output = Result<kube::runtime::controller::Action, E>>,
    ) -> Result<kube::runtime::controller::Action, E> {
        let _work = self.start(key, Instant::now());
        let out = run.await;
        if let Ok(action) = &out {
            self.succeeded(key, *action != kube::runtime::controller::Action::await_change());
        }
        out
    }

    fn count(&self, result: &'static str) {
        self.families.reconciles.get_or_create(&ReconcileLabels { controller: self.label.name.clone(), result }).inc();
    }

    /// A reconcile of `key` succeeded (`requeue`: it asked to be looked at
    /// again after a delay): counted, and its failures in a row forgotten
    /// (client-go's `Forget`).
    pub fn succeeded(&self, key: &str, requeue: bool) {
        self.limiter.forget(key);
        self.count(if requeue { "requeue_after" } else { "success" });
    }

    /// A reconcile of `key` failed at `now`: counted as a retry, and the
    /// delay before it is retried returned, from client-go's default
    /// controller rate limiter (client-go's `AddRateLimited`).
    pub fn failed(&self, key: &str, now: Instant) -> std::time::Duration {
        self.families.retries.get_or_create(&self.label).inc();
        self.count("error");
        self.limiter.when(key, now)
    }

    /// Refreshes the unfinished-work and longest-running gauges.
    pub fn update_unfinished(&self, now: Instant) {
        let s = self.lock();
        let ages = s.running.values().map(|t| now.saturating_duration_since(*t).as_secs_f64());
        let (sum, max) = ages.fold((0.0, 0.0), |(sum, max): (f64, f64), a| (sum + a, max.max(a)));
        self.families.unfinished.get_or_create(&self.label).set(sum);
        self.families.longest.get_or_create(&self.label).set(max);
    }
}

/// client-go's `DefaultControllerRateLimiter`: the delay before retrying a
/// key that failed is the larger of a per-key exponential backoff (5 ms,
/// doubling with each failure in a row, at most 1000 s) and an overall token
/// bucket (10 retries a second, bursts of 100), so one broken object backs
/// off on its own and many failing at once cannot flood the API server.
/// [`RateLimiter::forget`] after a success starts the key over.
#[derive(Debug)]
pub struct RateLimiter {
    base: std::time::Duration,
    max: std::time::Duration,
    qps: f64,
    burst: f64,
    inner: Mutex<Limits>,
}

#[derive(Debug)]
struct Limits {
    failures: HashMap<String, u32>,
    /// Tokens left at `at`.
    tokens: f64,
    at: Instant,
}

impl Default for RateLimiter {
    fn default() -> Self {
        RateLimiter::new(std::time::Duration::from_millis(5), std::time::Duration::from_secs(1000), 10.0, 100)
    }
}

impl RateLimiter {
    pub fn new(base: std::time::Duration, max: std::time::Duration, qps: f64, burst: u32) -> RateLimiter {
        let burst = f64::from(burst.max(1));
        RateLimiter { base, max, qps, burst, inner: Mutex::new(Limits { failures: HashMap::new(), tokens: burst, at: Instant::now() }) }
    }

    /// Records a failure of `key` and returns how long to wait before
    /// retrying it.
    pub fn when(&self, key: &str, now: Instant) -> std::time::Duration {
        let mut l = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let n = l.failures.entry(key.to_string()).or_insert(0);
        let exp = 2f64.powi(i32::try_from(*n).unwrap_or(i32::MAX).min(64));
        *n = n.saturating_add(1);
        let backoff = self.base.mul_f64(exp.min(self.max.as_secs_f64() / self.base.as_secs_f64().max(1e-9))).min(self.max);
        // The bucket: refill since the last take, then take one token (the
        // balance may go negative: the retry waits until it is paid back).
        let elapsed = now.saturating_duration_since(l.at).as_secs_f64();
        l.tokens = (l.tokens + elapsed * self.qps).min(self.burst) - 1.0;
        l.at = now.max(l.at);
        let bucket = if l.tokens >= 0.0 { std::time::Duration::ZERO } else { std::time::Duration::from_secs_f64(-l.tokens / self.qps) };
        backoff.max(bucket)
    }

    /// How many times in a row `key` has failed.
    pub fn failures(&self, key: &str) -> u32 {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).failures.get(key).copied().unwrap_or(0)
    }

    /// `key` succeeded: its next failure backs off from the start again.
    pub fn forget(&self, key: &str) {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).failures.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn value(registry: &Registry, prefix: &str) -> String {
        let (text, _) = crate::http::render_metrics(registry, None).expect("encodes");
        text.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no {prefix} in\n{text}")).to_string()
    }

    #[test]
    fn repeated_triggers_count_as_adds_but_queue_once() {
        let mut registry = Registry::default();
        let q = WorkqueueFamilies::new(&mut registry).queue("replicaset");
        let t0 = Instant::now();
        q.add("ns/a", t0);
        q.add("ns/a", t0 + Duration::from_secs(1));
        q.add("ns/b", t0 + Duration::from_secs(1));
        assert_eq!(value(&registry, "workqueue_adds_total{"), r#"workqueue_adds_total{name="replicaset"} 3"#);
        assert_eq!(value(&registry, "workqueue_depth{"), r#"workqueue_depth{name="replicaset"} 2"#);
        // Queued from the first trigger: 3 s.
        let work = q.start("ns/a", t0 + Duration::from_secs(3));
        assert_eq!(value(&registry, "workqueue_depth{"), r#"workqueue_depth{name="replicaset"} 1"#);
        assert_eq!(
            value(&registry, "workqueue_queue_duration_seconds_sum{"),
            r#"workqueue_queue_duration_seconds_sum{name="replicaset"} 3.0"#
        );
        drop(work);
        assert_eq!(
            value(&registry, "workqueue_work_duration_seconds_count{"),
            r#"workqueue_work_duration_seconds_count{name="replicaset"} 1"#
        );
    }

    #[test]
    fn a_scheduler_requeue_counts_as_an_add_with_no_queue_time() {
        let mut registry = Registry::default();
        let q = WorkqueueFamilies::new(&mut registry).queue("job");
        let _w = q.start("ns/a", Instant::now());
        assert_eq!(value(&registry, "workqueue_adds_total{"), r#"workqueue_adds_total{name="job"} 1"#);
        assert_eq!(value(&registry, "workqueue_queue_duration_seconds_sum{"), r#"workqueue_queue_duration_seconds_sum{name="job"} 0.0"#);
        assert_eq!(q.failed("ns/a", Instant::now()), Duration::from_millis(5));
        assert_eq!(q.failed("ns/a", Instant::now()), Duration::from_millis(10));
        assert_eq!(value(&registry, "workqueue_retries_total{"), r#"workqueue_retries_total{name="job"} 2"#);
        assert_eq!(
            value(&registry, "rudder_controller_reconcile_total{controller=\"job\",result=\"error\"}"),
            r#"rudder_controller_reconcile_total{controller="job",result="error"} 2"#
        );
        q.succeeded("ns/a", true);
        assert_eq!(
            value(&registry, "rudder_controller_reconcile_total{controller=\"job\",result=\"requeue_after\"}"),
            r#"rudder_controller_reconcile_total{controller="job",result="requeue_after"} 1"#
        );
        // A success starts the key's backoff over.
        assert_eq!(q.failed("ns/a", Instant::now()), Duration::from_millis(5));
    }

    #[test]
    fn unfinished_work_sums_running_reconciles_and_longest_is_the_oldest() {
        let mut registry = Registry::default();
        let q = WorkqueueFamilies::new(&mut registry).queue("hpa");
        let t0 = Instant::now();
        let a = q.start("ns/a", t0);
        let _b = q.start("ns/b", t0 + Duration::from_secs(2));
        q.update_unfinished(t0 + Duration::from_secs(5));
        assert_eq!(value(&registry, "workqueue_unfinished_work_seconds{"), r#"workqueue_unfinished_work_seconds{name="hpa"} 8.0"#);
        assert_eq!(
            value(&registry, "workqueue_longest_running_processor_seconds{"),
            r#"workqueue_longest_running_processor_seconds{name="hpa"} 5.0"#
        );
        drop(a);
        q.update_unfinished(t0 + Duration::from_secs(5));
        assert_eq!(
            value(&registry, "workqueue_longest_running_processor_seconds{"),
            r#"workqueue_longest_running_processor_seconds{name="hpa"} 3.0"#
        );
    }

    #[test]
    fn every_family_is_shown_from_the_start() {
        let mut registry = Registry::default();
        let _q = WorkqueueFamilies::new(&mut registry).queue("daemonset");
        for family in [
            "workqueue_depth{",
            "workqueue_adds_total{",
            "workqueue_retries_total{",
            "workqueue_unfinished_work_seconds{",
            "rudder_controller_reconcile_total{controller=\"daemonset\",result=\"success\"}",
            "rudder_controller_reconcile_total{controller=\"daemonset\",result=\"error\"}",
        ] {
            assert!(value(&registry, family).ends_with(" 0") || value(&registry, family).ends_with(" 0.0"), "{family}");
        }
    }
}

#[cfg(test)]
mod rate_limiter_tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn exponential_per_key_then_capped_and_forgotten() {
        let rl = RateLimiter::default();
        let now = Instant::now();
        let delays: Vec<Duration> = (0..5).map(|_| rl.when("a", now)).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80].map(Duration::from_millis));
        // Another key starts at the base.
        assert_eq!(rl.when("b", now), Duration::from_millis(5));
        for _ in 0..40 {
            rl.when("a", now);
        }
        assert_eq!(rl.when("a", now + Duration::from_secs(3600)), Duration::from_secs(1000));
        assert_eq!(rl.failures("a"), 46);
        rl.forget("a");
        assert_eq!(rl.failures("a"), 0);
        assert_eq!(rl.when("a", now + Duration::from_secs(3600)), Duration::from_millis(5));
    }

    #[test]
    fn the_bucket_limits_many_keys_failing_at_once() {
        let rl = RateLimiter::default();
        let now = Instant::now();
        // The burst of 100 goes through at the per-key backoff...
        for i in 0..100 {
            assert_eq!(rl.when(&format!("k{i}"), now), Duration::from_millis(5));
        }
        // ...then each further retry waits its turn at 10 a second.
        assert_eq!(rl.when("k100", now), Duration::from_millis(100));
        assert_eq!(rl.when("k101", now), Duration::from_millis(200));
        // Tokens come back with time.
        assert_eq!(rl.when("k102", now + Duration::from_secs(10)), Duration::from_millis(5));
    }
}
