//! The replica calculator of upstream's HPA controller
//! (`pkg/controller/podautoscaler/replica_calculator.go` and
//! `metrics/utilization.go`, Kubernetes v1.36), without I/O: the metrics
//! and pods come in, the proposed replica count (and what the status
//! reports) goes out. See `UPSTREAM.md` §3 for the algorithms in prose.
//!
//! Values are milli-units throughout (millicores; bytes × 1000 for memory;
//! custom metric quantities × 1000), as upstream.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::core::v1::Pod;
use rudder_common::quantity;

/// How far from 1.0 a usage ratio may be without a rescale (upstream
/// `Tolerances`, both bounds inclusive).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tolerances {
    pub scale_down: f64,
    pub scale_up: f64,
}

impl Default for Tolerances {
    /// `--horizontal-pod-autoscaler-tolerance` (0.1) both ways.
    fn default() -> Self {
        Tolerances { scale_down: 0.1, scale_up: 0.1 }
    }
}

impl Tolerances {
    /// Upstream `isWithin`.
    pub fn is_within(&self, ratio: f64) -> bool {
        (1.0 - self.scale_down) <= ratio && ratio <= (1.0 + self.scale_up)
    }
}

/// One pod's metric sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PodMetric {
    pub timestamp: Timestamp,
    pub window: Duration,
    /// Milli-units.
    pub value: i64,
}

/// Samples by pod name.
pub type PodMetrics = BTreeMap<String, PodMetric>;

/// `--horizontal-pod-autoscaler-cpu-initialization-period` and
/// `--horizontal-pod-autoscaler-initial-readiness-delay`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Readiness {
    pub cpu_initialization_period: Duration,
    pub initial_readiness_delay: Duration,
}

impl Default for Readiness {
    fn default() -> Self {
        Readiness { cpu_initialization_period: Duration::from_secs(300), initial_readiness_delay: Duration::from_secs(30) }
    }
}

/// Upstream `groupPods`' buckets.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Groups {
    pub ready: usize,
    pub unready: BTreeSet<String>,
    pub missing: BTreeSet<String>,
    pub ignored: BTreeSet<String>,
}

fn name(p: &Pod) -> String {
    p.metadata.name.clone().unwrap_or_default()
}

fn plus(t: Timestamp, d: Duration) -> Timestamp {
    t.checked_add(SignedDuration::try_from(d).unwrap_or(SignedDuration::MAX)).unwrap_or(t)
}

/// Upstream `groupPods`: deleted and failed pods are ignored, pending ones
/// unready, pods without a sample missing; for CPU only, a pod is unready
/// while initializing when it is not ready or no full metric window has
/// passed since its readiness changed, and afterwards when it never turned
/// ready after the initial delay.
pub fn group_pods(pods: &[&Pod], metrics: &PodMetrics, resource: &str, r: Readiness, now: Timestamp) -> Groups {
    let mut g = Groups::default();
    for p in pods {
        let phase = p.status.as_ref().and_then(|s| s.phase.as_deref()).unwrap_or_default();
        if p.metadata.deletion_timestamp.is_some() || phase == "Failed" {
            g.ignored.insert(name(p));
            continue;
        }
        if phase == "Pending" {
            g.unready.insert(name(p));
            continue;
        }
        let Some(metric) = metrics.get(&name(p)) else {
            g.missing.insert(name(p));
            continue;
        };
        if resource == "cpu" {
            let ready = p.status.as_ref().and_then(|s| s.conditions.as_ref()).and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
            let start = p.status.as_ref().and_then(|s| s.start_time.as_ref()).map(|t| t.0);
            let unready = match (ready, start) {
                (Some(cond), Some(start)) => {
                    let changed = cond.last_transition_time.as_ref().map_or(Timestamp::UNIX_EPOCH, |t| t.0);
                    if now < plus(start, r.cpu_initialization_period) {
                        cond.status == "False" || metric.timestamp < plus(changed, metric.window)
                    } else {
                        cond.status == "False" && plus(start, r.initial_readiness_delay) > changed
                    }
                }
                _ => true,
            };
            if unready {
                g.unready.insert(name(p));
                continue;
            }
        }
        g.ready += 1;
    }
    g
}

/// Upstream `calculatePodRequests`: each pod's request of `resource` in
/// milli-units, the containers' (regular ones and sidecars) summed, or one
/// container's; every pod must have it.
pub fn pod_requests(pods: &[&Pod], container: &str, resource: &str) -> Result<BTreeMap<String, i64>, String> {
    let mut out = BTreeMap::new();
    for p in pods {
        let spec = p.spec.clone().unwrap_or_default();
        let sidecars = spec.init_containers.iter().flatten().filter(|c| c.restart_policy.as_deref() == Some("Always"));
        let mut total = 0i64;
        let mut found = false;
        for c in spec.containers.iter().chain(sidecars) {
            if !container.is_empty() && c.name != container {
                continue;
            }
            let request = c.resources.as_ref().and_then(|r| r.requests.as_ref()).and_then(|r| r.get(resource)).and_then(quantity::of);
            let Some(q) = request else {
                return Err(format!("missing request for {resource} in container {} of Pod {}", c.name, name(p)));
            };
            total = total.saturating_add(q.milli_value());
            if !container.is_empty() {
                found = true;
                break;
            }
        }
        if !container.is_empty() && !found {
            return Err(format!("container {container} not found in Pod {}", name(p)));
        }
        out.insert(name(p), total);
    }
    Ok(out)
}

/// Upstream `GetResourceUtilizationRatio`: over the samples of pods with a
/// request, (usage ratio of the truncated utilization percent to the
/// target, the utilization percent, the average raw value).
pub fn utilization_ratio(metrics: &PodMetrics, requests: &BTreeMap<String, i64>, target: i32) -> Result<(f64, i32, i64), String> {
    let (mut usage, mut requested, mut n) = (0i64, 0i64, 0i64);
    for (pod, m) in metrics {
        let Some(r) = requests.get(pod) else { continue };
        usage = usage.saturating_add(m.value);
        requested = requested.saturating_add(*r);
        n += 1;
    }
    if requested == 0 {
        return Err("no metrics returned matched known pods".into());
    }
    let utilization = (usage.saturating_mul(100) / requested) as i32;
    Ok((f64::from(utilization) / f64::from(target), utilization, usage / n))
}

/// Upstream `GetMetricUsageRatio`: (the average of every sample over the
/// target, the average).
pub fn usage_ratio(metrics: &PodMetrics, target: i64) -> (f64, i64) {
    let total: i64 = metrics.values().fold(0i64, |a, m| a.saturating_add(m.value));
    let average = if metrics.is_empty() { 0 } else { total / metrics.len() as i64 };
    (average as f64 / target as f64, average)
}

/// What a per-pod calculation proposes, and what the status reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proposal {
    pub replicas: i32,
    /// The utilization percent (Utilization targets; 0 otherwise).
    pub utilization: i32,
    /// The average raw value (milli-units).
    pub average: i64,
}

/// The inputs of a per-pod calculation.
pub struct PodSamples<'a> {
    pub pods: &'a [&'a Pod],
    pub metrics: PodMetrics,
    pub readiness: Readiness,
    pub now: Timestamp,
}

fn ceil(x: f64) -> i32 {
    x.ceil() as i32
}

/// The pods, grouped, with the samples of ignored and unready pods dropped.
fn prepare(s: &mut PodSamples<'_>, resource: &str) -> Result<Groups, String> {
    if s.pods.is_empty() {
        return Err("no pods returned by selector while calculating replica count".into());
    }
    let groups = group_pods(s.pods, &s.metrics, resource, s.readiness, s.now);
    for pod in groups.ignored.iter().chain(&groups.unready) {
        s.metrics.remove(pod);
    }
    if s.metrics.is_empty() {
        return Err("did not receive metrics for targeted pods (pods might be unready)".into());
    }
    Ok(groups)
}

/// Steps shared by the per-pod calculations once the first ratio is known:
/// missing pods assumed at `missing_down` (scale-down) or 0 (scale-up),
/// unready pods at 0 on scale-up, and the proposal dropped when that flips
/// its direction or lands within tolerance.
fn with_assumptions(
    current: i32,
    ratio: f64,
    groups: &Groups,
    metrics: &mut PodMetrics,
    tol: Tolerances,
    missing_down: impl Fn(&str) -> i64,
    recompute: impl Fn(&PodMetrics) -> Result<f64, String>,
) -> Result<i32, String> {
    let scale_up_with_unready = !groups.unready.is_empty() && ratio > 1.0;
    if !scale_up_with_unready && groups.missing.is_empty() {
        return Ok(if tol.is_within(ratio) { current } else { ceil(ratio * groups.ready as f64) });
    }
    // Assumed samples: only their values count.
    let sample = |value| PodMetric { timestamp: Timestamp::UNIX_EPOCH, window: Duration::ZERO, value };
    if ratio < 1.0 {
        for pod in &groups.missing {
            metrics.insert(pod.clone(), sample(missing_down(pod)));
        }
    } else if ratio > 1.0 {
        for pod in &groups.missing {
            metrics.insert(pod.clone(), sample(0));
        }
    }
    if scale_up_with_unready {
        for pod in &groups.unready {
            metrics.insert(pod.clone(), sample(0));
        }
    }
    let new_ratio = recompute(metrics)?;
    if tol.is_within(new_ratio) || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0) {
        return Ok(current);
    }
    let proposed = ceil(new_ratio * metrics.len() as f64);
    if (new_ratio < 1.0 && proposed > current) || (new_ratio > 1.0 && proposed < current) {
        return Ok(current);
    }
    Ok(proposed)
}

/// Upstream `GetResourceReplicas` (a Utilization target of `resource`, in
/// percent of the pods' requests).
pub fn resource_replicas(
    current: i32,
    target_utilization: i32,
    resource: &str,
    container: &str,
    tol: Tolerances,
    mut s: PodSamples<'_>,
) -> Result<Proposal, String> {
    let groups = prepare(&mut s, resource)?;
    let requests = pod_requests(s.pods, container, resource)?;
    let (ratio, utilization, average) = utilization_ratio(&s.metrics, &requests, target_utilization)?;
    let missing_down = |pod: &str| requests.get(pod).copied().unwrap_or(0) * i64::from(target_utilization.max(100)) / 100;
    let recompute = |m: &PodMetrics| utilization_ratio(m, &requests, target_utilization).map(|(r, _, _)| r);
    let replicas = with_assumptions(current, ratio, &groups, &mut s.metrics, tol, missing_down, recompute)?;
    Ok(Proposal { replicas, utilization, average })
}

/// Upstream `calcPlainMetricReplicas` (a resource AverageValue target, with
/// `resource` given so that CPU readiness rules apply, or a Pods metric with
/// `resource` empty).
pub fn plain_metric_replicas(
    current: i32,
    target: i64,
    resource: &str,
    tol: Tolerances,
    mut s: PodSamples<'_>,
) -> Result<Proposal, String> {
    let groups = prepare(&mut s, resource)?;
    let (ratio, average) = usage_ratio(&s.metrics, target);
    let recompute = |m: &PodMetrics| Ok(usage_ratio(m, target).0);
    let replicas = with_assumptions(current, ratio, &groups, &mut s.metrics, tol, |_| target, recompute)?;
    Ok(Proposal { replicas, utilization: 0, average })
}

/// Upstream `getUsageRatioReplicaCount` (Object and External Value
/// targets): from zero, `ceil(ratio)`; otherwise the current count within
/// tolerance, else the ratio times the ready pods (Running and Ready).
pub fn usage_ratio_replicas(current: i32, ratio: f64, tol: Tolerances, pods: Option<&[&Pod]>) -> Result<i32, String> {
    if current == 0 {
        return Ok(saturating_ceil(ratio));
    }
    if tol.is_within(ratio) {
        return Ok(current);
    }
    let pods = match pods {
        Some(p) if !p.is_empty() => p,
        _ => return Err("unable to calculate ready pods: no pods returned by selector while calculating replica count".into()),
    };
    let ready = pods
        .iter()
        .filter(|p| {
            p.status.as_ref().is_some_and(|s| {
                s.phase.as_deref() == Some("Running")
                    && s.conditions.as_ref().is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            })
        })
        .count();
    Ok(saturating_ceil(ratio * ready as f64))
}

fn saturating_ceil(x: f64) -> i32 {
    if x.ceil() >= f64::from(i32::MAX) { i32::MAX } else { x.ceil() as i32 }
}

/// Upstream `GetObjectPerPodMetricReplicas` and
/// `GetExternalPerPodMetricReplicas` (AverageValue targets of a whole
/// usage): (replicas, the per-pod usage the status reports). With no
/// replicas in the status the ratio is never within tolerance; the usage
/// is then reported whole.
pub fn per_pod_replicas(status_replicas: i32, usage: i64, target: i64, tol: Tolerances) -> (i32, i64) {
    let mut replicas = status_replicas;
    let ratio = usage as f64 / (target as f64 * f64::from(status_replicas));
    if !tol.is_within(ratio) {
        replicas = saturating_ceil(usage as f64 / target as f64);
    }
    let average = if usage == i64::MAX || status_replicas == 0 { usage } else { (usage as f64 / f64::from(status_replicas)).ceil() as i64 };
    (replicas, average)
}

/// An External metric's total: the values summed, saturating at `i64::MAX`.
pub fn external_total(values: &[i64]) -> i64 {
    let mut sum = 0i64;
    for v in values {
        match sum.checked_add(*v) {
            Some(s) if s >= 0 || *v < 0 => sum = s,
            _ => return i64::MAX,
        }
    }
    sum
}

#[cfg(test)]
mod tests;
