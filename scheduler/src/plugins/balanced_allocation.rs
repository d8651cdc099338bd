//! `NodeResourcesBalancedAllocation` (upstream
//! `pkg/scheduler/framework/plugins/noderesources/balanced_allocation.go`):
//! favours nodes whose resource usage the pod makes more balanced. The
//! balance of a node is `(1 - std) * MAX_NODE_SCORE`, `std` the standard
//! deviation of the requested fractions of its resources; since v1.36 the
//! score is the change in balance the pod brings, mapped to 50..=100 (75:
//! no change). Best-effort pods are not scored.

use std::collections::BTreeSet;
use std::sync::Arc;

use rudder_common::field::{FieldError, FieldPath, aggregate_message};
use serde::Deserialize;

use super::node_resources_fit::{Requests, ResourceSpec, Usage, default_resources, pod_request, usages};
use crate::framework::{CycleState, MAX_NODE_SCORE, NodeInfo, Plugin, PodInfo, Snapshot, Status};

/// The upstream plugin name.
pub const NAME: &str = "NodeResourcesBalancedAllocation";

/// `NodeResourcesBalancedAllocationArgs` as written in a
/// `KubeSchedulerConfiguration`.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Args {
    #[serde(rename = "apiVersion")]
    _api_version: Option<String>,
    #[serde(rename = "kind")]
    _kind: Option<String>,
    resources: Option<Vec<ResourceSpec>>,
}

/// The plugin with the resources it balances.
pub struct BalancedAllocation {
    resources: Vec<ResourceSpec>,
}

/// The plugin from its `NodeResourcesBalancedAllocationArgs`
/// (`{"resources": [{"name": "cpu", "weight": 1}, ...]}`, cpu and memory by
/// default), validated as upstream: no duplicates, every weight 1 (0
/// defaults to 1).
pub fn new(args: Option<&serde_json::Value>) -> Result<Box<dyn Plugin>, String> {
    let args: Args = match args {
        Some(v) => serde_json::from_value(v.clone()).map_err(|e| format!("decoding NodeResourcesBalancedAllocationArgs: {e}"))?,
        None => Args::default(),
    };
    let mut resources = args.resources.filter(|r| !r.is_empty()).unwrap_or_else(default_resources);
    for r in &mut resources {
        if r.weight == 0 {
            r.weight = 1;
        }
    }
    let errors = validate(&resources);
    if !errors.is_empty() {
        return Err(aggregate_message(&errors));
    }
    Ok(Box::new(BalancedAllocation { resources }))
}

/// Upstream `ValidateNodeResourcesBalancedAllocationArgs`.
fn validate(resources: &[ResourceSpec]) -> Vec<FieldError> {
    let path = FieldPath::root("resources");
    let mut seen = BTreeSet::new();
    let mut errors = Vec::new();
    for (i, r) in resources.iter().enumerate() {
        if !seen.insert(r.name.as_str()) {
            errors.push(FieldError::duplicate(path.index(i).child("name").render(), r.name.as_str()));
        }
        if r.weight != 1 {
            errors.push(FieldError::invalid(path.index(i).child("weight").render(), r.weight, "must be 1"));
        }
    }
    errors
}

/// The balance of the fractions, 0..=MAX_NODE_SCORE: one minus their
/// standard deviation (for two fractions, half their difference), each
/// fraction capped at 1.
fn balance(fractions: &[f64]) -> i64 {
    let std = match fractions {
        [a, b] => ((a - b) / 2.0).abs(),
        f if f.len() > 2 => {
            let n = f.len() as f64;
            let mean = f.iter().sum::<f64>() / n;
            (f.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n).sqrt()
        }
        _ => 0.0,
    };
    ((1.0 - std) * MAX_NODE_SCORE as f64) as i64
}

/// `amount / allocatable`, at most 1.
fn fraction(amount: i64, allocatable: i64) -> f64 {
    (amount as f64 / allocatable as f64).min(1.0)
}

/// The balance with the pod against the balance without it, mapped so that
/// no change scores 75, perfect to imperfect 50, imperfect to perfect 100.
fn balanced_score(usages: &[Usage]) -> i64 {
    let with_pod: Vec<f64> = usages.iter().map(|u| fraction(u.requested, u.allocatable)).collect();
    let without_pod: Vec<f64> = usages.iter().map(|u| fraction(u.allocated, u.allocatable)).collect();
    let half = MAX_NODE_SCORE / 2;
    half + (half + balance(&with_pod) - balance(&without_pod)) / 2
}

impl BalancedAllocation {
    /// A pod requesting none of the resources.
    fn best_effort(&self, pod: &PodInfo) -> bool {
        self.resources.iter().all(|r| pod_request(pod, &r.name, Requests::Actual) == 0)
    }
}

impl Plugin for BalancedAllocation {
    fn name(&self) -> &'static str {
        NAME
    }

    fn scores(&self) -> bool {
        true
    }

    /// Skips best-effort pods: scoring them would pile them onto the same
    /// nodes.
    fn pre_score(&self, _state: &mut CycleState, pod: &PodInfo, _nodes: &[Arc<NodeInfo>], _snapshot: &Snapshot) -> Status {
        if self.best_effort(pod) { Status::skip() } else { Status::success() }
    }

    fn score(&self, _state: &CycleState, pod: &PodInfo, node: &NodeInfo) -> Result<i64, Status> {
        if self.best_effort(pod) {
            return Ok(0);
        }
        Ok(balanced_score(&usages(&self.resources, pod, node, Requests::Actual)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value, json};

    /// A pod with one container per request map.
    fn pod(containers: &[&[(&str, &str)]]) -> PodInfo {
        let cs: Vec<Value> = containers
            .iter()
            .map(|r| json!({"name": "c", "resources": {"requests": r.iter().map(|(k, v)| ((*k).to_string(), json!(v))).collect::<Map<_, _>>()}}))
            .collect();
        PodInfo::new(Arc::new(serde_json::from_value(json!({"spec": {"containers": cs}})).unwrap()))
    }

    /// Upstream's `makeNode(name, milliCPU, memory, extended)`.
    fn node(milli_cpu: i64, memory: i64, gpus: Option<i64>, pods: &[PodInfo]) -> Arc<NodeInfo> {
        let mut alloc = json!({"cpu": format!("{milli_cpu}m"), "memory": memory.to_string()});
        if let Some(g) = gpus {
            alloc["nvidia.com/gpu"] = json!(g.to_string());
        }
        let mut n =
            NodeInfo::new(Arc::new(serde_json::from_value(json!({"metadata": {"name": "n"}, "status": {"allocatable": alloc}})).unwrap()));
        for p in pods {
            n.add_pod(Arc::new(p.clone()));
        }
        Arc::new(n)
    }

    fn scores(args: Option<Value>, incoming: &PodInfo, nodes: &[Arc<NodeInfo>], run_pre_score: bool) -> Vec<i64> {
        let plugin = new(args.as_ref()).unwrap();
        let mut state = CycleState::default();
        if run_pre_score {
            assert!(plugin.pre_score(&mut state, incoming, nodes, &Snapshot::default()).is_success());
        }
        nodes.iter().map(|n| plugin.score(&state, incoming, n).unwrap()).collect()
    }

    /// Name, args, incoming pod, nodes, wanted scores.
    type Case = (&'static str, Option<Value>, PodInfo, Vec<Arc<NodeInfo>>, Vec<i64>);

    #[test]
    fn balanced_allocation() {
        let cpu_and_memory = || pod(&[&[("cpu", "1000m"), ("memory", "2000")], &[("cpu", "2000m"), ("memory", "3000")]]);
        let cpu_only = || pod(&[&[("cpu", "1000m")], &[("cpu", "2000m")]]);
        let with_gpu = Some(
            json!({"resources": [{"name": "cpu", "weight": 1}, {"name": "memory", "weight": 1}, {"name": "nvidia.com/gpu", "weight": 1}]}),
        );
        let cases: Vec<Case> = vec![
            (
                // node1: balance 100 -> 87 (75% cpu, 50% memory); node2: 100 -> 100.
                "nothing scheduled, resources requested, differently sized nodes",
                None,
                cpu_and_memory(),
                vec![node(4000, 10000, None, &[]), node(6000, 10000, None, &[])],
                vec![68, 75],
            ),
            (
                // node1: 85 -> 82; node2: 97 -> 95.
                "resources requested, pods scheduled with resources",
                None,
                cpu_and_memory(),
                vec![node(10000, 20000, None, &[cpu_only()]), node(10000, 20000, None, &[cpu_and_memory()])],
                vec![73, 74],
            ),
            (
                // node1: 85 -> 82; node2: 90 -> 80.
                "resources requested, pods scheduled with resources, differently sized nodes",
                None,
                cpu_and_memory(),
                vec![node(10000, 20000, None, &[cpu_only()]), node(10000, 50000, None, &[cpu_and_memory()])],
                vec![73, 70],
            ),
            (
                // node1: 50 -> 100; node2: 100 -> 50.
                "resources requested, pods scheduled with resources, nodes to reach min/max score",
                None,
                pod(&[&[("memory", "2000")], &[("memory", "3000")]]),
                vec![node(3000, 5000, None, &[cpu_only()]), node(3000, 5000, None, &[])],
                vec![100, 50],
            ),
            (
                // node1: 75 -> 50; node2: 100 -> 75.
                "requested resources at node capacity",
                None,
                cpu_only(),
                vec![node(6000, 10000, None, &[cpu_only()]), node(6000, 10000, None, &[cpu_and_memory()])],
                vec![62, 62],
            ),
            (
                // node1: 69 -> 70 (gpu 3/8 -> 4/8); node2: 62 -> 65 (gpu 0 -> 1/8).
                "scalar resource is included in the score computation if pod requests the scalar resource",
                with_gpu.clone(),
                pod(&[&[("cpu", "0"), ("memory", "0"), ("nvidia.com/gpu", "1")]]),
                vec![
                    node(
                        3500,
                        40000,
                        Some(8),
                        &[pod(&[
                            &[("cpu", "1000m"), ("memory", "2000")],
                            &[("cpu", "2000m"), ("memory", "3000"), ("nvidia.com/gpu", "3")],
                        ])],
                    ),
                    node(3500, 40000, Some(8), &[cpu_and_memory()]),
                ],
                vec![75, 76],
            ),
            (
                // 100 -> 63 on both: the gpu the pod does not request is ignored.
                "scalar resource is not included in the score computation if pod doesn't request the scalar resource",
                with_gpu,
                cpu_and_memory(),
                vec![node(3500, 40000, Some(8), &[]), node(3500, 40000, None, &[])],
                vec![56, 56],
            ),
        ];
        for (name, args, incoming, nodes, want) in cases {
            assert_eq!(scores(args.clone(), &incoming, &nodes, true), want, "{name}");
            assert_eq!(scores(args, &incoming, &nodes, false), want, "{name} if PreScore not called");
        }
    }

    #[test]
    fn best_effort_pods_are_skipped() {
        let plugin = new(None).unwrap();
        let nodes = [node(4000, 10000, None, &[]), node(4000, 10000, None, &[])];
        let best_effort = pod(&[&[]]);
        assert_eq!(plugin.pre_score(&mut CycleState::default(), &best_effort, &nodes, &Snapshot::default()), Status::skip());
        assert_eq!(plugin.score(&CycleState::default(), &best_effort, &nodes[0]), Ok(0));
    }

    #[test]
    fn args_validation() {
        let err = new(Some(&json!({"resources": [{"name": "cpu", "weight": 2}, {"name": "cpu", "weight": 1}]}))).err().unwrap();
        assert_eq!(err, r#"[resources[0].weight: Invalid value: 2: must be 1, resources[1].name: Duplicate value: "cpu"]"#);
        assert!(new(Some(&json!({"resources": [{"name": "cpu"}, {"name": "memory", "weight": 1}]}))).is_ok());
        assert!(new(Some(&json!({"resources": null}))).is_ok());
        assert!(
            new(Some(&json!({"resource": []})))
                .err()
                .unwrap()
                .starts_with("decoding NodeResourcesBalancedAllocationArgs: unknown field `resource`")
        );
    }
}
