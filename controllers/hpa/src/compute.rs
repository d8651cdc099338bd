//! Upstream `computeReplicasForMetrics` and `computeReplicasForMetric`
//! without the metrics clients: the binary fetches each metric's data (per
//! pod samples, an object's value, an external metric's values, or the
//! fetch's error) and this decides the proposal, the status entries, the
//! ScalingActive condition and the warning events, with upstream's names
//! and messages (`UPSTREAM.md` §3.1, §3.1a).

use jiff::Timestamp;
use k8s_openapi::api::autoscaling::v2::{
    ContainerResourceMetricStatus, ExternalMetricStatus, MetricIdentifier, MetricSpec, MetricStatus, MetricValueStatus, ObjectMetricStatus,
    PodsMetricStatus, ResourceMetricStatus,
};
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use rudder_common::quantity::{self, Format, Qty};

use crate::replicas::{
    PodMetrics, PodSamples, Readiness, Tolerances, external_total, per_pod_replicas, plain_metric_replicas, resource_replicas,
    usage_ratio_replicas,
};

/// A metric's data, as the binary fetched it.
#[derive(Debug, Clone, PartialEq)]
pub enum Data {
    /// Per-pod samples (Resource, ContainerResource and Pods metrics).
    Samples(PodMetrics),
    /// An Object metric's value (milli-units).
    Object(i64),
    /// An External metric's values (milli-units).
    External(Vec<i64>),
    /// The fetch failed, worded as upstream's replica calculator words it
    /// (e.g. `unable to get metrics for resource cpu: ...`).
    Failed(String),
}

/// A condition to set on the HPA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub type_: &'static str,
    pub status: &'static str,
    pub reason: String,
    pub message: String,
}

/// What a computation needs besides the metrics.
pub struct Inputs<'a> {
    /// The target's `spec.replicas` and `status.replicas` (scale subresource).
    pub spec_replicas: i32,
    pub status_replicas: i32,
    /// The target's pods (by the scale's selector).
    pub pods: &'a [&'a Pod],
    pub tolerances: Tolerances,
    pub readiness: Readiness,
    pub now: Timestamp,
}

/// The outcome of `computeReplicasForMetrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct Computed {
    /// The largest proposal, or -1 when no metric could be used (or a
    /// failing one could have asked for more than the others: failing
    /// metrics block a scale-down).
    pub replicas: i32,
    /// The metric of the proposal (for the rescale reason `<name> above target`).
    pub metric_name: String,
    /// One entry per spec metric (zero-valued for the failed ones, as upstream).
    pub statuses: Vec<MetricStatus>,
    pub condition: Condition,
    /// Warning events (reason, message), one per failed metric.
    pub events: Vec<(String, String)>,
    /// `invalid metrics (N invalid out of M), first error is: ...`
    pub error: Option<String>,
    /// Each metric's proposal (`Err(true)` for an unknown metric type, a
    /// spec error; `Err(false)` for any other failure), for the
    /// `metric_computation_*` metrics.
    pub proposals: Vec<Result<i32, bool>>,
}

/// A milli-unit value as a Quantity (upstream `NewMilliQuantity`), binary
/// for memory.
pub fn milli_quantity(milli: i64, binary: bool) -> Quantity {
    let q = Qty {
        neg: milli < 0,
        mant: u128::from(milli.unsigned_abs()),
        scale: -3,
        format: if binary { Format::BinarySI } else { Format::DecimalSI },
    };
    Quantity(q.to_string())
}

fn milli_of(q: Option<&Quantity>) -> Option<i64> {
    q.and_then(quantity::of).map(|q| q.milli_value())
}

/// Go's `%+v` of a `*metav1.LabelSelector`, as upstream's metric names print it.
fn go_selector(s: Option<&LabelSelector>) -> String {
    let Some(s) = s else { return "nil".into() };
    let labels = s.match_labels.as_ref().map_or_else(
        || "nil".to_string(),
        |m| format!("map[string]string{{{}}}", m.iter().map(|(k, v)| format!("{k}: {v},")).collect::<String>()),
    );
    let exprs = s.match_expressions.as_ref().map_or_else(
        || "nil".to_string(),
        |e| {
            let items: String = e
                .iter()
                .map(|r| {
                    let values = r.values.as_ref().map_or_else(|| "nil".into(), |v| format!("[{}]", v.join(" ")));
                    format!("LabelSelectorRequirement{{Key:{},Operator:{},Values:{values},}},", r.key, r.operator)
                })
                .collect();
            format!("[]LabelSelectorRequirement{{{items}}}")
        },
    );
    format!("&LabelSelector{{MatchLabels:{labels},MatchExpressions:{exprs},}}")
}

type MetricResult = Result<(i32, String, MetricStatus), (&'static str, String)>;

/// Upstream `computeReplicasForMetric` for one spec.
fn compute_one(spec: &MetricSpec, data: &Data, inputs: &Inputs<'_>) -> MetricResult {
    let samples = |m: &PodMetrics| PodSamples { pods: inputs.pods, metrics: m.clone(), readiness: inputs.readiness, now: inputs.now };
    let tol = inputs.tolerances;
    let failed = |reason: &'static str, e: String| Err((reason, e));
    match spec.type_.as_str() {
        "Resource" | "ContainerResource" => {
            let (reason, name, container, target) = match spec.type_.as_str() {
                "Resource" => {
                    let r = spec.resource.as_ref().ok_or(("FailedGetResourceMetric", "missing resource".to_string()))?;
                    ("FailedGetResourceMetric", r.name.clone(), String::new(), r.target.clone())
                }
                _ => {
                    let r = spec
                        .container_resource
                        .as_ref()
                        .ok_or(("FailedGetContainerResourceMetric", "missing container resource".to_string()))?;
                    ("FailedGetContainerResourceMetric", r.name.clone(), r.container.clone(), r.target.clone())
                }
            };
            let outer = |e: String| {
                if container.is_empty() {
                    format!("failed to get {name} resource metric value: {e}")
                } else {
                    format!("failed to get {container} container metric value: {e}")
                }
            };
            let Data::Samples(m) = data else {
                return failed(reason, outer(failure(data)));
            };
            let binary = name == "memory";
            let (replicas, metric_name, current) = if let Some(avg) = milli_of(target.average_value.as_ref()) {
                let p = plain_metric_replicas(inputs.spec_replicas, avg, &name, tol, samples(m))
                    .map_err(|e| (reason, outer(format!("failed to get {name} usage: {e}"))))?;
                (
                    p.replicas,
                    format!("{name} resource"),
                    MetricValueStatus { average_value: Some(milli_quantity(p.average, binary)), ..Default::default() },
                )
            } else if let Some(u) = target.average_utilization {
                let p = resource_replicas(inputs.spec_replicas, u, &name, &container, tol, samples(m))
                    .map_err(|e| (reason, outer(format!("failed to get {name} utilization: {e}"))))?;
                let what = if container.is_empty() { "resource" } else { "container resource" };
                (
                    p.replicas,
                    format!("{name} {what} utilization (percentage of request)"),
                    MetricValueStatus {
                        average_utilization: Some(p.utilization),
                        average_value: Some(milli_quantity(p.average, binary)),
                        ..Default::default()
                    },
                )
            } else {
                return failed(
                    reason,
                    outer(
                        "invalid resource metric source: neither an average utilization target nor an average value (usage) target was set"
                            .into(),
                    ),
                );
            };
            let status = if container.is_empty() {
                MetricStatus { type_: "Resource".into(), resource: Some(ResourceMetricStatus { name, current }), ..Default::default() }
            } else {
                MetricStatus {
                    type_: "ContainerResource".into(),
                    container_resource: Some(ContainerResourceMetricStatus { name, container, current }),
                    ..Default::default()
                }
            };
            Ok((replicas, metric_name, status))
        }
        "Pods" => {
            let reason = "FailedGetPodsMetric";
            let p = spec.pods.as_ref().ok_or((reason, "missing pods metric".to_string()))?;
            let outer = |e: String| format!("failed to get pods metric value: {e}");
            let Data::Samples(m) = data else { return failed(reason, outer(failure(data))) };
            let target = milli_of(p.target.average_value.as_ref()).unwrap_or(0);
            let r = plain_metric_replicas(inputs.spec_replicas, target, "", tol, samples(m)).map_err(|e| (reason, outer(e)))?;
            let status = MetricStatus {
                type_: "Pods".into(),
                pods: Some(PodsMetricStatus {
                    metric: MetricIdentifier { name: p.metric.name.clone(), selector: p.metric.selector.clone() },
                    current: MetricValueStatus { average_value: Some(milli_quantity(r.average, false)), ..Default::default() },
                }),
                ..Default::default()
            };
            Ok((r.replicas, format!("pods metric {}", p.metric.name), status))
        }
        "Object" => {
            let reason = "FailedGetObjectMetric";
            let o = spec.object.as_ref().ok_or((reason, "missing object metric".to_string()))?;
            let outer = |e: String| format!("failed to get object metric value: {e}");
            let Data::Object(usage) = data else { return failed(reason, outer(failure(data))) };
            let identifier = MetricIdentifier { name: o.metric.name.clone(), selector: o.metric.selector.clone() };
            let object = |current| MetricStatus {
                type_: "Object".into(),
                object: Some(ObjectMetricStatus { described_object: o.described_object.clone(), metric: identifier.clone(), current }),
                ..Default::default()
            };
            if let (Some("Value"), Some(target)) = (o.target.type_.as_str().into(), milli_of(o.target.value.as_ref())) {
                let ratio = *usage as f64 / target as f64;
                let replicas = usage_ratio_replicas(inputs.spec_replicas, ratio, tol, Some(inputs.pods)).map_err(|e| (reason, outer(e)))?;
                let current = MetricValueStatus { value: Some(milli_quantity(*usage, false)), ..Default::default() };
                Ok((replicas, format!("{} metric {}", o.described_object.kind, o.metric.name), object(current)))
            } else if let (Some("AverageValue"), Some(target)) = (o.target.type_.as_str().into(), milli_of(o.target.average_value.as_ref()))
            {
                let (replicas, average) = per_pod_replicas(inputs.status_replicas, *usage, target, tol);
                let current = MetricValueStatus { average_value: Some(milli_quantity(average, false)), ..Default::default() };
                // Upstream names an Object metric's average "external metric".
                Ok((replicas, format!("external metric {}({})", o.metric.name, go_selector(o.metric.selector.as_ref())), object(current)))
            } else {
                failed(reason, outer("invalid object metric source: neither a value target nor an average value target was set".into()))
            }
        }
        "External" => {
            let reason = "FailedGetExternalMetric";
            let x = spec.external.as_ref().ok_or((reason, "missing external metric".to_string()))?;
            let name = x.metric.name.clone();
            let outer = |e: String| format!("failed to get {name} external metric value: {e}");
            let Data::External(values) = data else { return failed(reason, outer(failure(data))) };
            let usage = external_total(values);
            let metric = MetricIdentifier { name: name.clone(), selector: x.metric.selector.clone() };
            let status = |current| MetricStatus {
                type_: "External".into(),
                external: Some(ExternalMetricStatus { metric: metric.clone(), current }),
                ..Default::default()
            };
            let metric_name = format!("external metric {name}({})", go_selector(x.metric.selector.as_ref()));
            if let Some(target) = milli_of(x.target.average_value.as_ref()) {
                let (replicas, average) = per_pod_replicas(inputs.status_replicas, usage, target, tol);
                Ok((
                    replicas,
                    metric_name,
                    status(MetricValueStatus { average_value: Some(milli_quantity(average, false)), ..Default::default() }),
                ))
            } else if let Some(target) = milli_of(x.target.value.as_ref()) {
                let ratio = usage as f64 / target as f64;
                let replicas = usage_ratio_replicas(inputs.spec_replicas, ratio, tol, Some(inputs.pods))
                    .map_err(|e| (reason, outer(format!("failed to get external metric {name}: {e}"))))?;
                Ok((replicas, metric_name, status(MetricValueStatus { value: Some(milli_quantity(usage, false)), ..Default::default() })))
            } else {
                failed(reason, outer("invalid external metric source: neither a value target nor an average value target was set".into()))
            }
        }
        other => Err(("InvalidMetricSourceType", format!("unknown metric source type {}", rudder_common::field::go_quote(other)))),
    }
}

fn failure(data: &Data) -> String {
    match data {
        Data::Failed(e) => e.clone(),
        _ => "the metric's data is of another kind".into(),
    }
}

/// Upstream `computeReplicasForMetrics`: each metric's proposal, the
/// largest taken; a failed metric gives a warning event and a zero status
/// entry, and fails the whole computation when all fail or when the others
/// propose fewer replicas than the target has (it could have asked for more).
pub fn compute(specs: &[MetricSpec], data: &[Data], inputs: &Inputs<'_>) -> Computed {
    let mut statuses = vec![MetricStatus::default(); specs.len()];
    let (mut replicas, mut metric_name) = (0, String::new());
    let mut events = Vec::new();
    let mut first: Option<(&'static str, String)> = None;
    let mut invalid = 0;
    let none = Data::Failed("no data".into());
    let mut proposals = Vec::with_capacity(specs.len());
    for (i, spec) in specs.iter().enumerate() {
        match compute_one(spec, data.get(i).unwrap_or(&none), inputs) {
            Ok((proposal, name, status)) => {
                proposals.push(Ok(proposal));
                statuses[i] = status;
                if replicas == 0 || proposal > replicas {
                    replicas = proposal;
                    metric_name = name;
                }
            }
            Err((reason, e)) => {
                proposals.push(Err(reason == "InvalidMetricSourceType"));
                events.push((reason.to_string(), e.clone()));
                invalid += 1;
                first.get_or_insert((reason, e));
            }
        }
    }
    let error = first.as_ref().map(|(_, e)| format!("invalid metrics ({invalid} invalid out of {}), first error is: {e}", specs.len()));
    if let Some((reason, e)) = first.filter(|_| invalid == specs.len() || replicas < inputs.spec_replicas) {
        let condition = Condition {
            type_: "ScalingActive",
            status: "False",
            reason: reason.into(),
            message: format!("the HPA was unable to compute the replica count: {e}"),
        };
        return Computed { replicas: -1, metric_name: String::new(), statuses, condition, events, error, proposals };
    }
    let condition = Condition {
        type_: "ScalingActive",
        status: "True",
        reason: "ValidMetricFound".into(),
        message: format!("the HPA was able to successfully calculate a replica count from {metric_name}"),
    };
    Computed { replicas, metric_name, statuses, condition, events, error, proposals }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::replicas::PodMetric;
    use serde_json::{Value, json};
    use std::time::Duration;

    fn now() -> Timestamp {
        "2026-01-01T01:00:00Z".parse().unwrap()
    }

    fn pod(name: &str) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"containers": [{"name": "app", "image": "app", "resources": {"requests": {"cpu": "500m", "memory": "100Mi"}}}]},
            "status": {"phase": "Running", "startTime": "2026-01-01T00:00:00Z",
                       "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:10:00Z"}]}
        }))
        .unwrap()
    }

    fn spec(v: Value) -> MetricSpec {
        serde_json::from_value(v).unwrap()
    }

    fn samples(values: &[i64]) -> Data {
        Data::Samples(
            values
                .iter()
                .enumerate()
                .map(|(i, v)| (format!("p{i}"), PodMetric { timestamp: now(), window: Duration::from_secs(60), value: *v }))
                .collect(),
        )
    }

    fn run(specs: &[MetricSpec], data: &[Data], spec_replicas: i32) -> Computed {
        let pods: Vec<Pod> = (0..4).map(|i| pod(&format!("p{i}"))).collect();
        let refs: Vec<&Pod> = pods.iter().collect();
        let inputs = Inputs {
            spec_replicas,
            status_replicas: spec_replicas,
            pods: &refs,
            tolerances: Tolerances::default(),
            readiness: Readiness::default(),
            now: now(),
        };
        compute(specs, data, &inputs)
    }

    fn cpu(target: i32) -> MetricSpec {
        spec(json!({"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": target}}}))
    }

    #[test]
    fn quantities_print_as_upstream() {
        assert_eq!(milli_quantity(475, false).0, "475m");
        assert_eq!(milli_quantity(20_000, false).0, "20");
        assert_eq!(milli_quantity(104_857_600_000, true).0, "100Mi");
        assert_eq!(milli_quantity(0, false).0, "0");
    }

    #[test]
    fn a_resource_utilization_metric_proposes_and_reports() {
        let c = run(&[cpu(50)], &[samples(&[400, 450, 500, 550])], 4);
        assert_eq!((c.replicas, c.metric_name.as_str()), (8, "cpu resource utilization (percentage of request)"));
        assert_eq!(
            c.condition,
            Condition {
                type_: "ScalingActive",
                status: "True",
                reason: "ValidMetricFound".into(),
                message: "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)"
                    .into()
            }
        );
        let current = &c.statuses[0].resource.as_ref().unwrap().current;
        assert_eq!((current.average_utilization, current.average_value.clone()), (Some(95), Some(Quantity("475m".into()))));
        assert!(c.events.is_empty() && c.error.is_none());
    }

    #[test]
    fn the_largest_proposal_wins_and_failing_metrics_block_a_scale_down() {
        let pods_metric =
            spec(json!({"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}}));
        // cpu proposes 8, qps 12: 12.
        let c = run(&[cpu(50), pods_metric.clone()], &[samples(&[400, 450, 500, 550]), samples(&[30_000, 30_000, 30_000, 30_000])], 4);
        assert_eq!((c.replicas, c.metric_name.as_str()), (12, "pods metric qps"));
        // One fails while the other scales up: the scale-up proceeds, the error is reported.
        let failed = Data::Failed("unable to get metric qps: no metrics".into());
        let c = run(&[cpu(50), pods_metric.clone()], &[samples(&[400, 450, 500, 550]), failed.clone()], 4);
        assert_eq!(c.replicas, 8);
        assert_eq!(
            c.error.as_deref(),
            Some(
                "invalid metrics (1 invalid out of 2), first error is: failed to get pods metric value: unable to get metric qps: no metrics"
            )
        );
        assert_eq!(
            c.events,
            [("FailedGetPodsMetric".to_string(), "failed to get pods metric value: unable to get metric qps: no metrics".to_string())]
        );
        // ... but no scale-down: the failing metric might have wanted more.
        let c = run(&[cpu(50), pods_metric], &[samples(&[100, 100, 100, 100]), failed], 4);
        assert_eq!(c.replicas, -1);
        assert_eq!((c.condition.status, c.condition.reason.as_str()), ("False", "FailedGetPodsMetric"));
        assert_eq!(
            c.condition.message,
            "the HPA was unable to compute the replica count: failed to get pods metric value: unable to get metric qps: no metrics"
        );
    }

    #[test]
    fn a_target_without_metrics_is_not_scaling_active() {
        let c = run(
            &[cpu(50)],
            &[Data::Failed("unable to get metrics for resource cpu: no metrics returned from resource metrics API".into())],
            4,
        );
        assert_eq!(c.replicas, -1);
        assert_eq!(c.condition.reason, "FailedGetResourceMetric");
        assert_eq!(
            c.condition.message,
            "the HPA was unable to compute the replica count: failed to get cpu resource metric value: unable to get metrics for resource cpu: no metrics returned from resource metrics API"
        );
        assert_eq!(c.statuses, vec![MetricStatus::default()], "a zero-valued entry, as upstream");
    }

    #[test]
    fn object_and_external_metrics() {
        let object = spec(json!({"type": "Object", "object": {"describedObject": {"kind": "Service", "name": "web", "apiVersion": "v1"},
            "metric": {"name": "rps"}, "target": {"type": "Value", "value": "50"}}}));
        let c = run(&[object], &[Data::Object(150_000)], 2);
        assert_eq!((c.replicas, c.metric_name.as_str()), (12, "Service metric rps"), "ratio 3 over the 4 ready pods");
        let external =
            spec(json!({"type": "External", "external": {"metric": {"name": "queue", "selector": {"matchLabels": {"q": "jobs"}}},
            "target": {"type": "AverageValue", "averageValue": "10"}}}));
        let c = run(&[external], &[Data::External(vec![40_000, 55_000])], 4);
        assert_eq!(c.replicas, 10);
        assert_eq!(c.metric_name, "external metric queue(&LabelSelector{MatchLabels:map[string]string{q: jobs,},MatchExpressions:nil,})");
        assert_eq!(c.statuses[0].external.as_ref().unwrap().current.average_value, Some(Quantity("23750m".into())));
        let unknown = spec(json!({"type": "Sideways"}));
        let c = run(&[unknown], &[Data::Failed(String::new())], 2);
        assert_eq!(
            (c.condition.reason.as_str(), c.error.as_deref()),
            (
                "InvalidMetricSourceType",
                Some("invalid metrics (1 invalid out of 1), first error is: unknown metric source type \"Sideways\"")
            )
        );
    }
}
