//! The scheduler's metrics, with upstream's names, labels and buckets
//! (`pkg/scheduler/metrics`). rudder-common adds the client, leader
//! election, workqueue and process families.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    pub result: String,
    pub profile: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    pub queue: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ExtensionPointLabels {
    pub extension_point: String,
    pub status: String,
    pub profile: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AttemptsLabels {
    pub attempts: String,
}

/// Every scheduler family.
#[derive(Clone)]
pub struct Metrics {
    /// `scheduler_schedule_attempts_total{result,profile}`: result is
    /// scheduled, unschedulable or error.
    pub schedule_attempts: Family<ResultLabels, Counter>,
    /// `scheduler_scheduling_attempt_duration_seconds{result,profile}`.
    pub attempt_duration: Family<ResultLabels, Histogram, fn() -> Histogram>,
    /// `scheduler_pending_pods{queue}`: active, backoff, unschedulable, gated.
    pub pending_pods: Family<QueueLabels, Gauge>,
    /// `scheduler_preemption_attempts_total`.
    pub preemption_attempts: Counter,
    /// `scheduler_preemption_victims`.
    pub preemption_victims: Histogram,
    /// `scheduler_framework_extension_point_duration_seconds{extension_point,status,profile}`.
    pub extension_point_duration: Family<ExtensionPointLabels, Histogram, fn() -> Histogram>,
    /// `scheduler_pod_scheduling_attempts`: attempts until a pod was scheduled.
    pub pod_scheduling_attempts: Histogram,
    /// `scheduler_pod_scheduling_sli_duration_seconds{attempts}`: from the
    /// first time the pod was queued until it was scheduled.
    pub pod_scheduling_sli_duration: Family<AttemptsLabels, Histogram, fn() -> Histogram>,
}

fn attempt_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

fn extension_point_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 12))
}

fn sli_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 20))
}

impl Metrics {
    pub fn new(registry: &mut Registry) -> Metrics {
        let m = Metrics {
            schedule_attempts: Family::default(),
            attempt_duration: Family::new_with_constructor(attempt_buckets as fn() -> Histogram),
            pending_pods: Family::default(),
            preemption_attempts: Counter::default(),
            preemption_victims: Histogram::new(exponential_buckets(1.0, 2.0, 7)),
            extension_point_duration: Family::new_with_constructor(extension_point_buckets as fn() -> Histogram),
            pod_scheduling_attempts: Histogram::new(exponential_buckets(1.0, 2.0, 5)),
            pod_scheduling_sli_duration: Family::new_with_constructor(sli_buckets as fn() -> Histogram),
        };
        registry.register(
            "scheduler_schedule_attempts",
            "Number of attempts to schedule pods, by the result. 'unschedulable' means a pod could not be scheduled, while 'error' means an internal scheduler problem",
            m.schedule_attempts.clone(),
        );
        registry.register(
            "scheduler_scheduling_attempt_duration_seconds",
            "Scheduling attempt latency in seconds (scheduling algorithm + binding)",
            m.attempt_duration.clone(),
        );
        registry.register(
            "scheduler_pending_pods",
            "Number of pending pods, by the queue type. 'active' means number of pods in activeQ; 'backoff' means number of pods in backoffQ; 'unschedulable' means number of pods in unschedulablePods that the scheduler attempted to schedule and failed; 'gated' is the number of unschedulable pods that the scheduler never attempted to schedule because they are gated",
            m.pending_pods.clone(),
        );
        registry.register(
            "scheduler_preemption_attempts",
            "Total preemption attempts in the cluster till now",
            m.preemption_attempts.clone(),
        );
        registry.register("scheduler_preemption_victims", "Number of selected preemption victims", m.preemption_victims.clone());
        registry.register(
            "scheduler_framework_extension_point_duration_seconds",
            "Latency for running all plugins of a specific extension point",
            m.extension_point_duration.clone(),
        );
        registry.register(
            "scheduler_pod_scheduling_attempts",
            "Number of attempts to successfully schedule a pod",
            m.pod_scheduling_attempts.clone(),
        );
        registry.register(
            "scheduler_pod_scheduling_sli_duration_seconds",
            "E2e latency for a pod being scheduled, from the time the pod enters the scheduling queue and might involve multiple scheduling attempts",
            m.pod_scheduling_sli_duration.clone(),
        );
        m
    }

    pub fn attempt(&self, result: &str, profile: &str, seconds: f64) {
        let labels = ResultLabels { result: result.into(), profile: profile.into() };
        self.schedule_attempts.get_or_create(&labels).inc();
        self.attempt_duration.get_or_create(&labels).observe(seconds);
    }

    pub fn extension_point(&self, point: &str, status: &str, profile: &str, seconds: f64) {
        let labels = ExtensionPointLabels { extension_point: point.into(), status: status.into(), profile: profile.into() };
        self.extension_point_duration.get_or_create(&labels).observe(seconds);
    }

    pub fn set_pending(&self, queue: &str, n: usize) {
        self.pending_pods.get_or_create(&QueueLabels { queue: queue.into() }).set(n as i64);
    }
}
