//! `NodeResourcesFit` (upstream `pkg/scheduler/framework/plugins/noderesources`,
//! `fit.go` and its scorers): a pod fits a node when the node has room for
//! one more pod and for the pod's requests of cpu, memory,
//! ephemeral-storage and scalar resources; nodes are scored by a
//! `scoringStrategy`: `LeastAllocated` (the default, spreading),
//! `MostAllocated` (packing) or `RequestedToCapacityRatio` (a
//! piecewise-linear shape over utilization).
//!
//! The scoring helpers here ([`usages`], [`ResourceSpec`]) are shared with
//! `NodeResourcesBalancedAllocation`.

use std::collections::BTreeSet;
use std::sync::Arc;

use rudder_common::field::{FieldError, FieldPath, aggregate_message};
use rudder_common::selector::is_label_key;
use serde::Deserialize;

use crate::framework::{Code, CycleState, MAX_NODE_SCORE, NodeInfo, Plugin, PodInfo, Resource, Snapshot, Status, is_extended, is_scalar};

/// The upstream plugin name.
pub const NAME: &str = "NodeResourcesFit";

/// The reason when the node already holds as many pods as it allows.
pub const ERR_REASON_TOO_MANY_PODS: &str = "Too many pods";

/// The highest score of a `RequestedToCapacityRatio` shape point (upstream
/// `MaxCustomPriorityScore`).
const MAX_CUSTOM_PRIORITY_SCORE: i64 = 10;
const MAX_UTILIZATION: i64 = 100;
const STRATEGIES: [&str; 3] = ["LeastAllocated", "MostAllocated", "RequestedToCapacityRatio"];

// ---------------------------------------------------------------------------
// Arguments

/// One resource a scorer considers, with its weight
/// (`{"name": "cpu", "weight": 1}`).
#[derive(Deserialize, Debug, Clone, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ResourceSpec {
    pub name: String,
    #[serde(default)]
    pub weight: i64,
}

/// cpu and memory, weight 1 (upstream `defaultResourceSpec`).
pub fn default_resources() -> Vec<ResourceSpec> {
    ["cpu", "memory"].into_iter().map(|name| ResourceSpec { name: name.into(), weight: 1 }).collect()
}

/// `NodeResourcesFitArgs` as written in a `KubeSchedulerConfiguration`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Args {
    #[serde(rename = "apiVersion")]
    _api_version: Option<String>,
    #[serde(rename = "kind")]
    _kind: Option<String>,
    ignored_resources: Option<Vec<String>>,
    ignored_resource_groups: Option<Vec<String>>,
    scoring_strategy: Option<ScoringStrategyArgs>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ScoringStrategyArgs {
    #[serde(rename = "type", default)]
    strategy: String,
    resources: Option<Vec<ResourceSpec>>,
    requested_to_capacity_ratio: Option<RequestedToCapacityRatioArgs>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestedToCapacityRatioArgs {
    shape: Option<Vec<ShapePointArgs>>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(deny_unknown_fields)]
struct ShapePointArgs {
    #[serde(default)]
    utilization: i32,
    #[serde(default)]
    score: i32,
}

/// Upstream's defaulting: LeastAllocated over cpu and memory when no
/// strategy is given, cpu and memory when no resources are, weight 1 for a
/// weight left at 0.
fn defaulted_resources(resources: Option<Vec<ResourceSpec>>) -> Vec<ResourceSpec> {
    let mut resources = resources.filter(|r| !r.is_empty()).unwrap_or_else(default_resources);
    for r in &mut resources {
        if r.weight == 0 {
            r.weight = 1;
        }
    }
    resources
}

/// `metav1validation.ValidateLabelName`.
fn validate_label_name(value: &str, path: &FieldPath) -> Vec<FieldError> {
    is_label_key(value).into_iter().map(|msg| FieldError::invalid(path.render(), value, msg)).collect()
}

/// Upstream `validateResources`: weights in (0, 100].
fn validate_weights(resources: &[ResourceSpec], path: &FieldPath) -> Vec<FieldError> {
    let invalid = |(i, r): (usize, &ResourceSpec)| {
        let msg = format!("resource weight of {} not in valid range (0, 100]", r.name);
        (r.weight <= 0 || r.weight > 100).then(|| FieldError::invalid(path.index(i).child("weight").render(), r.weight, msg))
    };
    resources.iter().enumerate().filter_map(invalid).collect()
}

/// Upstream `validateFunctionShape`: at least one point, utilizations
/// increasing within [0, 100], scores within [0, 10].
fn validate_shape(shape: &[ShapePointArgs], path: &FieldPath) -> Vec<FieldError> {
    if shape.is_empty() {
        return vec![FieldError::required(path.render(), "at least one point must be specified")];
    }
    let mut errors = Vec::new();
    if let Some(i) = (1..shape.len()).find(|&i| shape[i - 1].utilization >= shape[i].utilization) {
        errors.push(FieldError::invalid(
            path.index(i).child("utilization").render(),
            shape[i].utilization,
            "values must be sorted in increasing order",
        ));
    }
    for (i, p) in shape.iter().enumerate() {
        if !(0..=100).contains(&p.utilization) {
            errors.push(FieldError::invalid(path.index(i).child("utilization").render(), p.utilization, "not in valid range [0, 100]"));
        }
        if !(0..=MAX_CUSTOM_PRIORITY_SCORE).contains(&i64::from(p.score)) {
            errors.push(FieldError::invalid(path.index(i).child("score").render(), p.score, "not in valid range [0, 10]"));
        }
    }
    errors
}

/// Upstream `ValidateNodeResourcesFitArgs` on the ignored resources.
fn validate_ignored(resources: &[String], groups: &[String]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let resources_path = FieldPath::root("ignoredResources");
    for (i, r) in resources.iter().enumerate() {
        errors.extend(validate_label_name(r, &resources_path.index(i)));
    }
    let groups_path = FieldPath::root("ignoredResourceGroups");
    for (i, g) in groups.iter().enumerate() {
        let path = groups_path.index(i);
        if g.contains('/') {
            errors.push(FieldError::invalid(path.render(), g.as_str(), "resource group name can't contain '/'"));
        }
        errors.extend(validate_label_name(g, &path));
    }
    errors
}

// ---------------------------------------------------------------------------
// Scoring, shared with NodeResourcesBalancedAllocation

/// Which pod and node requests a scorer counts for cpu and memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requests {
    /// Containers without a cpu (memory) request count the defaults
    /// (upstream `NonZeroRequested`): LeastAllocated, MostAllocated,
    /// RequestedToCapacityRatio.
    NonZero,
    /// The requests as written (upstream `useRequested`):
    /// BalancedAllocation.
    Actual,
}

/// One resource of a node as a scorer sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    pub allocatable: i64,
    /// Requested by the pods on the node.
    pub allocated: i64,
    /// `allocated` plus the incoming pod's request.
    pub requested: i64,
    pub weight: i64,
}

/// The pod's request of one resource.
pub fn pod_request(pod: &PodInfo, name: &str, requests: Requests) -> i64 {
    match (name, requests) {
        ("cpu", Requests::NonZero) => pod.non_zero.0,
        ("memory", Requests::NonZero) => pod.non_zero.1,
        _ => pod.requests.get(name),
    }
}

/// The node's allocatable and allocated amounts of one resource, `None`
/// when the resource does not count (upstream
/// `calculateResourceAllocatableRequest`): a scalar resource the pod does
/// not request, one the node does not have, or none allocatable.
fn node_allocation(node: &NodeInfo, name: &str, pod_request: i64, requests: Requests) -> Option<(i64, i64)> {
    if pod_request == 0 && is_scalar(name) {
        return None;
    }
    let non_zero = requests == Requests::NonZero;
    let (allocatable, allocated) = match name {
        "cpu" => (node.allocatable.milli_cpu, if non_zero { node.non_zero_requested.0 } else { node.requested.milli_cpu }),
        "memory" => (node.allocatable.memory, if non_zero { node.non_zero_requested.1 } else { node.requested.memory }),
        "ephemeral-storage" => (node.allocatable.ephemeral_storage, node.requested.ephemeral_storage),
        other => (*node.allocatable.scalar.get(other)?, node.requested.scalar.get(other).copied().unwrap_or(0)),
    };
    (allocatable != 0).then_some((allocatable, allocated))
}

/// The configured resources that count on this node, in order.
pub fn usages(resources: &[ResourceSpec], pod: &PodInfo, node: &NodeInfo, requests: Requests) -> Vec<Usage> {
    let usage = |r: &ResourceSpec| {
        let request = pod_request(pod, &r.name, requests);
        let (allocatable, allocated) = node_allocation(node, &r.name, request, requests)?;
        Some(Usage { allocatable, allocated, requested: allocated.saturating_add(request), weight: r.weight })
    };
    resources.iter().filter_map(usage).collect()
}

/// The weighted average of per-resource scores, integer-divided; 0
/// without weights.
fn weighted_average(usages: &[Usage], score: impl Fn(&Usage) -> i64) -> i64 {
    let weights: i64 = usages.iter().map(|u| u.weight).sum();
    if weights == 0 {
        return 0;
    }
    usages.iter().map(|u| score(u).saturating_mul(u.weight)).sum::<i64>() / weights
}

/// `requested * MAX_NODE_SCORE / capacity` without overflow.
fn scaled(amount: i64, capacity: i64, max: i64) -> i64 {
    i64::try_from(i128::from(amount) * i128::from(max) / i128::from(capacity)).unwrap_or(0)
}

/// The unused share, 0..=100 (upstream `leastRequestedScore`).
fn least_requested_score(u: &Usage) -> i64 {
    if u.allocatable == 0 || u.requested > u.allocatable {
        return 0;
    }
    scaled(u.allocatable - u.requested, u.allocatable, MAX_NODE_SCORE)
}

/// The used share, 0..=100, requests beyond capacity counting as full
/// (upstream `mostRequestedScore`).
fn most_requested_score(u: &Usage) -> i64 {
    if u.allocatable == 0 {
        return 0;
    }
    scaled(u.requested.min(u.allocatable), u.allocatable, MAX_NODE_SCORE)
}

/// A point of a `RequestedToCapacityRatio` shape, its score already
/// scaled to 0..=MAX_NODE_SCORE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShapePoint {
    utilization: i64,
    score: i64,
}

/// The piecewise-linear function through the points, flat before the first
/// and after the last (upstream `BuildBrokenLinearFunction`).
fn broken_linear(shape: &[ShapePoint], p: i64) -> i64 {
    for (i, point) in shape.iter().enumerate() {
        if p <= point.utilization {
            let Some(prev) = i.checked_sub(1).and_then(|j| shape.get(j)) else { return point.score };
            return prev.score + (point.score - prev.score) * (p - prev.utilization) / (point.utilization - prev.utilization);
        }
    }
    shape.last().map_or(0, |p| p.score)
}

/// The shape at the resource's utilization; full when over capacity.
fn ratio_score(shape: &[ShapePoint], u: &Usage) -> i64 {
    if u.allocatable == 0 || u.requested > u.allocatable {
        return broken_linear(shape, MAX_UTILIZATION);
    }
    broken_linear(shape, scaled(u.requested, u.allocatable, MAX_UTILIZATION))
}

/// The weighted average of the positive shape scores, rounded.
fn requested_to_capacity_ratio(shape: &[ShapePoint], usages: &[Usage]) -> i64 {
    let (mut total, mut weights) = (0i64, 0i64);
    for u in usages {
        let score = ratio_score(shape, u);
        if score > 0 {
            total = total.saturating_add(score.saturating_mul(u.weight));
            weights += u.weight;
        }
    }
    if weights == 0 { 0 } else { (total as f64 / weights as f64).round() as i64 }
}

/// A scoring strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Strategy {
    LeastAllocated,
    MostAllocated,
    RequestedToCapacityRatio(Vec<ShapePoint>),
}

impl Strategy {
    fn score(&self, usages: &[Usage]) -> i64 {
        match self {
            Strategy::LeastAllocated => weighted_average(usages, least_requested_score),
            Strategy::MostAllocated => weighted_average(usages, most_requested_score),
            Strategy::RequestedToCapacityRatio(shape) => requested_to_capacity_ratio(shape, usages),
        }
    }
}

// ---------------------------------------------------------------------------
// The plugin

/// The plugin with its parsed `NodeResourcesFitArgs`.
pub struct NodeResourcesFit {
    ignored_resources: BTreeSet<String>,
    ignored_resource_groups: BTreeSet<String>,
    strategy: Strategy,
    resources: Vec<ResourceSpec>,
}

/// The plugin from its `NodeResourcesFitArgs` (`ignoredResources`,
/// `ignoredResourceGroups`, `scoringStrategy`), defaulted and validated as
/// upstream.
pub fn new(args: Option<&serde_json::Value>) -> Result<Box<dyn Plugin>, String> {
    let args: Args = match args {
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| format!("decoding NodeResourcesFitArgs: {e}"))?,
        None => Args::default(),
    };
    let ignored_resources = args.ignored_resources.unwrap_or_default();
    let ignored_resource_groups = args.ignored_resource_groups.unwrap_or_default();
    let mut errors = validate_ignored(&ignored_resources, &ignored_resource_groups);
    let (strategy_name, resources, shape) = match args.scoring_strategy {
        None => ("LeastAllocated".to_string(), default_resources(), None),
        Some(s) => (s.strategy, defaulted_resources(s.resources), s.requested_to_capacity_ratio.map(|r| r.shape.unwrap_or_default())),
    };
    let strategy_path = FieldPath::root("scoringStrategy");
    if !STRATEGIES.contains(&strategy_name.as_str()) {
        errors.push(FieldError::not_supported(strategy_path.child("type").render(), strategy_name.as_str(), &STRATEGIES));
    }
    errors.extend(validate_weights(&resources, &strategy_path.child("resources")));
    let needs_shape = strategy_name == "RequestedToCapacityRatio";
    if shape.is_some() || needs_shape {
        errors.extend(validate_shape(shape.as_deref().unwrap_or_default(), &strategy_path.child("shape")));
    }
    if !errors.is_empty() {
        return Err(aggregate_message(&errors));
    }
    let strategy = match strategy_name.as_str() {
        "MostAllocated" => Strategy::MostAllocated,
        "RequestedToCapacityRatio" => Strategy::RequestedToCapacityRatio(scaled_shape(shape.as_deref().unwrap_or_default())),
        _ => Strategy::LeastAllocated,
    };
    Ok(Box::new(NodeResourcesFit {
        ignored_resources: ignored_resources.into_iter().collect(),
        ignored_resource_groups: ignored_resource_groups.into_iter().collect(),
        strategy,
        resources,
    }))
}

/// Shape scores (0..=10) scaled to 0..=MAX_NODE_SCORE.
fn scaled_shape(shape: &[ShapePointArgs]) -> Vec<ShapePoint> {
    let factor = MAX_NODE_SCORE / MAX_CUSTOM_PRIORITY_SCORE;
    shape.iter().map(|p| ShapePoint { utilization: i64::from(p.utilization), score: i64::from(p.score) * factor }).collect()
}

/// A resource the node lacks for the pod.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Insufficient {
    reason: String,
    /// The pod asks for more than the node has at all: preemption cannot
    /// help.
    unresolvable: bool,
}

/// `wanted` does not fit in what the node has left.
fn shortfall(name: &str, wanted: i64, allocatable: i64, used: i64) -> Option<Insufficient> {
    (wanted > allocatable.saturating_sub(used))
        .then(|| Insufficient { reason: format!("Insufficient {name}"), unresolvable: wanted > allocatable })
}

impl NodeResourcesFit {
    /// An extended resource this profile does not check.
    fn ignored(&self, name: &str) -> bool {
        let group = name.split('/').next().unwrap_or_default();
        is_extended(name) && (self.ignored_resources.contains(name) || self.ignored_resource_groups.contains(group))
    }

    /// What the node lacks for the pod (upstream `fitsRequest`): room for
    /// one more pod, then, unless the pod requests nothing, each resource.
    fn insufficient(&self, req: &Resource, node: &NodeInfo) -> Vec<Insufficient> {
        let mut out = Vec::new();
        let pods = i64::try_from(node.pods.len()).unwrap_or(i64::MAX);
        if pods.saturating_add(1) > node.allocatable.allowed_pod_number {
            out.push(Insufficient { reason: ERR_REASON_TOO_MANY_PODS.into(), unresolvable: false });
        }
        if req.milli_cpu == 0 && req.memory == 0 && req.ephemeral_storage == 0 && req.scalar.is_empty() {
            return out;
        }
        let (alloc, used) = (&node.allocatable, &node.requested);
        let basics = [
            ("cpu", req.milli_cpu, alloc.milli_cpu, used.milli_cpu),
            ("memory", req.memory, alloc.memory, used.memory),
            ("ephemeral-storage", req.ephemeral_storage, alloc.ephemeral_storage, used.ephemeral_storage),
        ];
        out.extend(basics.into_iter().filter(|b| b.1 > 0).filter_map(|(name, wanted, a, u)| shortfall(name, wanted, a, u)));
        for (name, &wanted) in req.scalar.iter().filter(|(name, wanted)| **wanted != 0 && !self.ignored(name)) {
            let a = alloc.scalar.get(name).copied().unwrap_or(0);
            let u = used.scalar.get(name).copied().unwrap_or(0);
            out.extend(shortfall(name, wanted, a, u));
        }
        out
    }
}

impl Plugin for NodeResourcesFit {
    fn name(&self) -> &'static str {
        NAME
    }

    fn filters(&self) -> bool {
        true
    }

    fn scores(&self) -> bool {
        true
    }

    /// The pod's requests are upstream's PreFilter state; `PodInfo`
    /// already holds them, so the default PreFilter (success) is kept.
    fn filter(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Status {
        let insufficient = self.insufficient(&pod.requests, node);
        if insufficient.is_empty() {
            return Status::success();
        }
        let code = if insufficient.iter().any(|i| i.unresolvable) { Code::UnschedulableAndUnresolvable } else { Code::Unschedulable };
        Status { code, reasons: insufficient.into_iter().map(|i| i.reason).collect(), plugin: "" }
    }

    /// Every pod is scored (upstream's PreScore never skips); Score reads
    /// the requests from `PodInfo`.
    fn pre_score(&self, _state: &mut CycleState, _pod: &PodInfo, _nodes: &[Arc<NodeInfo>], _snapshot: &Snapshot) -> Status {
        Status::success()
    }

    fn score(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        Ok(self.strategy.score(&usages(&self.resources, pod, node, Requests::NonZero)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value, json};

    const EXT_A: &str = "example.com/aaa";
    const EXT_B: &str = "example.com/bbb";
    const HUGE_A: &str = "hugepages-2Mi";

    /// A container's requests: cpu in millicores, memory and
    /// ephemeral-storage in bytes, scalar resources in units.
    fn req(cpu: i64, mem: i64, eph: i64, scalar: &[(&str, i64)]) -> Value {
        let mut m = Map::new();
        m.insert("cpu".into(), json!(format!("{cpu}m")));
        m.insert("memory".into(), json!(mem.to_string()));
        m.insert("ephemeral-storage".into(), json!(eph.to_string()));
        for (k, v) in scalar {
            m.insert((*k).into(), json!(v.to_string()));
        }
        Value::Object(m)
    }

    fn cpu_mem(cpu: i64, mem: i64) -> Value {
        req(cpu, mem, 0, &[])
    }

    fn container(requests: &Value) -> Value {
        json!({"name": "c", "resources": {"requests": requests}})
    }

    fn pod_spec(spec: Value) -> PodInfo {
        PodInfo::new(Arc::new(serde_json::from_value(json!({ "spec": spec })).unwrap()))
    }

    /// A pod whose containers and init containers request these.
    fn pod(containers: &[Value], init: &[Value]) -> PodInfo {
        let cs: Vec<Value> = containers.iter().map(container).collect();
        let is: Vec<Value> = init.iter().map(container).collect();
        pod_spec(json!({"containers": cs, "initContainers": is}))
    }

    fn node(allocatable: Value, pods: &[PodInfo]) -> NodeInfo {
        let mut n = NodeInfo::new(Arc::new(
            serde_json::from_value(json!({"metadata": {"name": "n"}, "status": {"allocatable": allocatable}})).unwrap(),
        ));
        for p in pods {
            n.add_pod(Arc::new(p.clone()));
        }
        n
    }

    /// Upstream's `makeAllocatableResources(10, 20, 32, 5, 20, 5)`.
    fn allocatable() -> Value {
        json!({"cpu": "10m", "memory": "20", "pods": "32", EXT_A: "5", "ephemeral-storage": "20", HUGE_A: "5"})
    }

    fn filter(args: Option<Value>, pod: &PodInfo, node: &NodeInfo) -> Status {
        let plugin = new(args.as_ref()).unwrap();
        let mut state = CycleState::default();
        assert!(plugin.pre_filter(&mut state, pod, &Snapshot::default()).is_success());
        plugin.filter(&state, pod, node)
    }

    fn unschedulable(reasons: &[&str]) -> Status {
        Status { code: Code::Unschedulable, reasons: reasons.iter().map(|r| r.to_string()).collect(), plugin: "" }
    }

    fn unresolvable(reasons: &[&str]) -> Status {
        Status { code: Code::UnschedulableAndUnresolvable, reasons: reasons.iter().map(|r| r.to_string()).collect(), plugin: "" }
    }

    #[test]
    fn enough_requests() {
        let (cpu, mem, ext_a, ext_b, huge) = (
            "Insufficient cpu",
            "Insufficient memory",
            "Insufficient example.com/aaa",
            "Insufficient example.com/bbb",
            "Insufficient hugepages-2Mi",
        );
        let ok = Status::success();
        let cases: Vec<(&str, PodInfo, PodInfo, Option<Value>, Status)> = vec![
            ("no resources requested always fits", pod(&[], &[]), pod(&[cpu_mem(10, 20)], &[]), None, ok.clone()),
            ("too many resources fails", pod(&[cpu_mem(1, 1)], &[]), pod(&[cpu_mem(10, 20)], &[]), None, unschedulable(&[cpu, mem])),
            (
                "too many resources fails due to init container cpu",
                pod(&[cpu_mem(1, 1)], &[cpu_mem(3, 1)]),
                pod(&[cpu_mem(8, 19)], &[]),
                None,
                unschedulable(&[cpu]),
            ),
            (
                "too many resources fails due to highest init container cpu",
                pod(&[cpu_mem(1, 1)], &[cpu_mem(3, 1), cpu_mem(2, 1)]),
                pod(&[cpu_mem(8, 19)], &[]),
                None,
                unschedulable(&[cpu]),
            ),
            (
                "too many resources fails due to init container memory",
                pod(&[cpu_mem(1, 1)], &[cpu_mem(1, 3)]),
                pod(&[cpu_mem(9, 19)], &[]),
                None,
                unschedulable(&[mem]),
            ),
            (
                "too many resources fails due to highest init container memory",
                pod(&[cpu_mem(1, 1)], &[cpu_mem(1, 3), cpu_mem(1, 2)]),
                pod(&[cpu_mem(9, 19)], &[]),
                None,
                unschedulable(&[mem]),
            ),
            (
                "init container fits because it's the max, not sum, of containers and init containers",
                pod(&[cpu_mem(1, 1)], &[cpu_mem(1, 1)]),
                pod(&[cpu_mem(9, 19)], &[]),
                None,
                ok.clone(),
            ),
            (
                "multiple init containers fit because it's the max, not sum, of containers and init containers",
                pod(&[cpu_mem(1, 1)], &[cpu_mem(1, 1), cpu_mem(1, 1)]),
                pod(&[cpu_mem(9, 19)], &[]),
                None,
                ok.clone(),
            ),
            ("both resources fit", pod(&[cpu_mem(1, 1)], &[]), pod(&[cpu_mem(5, 5)], &[]), None, ok.clone()),
            ("one resource memory fits", pod(&[cpu_mem(2, 1)], &[]), pod(&[cpu_mem(9, 5)], &[]), None, unschedulable(&[cpu])),
            ("one resource cpu fits", pod(&[cpu_mem(1, 2)], &[]), pod(&[cpu_mem(5, 19)], &[]), None, unschedulable(&[mem])),
            ("equal edge case", pod(&[cpu_mem(5, 1)], &[]), pod(&[cpu_mem(5, 19)], &[]), None, ok.clone()),
            ("equal edge case for init container", pod(&[cpu_mem(4, 1)], &[cpu_mem(5, 1)]), pod(&[cpu_mem(5, 19)], &[]), None, ok.clone()),
            ("extended resource fits", pod(&[req(0, 0, 0, &[(EXT_A, 1)])], &[]), pod(&[cpu_mem(0, 0)], &[]), None, ok.clone()),
            (
                "extended resource fits for init container",
                pod(&[cpu_mem(0, 0)], &[req(0, 0, 0, &[(EXT_A, 1)])]),
                pod(&[cpu_mem(0, 0)], &[]),
                None,
                ok.clone(),
            ),
            (
                "extended resource capacity enforced",
                pod(&[req(1, 1, 0, &[(EXT_A, 10)])], &[]),
                pod(&[req(0, 0, 0, &[(EXT_A, 0)])], &[]),
                None,
                unresolvable(&[ext_a]),
            ),
            (
                "extended resource capacity enforced for init container",
                pod(&[cpu_mem(0, 0)], &[req(1, 1, 0, &[(EXT_A, 10)])]),
                pod(&[req(0, 0, 0, &[(EXT_A, 0)])], &[]),
                None,
                unresolvable(&[ext_a]),
            ),
            (
                "extended resource allocatable enforced",
                pod(&[req(1, 1, 0, &[(EXT_A, 1)])], &[]),
                pod(&[req(0, 0, 0, &[(EXT_A, 5)])], &[]),
                None,
                unschedulable(&[ext_a]),
            ),
            (
                "extended resource allocatable enforced for init container",
                pod(&[cpu_mem(0, 0)], &[req(1, 1, 0, &[(EXT_A, 1)])]),
                pod(&[req(0, 0, 0, &[(EXT_A, 5)])], &[]),
                None,
                unschedulable(&[ext_a]),
            ),
            (
                "extended resource allocatable enforced for multiple containers",
                pod(&[req(1, 1, 0, &[(EXT_A, 3)]), req(1, 1, 0, &[(EXT_A, 3)])], &[]),
                pod(&[req(0, 0, 0, &[(EXT_A, 2)])], &[]),
                None,
                unresolvable(&[ext_a]),
            ),
            (
                "extended resource allocatable admits multiple init containers",
                pod(&[cpu_mem(0, 0)], &[req(1, 1, 0, &[(EXT_A, 3)]), req(1, 1, 0, &[(EXT_A, 3)])]),
                pod(&[req(0, 0, 0, &[(EXT_A, 2)])], &[]),
                None,
                ok.clone(),
            ),
            (
                "extended resource allocatable enforced for multiple init containers",
                pod(&[cpu_mem(0, 0)], &[req(1, 1, 0, &[(EXT_A, 6)]), req(1, 1, 0, &[(EXT_A, 3)])]),
                pod(&[req(0, 0, 0, &[(EXT_A, 2)])], &[]),
                None,
                unresolvable(&[ext_a]),
            ),
            (
                "extended resource allocatable enforced for unknown resource",
                pod(&[req(1, 1, 0, &[(EXT_B, 1)])], &[]),
                pod(&[cpu_mem(0, 0)], &[]),
                None,
                unresolvable(&[ext_b]),
            ),
            (
                "extended resource allocatable enforced for unknown resource for init container",
                pod(&[cpu_mem(0, 0)], &[req(1, 1, 0, &[(EXT_B, 1)])]),
                pod(&[cpu_mem(0, 0)], &[]),
                None,
                unresolvable(&[ext_b]),
            ),
            (
                "hugepages resource capacity enforced",
                pod(&[req(1, 1, 0, &[(HUGE_A, 10)])], &[]),
                pod(&[req(0, 0, 0, &[(HUGE_A, 0)])], &[]),
                None,
                unresolvable(&[huge]),
            ),
            (
                "hugepages resource capacity enforced for init container",
                pod(&[cpu_mem(0, 0)], &[req(1, 1, 0, &[(HUGE_A, 10)])]),
                pod(&[req(0, 0, 0, &[(HUGE_A, 0)])], &[]),
                None,
                unresolvable(&[huge]),
            ),
            (
                "hugepages resource allocatable enforced for multiple containers",
                pod(&[req(1, 1, 0, &[(HUGE_A, 3)]), req(1, 1, 0, &[(HUGE_A, 3)])], &[]),
                pod(&[req(0, 0, 0, &[(HUGE_A, 2)])], &[]),
                None,
                unresolvable(&[huge]),
            ),
            (
                "skip checking ignored extended resource",
                pod(&[req(1, 1, 0, &[(EXT_B, 1)])], &[]),
                pod(&[cpu_mem(0, 0)], &[]),
                Some(json!({"ignoredResources": ["example.com/bbb"]})),
                ok.clone(),
            ),
            (
                "skip checking ignored extended resource via resource groups",
                pod(&[req(1, 1, 0, &[(EXT_B, 1), ("example.com/ccc", 1)])], &[]),
                pod(&[cpu_mem(0, 0)], &[]),
                Some(json!({"ignoredResourceGroups": ["example.com"]})),
                ok.clone(),
            ),
            (
                "skip checking extended resource request with quantity zero via resource groups",
                pod(&[req(1, 1, 0, &[(EXT_A, 0)])], &[]),
                pod(&[req(0, 0, 0, &[(EXT_A, 6)])], &[]),
                None,
                ok.clone(),
            ),
            (
                "skip checking resource request with quantity zero",
                pod(&[req(0, 0, 0, &[(EXT_A, 1)])], &[]),
                pod(&[req(20, 30, 0, &[(EXT_A, 1)])], &[]),
                None,
                ok.clone(),
            ),
        ];
        for (name, incoming, existing, args, want) in cases {
            assert_eq!(filter(args, &incoming, &node(allocatable(), &[existing])), want, "{name}");
        }
    }

    #[test]
    fn overhead_and_pod_level_requests() {
        let with = |containers: &[Value], extra: Value| {
            let mut spec = json!({"containers": containers.iter().map(container).collect::<Vec<_>>()});
            if let (Some(s), Some(e)) = (spec.as_object_mut(), extra.as_object()) {
                s.extend(e.clone());
            }
            pod_spec(spec)
        };
        let existing = |cpu, mem| node(allocatable(), &[pod(&[cpu_mem(cpu, mem)], &[])]);
        let cases = [
            (
                "resources + pod overhead fits",
                with(&[cpu_mem(1, 1)], json!({"overhead": {"cpu": "3m", "memory": "13"}})),
                existing(5, 5),
                Status::success(),
            ),
            (
                "requests + overhead does not fit for memory",
                with(&[cpu_mem(1, 1)], json!({"overhead": {"cpu": "1m", "memory": "15"}})),
                existing(5, 5),
                unschedulable(&["Insufficient memory"]),
            ),
            (
                "both pod-level and container-level resources fit",
                with(&[cpu_mem(1, 1)], json!({"resources": {"requests": {"cpu": "1m", "memory": "2"}}})),
                existing(5, 5),
                Status::success(),
            ),
            (
                "pod-level cpu resource not fit",
                with(&[cpu_mem(1, 1)], json!({"resources": {"requests": {"cpu": "7m", "memory": "2"}}})),
                existing(5, 5),
                unschedulable(&["Insufficient cpu"]),
            ),
            (
                "pod-level memory resource not fit",
                with(&[cpu_mem(1, 1)], json!({"resources": {"requests": {"cpu": "3m", "memory": "2"}}})),
                existing(5, 19),
                unschedulable(&["Insufficient memory"]),
            ),
        ];
        for (name, incoming, node, want) in cases {
            assert_eq!(filter(None, &incoming, &node), want, "{name}");
        }
    }

    #[test]
    fn not_enough_pods() {
        let one_pod = json!({"cpu": "10m", "memory": "20", "pods": "1"});
        let cases = [
            ("even without specified resources, predicate fails when there's no space for additional pod", pod(&[], &[]), cpu_mem(10, 20)),
            (
                "even if both resources fit, predicate fails when there's no space for additional pod",
                pod(&[cpu_mem(1, 1)], &[]),
                cpu_mem(5, 5),
            ),
            (
                "even for equal edge case, predicate fails when there's no space for additional pod",
                pod(&[cpu_mem(5, 1)], &[]),
                cpu_mem(5, 19),
            ),
            (
                "even for equal edge case, predicate fails when there's no space for additional pod due to init container",
                pod(&[cpu_mem(5, 1)], &[cpu_mem(5, 1)]),
                cpu_mem(5, 19),
            ),
        ];
        for (name, incoming, existing) in cases {
            let n = node(one_pod.clone(), &[pod(&[existing], &[])]);
            assert_eq!(filter(None, &incoming, &n), unschedulable(&[ERR_REASON_TOO_MANY_PODS]), "{name}");
        }
    }

    #[test]
    fn storage_requests() {
        let cases = [
            ("empty storage requested, and pod fits", pod(&[cpu_mem(1, 1)], &[]), req(2, 10, 0, &[]), Status::success()),
            (
                "storage ephemeral local storage request exceeds allocatable",
                pod(&[req(0, 0, 25, &[])], &[]),
                req(2, 2, 0, &[]),
                unresolvable(&["Insufficient ephemeral-storage"]),
            ),
            ("ephemeral local storage is sufficient", pod(&[req(0, 0, 5, &[])], &[]), req(2, 2, 10, &[]), Status::success()),
            ("pod fits", pod(&[req(0, 0, 10, &[])], &[]), req(2, 2, 0, &[]), Status::success()),
            (
                "storage request does not fit what is left",
                pod(&[req(0, 0, 11, &[])], &[]),
                req(2, 2, 10, &[]),
                unschedulable(&["Insufficient ephemeral-storage"]),
            ),
        ];
        for (name, incoming, existing, want) in cases {
            assert_eq!(filter(None, &incoming, &node(allocatable(), &[pod(&[existing], &[])])), want, "{name}");
        }
    }

    #[test]
    fn restartable_init_containers() {
        let with_sidecar = |main: i64, sidecar: i64| {
            pod_spec(json!({
                "containers": [{"name": "regular", "resources": {"requests": {"cpu": format!("{main}m")}}}],
                "initContainers": [{"name": "restartable-init", "restartPolicy": "Always", "resources": {"requests": {"cpu": format!("{sidecar}m")}}}]
            }))
        };
        let n = node(json!({"cpu": "2m", "memory": "0", "pods": "1"}), &[]);
        assert_eq!(
            filter(None, &with_sidecar(1, 1), &n),
            Status::success(),
            "the total requested resources do not exceed the node's allocatable"
        );
        assert_eq!(
            filter(None, &with_sidecar(1, 2), &n),
            unresolvable(&["Insufficient cpu"]),
            "the total requested resources do exceed the node's allocatable"
        );
    }

    /// `st.MakeNode().Capacity(...)`: allocatable as given plus 32 pods.
    fn capacity_node(cpu: &str, mem: &str, extra: &[(&str, &str)], pods: &[PodInfo]) -> NodeInfo {
        let mut alloc = json!({"cpu": cpu, "memory": mem, "pods": "32"});
        for (k, v) in extra {
            alloc[*k] = json!(v);
        }
        node(alloc, pods)
    }

    /// A pod whose containers each request these (cpu in cores, like
    /// upstream's `Req(map{"cpu": "1000"})`).
    fn req_pod(containers: &[&[(&str, &str)]]) -> PodInfo {
        let cs: Vec<Value> = containers.iter().map(|r| json!({"name": "c", "resources": {"requests": r.iter().map(|(k, v)| ((*k).to_string(), json!(v))).collect::<Map<_, _>>()}})).collect();
        pod_spec(json!({ "containers": cs }))
    }

    fn scores(args: Value, incoming: &PodInfo, nodes: &[NodeInfo]) -> Vec<i64> {
        let plugin = new(Some(&args)).unwrap();
        let mut state = CycleState::default();
        assert!(plugin.pre_score(&mut state, incoming, &[], &Snapshot::default()).is_success());
        nodes.iter().map(|n| plugin.score(&state, incoming, n).unwrap()).collect()
    }

    /// Name, args, incoming pod, nodes, wanted scores.
    type ScoreCase = (&'static str, Value, PodInfo, Vec<NodeInfo>, Vec<i64>);
    /// Utilization and the wanted shape score there.
    type Point = (i64, i64);

    fn strategy(kind: &str, shape: Value) -> Value {
        json!({"scoringStrategy": {"type": kind, "resources": [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}], "requestedToCapacityRatio": {"shape": shape}}})
    }

    #[test]
    fn fit_score() {
        let two_nodes = |p1: &[PodInfo], p2: &[PodInfo], cpu2: &str| {
            vec![capacity_node("4000", "10000", &[], p1), capacity_node(cpu2, "10000", &[], p2)]
        };
        let existing = || {
            two_nodes(&[req_pod(&[&[("cpu", "2000"), ("memory", "4000")]])], &[req_pod(&[&[("cpu", "1000"), ("memory", "2000")]])], "6000")
        };
        let big = req_pod(&[&[("cpu", "3000"), ("memory", "5000")]]);
        let small = req_pod(&[&[("cpu", "1000"), ("memory", "2000")]]);
        let least = json!({"scoringStrategy": {"type": "LeastAllocated"}});
        let most = json!({"scoringStrategy": {"type": "MostAllocated"}});
        let falling = strategy("RequestedToCapacityRatio", json!([{"utilization": 0, "score": 10}, {"utilization": 100, "score": 0}]));
        let rising = strategy("RequestedToCapacityRatio", json!([{"utilization": 0, "score": 0}, {"utilization": 100, "score": 10}]));
        assert_eq!(scores(falling, &big, &existing()), [10, 32], "RequestedToCapacityRatio case1");
        assert_eq!(scores(rising, &big, &existing()), [95, 68], "RequestedToCapacityRatio case2");
        assert_eq!(scores(most.clone(), &small, &existing()), [67, 36], "MostAllocated");
        assert_eq!(scores(least.clone(), &small, &existing()), [32, 63], "LeastAllocated");
        assert_eq!(scores(json!({}), &small, &existing()), [32, 63], "LeastAllocated is the default");

        let sidecar = pod_spec(json!({
            "containers": [{"name": "c", "resources": {"requests": {"cpu": "1000", "memory": "2000"}}}],
            "initContainers": [{"name": "s", "restartPolicy": "Always", "resources": {"requests": {"cpu": "1000", "memory": "2000"}}}]
        }));
        let with_sidecar = || two_nodes(std::slice::from_ref(&sidecar), std::slice::from_ref(&small), "4000");
        assert_eq!(scores(most, &small, &with_sidecar()), [67, 45], "MostAllocated with sidecar container");
        assert_eq!(scores(least, &small, &with_sidecar()), [32, 55], "LeastAllocated with sidecar container");
    }

    #[test]
    fn least_allocated() {
        let empty = req_pod(&[]);
        let two = req_pod(&[&[("cpu", "1000"), ("memory", "2000")], &[("cpu", "2000"), ("memory", "3000")]]);
        let cpu_only = || req_pod(&[&[("cpu", "3000"), ("memory", "0")]]);
        let cpu_mem = || req_pod(&[&[("cpu", "3000"), ("memory", "5000")]]);
        let n = capacity_node;
        let default = json!({"scoringStrategy": {"type": "LeastAllocated"}});
        let ext = "vendor.io/myresource";
        let with_ext = json!({"scoringStrategy": {"type": "LeastAllocated", "resources": [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}, {"name": ext, "weight": 1}]}});
        let cases: Vec<ScoreCase> = vec![
            (
                "nothing scheduled, nothing requested",
                default.clone(),
                empty.clone(),
                vec![n("4000", "10000", &[], &[]), n("4000", "10000", &[], &[])],
                vec![100, 100],
            ),
            (
                "nothing scheduled, resources requested, differently sized nodes",
                default.clone(),
                two.clone(),
                vec![n("4000", "10000", &[], &[]), n("6000", "10000", &[], &[])],
                vec![37, 50],
            ),
            (
                "no resources requested, pods scheduled",
                default.clone(),
                empty.clone(),
                vec![n("4000", "10000", &[], &[empty.clone(), empty.clone()]), n("4000", "10000", &[], &[empty.clone(), empty.clone()])],
                vec![100, 100],
            ),
            (
                "no resources requested, pods scheduled with resources",
                default.clone(),
                empty.clone(),
                vec![n("10000", "20000", &[], &[cpu_only(), cpu_only()]), n("10000", "20000", &[], &[cpu_only(), cpu_mem()])],
                vec![70, 57],
            ),
            (
                "resources requested, pods scheduled with resources",
                default.clone(),
                two.clone(),
                vec![n("10000", "20000", &[], &[cpu_only()]), n("10000", "20000", &[], &[cpu_mem()])],
                vec![57, 45],
            ),
            (
                "resources requested, pods scheduled with resources, differently sized nodes",
                default.clone(),
                two.clone(),
                vec![n("10000", "20000", &[], &[cpu_only()]), n("10000", "50000", &[], &[cpu_mem()])],
                vec![57, 60],
            ),
            (
                "requested resources exceed node capacity",
                default.clone(),
                cpu_only(),
                vec![n("4000", "10000", &[], &[cpu_only()]), n("4000", "10000", &[], &[cpu_mem()])],
                vec![50, 25],
            ),
            (
                "zero node resources, pods scheduled with resources",
                default.clone(),
                empty.clone(),
                vec![node(json!({}), &[cpu_only()]), node(json!({}), &[cpu_mem()])],
                vec![0, 0],
            ),
            (
                "nothing scheduled, resources requested with different weight on CPU and memory, differently sized nodes",
                json!({"scoringStrategy": {"type": "LeastAllocated", "resources": [{"name": "memory", "weight": 2}, {"name": "cpu", "weight": 1}]}}),
                two.clone(),
                vec![n("4000", "10000", &[], &[]), n("6000", "10000", &[], &[])],
                vec![41, 50],
            ),
            (
                "bypass extended resource if the pod does not request",
                with_ext.clone(),
                two.clone(),
                vec![n("6000", "10000", &[], &[]), n("6000", "10000", &[(ext, "4")], &[])],
                vec![50, 50],
            ),
            (
                "honor extended resource if the pod requests",
                with_ext,
                req_pod(&[&[("cpu", "3000"), ("memory", "5000"), (ext, "2")]]),
                vec![n("6000", "10000", &[(ext, "4")], &[]), n("6000", "10000", &[(ext, "10")], &[])],
                vec![50, 60],
            ),
            (
                "if the node doesn't have a resource",
                json!({"scoringStrategy": {"type": "LeastAllocated", "resources": [{"name": ext, "weight": 2}, {"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}]}}),
                req_pod(&[&[("cpu", "3000"), ("memory", "4000")]]),
                vec![n("6000", "10000", &[], &[]), n("6000", "10000", &[(ext, "4")], &[])],
                vec![55, 55],
            ),
        ];
        for (name, args, incoming, nodes, want) in cases {
            assert_eq!(scores(args, &incoming, &nodes), want, "{name}");
        }
    }

    #[test]
    fn most_allocated() {
        let most = json!({"scoringStrategy": {"type": "MostAllocated"}});
        let two = req_pod(&[&[("cpu", "1000"), ("memory", "2000")], &[("cpu", "2000"), ("memory", "3000")]]);
        let n = capacity_node;
        let cases: Vec<(&str, PodInfo, Vec<NodeInfo>, Vec<i64>)> = vec![
            (
                "nothing scheduled, nothing requested",
                req_pod(&[]),
                vec![n("4000", "10000", &[], &[]), n("4000", "10000", &[], &[])],
                vec![0, 0],
            ),
            // cpu 3000/4000 = 75, memory 5000/10000 = 50; cpu 3000/6000 = 50, memory 50.
            (
                "nothing scheduled, resources requested, differently sized nodes",
                two.clone(),
                vec![n("4000", "10000", &[], &[]), n("6000", "10000", &[], &[])],
                vec![62, 50],
            ),
            // cpu 6000 over 4000 counts as 100, memory 0 of 10000 is 0.
            (
                "resources requested with more than the node, pods scheduled with resources",
                req_pod(&[&[("cpu", "3000"), ("memory", "0")]]),
                vec![n("4000", "10000", &[], &[req_pod(&[&[("cpu", "3000"), ("memory", "0")]])])],
                vec![50],
            ),
            // A container without requests counts 100m and 200Mi: 200Mi of 10000 bytes is full.
            ("no requests count the defaults", req_pod(&[&[]]), vec![n("1", "10000", &[], &[])], vec![55]),
        ];
        for (name, incoming, nodes, want) in cases {
            assert_eq!(scores(most.clone(), &incoming, &nodes), want, "{name}");
        }
    }

    #[test]
    fn requested_to_capacity_ratio_strategy() {
        let falling = strategy("RequestedToCapacityRatio", json!([{"utilization": 0, "score": 10}, {"utilization": 100, "score": 0}]));
        let empty = req_pod(&[]);
        let n = capacity_node;
        let cases: Vec<(&str, PodInfo, Vec<NodeInfo>, Vec<i64>)> = vec![
            (
                "nothing scheduled, nothing requested (default - least requested nodes have priority)",
                empty.clone(),
                vec![n("4000", "10000", &[], &[empty.clone(), empty.clone()]), n("4000", "10000", &[], &[])],
                vec![100, 100],
            ),
            (
                "nothing scheduled, resources requested, differently sized nodes (default - least requested nodes have priority)",
                req_pod(&[&[("cpu", "1000"), ("memory", "2000")], &[("cpu", "2000"), ("memory", "3000")]]),
                vec![n("4000", "10000", &[], &[empty.clone(), empty.clone()]), n("6000", "10000", &[], &[])],
                vec![38, 50],
            ),
            (
                "no resources requested, pods scheduled with resources (default - least requested nodes have priority)",
                empty.clone(),
                vec![
                    n("4000", "10000", &[], &[req_pod(&[&[("cpu", "3000"), ("memory", "5000")]])]),
                    n("6000", "10000", &[], &[req_pod(&[&[("cpu", "3000"), ("memory", "5000")]])]),
                ],
                vec![38, 50],
            ),
        ];
        for (name, incoming, nodes, want) in cases {
            assert_eq!(scores(falling.clone(), &incoming, &nodes), want, "{name}");
        }
    }

    #[test]
    fn bin_packing_extended() {
        let foo = "intel.com/foo";
        let bar = "intel.com/bar";
        let single = json!({"scoringStrategy": {"type": "RequestedToCapacityRatio", "resources": [{"name": foo, "weight": 1}],
            "requestedToCapacityRatio": {"shape": [{"utilization": 0, "score": 0}, {"utilization": 100, "score": 1}]}}});
        let nodes =
            |p2: &[PodInfo]| vec![capacity_node("4", "10000Mi", &[(foo, "8")], &[]), capacity_node("4", "10000Mi", &[(foo, "4")], p2)];
        let wants = |n: &str| req_pod(&[&[(foo, n)]]);
        assert_eq!(scores(single.clone(), &req_pod(&[]), &nodes(&[])), [0, 0], "nothing scheduled, nothing requested");
        assert_eq!(
            scores(single.clone(), &wants("2"), &nodes(&[req_pod(&[])])),
            [2, 5],
            "resources requested, pods scheduled with less resources"
        );
        assert_eq!(scores(single.clone(), &wants("2"), &nodes(&[wants("2")])), [2, 10], "on node with existing pod running");
        assert_eq!(scores(single, &wants("4"), &nodes(&[])), [5, 10], "resources requested, pods scheduled with more resources");

        let multiple = json!({"scoringStrategy": {"type": "RequestedToCapacityRatio", "resources": [{"name": foo, "weight": 3}, {"name": bar, "weight": 5}],
            "requestedToCapacityRatio": {"shape": [{"utilization": 0, "score": 0}, {"utilization": 100, "score": 1}]}}});
        let nodes = vec![
            capacity_node("4", "10000Mi", &[(foo, "8"), (bar, "4")], &[]),
            capacity_node("4", "10000Mi", &[(foo, "4"), (bar, "8")], &[]),
        ];
        assert_eq!(scores(multiple.clone(), &req_pod(&[]), &nodes), [0, 0], "nothing scheduled, nothing requested");
        // node1: foo 2/8 -> 2, bar 2/4 -> 5: (2*3 + 5*5) / 8 = 3.875; node2: (5*3 + 2*5) / 8 = 3.125.
        assert_eq!(
            scores(multiple, &req_pod(&[&[(foo, "2"), (bar, "2")]]), &nodes),
            [4, 3],
            "resources requested, pods scheduled with less resources"
        );
    }

    #[test]
    fn broken_linear_function() {
        let shape =
            |points: &[(i64, i64)]| points.iter().map(|&(utilization, score)| ShapePoint { utilization, score }).collect::<Vec<_>>();
        let cases: Vec<(Vec<ShapePoint>, Vec<Point>)> = vec![
            (
                shape(&[(10, 1), (90, 9)]),
                vec![(-10, 1), (0, 1), (9, 1), (10, 1), (15, 1), (19, 1), (20, 2), (89, 8), (90, 9), (99, 9), (100, 9), (110, 9)],
            ),
            (shape(&[(0, 2), (40, 10), (100, 0)]), vec![(-10, 2), (0, 2), (20, 6), (30, 8), (40, 10), (70, 5), (100, 0), (110, 0)]),
            (shape(&[(0, 2), (40, 2), (100, 2)]), vec![(-10, 2), (0, 2), (20, 2), (30, 2), (40, 2), (70, 2), (100, 2), (110, 2)]),
        ];
        for (points, assertions) in cases {
            for (p, want) in assertions {
                assert_eq!(broken_linear(&points, p), want, "{points:?} at {p}");
            }
        }
    }

    #[test]
    fn args_validation() {
        let err = |v: Value| new(Some(&v)).err().unwrap();
        assert_eq!(
            err(
                json!({"scoringStrategy": {"type": "LeastAllocated", "resources": [{"name": "memory", "weight": -1}, {"name": "cpu", "weight": 101}]}})
            ),
            "[scoringStrategy.resources[0].weight: Invalid value: -1: resource weight of memory not in valid range (0, 100], scoringStrategy.resources[1].weight: Invalid value: 101: resource weight of cpu not in valid range (0, 100]]"
        );
        assert_eq!(
            err(json!({"scoringStrategy": {"type": "Spread"}})),
            r#"scoringStrategy.type: Unsupported value: "Spread": supported values: "LeastAllocated", "MostAllocated", "RequestedToCapacityRatio""#
        );
        assert_eq!(
            err(json!({"scoringStrategy": {"type": "RequestedToCapacityRatio"}})),
            "scoringStrategy.shape: Required value: at least one point must be specified"
        );
        assert_eq!(
            err(json!({"scoringStrategy": {"type": "RequestedToCapacityRatio", "requestedToCapacityRatio": {"shape": [
                {"utilization": 50, "score": 5}, {"utilization": 10, "score": 11}, {"utilization": 101, "score": 2}]}}})),
            "[scoringStrategy.shape[1].utilization: Invalid value: 10: values must be sorted in increasing order, scoringStrategy.shape[1].score: Invalid value: 11: not in valid range [0, 10], scoringStrategy.shape[2].utilization: Invalid value: 101: not in valid range [0, 100]]"
        );
        let msg = err(json!({"ignoredResources": ["example.com/a b"], "ignoredResourceGroups": ["example.com/x"]}));
        assert!(msg.starts_with(r#"[ignoredResources[0]: Invalid value: "example.com/a b": name part must consist of"#), "{msg}");
        assert!(
            msg.contains(r#"ignoredResourceGroups[0]: Invalid value: "example.com/x": resource group name can't contain '/'"#),
            "{msg}"
        );
        assert!(
            err(json!({"scoringStrategy": {"typ": "MostAllocated"}})).starts_with("decoding NodeResourcesFitArgs: unknown field `typ`")
        );
        // Weight 0 defaults to 1, an empty resource list to cpu and memory.
        assert!(new(Some(&json!({"scoringStrategy": {"type": "MostAllocated", "resources": [{"name": "cpu"}]}}))).is_ok());
        assert!(new(Some(&json!({"kind": "NodeResourcesFitArgs", "scoringStrategy": {"type": "MostAllocated", "resources": []}}))).is_ok());
    }
}
